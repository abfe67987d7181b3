import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import type { AdminUserDetail } from "@/features/admin/api/admin";
import { AdminConsole } from "@/features/admin/components/AdminConsole";
import { parseRoute, hrefFor } from "@/lib/router";
import { HttpClient } from "@/lib/http";
import { SessionContext } from "@/lib/session";

const zero = { messages: 0, inputTokens: 0, outputTokens: 0, repliesStopped: 0, repliesFailed: 0, costUsd: 0 };
const ana: AdminUserDetail = {
  id: "u-ana",
  email: "ana@example.com",
  name: "Ana",
  status: "enabled",
  confirmed: true,
  cognitoStatus: "CONFIRMED",
  createdAt: null,
  quotaOverride: null,
  dailyTokenQuota: 0,
  tokensToday: 120,
  activity: { today: { ...zero, date: "2026-12-03", messages: 2 }, month: { ...zero, month: "2026-12", messages: 5, inputTokens: 90, outputTokens: 30 } },
  lastActiveDay: "2026-12-03",
  usage: { date: "2026-12-03", inputTokens: 90, outputTokens: 30, dailyQuota: 0, remaining: null, costUsd: 0 },
  days: [
    { ...zero, date: "2026-12-02" },
    { ...zero, date: "2026-12-03", messages: 2, inputTokens: 90, outputTokens: 30 },
  ],
};

/** The admin console against a real HTTP server answering as admin_api does. */
describe("AdminConsole", () => {
  const calls: string[] = [];
  let current: AdminUserDetail = ana;
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    res.setHeader("Content-Type", "application/json");
    const url = req.url ?? "";
    if (url.startsWith("/admin/users?")) {
      res.end(JSON.stringify({ items: [current], nextCursor: null }));
    } else if (url === "/admin/users/u-ana/disable" && req.method === "POST") {
      current = { ...current, status: "disabled" };
      res.end(JSON.stringify(current));
    } else if (url === "/admin/users/u-ana/quota" && req.method === "PUT") {
      current = { ...current, quotaOverride: 500, dailyTokenQuota: 500 };
      res.end(JSON.stringify(current));
    } else if (url === "/admin/users/u-ana") {
      res.end(JSON.stringify(current));
    } else if (url.startsWith("/admin/audit")) {
      res.end(
        JSON.stringify({
          items: [
            {
              id: "01A",
              at: "2026-12-03T10:00:00.000Z",
              actorId: "u-admin",
              actorEmail: "admin@example.com",
              action: "user.disabled",
              targetId: "u-ana",
              targetEmail: "ana@example.com",
              before: { disabled: false },
              after: { disabled: true },
            },
          ],
          nextCursor: null,
        }),
      );
    } else {
      res.writeHead(404).end(JSON.stringify({ error: { code: "not_found", message: "No such route", requestId: "r" } }));
    }
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    calls.length = 0;
    current = ana;
  });

  function renderConsole(view: "users" | "user" | "audit", id?: string) {
    const http = new HttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { getToken: async () => "a.b.c" });
    const session = { userId: "u-admin", email: "admin@example.com", name: "Admin", http, demoModel: null };
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    return render(
      <QueryClientProvider client={client}>
        <SessionContext.Provider value={session}>
          <AdminConsole view={view} userId={id} />
        </SessionContext.Provider>
      </QueryClientProvider>,
    );
  }

  it("searches users by e-mail and shows their status, usage and last activity", async () => {
    const user = userEvent.setup();
    renderConsole("users");
    await user.type(screen.getByLabelText("Search by e-mail"), "ana");
    await user.click(screen.getByRole("button", { name: "Search" }));
    const table = await screen.findByRole("table");
    expect(calls).toContain("GET /admin/users?q=ana&limit=20");
    const row = within(table).getByRole("row", { name: /ana@example.com/ });
    expect(within(row).getByText("Enabled")).toBeInTheDocument();
    expect(within(row).getByText("2026-12-03")).toBeInTheDocument();
    expect(within(row).getByText("5 messages, 120 tokens")).toBeInTheDocument();
    expect(within(row).getByRole("link", { name: "ana@example.com" })).toHaveAttribute("href", "#/admin/u/u-ana");
  });

  it("disables a user only after confirming, and sets a quota override", async () => {
    const user = userEvent.setup();
    renderConsole("user", "u-ana");
    const days = await screen.findByRole("table", { name: /last 30 days/ });
    expect(within(days).getAllByRole("row")).toHaveLength(2); // the header and the one active day
    expect(within(days).getByRole("row", { name: /2026-12-03/ })).toHaveTextContent("2026-12-03 2 120".replace(/ /g, ""));
    await user.click(await screen.findByRole("button", { name: "Disable user" }));
    const dialog = screen.getByRole("dialog", { name: "Disable ana@example.com?" });
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(calls.filter((c) => c.startsWith("POST"))).toEqual([]);
    await user.click(screen.getByRole("button", { name: "Disable user" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Disable" }));
    expect(await screen.findByText("ana@example.com is disabled.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Enable user" })).toBeInTheDocument();

    const field = screen.getByLabelText("Tokens a day (0 = unlimited)");
    await user.type(field, "-3");
    await user.click(screen.getByRole("button", { name: "Set quota" }));
    expect(screen.getByText(/Enter a whole number of tokens/)).toBeInTheDocument();
    expect(field).toHaveAttribute("aria-invalid", "true");
    await user.clear(field);
    await user.type(field, "500");
    await user.click(screen.getByRole("button", { name: "Set quota" }));
    expect(await screen.findByText("Daily quota set to 500 tokens a day.")).toBeInTheDocument();
    expect(calls).toContain("PUT /admin/users/u-ana/quota");
  });

  it("lists the audit log with who did what to whom, before and after", async () => {
    renderConsole("audit");
    const row = await screen.findByRole("row", { name: /Disabled/ });
    expect(within(row).getByText("admin@example.com")).toBeInTheDocument();
    expect(within(row).getByText("ana@example.com")).toBeInTheDocument();
    expect(within(row).getByText("disabled: no → yes")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /delete|edit/i })).toBeNull();
  });

  it("routes #/admin, its views and a user's page", () => {
    expect(parseRoute("#/admin")).toEqual({ name: "admin", view: "users" });
    expect(parseRoute("#/admin/audit")).toEqual({ name: "admin", view: "audit" });
    expect(parseRoute("#/admin/totals")).toEqual({ name: "admin", view: "totals" });
    expect(parseRoute("#/admin/u/abc-1")).toEqual({ name: "admin", view: "user", id: "abc-1" });
    expect(parseRoute("#/admin/u/a b")).toEqual({ name: "home" });
    expect(hrefFor({ name: "admin", view: "user", id: "abc-1" })).toBe("#/admin/u/abc-1");
    expect(hrefFor({ name: "admin", view: "audit" })).toBe("#/admin/audit");
  });
});
