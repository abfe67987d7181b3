import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";

import type { ExportStatus } from "@/features/conversations/api/exports";
import { ExportButton } from "@/features/conversations/components/ExportDialog";
import { HttpClient } from "@/lib/http";
import { RealtimeClient } from "@/lib/realtime";
import { RealtimeProvider } from "@/lib/realtime-context";
import { SessionContext } from "@/lib/session";
import type { Conversation } from "@/types/api";

const C = "01JDX3Z8N4Q7RM2V5K6B9C1T0E";
const E = "01JDX50A1B2C3D4E5F6G7H8J9K";
const conversation: Conversation = {
  id: C,
  kind: "group",
  title: "Trip",
  ownerId: "me",
  role: "member",
  createdAt: "2026-11-27T10:00:00.000Z",
  updatedAt: "2026-11-27T10:00:00.000Z",
};
const running: ExportStatus = {
  id: E,
  conversationId: C,
  format: "json",
  status: "running",
  createdAt: "2026-11-27T10:00:00.000Z",
};

/** The export dialog against a real HTTP server and a real WebSocket server, as the app runs it. */
describe("ExportDialog", { timeout: 30_000 }, () => {
  const posted: unknown[] = [];
  let status: ExportStatus = running;
  let startStatus = 202;
  const http = createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    let body = "";
    req.on("data", (chunk: Buffer) => (body += String(chunk)));
    req.on("end", () => {
      if (req.method === "POST" && req.url === `/conversations/${C}/exports`) {
        posted.push(JSON.parse(body));
        if (startStatus !== 202) {
          res.writeHead(startStatus).end(JSON.stringify({ error: { code: "internal_error", message: "The export could not be started; please try again", requestId: "r" } }));
          return;
        }
        res.writeHead(202).end(JSON.stringify(running));
      } else if (req.url === `/exports/${E}`) res.end(JSON.stringify(status));
      else res.writeHead(404).end("{}");
    });
  });
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", handleProtocols: () => "parley" });
  let socket: WebSocket | null = null;
  wss.on("connection", (s) => (socket = s));
  let client: RealtimeClient;

  beforeAll(async () => {
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    if (!wss.address()) await new Promise((resolve) => wss.once("listening", resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
    await new Promise((resolve) => wss.close(resolve));
  });
  beforeEach(() => {
    posted.length = 0;
    status = running;
    startStatus = 202;
    socket = null;
  });
  afterEach(() => client.stop());

  function renderExport() {
    const tokens = { getToken: async () => "a.b.c" };
    client = new RealtimeClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, tokens, {
      WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const session = { userId: "me", email: "me@example.com", name: "Me", http: new HttpClient(base, tokens), demoModel: null };
    render(
      <QueryClientProvider client={new QueryClient()}>
        <SessionContext.Provider value={session}>
          <RealtimeProvider client={client}>
            <ExportButton conversation={conversation} />
          </RealtimeProvider>
        </SessionContext.Provider>
      </QueryClientProvider>,
    );
  }

  async function openDialog() {
    await userEvent.click(screen.getByRole("button", { name: "Export" }));
    return screen.findByRole("dialog", { name: "Export “Trip”" });
  }

  async function start() {
    const dialog = await openDialog();
    await userEvent.click(within(dialog).getByRole("button", { name: "Export" }));
    return dialog;
  }

  it("exports in the chosen format, shows progress, then the download link from export.ready", async () => {
    renderExport();
    const dialog = await openDialog();
    await userEvent.click(within(dialog).getByRole("radio", { name: /JSON/ }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Export" }));
    expect(await screen.findByText(/Preparing your export/)).toBeInTheDocument();
    expect(posted).toEqual([{ format: "json" }]);

    await waitFor(() => expect(socket).not.toBeNull());
    socket!.send(JSON.stringify({ type: "export.ready", exportId: "01JDX50A1B2C3D4E5F6G7H8J9Z", conversationId: C, format: "md",
      fileName: "other.md", messageCount: 1, downloadUrl: "https://s3/other", downloadExpiresAt: "2026-11-27T10:05:00.000Z" }));
    socket!.send(JSON.stringify({ type: "export.ready", exportId: E, conversationId: C, format: "json",
      fileName: "trip.json", messageCount: 42, downloadUrl: "https://s3/trip.json?sig", downloadExpiresAt: "2026-11-27T10:05:00.000Z" }));
    const link = await screen.findByRole("link", { name: "Download trip.json" });
    expect(link).toHaveAttribute("href", "https://s3/trip.json?sig");
    expect(link).toHaveAttribute("download", "trip.json");
    expect(screen.getByText(/42 messages/)).toBeInTheDocument();
    expect(screen.queryByText(/Preparing your export/)).toBeNull();
  });

  it("shows the reason when the export fails, and lets the user try again", async () => {
    renderExport();
    await start();
    await screen.findByText(/Preparing your export/);
    expect(posted).toEqual([{ format: "md" }]);
    await waitFor(() => expect(socket).not.toBeNull());
    socket!.send(JSON.stringify({ type: "export.failed", exportId: E, conversationId: C, reason: "The conversation was deleted while it was being exported" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("deleted while it was being exported");
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(screen.getByRole("radio", { name: /Markdown/ })).toBeChecked();
  });

  it("learns the end from GET /exports/{id} when no event comes", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      renderExport();
      await start();
      await screen.findByText(/Preparing your export/);
      status = { ...running, status: "ready", fileName: "trip.json", messageCount: 2, downloadUrl: "https://s3/polled", downloadExpiresAt: "2026-11-27T10:05:00.000Z" };
      await vi.advanceTimersByTimeAsync(3500);
      expect(await screen.findByRole("link", { name: "Download trip.json" })).toHaveAttribute("href", "https://s3/polled");
    } finally {
      vi.useRealTimers();
    }
  });

  it("says why an export could not start", async () => {
    startStatus = 503;
    renderExport();
    await start();
    // A 5xx's own text stays in the logs; the app says it in its words, and the choice stays.
    expect(await screen.findByRole("alert")).toHaveTextContent("Something went wrong on our side.");
    expect(screen.getByRole("radio", { name: /Markdown/ })).toBeChecked();
  });
});
