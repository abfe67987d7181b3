import { initialLive, liveReducer, mergeMessages } from "@/features/chat/hooks/live-store";
import type { LiveAction, LiveState } from "@/features/chat/hooks/live-store";
import type { ListedMessage } from "@/types/api";
import type { ServerEvent } from "@/types/ws";

const C = "01J000000000000000000CONV0";

function message(id: string, overrides: Partial<ListedMessage> = {}): ListedMessage {
  return {
    id,
    conversationId: C,
    authorId: "u1",
    role: "user",
    content: `text ${id}`,
    status: "complete",
    createdAt: "2026-11-27T10:00:00.000Z",
    updatedAt: "2026-11-27T10:00:00.000Z",
    ...overrides,
  };
}

const run = (events: (ServerEvent | LiveAction)[], state: LiveState = initialLive(C)) =>
  events.reduce<LiveState>((s, e) => liveReducer(s, "type" in e && (e.type === "send" || e.type === "resynced" || e.type === "dismissError") ? (e as LiveAction) : { type: "event", event: e as ServerEvent }), state);

const delta = (seq: number, text: string, messageId = "A1"): ServerEvent => ({ type: "message.delta", conversationId: C, messageId, seq, delta: text });

describe("liveReducer", () => {
  it("appends deltas in order and ignores duplicates", () => {
    const state = run([delta(1, "Hel"), delta(2, "lo"), delta(2, "lo"), delta(3, "!")]);
    expect(state.streams.A1).toEqual({ seq: 3, content: "Hello!" });
    expect(state.needsResync).toBe(false);
  });

  it("flags a gap instead of showing a reply with a hole in it", () => {
    const state = run([delta(1, "a"), delta(3, "c")]);
    expect(state.streams.A1).toEqual({ seq: 1, content: "a" });
    expect(state.needsResync).toBe(true);
  });

  it("resumes from the subscribed snapshot after a reload and continues with the next delta", () => {
    const state = run([
      { type: "subscribed", conversationId: C, streaming: [{ messageId: "A1", seq: 7, content: "so far" }] },
      delta(7, " stale"),
      delta(8, " more"),
    ]);
    expect(state.streams.A1).toEqual({ seq: 8, content: "so far more" });
  });

  it("drops a stream that ended while the socket was away when the re-subscription says so", () => {
    const state = run([
      delta(1, "Hel"),
      { type: "message.delta", conversationId: C, messageId: "A2", seq: 1, delta: "Other" },
      { type: "subscribed", conversationId: C, streaming: [{ messageId: "A2", seq: 3, content: "Other reply" }] },
    ]);
    expect(state.streams).toEqual({ A2: { seq: 3, content: "Other reply" } });
  });

  it("keeps what it streamed beyond an older snapshot", () => {
    const state = run([delta(1, "Hel"), delta(2, "lo"), { type: "subscribed", conversationId: C, streaming: [{ messageId: "A1", seq: 1, content: "Hel" }] }]);
    expect(state.streams.A1).toEqual({ seq: 2, content: "Hello" });
  });

  it("replaces the stream with the completed message and clears it", () => {
    const done = message("A1", { role: "assistant", content: "Hello!", usage: { inputTokens: 5, outputTokens: 2 } });
    const state = run([delta(1, "Hel"), { type: "message.completed", conversationId: C, message: done, contentOmitted: false }]);
    expect(state.streams).toEqual({});
    expect(state.messages.A1).toEqual(done);
  });

  it("leaves a message too big for a frame to the HTTP history", () => {
    const big = message("A1", { role: "assistant", content: "" });
    const state = run([delta(1, "Hel"), { type: "message.completed", conversationId: C, message: big, contentOmitted: true }]);
    expect(state.streams).toEqual({});
    expect(state.messages).toEqual({});
    const shown = mergeMessages([message("A1", { role: "assistant", content: "the whole long text" })], state);
    expect(shown[0]?.content).toBe("the whole long text");
  });

  it("ignores events of other conversations", () => {
    const state = run([{ type: "message.delta", conversationId: "other", messageId: "A1", seq: 1, delta: "x" }]);
    expect(state).toEqual(initialLive(C));
  });

  it("acknowledges an optimistic message when the server echoes its clientMessageId", () => {
    const state = run([
      { type: "send", clientMessageId: "k1", content: "hi", createdAt: "2026-11-27T10:00:00.000Z" },
      { type: "message.created", conversationId: C, message: message("U1", { clientMessageId: "k1", content: "hi" }), contentOmitted: false },
    ]);
    expect(state.pending).toEqual([]);
    expect(state.messages.U1?.content).toBe("hi");
  });

  it("marks the last pending message unsent when the server refuses it, and clears that on resend", () => {
    const refused = run([
      { type: "send", clientMessageId: "k1", content: "hi", createdAt: "t" },
      { type: "error", code: "quota_exceeded", message: "Daily token quota reached", action: "sendMessage" },
    ]);
    expect(refused.pending[0]?.unsent).toBe("Daily token quota reached");
    expect(refused.lastError).toEqual({ text: "Daily token quota reached", tone: "error" });
    const resent = liveReducer(refused, { type: "send", clientMessageId: "k1", content: "hi", createdAt: "t" });
    expect(resent.pending).toHaveLength(1);
    expect(resent.pending[0]?.unsent).toBeUndefined();
  });

  it("answers a send refused as too frequent with a calm notice and hands the text back as the draft", () => {
    const refused = run([
      { type: "send", clientMessageId: "k1", content: "hi", createdAt: "t" },
      { type: "error", code: "rate_limited", message: "Too many requests", action: "sendMessage" } as unknown as ServerEvent,
    ]);
    expect(refused.lastError).toEqual({ text: "Slow down — try again in a moment", tone: "notice" });
    // Nothing was stored: no message bubble, the text is back in the composer.
    expect(refused.pending).toEqual([]);
    expect(refused.draft).toEqual({ key: "k1", content: "hi" });
    // The next send clears the notice (an error stays until dismissed).
    const next = liveReducer(refused, { type: "send", clientMessageId: "k2", content: "hi", createdAt: "t" });
    expect(next.lastError).toBeNull();
  });

  it("says nothing about refusals the connection handles itself", () => {
    const state = run([
      { type: "send", clientMessageId: "k1", content: "hi", createdAt: "t" },
      { type: "error", code: "rate_limited", message: "Too many requests", action: "typing" } as unknown as ServerEvent,
      { type: "error", code: "rate_limited", message: "Too many requests", action: "subscribe" } as unknown as ServerEvent,
      { type: "error", code: "unauthorized", message: "Token expired", action: "sendMessage" },
    ]);
    expect(state.lastError).toBeNull();
    expect(state.pending[0]?.unsent).toBeUndefined();
  });

  it("shows the server's message for a code this build does not know", () => {
    const state = run([{ type: "error", code: "brand_new_code", message: "Something new happened", action: "retry" } as unknown as ServerEvent]);
    expect(state.lastError).toEqual({ text: "Something new happened", tone: "error" });
  });
});

describe("mergeMessages", () => {
  it("keeps the caller's rating from the listing when a live copy of the reply replaces it", () => {
    const feedback = { rating: "down" as const, comment: "Too long", updatedAt: "2026-11-27T10:00:05.000Z" };
    const history = [message("A1", { role: "assistant", feedback })];
    const state = run([
      { type: "message.completed", conversationId: C, message: message("A1", { role: "assistant", content: "live", updatedAt: "2026-11-27T10:00:01.000Z" }), contentOmitted: false },
    ]);
    const [shown] = mergeMessages(history, state);
    expect(shown).toMatchObject({ id: "A1", content: "live", feedback });
  });

  it("orders by id, prefers live over fetched, overlays streamed text, appends pending", () => {
    const history = [message("U3"), message("A2", { role: "assistant", status: "streaming", content: "" }), message("U1")];
    const state = run([
      { type: "message.created", conversationId: C, message: message("U3", { content: "edited live", updatedAt: "2026-11-27T10:00:01.000Z" }), contentOmitted: false },
      delta(1, "partial", "A2"),
      { type: "send", clientMessageId: "k9", content: "on its way", createdAt: "2026-11-27T10:00:02.000Z" },
    ]);
    const shown = mergeMessages(history, state);
    expect(shown.map((m) => [m.id, m.content, m.local ?? null])).toEqual([
      ["A2", "partial", null],
      ["U1", "text U1", null],
      ["U3", "edited live", null],
      ["pending-k9", "on its way", "sending"],
    ]);
  });

  it("shows a failed reply with its reason and keeps the user's message", () => {
    const history = [message("U1")];
    const state = run([{ type: "message.failed", conversationId: C, messageId: "A2", replyTo: "U1", reason: "The model is unavailable", retryable: true }]);
    const shown = mergeMessages(history, state);
    expect(shown.map((m) => [m.id, m.status])).toEqual([
      ["U1", "complete"],
      ["A2", "failed"],
    ]);
    expect(shown[1]?.failure).toEqual({ reason: "The model is unavailable", retryable: true });
  });

  it("does not show a pending message twice once the server has it", () => {
    const history = [message("U1", { clientMessageId: "k1" })];
    const state = run([{ type: "send", clientMessageId: "k1", content: "x", createdAt: "t" }]);
    expect(mergeMessages(history, state).map((m) => m.id)).toEqual(["U1"]);
  });
});
