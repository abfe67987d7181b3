/**
 * The WebSocket protocol (docs/contracts.md, docs/websocket-protocol.md). Once
 * `invoke gen-types` has produced ws.gen.ts from parley.realtime's JSON Schema, these names
 * are re-exported from it.
 */
import type { Message } from "./api";

export type ClientAction =
  | { action: "subscribe"; conversationId: string }
  | { action: "unsubscribe"; conversationId: string }
  | { action: "sendMessage"; conversationId: string; clientMessageId: string; content: string }
  | { action: "retry"; conversationId: string; messageId: string }
  | { action: "typing"; conversationId: string; isTyping: boolean }
  | { action: "stop"; conversationId: string; messageId: string };

export interface StreamingResume {
  messageId: string;
  seq: number;
  content: string;
}

export interface PresenceUser {
  userId: string;
  name: string;
}

export type ServerEvent =
  | { type: "subscribed"; conversationId: string; streaming: StreamingResume[] }
  | { type: "message.created"; conversationId: string; message: Message }
  | { type: "message.delta"; conversationId: string; messageId: string; seq: number; delta: string }
  | { type: "message.completed"; conversationId: string; message: Message }
  | {
      type: "message.failed";
      conversationId: string;
      messageId: string;
      replyTo: string | null;
      reason: string;
      retryable: boolean;
    }
  | { type: "typing"; conversationId: string; userId: string; name: string; isTyping: boolean }
  | { type: "presence"; conversationId: string; online: PresenceUser[] }
  | { type: "error"; code: string; message: string; action?: string | null };
