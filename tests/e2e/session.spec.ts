import { expect, test } from "@playwright/test";

import { composer, connectionsOf, enqueue, expireConnections, idToken, lastAssistant, newUser, resetModel, signUp, stack, userId } from "./support";

/** What the test saw of one WebSocket the app opened. */
interface Socket {
  /** The `error` frame with code `unauthorized` the server sent on it, if any. */
  refusal: { action?: string; message?: string } | null;
  closedByServer: { code: number | undefined; reason: string | undefined } | null;
  closedByApp: { code: number | undefined; reason: string | undefined } | null;
}

function parse(frame: string): { type?: string; code?: string; action?: string; message?: string } | null {
  try {
    return JSON.parse(frame) as { type?: string };
  } catch {
    return null;
  }
}

interface ModelRequest {
  body: { messages?: { role: string; content: unknown }[] } | null;
}

/** How many times the scripted model was asked to answer a conversation whose last word is `content`. */
async function modelAskedAbout(content: string): Promise<number> {
  const requests = (await (await fetch(`${stack().controlUrl}/requests`)).json()) as ModelRequest[];
  return requests.filter((r) => r.body?.messages?.filter((m) => m.role === "user").at(-1)?.content === content).length;
}

/**
 * The server refuses every action on a connection whose token has expired (`unauthorized`) and
 * closes it; the app must refresh its token, connect again and deliver what was refused, with
 * nothing for the person to do. The token is made to look expired on the server's side only
 * (the connection's `token_expires_at`), so the app cannot see it coming.
 */
test.describe("sign-in expiry on the live connection", () => {
  test("a message refused for an expired token is delivered after the app refreshes and reconnects", async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    // Every WebSocket passes through unchanged, so the test sees its frames and which side ends
    // it. The app also closes a refused connection itself: that close is kept from the server,
    // so the connection can only end there if the server ends it. (A close passed on to the page
    // is reported as the page's too: the first one of each side is kept.)
    const sockets: Socket[] = [];
    await page.routeWebSocket(
      (url) => url.href.startsWith(stack().wsUrl),
      (ws) => {
        const socket: Socket = { refusal: null, closedByServer: null, closedByApp: null };
        sockets.push(socket);
        const server = ws.connectToServer();
        server.onMessage((message) => {
          const event = typeof message === "string" ? parse(message) : null;
          if (event?.type === "error" && event.code === "unauthorized") socket.refusal = event;
          if (!socket.closedByApp) ws.send(message);
        });
        ws.onClose((code, reason) => {
          socket.closedByApp ??= { code, reason };
          if (!socket.refusal) server.close({ code, reason });
        });
        server.onClose((code, reason) => {
          socket.closedByServer ??= { code, reason };
          if (!socket.closedByApp) ws.close({ code, reason });
        });
      },
    );
    const refreshes: string[] = [];
    page.on("request", (request) => {
      if (request.url().startsWith(stack().cognitoEndpoint) && request.postData()?.includes('"REFRESH_TOKEN_AUTH"')) refreshes.push(request.url());
    });
    const badge = page.locator(".connection");
    try {
      await resetModel();
      // GIVEN a signed-in person in a chat, on one live connection
      await signUp(page, newUser("Eve"));
      await enqueue({ text: "Hello, Eve." });
      await page.getByRole("button", { name: "New chat" }).click();
      await composer(page).fill("Hello");
      await composer(page).press("Enter");
      await expect(lastAssistant(page)).toContainText("Hello, Eve.", { timeout: 30_000 });
      await expect(lastAssistant(page)).not.toHaveAttribute("aria-busy", "true");
      await expect(badge).toHaveAttribute("data-state", "open");
      const user = await userId(page);
      const before = await connectionsOf(user);
      expect(before).toHaveLength(1);
      const expiring = sockets.at(-1)!;
      expect(expiring).toMatchObject({ refusal: null, closedByServer: null, closedByApp: null });
      const tokenBefore = await idToken(page);
      // The connection indicator's every state from here on, and a mark a reload would wipe.
      await page.evaluate(() => {
        const seen: string[] = [];
        const record = () => {
          const state = document.querySelector(".connection")?.getAttribute("data-state") ?? "none";
          if (seen.at(-1) !== state) seen.push(state);
        };
        record();
        new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
        Object.assign(window, { connectionStates: seen, notReloaded: true });
      });

      // WHEN the server takes the token for expired, and the person sends a message
      expect(await expireConnections(user)).toEqual(before.map((c) => c.id));
      await enqueue({ text: "Still here, on a fresh connection." });
      const question = "Are you still there?";
      await composer(page).fill(question);
      await composer(page).press("Enter");

      // THEN the server refused it on the old connection and closed that connection itself
      await expect.poll(() => expiring.refusal?.action).toBe("sendMessage");
      await expect.poll(() => expiring.closedByServer, { timeout: 15_000 }).not.toBeNull();
      // … the app resent it on a new connection, where it was answered
      await expect(lastAssistant(page)).toContainText("Still here, on a fresh connection.", { timeout: 30_000 });
      await expect(lastAssistant(page)).not.toHaveAttribute("aria-busy", "true");
      // … having shown it reconnecting, then live again, with a refreshed token
      await expect(badge).toHaveAttribute("data-state", "open");
      const states = await page.evaluate(() => (window as unknown as { connectionStates: string[] }).connectionStates);
      expect(states[0]).toBe("open");
      expect(states.indexOf("reconnecting")).toBeGreaterThan(0);
      expect(states.at(-1)).toBe("open");
      expect(refreshes.length).toBeGreaterThan(0);
      expect(await idToken(page)).not.toBe(tokenBefore);
      expect(sockets.at(-1)).not.toBe(expiring);
      expect(sockets.at(-1)).toMatchObject({ refusal: null, closedByServer: null, closedByApp: null });
      // … and the server's books agree: the old connection is gone, one new one is open
      await expect.poll(async () => (await connectionsOf(user)).map((c) => c.id)).not.toContain(before[0]!.id);
      const after = await connectionsOf(user);
      expect(after).toHaveLength(1);
      expect(after[0]!.tokenExpiresAt).toBeGreaterThan(Date.now() / 1000);
      // … the message was delivered and answered once, without a reload
      const log = page.getByRole("log", { name: "Messages" });
      await expect(log.locator("article.message-user").filter({ hasText: question })).toHaveCount(1);
      await expect(log.locator("article.message-assistant").filter({ hasText: "Still here, on a fresh connection." })).toHaveCount(1);
      await expect(log.locator("article")).toHaveCount(4);
      expect(await modelAskedAbout(question)).toBe(1);
      expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    } finally {
      await context.close();
    }
  });
});
