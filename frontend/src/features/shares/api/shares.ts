import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useSession } from "@/lib/session";
import { queryKeys } from "@/lib/query-keys";
import type { components } from "@/types/api.gen";

export type ShareLink = components["schemas"]["ShareLink"];
export type ShareList = components["schemas"]["ShareList"];

/** Days a new link works, or null: until revoked. */
export type Expiry = number | null;

const path = (conversationId: string) => `/conversations/${encodeURIComponent(conversationId)}/shares`;

/** GET /conversations/{id}/shares — the conversation's links (the owner only). */
export function useShares(conversationId: string) {
  const { http } = useSession();
  return useQuery({
    queryKey: queryKeys.shares(conversationId),
    queryFn: ({ signal }) => http.request<ShareList>(path(conversationId), { signal }),
  });
}

/** POST /conversations/{id}/shares — a snapshot of the conversation now, behind a new link. */
export function useCreateShare(conversationId: string) {
  const { http } = useSession();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (expiresInDays: Expiry) =>
      http.request<ShareLink>(path(conversationId), { method: "POST", body: { expiresInDays } }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.shares(conversationId) }),
  });
}

/** DELETE /conversations/{id}/shares/{shareId} — the link stops working at once. */
export function useRevokeShare(conversationId: string) {
  const { http } = useSession();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (shareId: string) =>
      http.request<void>(`${path(conversationId)}/${encodeURIComponent(shareId)}`, { method: "DELETE" }),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.shares(conversationId) }),
  });
}

/** The full address of a link: the app's own origin and its hash route (`/#/s/<id>`). */
export function shareUrl(link: Pick<ShareLink, "path">, origin: string = window.location.origin): string {
  return `${origin}${link.path}`;
}

/**
 * What `GET /shared/{shareId}` answers (`parley.shares.SharedConversation`; share_api is not in
 * chat_api's OpenAPI document, so the type is written here).
 */
export interface SharedConversation {
  version: 1;
  id: string;
  title: string;
  kind: "assistant" | "group";
  sharedAt: string;
  expiresAt: string | null;
  messages: SharedMessage[];
}

export interface SharedMessage {
  role: "user" | "assistant";
  authorName: string;
  content: string;
  createdAt: string;
  attachments: { name: string; kind: "document" | "image" }[];
}

export type SharedResult =
  | { status: "ok"; conversation: SharedConversation }
  | { status: "gone"; reason: "revoked" | "expired" | "deleted"; message: string }
  | { status: "unknown" }
  | { status: "error"; message: string };

/**
 * The public read of a link: no token and no custom header (a simple GET, no preflight), so it
 * works signed out and never touches Cognito.
 */
export async function fetchShared(
  httpApiUrl: string,
  shareId: string,
  fetchImpl: typeof fetch = (...args) => fetch(...args),
): Promise<SharedResult> {
  let response: Response;
  try {
    response = await fetchImpl(`${httpApiUrl}/shared/${encodeURIComponent(shareId)}`, {
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    return { status: "error", message: "Cannot reach the server. Check your connection and try again." };
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) return { status: "ok", conversation: body as SharedConversation };
  if (response.status === 404) return { status: "unknown" };
  const error = (body as { error?: { message?: string; reason?: string } } | null)?.error;
  if (response.status === 410) {
    const reason = error?.reason === "expired" || error?.reason === "deleted" ? error.reason : "revoked";
    return { status: "gone", reason, message: error?.message ?? "This link no longer works." };
  }
  if (response.status === 429) return { status: "error", message: "Too many people are opening shared conversations right now. Try again in a moment." };
  return { status: "error", message: error?.message ?? "Something went wrong on our side." };
}
