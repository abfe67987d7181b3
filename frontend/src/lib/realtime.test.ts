// @vitest-environment node
import type { AddressInfo } from "node:net";

import WebSocket, { WebSocketServer } from "ws";

import { backoffDelay, RealtimeClient } from "@/lib/realtime";
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
  server.on("connection", (socket, request) => {
    protocols.push(String(request.headers["sec-websocket-protocol"]).split(/,\s*/));
    sockets.push(socket);
    socket.on("message", (data) => received.push(JSON.parse(String(data))));
  });
  const url = () => `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, received, protocols, sockets, url };
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
