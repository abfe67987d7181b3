import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { fetchShared } from "@/features/shares/api/shares";
import type { ShareLink } from "@/features/shares/api/shares";
import { ShareButton } from "@/features/shares/components/ShareDialog";
import { SharedConversationView } from "@/features/shares/components/SharedConversationView";
import { HttpClient } from "@/lib/http";
import { sharedLinkId } from "@/lib/router";
import { SessionContext } from "@/lib/session";
import type { Conversation } from "@/types/api";

const C = "01JDX3Z8N4Q7RM2V5K6B9C1T0E";
const S = "AbCdEfGhIjKlMnOpQrStUv_-";
const conversation: Conversation = {
  id: C,
  kind: "assistant",
  title: "Trip",
  ownerId: "me",
  role: "owner",
  createdAt: "2026-11-27T10:00:00.000Z",
  updatedAt: "2026-11-27T10:00:00.000Z",
};
const link = (id: string, extra: Partial<ShareLink> = {}): ShareLink => ({
  id,
  conversationId: C,
  path: `/#/s/${id}`,
  createdAt: "2026-11-27T10:00:00.000Z",
  expiresAt: null,
  expired: false,
  messageCount: 2,
  ...extra,
});

/** The share dialog and the public page against a real HTTP server, as the app runs them. */
describe("Share links", { timeout: 30_000 }, () => {
  const requests: { method: string; url: string; body: unknown; auth?: string }[] = [];
  let links: ShareLink[] = [];
  const server = createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    let body = "";
    req.on("data", (chunk: Buffer) => (body += String(chunk)));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", body: body ? JSON.parse(body) : null, auth: req.headers.authorization });
      const base = `/conversations/${C}/shares`;
      if (req.method === "GET" && req.url === base) res.end(JSON.stringify({ items: links, limit: 20 }));
      else if (req.method === "POST" && req.url === base) {
        const made = link(S, { expiresAt: "2026-12-04T10:00:00.000Z" });
        links = [...links, made];
        res.writeHead(201).end(JSON.stringify(made));
      } else if (req.method === "DELETE" && req.url?.startsWith(`${base}/`)) {
        links = links.filter((l) => !req.url!.endsWith(l.id));
        res.writeHead(204).end();
      } else if (req.url === `/shared/${S}`) {
        res.end(
          JSON.stringify({
            version: 1, id: S, title: "Trip", kind: "assistant", sharedAt: "2026-11-27T10:00:00.000Z", expiresAt: null,
            messages: [
              { role: "user", authorName: "Ada", content: "Where to?", createdAt: "2026-11-27T10:00:00.000Z", attachments: [{ name: "map.png", kind: "image" }] },
              { role: "assistant", authorName: "Assistant", content: "**Lisbon**", createdAt: "2026-11-27T10:00:01.000Z", attachments: [] },
            ],
          }),
        );
      } else if (req.url === "/shared/revokedrevokedrevoked1") {
        res.writeHead(410).end(JSON.stringify({ error: { code: "gone", message: "The owner stopped sharing this conversation", requestId: "r", reason: "revoked" } }));
      } else if (req.url === "/shared/expiredexpiredexpired1") {
        res.writeHead(410).end(JSON.stringify({ error: { code: "gone", message: "This link has expired", requestId: "r", reason: "expired" } }));
      } else res.writeHead(404).end(JSON.stringify({ error: { code: "not_found", message: "No such shared conversation", requestId: "r" } }));
    });
  });
  const base = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    requests.length = 0;
    links = [link("olderolderolderolderolde")];
  });

  function renderShare(who: Conversation = conversation) {
    const tokens = { getToken: async () => "a.b.c" };
    const session = { userId: "me", email: "me@example.com", name: "Me", http: new HttpClient(base(), tokens), demoModel: null };
    render(
      <QueryClientProvider client={new QueryClient()}>
        <SessionContext.Provider value={session}>
          <ShareButton conversation={who} title={who.title} />
        </SessionContext.Provider>
      </QueryClientProvider>,
    );
  }

  it("creates a link with the chosen expiry, offers it to copy, lists and revokes links", async () => {
    renderShare();
    await userEvent.click(screen.getByRole("button", { name: "Share" }));
    const dialog = await screen.findByRole("dialog", { name: "Share “Trip”" });
    const list = await within(dialog).findByRole("list", { name: "Share links" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(1);
    await userEvent.selectOptions(within(dialog).getByLabelText("Link expires"), "7");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create link" }));
    const made = await within(dialog).findByLabelText("New link");
    expect((made as HTMLInputElement).value).toBe(`${window.location.origin}/#/s/${S}`);
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ expiresInDays: 7 });
    expect(within(dialog).getByRole("button", { name: "Copy link" })).toBeInTheDocument();
    await waitFor(() => expect(within(dialog).getAllByRole("listitem")).toHaveLength(2));
    expect(within(dialog).getByRole("status")).toHaveTextContent("Link created");

    const revokes = within(dialog).getAllByRole("button", { name: /^Revoke the link created/ });
    await userEvent.click(revokes[1]!);
    await waitFor(() => expect(within(dialog).getAllByRole("listitem")).toHaveLength(1));
    expect(requests.some((r) => r.method === "DELETE" && r.url.endsWith(`/shares/${S}`))).toBe(true);
    expect(within(dialog).queryByLabelText("New link")).toBeNull();
    expect(within(dialog).getByRole("status")).toHaveTextContent("Link revoked");
  });

  it("reaches the expiry by keyboard inside the dialog", async () => {
    renderShare();
    await userEvent.click(screen.getByRole("button", { name: "Share" }));
    const dialog = await screen.findByRole("dialog");
    const expiry = within(dialog).getByLabelText("Link expires");
    await waitFor(() => expect(dialog.contains(document.activeElement)).toBe(true));
    expect(document.activeElement).toBe(expiry);
    await userEvent.tab();
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Create link" }));
    await userEvent.tab({ shift: true });
    expect(document.activeElement).toBe(expiry);
    await userEvent.tab({ shift: true });
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Done" }));
  });

  it("never expires unless asked", async () => {
    renderShare();
    await userEvent.click(screen.getByRole("button", { name: "Share" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create link" }));
    await within(dialog).findByLabelText("New link");
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ expiresInDays: null });
  });

  it("is not offered to a member who is not the owner", () => {
    renderShare({ ...conversation, kind: "group", role: "member" });
    expect(screen.queryByRole("button", { name: "Share" })).toBeNull();
  });

  it("shows a snapshot with no token sent, names on messages and files not shared", async () => {
    render(<SharedConversationView httpApiUrl={base()} shareId={S} markdown={(text) => <p data-testid="md">{text}</p>} />);
    expect(await screen.findByRole("heading", { level: 1, name: "Trip" })).toBeInTheDocument();
    const items = screen.getAllByRole("listitem", { name: /said$/ });
    expect(items.map((i) => i.getAttribute("aria-label"))).toEqual(["Ada said", "Assistant said"]);
    expect(screen.getByTestId("md")).toHaveTextContent("**Lisbon**");
    expect(screen.getByText("map.png")).toBeInTheDocument();
    expect(requests.find((r) => r.url === `/shared/${S}`)?.auth).toBeUndefined();
  });

  it.each([
    ["revokedrevokedrevoked1", "This link was revoked"],
    ["expiredexpiredexpired1", "This link has expired"],
    ["unknownunknownunknown123", "This link does not exist"],
  ])("says clearly when %s no longer works", async (id, title) => {
    render(<SharedConversationView httpApiUrl={base()} shareId={id} markdown={(text) => text} />);
    const alert = await screen.findByRole("alert");
    expect(within(alert).getByRole("heading", { name: title })).toBeInTheDocument();
    expect(within(alert).getByRole("link", { name: "Go to Parley" })).toHaveAttribute("href", "#/");
  });

  it("reads the link from the hash route only", async () => {
    expect(sharedLinkId(`#/s/${S}`)).toBe(S);
    expect(sharedLinkId(`#/s/${S}/`)).toBe(S);
    expect(sharedLinkId("#/c/abc")).toBeNull();
    expect(sharedLinkId("#/s/")).toBeNull();
    expect(sharedLinkId("#/s/a/b")).toBeNull();
    expect(await fetchShared(base(), "nope")).toEqual({ status: "unknown" });
    expect(await fetchShared("http://127.0.0.1:9", "x")).toMatchObject({ status: "error" });
  });
});
