/**
 * The HTTP API's shapes (docs/contracts.md). Once `invoke gen-types` has produced
 * api.gen.ts from chat_api's GET /openapi.json, these names are re-exported from it.
 */
export type Role = "owner" | "member";
export type MessageStatus = "complete" | "streaming" | "stopped" | "failed";

export interface Conversation {
  id: string;
  kind: "assistant" | "group";
  title: string;
  ownerId: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface Message {
  id: string;
  conversationId: string;
  authorId: string;
  authorName?: string | null;
  role: "user" | "assistant";
  content: string;
  status: MessageStatus;
  clientMessageId?: string | null;
  replyTo?: string | null;
  usage?: Usage | null;
  createdAt: string;
  updatedAt: string;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Me {
  id: string;
  email: string;
  name: string;
  usage: {
    date: string;
    inputTokens: number;
    outputTokens: number;
    dailyQuota: number;
    remaining: number | null;
  };
}

export interface ApiErrorBody {
  error: { code: string; message: string; requestId?: string };
}
