import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import type { SearchHit } from "@/features/conversations/api/searchMessages";
import { MessageSearch } from "@/features/conversations/components/MessageSearch";
import { HttpClient } from "@/lib/http";
import { hrefFor, parseRoute } from "@/lib/router";
import { SessionContext } from "@/lib/session";

const C = "01JDX3Z8N4Q7RM2V5K6B9C1T0E";
const hit = (id: string, overrides: Partial<SearchHit> = {}): SearchHit => ({
  conversationId: C,
  conversationTitle: "Trip",
  conversationKind: "group",
  messageId: id,
  authorId: "u-1",
  authorName: "Ana",
  role: "user",
  createdAt: "2026-11-27T10:00:00.000Z",
  snippet: [
    { text: "Book the ", match: false },
    { text: "Gondola", match: true },
    { text: " <img src=x onerror=alert(1)>", match: false },
  ],
  ...overrides,
});

/** The search results against a real HTTP server answering GET /search as the API does. */
describe("MessageSearch", () => {
  const requests: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(url);
    res.setHeader("Content-Type", "application/json");
    const q = url.searchParams.get("q");
    if (q === "the") {
      res.writeHead(400).end(JSON.stringify({ error: { code: "bad_request", message: "Search for a word: common words like “the” are not indexed", requestId: "r" } }));
    } else if (q === "gondola" && !url.searchParams.get("cursor")) {
      res.end(JSON.stringify({ items: [hit("01JDX40A1B2C3D4E5F6G7H8J9K")], nextCursor: "next-1" }));
    } else if (q === "gondola") {
      res.end(JSON.stringify({ items: [hit("01JDX40B1B2C3D4E5F6G7H8J9K", { role: "assistant", authorId: "assistant", authorName: null })], nextCursor: null }));
    } else {
      res.end(JSON.stringify({ items: [], nextCursor: null }));
    }
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => (requests.length = 0));

  function renderSearch(query: string) {
    const tokens = { getToken: async () => "a.b.c" };
    const http = new HttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokens);
    const session = { userId: "me", email: "me@example.com", name: "Me", http, demoModel: null };
    return render(
      <QueryClientProvider client={new QueryClient()}>
        <SessionContext.Provider value={session}>
          <MessageSearch query={query} />
        </SessionContext.Provider>
      </QueryClientProvider>,
    );
  }

  it("lists results with their conversation, marks the matched words as text, and pages", async () => {
    const { container } = renderSearch("gondola");
    const list = await screen.findByRole("list", { name: "Messages found" }, { timeout: 10_000 });
    const [link] = within(list).getAllByRole("link");
    expect(link).toHaveAttribute("href", `#/c/${C}/m/01JDX40A1B2C3D4E5F6G7H8J9K`);
    expect(link).toHaveAccessibleName("Ana in Trip: Book the Gondola <img src=x onerror=alert(1)>");
    expect(within(link!).getByText("Trip")).toBeInTheDocument();
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Gondola"]);
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByRole("status")).toHaveTextContent("1+ message found.");

    await userEvent.click(screen.getByRole("button", { name: "More messages" }));
    await waitFor(() => expect(within(list).getAllByRole("link")).toHaveLength(2));
    expect(within(list).getAllByRole("link")[1]).toHaveAccessibleName(/^Assistant in Trip: /);
    expect(requests.map((r) => r.searchParams.get("cursor"))).toEqual([null, "next-1"]);
    expect(screen.queryByRole("button", { name: "More messages" })).toBeNull();
    expect(screen.getByRole("status")).toHaveTextContent("2 messages found.");
  }, 20_000);

  it("says when nothing matches and shows the server's reason for a refused query", async () => {
    const first = renderSearch("zzz");
    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("No messages match."), { timeout: 10_000 });
    first.unmount();
    renderSearch("the");
    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("common words like “the” are not indexed"), { timeout: 10_000 });
  }, 20_000);

  it("does not send a one-letter query", async () => {
    renderSearch("g");
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(requests).toHaveLength(0);
    expect(screen.getByRole("status")).toHaveTextContent("Type 2 or more characters to search messages.");
  });

  it("links to a message inside a conversation and reads the link back", () => {
    const route = { name: "conversation", id: C, message: "01JDX40A1B2C3D4E5F6G7H8J9K" } as const;
    expect(parseRoute(hrefFor(route))).toEqual(route);
    expect(parseRoute(`#/c/${C}`)).toEqual({ name: "conversation", id: C });
    expect(parseRoute(`#/c/${C}/m/<script>`)).toEqual({ name: "home" });
  });
});
