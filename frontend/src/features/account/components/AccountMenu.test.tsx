import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import type { Activity, UsageDay } from "@/features/account/api/getUsage";
import { AccountMenu } from "@/features/account/components/AccountMenu";
import { describeUsage } from "@/features/account/components/UsageChart";
import { HttpClient } from "@/lib/http";
import { SessionContext } from "@/lib/session";

const zero = { messages: 0, inputTokens: 0, outputTokens: 0, repliesStopped: 0, repliesFailed: 0, costUsd: 0 };
const day = (date: string, messages = 0): UsageDay => ({ ...zero, date, messages, inputTokens: messages * 10, outputTokens: messages * 3 });
const days = [day("2026-11-30"), day("2026-12-01", 4), day("2026-12-02", 9)];
const activity: Activity = {
  today: { ...zero, date: "2026-12-02", messages: 9, inputTokens: 90, outputTokens: 27, costUsd: 0.000042 },
  month: { ...zero, month: "2026-12", messages: 13, inputTokens: 130, outputTokens: 39, repliesStopped: 1, repliesFailed: 2, costUsd: 1.5 },
};

/** The account menu against a real HTTP server answering GET /me/usage as the API does. */
describe("AccountMenu", () => {
  const paths: string[] = [];
  let fail = false;
  const server = createServer((req, res) => {
    paths.push(req.url ?? "");
    res.setHeader("Content-Type", "application/json");
    if (fail) {
      res.writeHead(500).end(JSON.stringify({ error: { code: "internal", message: "boom", requestId: "r" } }));
    } else {
      res.end(JSON.stringify({ from: "2026-11-30", to: "2026-12-02", days }));
    }
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    paths.length = 0;
    fail = false;
  });

  function renderMenu() {
    const http = new HttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { getToken: async () => "a.b.c" });
    const session = { userId: "me", email: "me@example.com", name: "Me", http, demoModel: null };
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    return render(
      <QueryClientProvider client={client}>
        <SessionContext.Provider value={session}>
          <AccountMenu label="Ana" email="ana@example.com" activity={activity} />
        </SessionContext.Provider>
      </QueryClientProvider>,
    );
  }

  it("opens on demand with today's and this month's figures and the daily chart with a table", async () => {
    const user = userEvent.setup();
    renderMenu();
    const button = screen.getByRole("button", { name: "Ana" });
    expect(button).toHaveAttribute("aria-expanded", "false");
    expect(paths).toEqual([]); // nothing fetched until the menu opens
    await user.click(button);
    expect(button).toHaveAttribute("aria-expanded", "true");
    const panel = screen.getByRole("region", { name: "My account" });
    expect(within(panel).getByText("9 messages, 117 tokens, $0.000042")).toBeInTheDocument();
    expect(within(panel).getByText(/13 messages, 169 tokens, \$1\.50, 1 reply stopped, 2 failed/)).toBeInTheDocument();
    const figure = await within(panel).findByRole("figure");
    expect(figure).toHaveAccessibleName(/13 messages from .* the busiest day was .* with 9\./);
    expect(figure.querySelectorAll("rect.usage-bar")).toHaveLength(3);
    const tallest = figure.querySelector<SVGRectElement>('rect[data-date="2026-12-02"]');
    const shorter = figure.querySelector<SVGRectElement>('rect[data-date="2026-12-01"]');
    expect(Number(tallest?.getAttribute("height"))).toBeGreaterThan(Number(shorter?.getAttribute("height")));
    expect(figure.querySelector('rect[data-date="2026-11-30"]')?.getAttribute("height")).toBe("0");
    await user.click(within(figure).getByText("Show as a table"));
    const rows = within(within(figure).getByRole("table")).getAllByRole("row");
    expect(rows).toHaveLength(4);
    const newest = rows[3];
    if (!newest) throw new Error("no row for the newest day");
    expect(within(newest).getAllByRole("cell").map((c) => c.textContent)).toEqual(["9", "90", "27", "0", "0", "$0"]);
    expect(paths).toEqual(["/me/usage"]);

    await user.keyboard("{Escape}");
    expect(screen.queryByRole("region", { name: "My account" })).not.toBeInTheDocument();
    expect(button).toHaveFocus();
  }, 20_000);

  it("says so when the activity cannot be loaded", async () => {
    fail = true;
    const user = userEvent.setup();
    renderMenu();
    await user.click(screen.getByRole("button", { name: "Ana" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("could not be loaded");
  }, 20_000);

  it("describes a quiet period in words", () => {
    expect(describeUsage([day("2026-12-01"), day("2026-12-02")])).toMatch(/^No messages from /);
    expect(describeUsage([])).toBe("No activity to show.");
  });
});
