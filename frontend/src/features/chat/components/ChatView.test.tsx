import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";

import { ChatView } from "@/features/chat/components/ChatView";
import { handOffFirstMessage, takeFirstMessage } from "@/features/chat/firstMessage";
import { HttpClient } from "@/lib/http";
import { RealtimeClient } from "@/lib/realtime";
import { RealtimeProvider } from "@/lib/realtime-context";
import { SessionContext } from "@/lib/session";
import type { Conversation, Message } from "@/types/api";

const C = "01JDX3Z8N4Q7RM2V5K6B9C1T0E";
const conversation: Conversation = {
  id: C,
  kind: "assistant",
  title: "Test",
  ownerId: "me",
  role: "owner",
  createdAt: "2026-11-27T10:00:00.000Z",
  updatedAt: "2026-11-27T10:00:00.000Z",
};
const msg = (id: string, overrides: Partial<Message>): Message => ({
  id,
  conversationId: C,
  authorId: "me",
  role: "user",
  content: "",
  status: "complete",
  createdAt: "2026-11-27T10:00:00.000Z",
  updatedAt: "2026-11-27T10:00:00.000Z",
  ...overrides,
});

/**
 * The chat view wired to a real HTTP server (history) and a real WebSocket server (live
 * events), the way the app runs it: history, a streamed reply, Stop, and recovery from a gap.
 */
describe("ChatView against real HTTP and WebSocket servers", () => {
  const history: Message[] = [msg("01JDX40A1B2C3D4E5F6G7H8J9K", { content: "Earlier question" })];
  const http = createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    if (req.url?.startsWith(`/conversations/${C}/messages`)) res.end(JSON.stringify({ items: history, nextCursor: null }));
    else res.writeHead(404).end("{}");
  });
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", handleProtocols: () => "parley" });
  const received: Record<string, unknown>[] = [];
  let socket: WebSocket | null = null;
  wss.on("connection", (s) => {
    socket = s;
    s.on("message", (data) => received.push(JSON.parse(String(data)) as Record<string, unknown>));
  });
  const push = (event: unknown) => socket!.send(JSON.stringify(event));
  let client: RealtimeClient;

  beforeAll(async () => {
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    if (!wss.address()) await new Promise((resolve) => wss.once("listening", resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
    await new Promise((resolve) => wss.close(resolve));
  });
  afterEach(() => client.stop());

  function renderChat(demoModel: string | null = null) {
    const tokens = { getToken: async () => "a.b.c" };
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    client = new RealtimeClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, tokens, {
      WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    const session = { userId: "me", email: "me@example.com", name: "Me", http: new HttpClient(base, tokens), demoModel };
    render(
      <QueryClientProvider client={new QueryClient()}>
        <SessionContext.Provider value={session}>
          <RealtimeProvider client={client}>
            <ChatView conversation={conversation} />
          </RealtimeProvider>
        </SessionContext.Provider>
      </QueryClientProvider>,
    );
  }

  it("shows history, sends, streams the reply, and stops it", async () => {
    received.length = 0;
    renderChat();
    const log = await screen.findByRole("log", { name: "Messages" });
    expect(await within(log).findByText("Earlier question")).toBeInTheDocument();
    await waitFor(() => expect(received).toContainEqual({ action: "subscribe", conversationId: C }));

    await userEvent.type(screen.getByRole("textbox", { name: "Message" }), "Explain ULIDs{Enter}");
    await waitFor(() => expect(received.some((r) => r.action === "sendMessage")).toBe(true));
    const sent = received.find((r) => r.action === "sendMessage")!;
    expect(sent).toMatchObject({ conversationId: C, content: "Explain ULIDs" });
    expect(within(log).getByText("Sending…")).toBeInTheDocument();

    const user = msg("01JDX40B1B2C3D4E5F6G7H8J9K", { content: "Explain ULIDs", clientMessageId: String(sent.clientMessageId) });
    const reply = msg("01JDX40C1B2C3D4E5F6G7H8J9K", { role: "assistant", authorId: "assistant", status: "streaming", replyTo: user.id });
    push({ type: "message.created", conversationId: C, message: user, contentOmitted: false });
    push({ type: "message.created", conversationId: C, message: reply, contentOmitted: false });
    push({ type: "message.delta", conversationId: C, messageId: reply.id, seq: 1, delta: "A ULID is " });
    push({ type: "message.delta", conversationId: C, messageId: reply.id, seq: 2, delta: "sortable" });
    await waitFor(() => expect(log.querySelector(`[data-message-id="${reply.id}"]`)).toHaveTextContent("A ULID is sortable"));
    expect(within(log).queryByText("Sending…")).toBeNull();
    expect(within(log).queryByRole("group", { name: "Rate this answer" })).toBeNull(); // not while it streams

    await userEvent.click(screen.getByRole("button", { name: "Stop" }));
    await waitFor(() => expect(received).toContainEqual({ action: "stop", conversationId: C, messageId: reply.id }));
    push({
      type: "message.completed",
      conversationId: C,
      message: { ...reply, content: "A ULID is sortable", status: "stopped", usage: { inputTokens: 9, outputTokens: 4 } },
      contentOmitted: false,
    });
    await waitFor(() => expect(within(log).getByText("Stopped")).toBeInTheDocument());
    expect(within(log).getByText("9 in · 4 out tokens")).toBeInTheDocument();
    // A finished reply can be rated; a person's message cannot.
    const [rating] = within(log).getAllByRole("group", { name: "Rate this answer" });
    expect(rating!.closest("article")).toHaveAttribute("data-message-id", reply.id);
    expect(within(log).getAllByRole("group", { name: "Rate this answer" })).toHaveLength(1);
    expect(within(rating!).getByRole("button", { name: "Helpful" })).toHaveAttribute("aria-pressed", "false");
    expect(screen.queryByRole("button", { name: "Stop" })).toBeNull();
  });

  it("sends the first message a new chat was created with once its room is subscribed, and only once", async () => {
    received.length = 0;
    handOffFirstMessage(C, "My very first question");
    renderChat();
    const log = await screen.findByRole("log", { name: "Messages" });
    // Sent only once the room is subscribed, so the reply's events cannot be missed.
    await waitFor(() => expect(received).toContainEqual({ action: "subscribe", conversationId: C }));
    expect(received.filter((r) => r.action === "sendMessage")).toHaveLength(0);
    push({ type: "subscribed", conversationId: C, streaming: [] });
    expect(await within(log).findByText("My very first question")).toBeInTheDocument();
    await waitFor(() => expect(received.filter((r) => r.action === "sendMessage")).toHaveLength(1));
    push({ type: "subscribed", conversationId: C, streaming: [] }); // a later resubscribe sends nothing
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received.filter((r) => r.action === "sendMessage")).toHaveLength(1);
    expect(received.find((r) => r.action === "sendMessage")).toMatchObject({ conversationId: C, content: "My very first question" });
    expect(takeFirstMessage(C)).toBeNull();
    expect(screen.queryByText(/tiny model/)).toBeNull();
  });

  it("says answers come from a tiny model only when the demo model answers", async () => {
    renderChat("SmolLM2-135M-Instruct");
    expect(await screen.findByText(/Answers come from SmolLM2-135M-Instruct, a tiny model running on this machine/)).toBeInTheDocument();
  });

  it("a send refused as too frequent shows a calm notice and puts the text back in the composer", async () => {
    received.length = 0;
    renderChat();
    const log = await screen.findByRole("log", { name: "Messages" });
    await waitFor(() => expect(received).toContainEqual({ action: "subscribe", conversationId: C }));
    const box = screen.getByRole("textbox", { name: "Message" });
    await userEvent.type(box, "Too quick{Enter}");
    await waitFor(() => expect(received.some((r) => r.action === "sendMessage")).toBe(true));
    expect(box).toHaveValue("");
    push({ type: "error", code: "rate_limited", message: "Too many requests", action: "sendMessage" });
    expect(await screen.findByRole("status")).toHaveTextContent("Slow down — try again in a moment");
    expect(box).toHaveValue("Too quick");
    expect(within(log).queryByText("Too quick")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("Retry on an edit the server refused sends it again as that edit, not as a new message", async () => {
    received.length = 0;
    renderChat();
    const log = await screen.findByRole("log", { name: "Messages" });
    await waitFor(() => expect(received).toContainEqual({ action: "subscribe", conversationId: C }));
    const earlier = within(log).getByText("Earlier question").closest("article")!;
    await userEvent.click(within(earlier).getByRole("button", { name: "Edit" }));
    const box = within(earlier).getByRole("textbox", { name: "Edit message" });
    await userEvent.clear(box);
    await userEvent.type(box, "Sharper question{Enter}");
    await waitFor(() => expect(received.some((r) => r.action === "sendMessage")).toBe(true));
    const [first] = received.filter((r) => r.action === "sendMessage");
    expect(first).toMatchObject({ content: "Sharper question", editOf: history[0]!.id });
    push({ type: "error", code: "conflict", message: "A reply is still being written", action: "sendMessage" });
    await userEvent.click(await within(log).findByRole("button", { name: "Retry" }));
    await waitFor(() => expect(received.filter((r) => r.action === "sendMessage")).toHaveLength(2));
    const again = received.filter((r) => r.action === "sendMessage")[1];
    expect(again).toEqual(first); // the same edit, under the same clientMessageId (idempotent)
  });

  it("asks for a fresh resume point after a gap in the deltas, and applies it", async () => {
    received.length = 0;
    const streaming = msg("01JDX40D1B2C3D4E5F6G7H8J9K", { role: "assistant", authorId: "assistant", status: "streaming" });
    history.push(streaming);
    renderChat();
    const log = await screen.findByRole("log", { name: "Messages" });
    await waitFor(() => expect(received.filter((r) => r.action === "subscribe")).toHaveLength(1));
    push({ type: "subscribed", conversationId: C, streaming: [{ messageId: streaming.id, seq: 2, content: "one two" }] });
    await waitFor(() => expect(log.querySelector(`[data-message-id="${streaming.id}"]`)).toHaveTextContent("one two"));
    push({ type: "message.delta", conversationId: C, messageId: streaming.id, seq: 4, delta: " four" });
    await waitFor(() => expect(received.filter((r) => r.action === "subscribe")).toHaveLength(2));
    push({ type: "subscribed", conversationId: C, streaming: [{ messageId: streaming.id, seq: 4, content: "one two three four" }] });
    await waitFor(() => expect(log.querySelector(`[data-message-id="${streaming.id}"]`)).toHaveTextContent("one two three four"));
  });
});
