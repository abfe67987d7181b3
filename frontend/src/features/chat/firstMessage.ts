/**
 * A new chat is created with its first message: the "New chat" page creates the conversation
 * only when that message is sent, then hands the message to the conversation's chat view,
 * which sends it the usual way (shown at once, resent if the connection drops). Nothing empty
 * is ever left in the conversation list.
 */
const pending = new Map<string, string>();

/** Keeps `content` to be sent as the first message of `conversationId`. */
export function handOffFirstMessage(conversationId: string, content: string): void {
  pending.set(conversationId, content);
}

/** How long a first message waits for its room's subscription before it is sent anyway. */
export const FIRST_MESSAGE_WAIT_MS = 3000;

/** The first message waiting for `conversationId`, left in place. */
export function peekFirstMessage(conversationId: string): string | null {
  return pending.get(conversationId) ?? null;
}

/** The first message waiting for `conversationId`, removed so it is sent once. */
export function takeFirstMessage(conversationId: string): string | null {
  const content = pending.get(conversationId) ?? null;
  pending.delete(conversationId);
  return content;
}
