import type { HttpClient } from "@/lib/http";
import type { Feedback, Rating } from "@/types/api";

function path(conversationId: string, messageId: string): string {
  return `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/feedback`;
}

/** PUT …/messages/{messageId}/feedback — my rating of a reply, replacing mine (a comment left out is removed). */
export function rateReply(http: HttpClient, conversationId: string, messageId: string, rating: Rating, comment?: string): Promise<Feedback> {
  return http.request<Feedback>(path(conversationId, messageId), { method: "PUT", body: comment ? { rating, comment } : { rating } });
}

/** DELETE …/messages/{messageId}/feedback — take my rating back (fine when there was none). */
export function removeRating(http: HttpClient, conversationId: string, messageId: string): Promise<void> {
  return http.request<void>(path(conversationId, messageId), { method: "DELETE" });
}
