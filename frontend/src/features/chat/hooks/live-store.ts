import { noticeFor } from "@/lib/ws-errors";
import type { ErrorNotice } from "@/lib/ws-errors";
import type { ListedMessage, Message } from "@/types/api";
import type { ServerEvent } from "@/types/ws";

/** A message as shown: the stored shape plus what only the client knows while it is live. */
export interface DisplayMessage extends ListedMessage {
  /** Not yet acknowledged by the server (optimistic), or refused by it. */
  local?: "sending" | "unsent";
  failure?: { reason: string; retryable: boolean };
}

export interface Failure {
  messageId: string;
  replyTo: string | null;
  reason: string;
  retryable: boolean;
}

export interface Pending {
  clientMessageId: string;
  content: string;
  createdAt: string;
  unsent?: string;
}

/** What the WebSocket has told us about one conversation since it was opened. */
export interface LiveState {
  conversationId: string;
  /** Messages created or completed live, by id; they win over the fetched history. */
  messages: Record<string, Message>;
  /** Replies being streamed: content so far and the last delta's sequence number. */
  streams: Record<string, { seq: number; content: string }>;
  failures: Record<string, Failure>;
  pending: Pending[];
  /** Set when a delta arrived out of order: the client must ask for a fresh resume point. */
  needsResync: boolean;
  lastError: ErrorNotice | null;
  /** A message handed back to the composer (refused before anything was stored), by its send's id. */
  draft: { key: string; content: string } | null;
}

export type LiveAction =
  | { type: "event"; event: ServerEvent }
  | { type: "send"; clientMessageId: string; content: string; createdAt: string }
  | { type: "resynced" }
  | { type: "dismissError" };

export function initialLive(conversationId: string): LiveState {
  return { conversationId, messages: {}, streams: {}, failures: {}, pending: [], needsResync: false, lastError: null, draft: null };
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/**
 * Folds server events into the live state. Deltas must arrive gap-free from seq 1 (the
 * contract): a duplicate is ignored, a gap flags `needsResync` so the client re-subscribes and
 * gets the reply so far in `subscribed`, which replaces what it had (as after a reconnect).
 */
export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  if (action.type === "send") {
    if (state.pending.some((p) => p.clientMessageId === action.clientMessageId)) {
      const pending = state.pending.map((p) => (p.clientMessageId === action.clientMessageId ? { ...p, unsent: undefined } : p));
      return { ...state, pending, lastError: null };
    }
    // A notice is about the moment (slow down): the next send ends it; an error stays until dismissed.
    const lastError = state.lastError?.tone === "notice" ? null : state.lastError;
    const pending = [...state.pending, { clientMessageId: action.clientMessageId, content: action.content, createdAt: action.createdAt }];
    return { ...state, pending, lastError };
  }
  if (action.type === "resynced") return { ...state, needsResync: false };
  if (action.type === "dismissError") return { ...state, lastError: null };

  const event = action.event;
  if (event.type === "error") {
    // An error answers our last action. A send refused for now (a notice) goes back to the
    // composer as the draft; one refused with an error stays in the list to retry.
    const notice = noticeFor(event);
    if (!notice) return state;
    const refused = event.action === "sendMessage" ? state.pending.at(-1) : undefined;
    if (!refused) return { ...state, lastError: notice };
    if (notice.tone === "notice") {
      const draft = { key: refused.clientMessageId, content: refused.content };
      return { ...state, pending: state.pending.slice(0, -1), draft, lastError: notice };
    }
    const pending = state.pending.map((p) => (p === refused ? { ...p, unsent: notice.text } : p));
    return { ...state, pending, lastError: notice };
  }
  if (!("conversationId" in event) || event.conversationId !== state.conversationId) return state;

  switch (event.type) {
    case "subscribed": {
      // The snapshot lists every reply still streaming: one we knew of that is missing ended
      // while we were away, and the refetched history (see useChat) has how it ended.
      const streams: LiveState["streams"] = {};
      for (const resume of event.streaming) {
        const known = state.streams[resume.messageId];
        streams[resume.messageId] = known && known.seq > resume.seq ? known : { seq: resume.seq, content: resume.content };
      }
      return { ...state, streams, needsResync: false };
    }
    case "message.created": {
      const message = event.message;
      const pending = message.clientMessageId
        ? state.pending.filter((p) => p.clientMessageId !== message.clientMessageId)
        : state.pending;
      // Too big for a frame: the text is fetched over HTTP instead (see useChat).
      if (event.contentOmitted) return { ...state, pending };
      const existing = state.messages[message.id];
      if (existing && existing.status !== "streaming") return { ...state, pending };
      return { ...state, pending, messages: { ...state.messages, [message.id]: message } };
    }
    case "message.delta": {
      const known = state.streams[event.messageId];
      const last = known?.seq ?? 0;
      if (event.seq <= last) return state;
      if (event.seq !== last + 1) return { ...state, needsResync: true };
      const content = (known?.content ?? "") + event.delta;
      return { ...state, streams: { ...state.streams, [event.messageId]: { seq: event.seq, content } } };
    }
    case "message.completed": {
      const message = event.message;
      return {
        ...state,
        messages: event.contentOmitted ? without(state.messages, message.id) : { ...state.messages, [message.id]: message },
        streams: without(state.streams, message.id),
        failures: without(state.failures, message.id),
      };
    }
    case "message.failed": {
      const failure: Failure = { messageId: event.messageId, replyTo: event.replyTo, reason: event.reason, retryable: event.retryable };
      const known = state.messages[event.messageId];
      const messages = known ? { ...state.messages, [event.messageId]: { ...known, status: "failed" as const } } : state.messages;
      return { ...state, messages, streams: without(state.streams, event.messageId), failures: { ...state.failures, [event.messageId]: failure } };
    }
    default:
      return state;
  }
}

/**
 * The conversation as shown, oldest first: fetched history (newest-first pages), overridden by
 * live messages, streamed content laid over replies still streaming, then messages still on
 * their way to the server.
 */
export function mergeMessages(history: ListedMessage[], live: LiveState): DisplayMessage[] {
  const byId = new Map<string, DisplayMessage>();
  for (const message of history) byId.set(message.id, message);
  for (const message of Object.values(live.messages)) {
    const older = byId.get(message.id);
    // Live events never carry a rating: the caller's own, from the listing, stays.
    if (!older) byId.set(message.id, message);
    else if (older.status === "streaming" || message.updatedAt >= older.updatedAt) byId.set(message.id, older.feedback ? { ...message, feedback: older.feedback } : message);
  }
  const acknowledged = new Set<string>();
  const shown: DisplayMessage[] = [];
  for (const message of byId.values()) {
    if (message.clientMessageId) acknowledged.add(message.clientMessageId);
    const stream = live.streams[message.id];
    const failure = live.failures[message.id];
    let display: DisplayMessage = message;
    if (stream && message.status === "streaming" && stream.content.length >= message.content.length) {
      display = { ...display, content: stream.content };
    }
    if (failure) display = { ...display, status: "failed", failure: { reason: failure.reason, retryable: failure.retryable } };
    shown.push(display);
  }
  // Ids are ULIDs: sorting them sorts by creation time.
  shown.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // A failure for a reply that was never created is shown on the message it answered.
  for (const failure of Object.values(live.failures)) {
    if (byId.has(failure.messageId) || !failure.replyTo) continue;
    const index = shown.findIndex((m) => m.id === failure.replyTo);
    if (index >= 0) {
      shown.splice(index + 1, 0, {
        id: failure.messageId,
        conversationId: live.conversationId,
        authorId: "assistant",
        role: "assistant",
        content: "",
        status: "failed",
        replyTo: failure.replyTo,
        createdAt: shown[index]!.createdAt,
        updatedAt: shown[index]!.createdAt,
        failure: { reason: failure.reason, retryable: failure.retryable },
      });
    }
  }
  for (const pending of live.pending) {
    if (acknowledged.has(pending.clientMessageId)) continue;
    shown.push({
      id: `pending-${pending.clientMessageId}`,
      conversationId: live.conversationId,
      authorId: "me",
      role: "user",
      content: pending.content,
      status: "complete",
      clientMessageId: pending.clientMessageId,
      createdAt: pending.createdAt,
      updatedAt: pending.createdAt,
      local: pending.unsent ? "unsent" : "sending",
      failure: pending.unsent ? { reason: pending.unsent, retryable: true } : undefined,
    });
  }
  return shown;
}
