// @vitest-environment node
import type { AddressInfo } from "node:net";

import WebSocket, { WebSocketServer } from "ws";

import { backoffDelay, RealtimeClient, TypingThrottle } from "@/lib/realtime";
import type { ConnectionState } from "@/lib/realtime";
import type { ServerEvent } from "@/types/ws";

describe("backoffDelay", () => {
  const options = { initialMs: 500, maxMs: 15_000, jitter: 0.5 };
  it("doubles up to the cap", () => {
    const exact = { ...options, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, exact))).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
  });
  it("removes at most the jitter share", () => {
    expect(backoffDelay(3, options, () => 0.999)).toBeGreaterThanOrEqual(2000);
    expect(backoffDelay(3, options, () => 0)).toBe(4000);
  });
});

/** A real WebSocket server on loopback that records what the client sends. */
function startServer() {
  const server = new WebSocketServer({
    port: 0,
    host: "127.0.0.1",
    handleProtocols: (protocols) => (protocols.has("parley") ? "parley" : false),
  });
  const received: unknown[] = [];
  const protocols: string[][] = [];
  const sockets: WebSocket[] = [];
  /** Answers the frames a test chooses to answer (the connection's index, the frame). */
  let respond: (socket: WebSocket, frame: Record<string, unknown>, connection: number) => void = () => undefined;
  server.on("connection", (socket, request) => {
    protocols.push(String(request.headers["sec-websocket-protocol"]).split(/,\s*/));
    sockets.push(socket);
    const connection = sockets.length - 1;
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      received.push(frame);
      respond(socket, frame, connection);
    });
  });
  const url = () => `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const onFrame = (responder: typeof respond) => {
    respond = responder;
  };
  return { server, received, protocols, sockets, url, onFrame };
}

/** An unsigned JWT whose payload expires `inSeconds` from now (the client only reads `exp`). */
function jwt(name: string, inSeconds: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ sub: name, exp: Math.floor(Date.now() / 1000) + inSeconds })}.sig`;
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("RealtimeClient against a real WebSocket server", () => {
  let env: ReturnType<typeof startServer>;
  let client: RealtimeClient;
  let tokenCalls: boolean[];
  const tokens = {
    getToken: async (force = false) => {
      tokenCalls.push(force);
      return force ? "fresh.jwt.token" : "header.payload.sig";
    },
  };
  beforeEach(async () => {
    env = startServer();
    await new Promise((resolve) => env.server.once("listening", resolve));
    tokenCalls = [];
    client = new RealtimeClient(env.url(), tokens, {
      WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
      backoff: { initialMs: 20, maxMs: 100, jitter: 0 },
    });
  });
  afterEach(async () => {
    client.stop();
    await new Promise((resolve) => env.server.close(resolve));
  });

  it("sends the token as a subprotocol, never in the URL", async () => {
    client.start();
    await until(() => client.connectionState === "open");
    expect(env.protocols[0]).toEqual(["parley", "header.payload.sig"]);
  });

  it("subscribes, delivers server events and reports its state", async () => {
    const states: ConnectionState[] = [];
    const events: ServerEvent[] = [];
    client.onState((s) => states.push(s));
    client.onEvent((e) => events.push(e));
    client.subscribe("c1");
    client.start();
    await until(() => env.received.length === 1);
    expect(env.received).toEqual([{ action: "subscribe", conversationId: "c1" }]);
    env.sockets[0]!.send(JSON.stringify({ type: "message.delta", conversationId: "c1", messageId: "m", seq: 1, delta: "Hi" }));
    env.sockets[0]!.send("not json");
    await until(() => events.length === 1);
    expect(events[0]).toMatchObject({ type: "message.delta", delta: "Hi" });
    expect(states).toEqual(["connecting", "open"]);
  });

  it("reconnects after the server drops it, re-subscribes and flushes what was sent offline", async () => {
    client.subscribe("c1");
    client.start();
    await until(() => env.received.length === 1);
    env.sockets[0]!.terminate();
    await until(() => client.connectionState === "reconnecting");
    client.send({ action: "sendMessage", conversationId: "c1", clientMessageId: "k1", content: "hello" });
    client.send({ action: "typing", conversationId: "c1", isTyping: true });
    await until(() => client.connectionState === "open" && env.received.length === 3);
    expect(env.received.slice(1)).toEqual([
      { action: "subscribe", conversationId: "c1" },
      { action: "sendMessage", conversationId: "c1", clientMessageId: "k1", content: "hello" },
    ]);
    expect(env.sockets).toHaveLength(2);
  });

  it("backs off while the server is down and refreshes the token after repeated failures", async () => {
    const port = (env.server.address() as AddressInfo).port;
    client.start();
    await until(() => client.connectionState === "open");
    const closed = new Promise((resolve) => env.server.close(resolve));
    for (const socket of env.sockets) socket.terminate();
    await closed;
    await until(() => tokenCalls.length >= 4, 5000);
    expect(client.connectionState).toBe("reconnecting");
    // The first connection and the first retry use the stored token; the next ones refresh it.
    expect(tokenCalls.slice(0, 4)).toEqual([false, false, true, true]);
    // The server comes back on the same port: the client finds it.
    env = { ...env, server: new WebSocketServer({ port, host: "127.0.0.1", handleProtocols: () => "parley" }) };
    await until(() => client.connectionState === "open", 5000);
  }, 15_000);

  it("drops the connection when told the browser is offline, and comes back", async () => {
    client.subscribe("c1");
    client.start();
    await until(() => client.connectionState === "open");
    client.dropConnection();
    expect(client.connectionState).toBe("reconnecting");
    await until(() => client.connectionState === "open" && env.sockets.length === 2);
    await until(() => env.received.filter((r) => JSON.stringify(r).includes("subscribe")).length === 2);
  });

  it("sends typing at most once per interval for a room, whatever the callers do", async () => {
    client.stop();
    client = new RealtimeClient(env.url(), tokens, {
      WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
      typingIntervalMs: 60_000,
    });
    client.start();
    await until(() => client.connectionState === "open");
    for (let i = 0; i < 20; i++) {
      client.send({ action: "typing", conversationId: "c1", isTyping: i % 2 === 0 });
      client.send({ action: "typing", conversationId: "c2", isTyping: true });
    }
    // Frames on one socket arrive in order: everything sent before the fence has arrived with it.
    client.send({ action: "sendMessage", conversationId: "c1", clientMessageId: "fence", content: "x" });
    await until(() => env.received.some((r) => (r as { clientMessageId?: string }).clientMessageId === "fence"));
    expect(env.received.filter((r) => (r as { action: string }).action === "typing")).toEqual([
      { action: "typing", conversationId: "c1", isTyping: true },
      { action: "typing", conversationId: "c2", isTyping: true },
    ]);
  });

  it("after `unauthorized` it refreshes the token, reconnects, re-subscribes and resends the refused message, unseen", async () => {
    // GIVEN a server that refuses every action on the first connection as if its token had expired
    env.onFrame((socket, frame, connection) => {
      if (connection > 0 || frame.action === "subscribe") return;
      socket.send(JSON.stringify({ type: "error", code: "unauthorized", message: "Token expired", action: frame.action }));
      socket.close(1008, "token expired");
    });
    const events: ServerEvent[] = [];
    client.onEvent((e) => events.push(e));
    client.subscribe("c1");
    client.start();
    await until(() => client.connectionState === "open");
    // WHEN a message is sent after the expiry
    client.send({ action: "sendMessage", conversationId: "c1", clientMessageId: "k1", content: "hello" });
    // THEN the client connects again with a refreshed token, subscribes again and resends it
    await until(() => env.sockets.length === 2 && env.received.length === 4);
    expect(env.protocols[1]).toEqual(["parley", "fresh.jwt.token"]);
    expect(tokenCalls).toEqual([false, true]);
    expect(env.received.slice(2)).toEqual([
      { action: "subscribe", conversationId: "c1" },
      { action: "sendMessage", conversationId: "c1", clientMessageId: "k1", content: "hello" },
    ]);
    await until(() => client.connectionState === "open");
    // and the refusal never reaches the app: the person sees the connection badge at most.
    expect(events).toEqual([]);
  });

  it("closes the connection itself after `unauthorized`, even if the server keeps it open", async () => {
    env.onFrame((socket, frame, connection) => {
      if (connection === 0 && frame.action === "typing") socket.send(JSON.stringify({ type: "error", code: "unauthorized", message: "Token expired", action: "typing" }));
    });
    client.start();
    await until(() => client.connectionState === "open");
    client.send({ action: "typing", conversationId: "c1", isTyping: true });
    await until(() => env.sockets.length === 2 && client.connectionState === "open");
    expect(env.sockets[0]!.readyState).not.toBe(WebSocket.OPEN);
    expect(env.protocols[1]).toEqual(["parley", "fresh.jwt.token"]);
  });

  it("never connects with a token about to expire, on the first connection or after any close", async () => {
    const calls: boolean[] = [];
    const expiring = {
      getToken: async (force = false) => {
        calls.push(force);
        return force ? jwt("fresh", 3600) : jwt("cached", 5);
      },
    };
    client.stop();
    client = new RealtimeClient(env.url(), expiring, {
      WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
      backoff: { initialMs: 20, maxMs: 100, jitter: 0 },
    });
    client.start();
    await until(() => client.connectionState === "open");
    env.sockets[0]!.close(1001, "going away");
    await until(() => env.sockets.length === 2 && client.connectionState === "open");
    const subjects = env.protocols.map((p) => JSON.parse(Buffer.from(p[1]!.split(".")[1]!, "base64url").toString()).sub);
    expect(subjects).toEqual(["fresh", "fresh"]);
    expect(calls).toEqual([false, true, false, true]);
  });

  it("resends a message that was on its way when the connection dropped", async () => {
    client.start();
    await until(() => client.connectionState === "open");
    client.send({ action: "sendMessage", conversationId: "c1", clientMessageId: "k1", content: "hello" });
    client.send({ action: "sendMessage", conversationId: "c1", clientMessageId: "k2", content: "again" });
    await until(() => env.received.length === 2);
    // The server acknowledged k1 (its echo) but the connection dropped before k2's.
    env.sockets[0]!.send(JSON.stringify({ type: "message.created", conversationId: "c1", contentOmitted: false, message: { id: "M1", clientMessageId: "k1" } }));
    await new Promise((resolve) => env.sockets[0]!.once("close", resolve).close(4002, "drop"));
    await until(() => env.sockets.length === 2 && env.received.length === 3);
    expect(env.received[2]).toEqual({ action: "sendMessage", conversationId: "c1", clientMessageId: "k2", content: "again" });
  });

  it("does not resend a message the server refused", async () => {
    env.onFrame((socket, frame) => {
      if (frame.clientMessageId === "k1") socket.send(JSON.stringify({ type: "error", code: "rate_limited", message: "Too many requests", action: "sendMessage" }));
    });
    const events: ServerEvent[] = [];
    client.onEvent((e) => events.push(e));
    client.start();
    await until(() => client.connectionState === "open");
    client.send({ action: "sendMessage", conversationId: "c1", clientMessageId: "k1", content: "hello" });
    await until(() => events.length === 1);
    client.dropConnection();
    client.send({ action: "sendMessage", conversationId: "c1", clientMessageId: "fence", content: "x" });
    await until(() => env.sockets.length === 2 && env.received.length === 2);
    expect(env.received.map((r) => (r as { clientMessageId: string }).clientMessageId)).toEqual(["k1", "fence"]);
    // The app hears of the refusal (it hands the text back to the person).
    expect(events[0]).toMatchObject({ type: "error", code: "rate_limited", action: "sendMessage" });
  });

  it("subscribes again a little later when a subscription is refused as too frequent", async () => {
    client.stop();
    client = new RealtimeClient(env.url(), tokens, {
      WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
      rateLimitRetryMs: 20,
    });
    let refused = 0;
    env.onFrame((socket, frame) => {
      if (frame.action !== "subscribe") return;
      if (refused++ === 0) socket.send(JSON.stringify({ type: "error", code: "rate_limited", message: "Too many requests", action: "subscribe" }));
      else socket.send(JSON.stringify({ type: "subscribed", conversationId: frame.conversationId, streaming: [] }));
    });
    client.subscribe("c1");
    client.start();
    await until(() => env.received.length === 2);
    expect(env.received).toEqual([
      { action: "subscribe", conversationId: "c1" },
      { action: "subscribe", conversationId: "c1" },
    ]);
    expect(env.sockets).toHaveLength(1);
  });

  it("unsubscribes and stops cleanly", async () => {
    client.subscribe("c1");
    client.start();
    await until(() => env.received.length === 1);
    client.unsubscribe("c1");
    await until(() => env.received.length === 2);
    expect(env.received[1]).toEqual({ action: "unsubscribe", conversationId: "c1" });
    client.stop();
    expect(client.connectionState).toBe("closed");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(env.sockets).toHaveLength(1);
  });
});

describe("TypingThrottle", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const sent: boolean[] = [];
    const throttle = new TypingThrottle(2000, (isTyping) => sent.push(isTyping));
    return { sent, throttle };
  }

  it("sends the first signal at once and at most one per interval after it", () => {
    const { sent, throttle } = setup();
    throttle.offer(true);
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(30);
      throttle.offer(i % 2 === 0);
    }
    // 1.5 s in: only the first went out.
    expect(sent).toEqual([true]);
    vi.advanceTimersByTime(500);
    // The window ended: the latest state (false) follows, once.
    expect(sent).toEqual([true, false]);
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual([true, false]);
  });

  it("drops a change that was undone within the window", () => {
    const { sent, throttle } = setup();
    throttle.offer(true);
    throttle.offer(false);
    throttle.offer(true);
    vi.advanceTimersByTime(5000);
    expect(sent).toEqual([true]);
  });

  it("lets a repeat through once the interval has passed", () => {
    const { sent, throttle } = setup();
    throttle.offer(true);
    vi.advanceTimersByTime(1999);
    throttle.offer(true);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([true]);
    vi.advanceTimersByTime(1000);
    throttle.offer(true);
    expect(sent).toEqual([true, true]);
  });

  it("sends nothing after it is cancelled", () => {
    const { sent, throttle } = setup();
    throttle.offer(true);
    throttle.offer(false);
    throttle.cancel();
    vi.advanceTimersByTime(5000);
    expect(sent).toEqual([true]);
  });
});
