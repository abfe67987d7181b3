import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { handleProblem } from "@/features/assistants/api/assistants";
import { AssistantsPage } from "@/features/assistants/components/AssistantsPage";
import { RoomAssistants } from "@/features/assistants/components/RoomAssistants";
import { MessageItem } from "@/features/chat/components/MessageItem";
import { HttpClient } from "@/lib/http";
import { hrefFor, parseRoute } from "@/lib/router";
import { SessionContext } from "@/lib/session";
import type { Assistant, Conversation, RoomAssistant } from "@/types/api";

const models = {
  default: "scripted",
  items: [
    { id: "scripted", label: "Scripted", provider: "local", contextWindow: 8192, maxOutputTokens: 1024, messageChars: 16000, vision: true, price: { input: 0.15, output: 0.6 }, default: true },
    { id: "scripted-mini", label: "Scripted mini", provider: "local", contextWindow: 4096, maxOutputTokens: 512, messageChars: 8000, vision: false, price: { input: 0.05, output: 0.2 }, default: false },
  ],
};

function assistant(id: string, handle: string, name: string): Assistant {
  return { id, name, handle, instructions: `You are ${name}.`, model: "scripted", temperature: 1, createdAt: "t", updatedAt: "t" };
}

/** An in-memory API for the assistants' routes, answering as chat_api does. */
function fakeApi() {
  const calls: { method: string; path: string; body: unknown }[] = [];
  let mine: Assistant[] = [assistant("a1", "poet", "Poet")];
  let room: RoomAssistant[] = [];
  const json = (status: number, body: unknown) =>
    new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, path: url.pathname, body });
    if (url.pathname === "/models") return json(200, models);
    if (url.pathname === "/assistants" && method === "GET") return json(200, { items: mine, limit: 50 });
    if (url.pathname === "/assistants" && method === "POST") {
      const input = body as Assistant;
      if (mine.some((a) => a.handle === input.handle))
        return json(409, { error: { code: "conflict", message: `You already have an assistant with the handle '${input.handle}'`, requestId: "r" } });
      const made = { ...assistant(`a${mine.length + 1}`, input.handle, input.name), ...input };
      mine = [...mine, made];
      return json(201, made);
    }
    const one = /^\/assistants\/(\w+)$/.exec(url.pathname);
    if (one && method === "DELETE") {
      mine = mine.filter((a) => a.id !== one[1]);
      return json(204, null);
    }
    if (one && method === "PATCH") {
      mine = mine.map((a) => (a.id === one[1] ? { ...a, ...(body as Partial<Assistant>) } : a));
      return json(200, mine.find((a) => a.id === one[1]));
    }
    if (url.pathname === "/conversations" && method === "POST") return json(201, { id: "c9", kind: "assistant", title: "Poet", ownerId: "me", role: "owner", createdAt: "t", updatedAt: "t" });
    if (url.pathname === "/conversations/room1/assistants" && method === "GET") return json(200, { items: room, limit: 10 });
    if (url.pathname === "/conversations/room1/assistants" && method === "POST") {
      const picked = mine.find((a) => a.id === (body as { assistantId: string }).assistantId)!;
      const added = { id: picked.id, name: picked.name, handle: picked.handle, model: picked.model, addedBy: "me" };
      room = [...room, added];
      return json(201, added);
    }
    const inRoom = /^\/conversations\/room1\/assistants\/(\w+)$/.exec(url.pathname);
    if (inRoom && method === "DELETE") {
      room = room.filter((a) => a.id !== inRoom[1]);
      return json(204, null);
    }
    return json(404, { error: { code: "not_found", message: "Not found", requestId: "r" } });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

function renderWith(ui: React.ReactNode, fetchImpl: typeof fetch) {
  const session = { userId: "me", email: "me@example.com", name: "Me", http: new HttpClient("http://api.test", { getToken: async () => "a.b.c" }, fetchImpl), demoModel: null };
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <SessionContext.Provider value={session}>{ui}</SessionContext.Provider>
    </QueryClientProvider>,
  );
}

describe("handleProblem", () => {
  it("says what is wrong with a handle, and nothing for a good one", () => {
    expect(handleProblem("poet")).toBeNull();
    expect(handleProblem("my-bot-2")).toBeNull();
    expect(handleProblem("assistant")).toMatch(/default assistant/);
    expect(handleProblem("P")).toMatch(/2–32 lowercase/);
    expect(handleProblem("-x")).toMatch(/2–32 lowercase/);
  });
});

describe("AssistantsPage", { timeout: 30_000 }, () => {
  beforeEach(() => {
    window.location.hash = "#/assistants";
  });

  it("lists the user's assistants and makes a new one from a labelled form", async () => {
    const api = fakeApi();
    renderWith(<AssistantsPage />, api.fetchImpl);
    const list = await screen.findByRole("list", { name: "My assistants" });
    expect(within(list).getByRole("heading", { name: "Poet" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "New assistant" }));
    const form = screen.getByRole("form", { name: "New assistant" });
    // Nothing filled in: each problem is said next to its field, and nothing is sent.
    await userEvent.click(within(form).getByRole("button", { name: "Create assistant" }));
    expect(within(form).getByRole("textbox", { name: "Name" })).toHaveAccessibleDescription("Give it a name.");
    expect(api.calls.filter((c) => c.method === "POST")).toEqual([]);
    await userEvent.type(within(form).getByRole("textbox", { name: "Name" }), "Pirate");
    await userEvent.type(within(form).getByRole("textbox", { name: "Handle" }), "Pirate");
    await userEvent.type(within(form).getByRole("textbox", { name: "Instructions" }), "Talk like a pirate.");
    await userEvent.selectOptions(await within(form).findByRole("combobox", { name: "Model" }), "scripted-mini");
    const temperature = within(form).getByRole("spinbutton", { name: "Temperature" });
    await userEvent.clear(temperature);
    await userEvent.type(temperature, "0.4");
    await userEvent.click(within(form).getByRole("button", { name: "Create assistant" }));
    await waitFor(() => expect(within(list).getByRole("heading", { name: "Pirate" })).toBeInTheDocument());
    expect(api.calls.find((c) => c.method === "POST")?.body).toEqual({
      name: "Pirate",
      handle: "pirate", // typed in capitals, kept lower-case
      instructions: "Talk like a pirate.",
      model: "scripted-mini",
      temperature: 0.4,
    });
    expect(screen.queryByRole("form")).not.toBeInTheDocument();
  });

  it("shows the server's refusal of a handle in use", async () => {
    const api = fakeApi();
    renderWith(<AssistantsPage />, api.fetchImpl);
    await userEvent.click(await screen.findByRole("button", { name: "New assistant" }));
    const form = screen.getByRole("form", { name: "New assistant" });
    await userEvent.type(within(form).getByRole("textbox", { name: "Name" }), "Poet 2");
    await userEvent.type(within(form).getByRole("textbox", { name: "Handle" }), "poet");
    await userEvent.type(within(form).getByRole("textbox", { name: "Instructions" }), "Verse.");
    await userEvent.click(within(form).getByRole("button", { name: "Create assistant" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("You already have an assistant with the handle 'poet'");
  });

  it("deletes only after confirmation, and starts a chat from an assistant", async () => {
    const api = fakeApi();
    renderWith(<AssistantsPage />, api.fetchImpl);
    await userEvent.click(await screen.findByRole("button", { name: "Delete assistant Poet" }));
    const dialog = screen.getByRole("dialog", { name: "Delete assistant Poet?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(api.calls.some((c) => c.method === "DELETE")).toBe(false);
    await userEvent.click(screen.getByRole("button", { name: "Start a chat with Poet" }));
    await waitFor(() => expect(window.location.hash).toBe("#/c/c9"));
    expect(api.calls.find((c) => c.path === "/conversations")?.body).toEqual({ kind: "assistant", assistantId: "a1", title: "Poet" });
    await userEvent.click(screen.getByRole("button", { name: "Delete assistant Poet" }));
    await userEvent.click(within(screen.getByRole("dialog", { name: "Delete assistant Poet?" })).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByRole("heading", { name: "Poet" })).not.toBeInTheDocument());
    expect(api.calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual(["/assistants/a1"]);
  });

  it("edits an assistant in place", async () => {
    const api = fakeApi();
    renderWith(<AssistantsPage />, api.fetchImpl);
    await userEvent.click(await screen.findByRole("button", { name: "Edit assistant Poet" }));
    const form = screen.getByRole("form", { name: "Edit assistant Poet" });
    const name = within(form).getByRole("textbox", { name: "Name" });
    await userEvent.clear(name);
    await userEvent.type(name, "Bard");
    await userEvent.click(within(form).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.getByRole("heading", { name: "Bard" })).toBeInTheDocument());
    expect(api.calls.find((c) => c.method === "PATCH")).toMatchObject({ path: "/assistants/a1", body: { name: "Bard", handle: "poet" } });
  });
});

describe("RoomAssistants", { timeout: 30_000 }, () => {
  const room: Conversation = { id: "room1", kind: "group", title: "Room", ownerId: "me", role: "owner", createdAt: "t", updatedAt: "t" };

  it("lets the owner add and remove their assistants", async () => {
    const api = fakeApi();
    renderWith(<RoomAssistants conversation={room} />, api.fetchImpl);
    await userEvent.selectOptions(await screen.findByRole("combobox", { name: "Add one of your assistants" }), "a1");
    await userEvent.click(screen.getByRole("button", { name: "Add to room" }));
    expect(await screen.findByText("@poet")).toBeInTheDocument();
    expect(api.calls.find((c) => c.method === "POST")?.body).toEqual({ assistantId: "a1" });
    await userEvent.click(screen.getByRole("button", { name: "Remove Poet from this room" }));
    await waitFor(() => expect(screen.queryByText("@poet")).not.toBeInTheDocument());
  });

  it("shows a member whom they may call, with no way to change it", async () => {
    const api = fakeApi();
    renderWith(<RoomAssistants conversation={{ ...room, role: "member" }} />, api.fetchImpl);
    expect(await screen.findByText("@assistant")).toBeInTheDocument();
    expect(screen.queryByRole("combobox")).not.toBeInTheDocument();
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
  });
});

describe("a reply of a user's assistant", () => {
  const reply = { id: "R1", conversationId: "room1", authorId: "assistant", role: "assistant" as const, content: "Roses", status: "complete" as const, createdAt: "t", updatedAt: "t" };

  it("carries the assistant's name; the default's stays Assistant", () => {
    const { unmount } = render(<MessageItem message={{ ...reply, authorName: "Poet", assistantId: "a1" }} mine={false} actions={{}} />);
    expect(screen.getByRole("article", { name: "Poet said" })).toBeInTheDocument();
    unmount();
    render(<MessageItem message={{ ...reply, authorName: "Assistant" }} mine={false} actions={{}} />);
    expect(screen.getByRole("article", { name: "Assistant said" })).toBeInTheDocument();
  });
});

describe("the assistants route", () => {
  it("is #/assistants both ways", () => {
    expect(parseRoute("#/assistants")).toEqual({ name: "assistants" });
    expect(hrefFor({ name: "assistants" })).toBe("#/assistants");
  });
});
