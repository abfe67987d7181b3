import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { ReplyFeedback } from "@/features/chat/components/ReplyFeedback";
import { HttpClient } from "@/lib/http";
import { SessionContext } from "@/lib/session";
import type { Feedback } from "@/types/api";

const C = "01JDX3Z8N4Q7RM2V5K6B9C1T0E";
const R = "01JDX40C3D4E5F6G7H8J9K0M1N";
const PATH = `/conversations/${C}/messages/${R}/feedback`;

interface Received {
  method: string;
  url: string;
  body: unknown;
}

/** The rating buttons of one reply against a real HTTP server, as the app runs them. */
describe("ReplyFeedback", () => {
  const received: Received[] = [];
  /** How many of the next requests fail with a 500. */
  let failures = 0;
  const http = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += String(chunk)));
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", body: body ? JSON.parse(body) : undefined });
      res.setHeader("Content-Type", "application/json");
      if (failures > 0) {
        failures -= 1;
        res.writeHead(500).end(JSON.stringify({ error: { code: "internal_error", message: "boom", requestId: "r" } }));
      } else if (req.url !== PATH) res.writeHead(404).end("{}");
      else if (req.method === "DELETE") res.writeHead(204).end();
      else {
        const { rating, comment } = JSON.parse(body) as { rating: string; comment?: string };
        const saved: Feedback = { rating: rating as Feedback["rating"], comment: comment?.trim() || null, updatedAt: "2026-11-27T10:00:00.000Z" };
        res.end(JSON.stringify(saved));
      }
    });
  });

  beforeAll(() => new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve)));
  afterAll(() => new Promise((resolve) => http.close(resolve)));
  beforeEach(() => {
    received.length = 0;
    failures = 0;
  });

  function renderButtons(saved: Feedback | null = null) {
    const tokens = { getToken: async () => "a.b.c" };
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const session = { userId: "me", email: "me@example.com", name: "Me", http: new HttpClient(base, tokens), demoModel: null };
    const client = new QueryClient();
    const tree = (value: Feedback | null) => (
      <QueryClientProvider client={client}>
        <SessionContext.Provider value={session}>
          <ReplyFeedback conversationId={C} messageId={R} saved={value} />
        </SessionContext.Provider>
      </QueryClientProvider>
    );
    const view = render(tree(saved));
    return { ...view, remount: () => { view.unmount(); return render(tree(saved)); } };
  }

  const up = () => screen.getByRole("button", { name: "Helpful" });
  const down = () => screen.getByRole("button", { name: "Not helpful" });

  it("rates a reply, shows it pressed, and takes the rating back when pressed again", async () => {
    renderButtons();
    expect(screen.getByRole("group", { name: "Rate this answer" })).toBeInTheDocument();
    expect(up()).toHaveAttribute("aria-pressed", "false");
    expect(down()).toHaveAttribute("aria-pressed", "false");

    await userEvent.click(up());
    expect(up()).toHaveAttribute("aria-pressed", "true");
    await waitFor(() => expect(received).toEqual([{ method: "PUT", url: PATH, body: { rating: "up" } }]));
    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("Rated helpful"));

    await userEvent.click(up());
    await waitFor(() => expect(received.at(-1)).toEqual({ method: "DELETE", url: PATH, body: undefined }));
    expect(up()).toHaveAttribute("aria-pressed", "false");
    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("Rating removed"));
  });

  it("shows the rating the listing carries, and keeps a new one when remounted", async () => {
    const view = renderButtons({ rating: "down", comment: "Too vague", updatedAt: "2026-11-27T09:00:00.000Z" });
    expect(down()).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByText("Too vague")).toBeInTheDocument();

    await userEvent.click(up());
    await waitFor(() => expect(received).toEqual([{ method: "PUT", url: PATH, body: { rating: "up" } }]));
    expect(screen.queryByText("Too vague")).toBeNull(); // a new rating leaves the comment out
    view.remount(); // a branch switch unmounts the reply; its rating is kept
    expect(up()).toHaveAttribute("aria-pressed", "true");
  });

  it("asks for an optional comment after a thumbs down, and saves it with the rating", async () => {
    renderButtons();
    await userEvent.click(down());
    const field = await screen.findByRole("textbox", { name: /What was wrong/ });
    expect(field).toHaveFocus();
    expect(field).toHaveAttribute("maxlength", "1000");
    await waitFor(() => expect(received).toEqual([{ method: "PUT", url: PATH, body: { rating: "down" } }]));

    await userEvent.type(field, "  It missed the second part.  ");
    await userEvent.click(screen.getByRole("button", { name: "Save comment" }));
    await waitFor(() =>
      expect(received.at(-1)).toEqual({ method: "PUT", url: PATH, body: { rating: "down", comment: "It missed the second part." } }),
    );
    expect(await screen.findByText("It missed the second part.")).toBeInTheDocument();
    expect(screen.queryByRole("textbox")).toBeNull();
    expect(down()).toHaveAttribute("aria-pressed", "true");

    // Edit it later: Escape closes the field and keeps what was saved.
    await userEvent.click(screen.getByRole("button", { name: "Edit comment" }));
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("textbox")).toBeNull();
    expect(screen.getByText("It missed the second part.")).toBeInTheDocument();
  });

  it("offers a comment after a thumbs up too, on request", async () => {
    renderButtons({ rating: "up", comment: null, updatedAt: "2026-11-27T09:00:00.000Z" });
    expect(screen.queryByRole("textbox")).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Add a comment" }));
    const field = screen.getByRole("textbox", { name: /comment/i });
    await userEvent.type(field, "Clear and short{Enter}");
    await waitFor(() => expect(received).toEqual([{ method: "PUT", url: PATH, body: { rating: "up", comment: "Clear and short" } }]));
  });

  it("says politely when a rating is not saved, shows the earlier state, and retries", async () => {
    renderButtons();
    failures = 1;
    await userEvent.click(up());
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Your rating was not saved");
    expect(up()).toHaveAttribute("aria-pressed", "false");

    await userEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(up()).toHaveAttribute("aria-pressed", "true"));
    expect(received.map((r) => [r.method, r.body])).toEqual([
      ["PUT", { rating: "up" }],
      ["PUT", { rating: "up" }],
    ]);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("is driven by the keyboard", async () => {
    renderButtons();
    await userEvent.tab();
    expect(up()).toHaveFocus();
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(up()).toHaveAttribute("aria-pressed", "true"));
    await userEvent.tab();
    expect(down()).toHaveFocus();
    await userEvent.keyboard(" ");
    await waitFor(() => expect(down()).toHaveAttribute("aria-pressed", "true"));
    expect(up()).toHaveAttribute("aria-pressed", "false");
    await waitFor(() => expect(received.map((r) => r.body)).toEqual([{ rating: "up" }, { rating: "down" }]));
  });
});
