import { createServer } from "node:http";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

import { ApiError, HttpClient } from "@/lib/http";

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: string;
}

describe("HttpClient against a real HTTP server", () => {
  const seen: Seen[] = [];
  let respond: (req: IncomingMessage) => { status: number; body?: unknown; headers?: Record<string, string> } = () => ({ status: 200, body: {} });
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const answer = respond(req);
      res.writeHead(answer.status, { "Content-Type": "application/json", ...answer.headers });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    });
  });
  let base = "";
  let tokenCalls: boolean[] = [];
  const tokens = {
    getToken: async (force = false) => {
      tokenCalls.push(force);
      return force ? "fresh-token" : "old-token";
    },
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    tokenCalls = [];
  });

  it("sends the bearer token, the JSON body and the query", async () => {
    respond = () => ({ status: 201, body: { id: "c1" } });
    const client = new HttpClient(base, tokens);
    const result = await client.request<{ id: string }>("/conversations", { method: "POST", body: { title: "x" }, query: { limit: 5, cursor: null } });
    expect(result).toEqual({ id: "c1" });
    expect(seen).toEqual([{ method: "POST", url: "/conversations?limit=5", auth: "Bearer old-token", body: '{"title":"x"}' }]);
  });

  it("retries once with a refreshed token after a 401", async () => {
    respond = (req) => (req.headers.authorization === "Bearer fresh-token" ? { status: 200, body: { ok: true } } : { status: 401, body: { message: "Unauthorized" } });
    const client = new HttpClient(base, tokens);
    await expect(client.request("/me")).resolves.toEqual({ ok: true });
    expect(tokenCalls).toEqual([false, true]);
  });

  it("turns an error body into an ApiError with the API's code and message", async () => {
    respond = () => ({ status: 404, body: { error: { code: "not_found", message: "Conversation not found", requestId: "r1" } } });
    const error = await new HttpClient(base, tokens).request("/conversations/x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "not_found", message: "Conversation not found", requestId: "r1" });
  });

  it("never shows a server error's internals", async () => {
    respond = () => ({ status: 500, body: { error: { code: "internal_error", message: "KeyError: 'pk' at line 3", requestId: "r2" } } });
    const error = await new HttpClient(base, tokens).request("/me").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500, message: "Something went wrong on our side.", requestId: "r2" });
  });

  it("reads Retry-After on 429", async () => {
    respond = () => ({ status: 429, headers: { "Retry-After": "120" }, body: { error: { code: "quota_exceeded", message: "Daily token quota reached" } } });
    const error = await new HttpClient(base, tokens).request("/me").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, code: "quota_exceeded", retryAfter: 120 });
  });

  it("returns nothing for 204", async () => {
    respond = () => ({ status: 204 });
    await expect(new HttpClient(base, tokens).request("/conversations/x", { method: "DELETE" })).resolves.toBeUndefined();
  });

  it("reports an unreachable server as a network error", async () => {
    const error = await new HttpClient("http://127.0.0.1:1", tokens).request("/me").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: "network_error" });
  });
});
