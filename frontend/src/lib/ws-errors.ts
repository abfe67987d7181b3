import type { ClientAction, ServerEvent } from "@/types/ws";

type ErrorEvent = Extract<ServerEvent, { type: "error" }>;

/**
 * The WebSocket error codes: the server's list (generated), plus `rate_limited`, which the app
 * handles before the generated list has it.
 */
export type WsErrorCode = ErrorEvent["code"] | "rate_limited";

/** What a person is shown for a refused action: an error, or a calm notice. */
export interface ErrorNotice {
  text: string;
  tone: "error" | "notice";
}

interface Handling {
  /** Shown instead of the server's message. */
  text?: string;
  tone: ErrorNotice["tone"] | "silent";
  /** Actions for which the refusal is handled without telling the person. */
  quietFor?: readonly ClientAction["action"][];
}

/** The one mapping from error codes to what the app shows; codes not listed show the server's message. */
const HANDLING: Partial<Record<WsErrorCode, Handling>> = {
  // The token expired: the WebSocket client connects again with a fresh one and resends.
  unauthorized: { tone: "silent" },
  // Nothing was stored. The client itself throttles typing and retries subscriptions.
  rate_limited: { text: "Slow down — try again in a moment", tone: "notice", quietFor: ["typing", "subscribe", "unsubscribe"] },
};

const FALLBACK = "Something went wrong. Please try again.";

/** The event's code as sent: a newer server may send a code this build does not know. */
export function errorCode(event: ErrorEvent): string {
  return String(event.code);
}

/** What to show for a refused action, or null when there is nothing to tell the person. */
export function noticeFor(event: ErrorEvent): ErrorNotice | null {
  const handling = HANDLING[errorCode(event) as WsErrorCode];
  const message = typeof event.message === "string" && event.message ? event.message : FALLBACK;
  if (!handling) return { text: message, tone: "error" };
  if (handling.tone === "silent" || handling.quietFor?.some((action) => action === event.action)) return null;
  return { text: handling.text ?? message, tone: handling.tone };
}
