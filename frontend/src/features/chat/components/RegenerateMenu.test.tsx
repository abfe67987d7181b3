import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { MessageItem } from "@/features/chat/components/MessageItem";
import { RegenerateMenu } from "@/features/chat/components/RegenerateMenu";
import type { DisplayMessage } from "@/features/chat/hooks/live-store";
import type { ModelInfo } from "@/types/api";

function model(id: string, label: string): ModelInfo {
  return { id, label, provider: "local", contextWindow: 8192, maxOutputTokens: 1024, messageChars: 16000, vision: false, price: { input: 0.15, output: 0.6 }, default: id === "big" };
}

const models = [model("big", "Big model"), model("mini", "Mini model"), model("fast", "Fast model")];

function setup(writtenBy: string | null = "big") {
  const onChoose = vi.fn();
  render(
    <div>
      <RegenerateMenu models={models} writtenBy={writtenBy} onChoose={onChoose} />
      <button type="button">Elsewhere</button>
    </div>,
  );
  return { onChoose, button: screen.getByRole("button", { name: "Regenerate with…" }) };
}

describe("RegenerateMenu", () => {
  it("is a menu button: closed, it names its popup and says it is closed", () => {
    const { button } = setup();
    expect(button).toHaveAttribute("aria-haspopup", "menu");
    expect(button).toHaveAttribute("aria-expanded", "false");
    expect(screen.queryByRole("menu")).toBeNull();
  });

  it("opens on a click with focus on the first model, lists every model and marks the one that wrote this version", async () => {
    const { button, onChoose } = setup("mini");
    await userEvent.click(button);
    const menu = screen.getByRole("menu", { name: "Regenerate with" });
    expect(button).toHaveAttribute("aria-expanded", "true");
    expect(button).toHaveAttribute("aria-controls", menu.id);
    const items = within(menu).getAllByRole("menuitem");
    expect(items.map((i) => i.textContent)).toEqual(["Big model", "Mini model wrote this version", "Fast model"]);
    expect(items[0]).toHaveFocus();
    await userEvent.click(items[2]!);
    expect(onChoose).toHaveBeenCalledExactlyOnceWith("fast");
    expect(screen.queryByRole("menu")).toBeNull();
    expect(button).toHaveFocus();
  });

  it("works from the keyboard: arrows wrap, Home and End jump, Enter chooses", async () => {
    const { button, onChoose } = setup();
    button.focus();
    await userEvent.keyboard("{ArrowUp}");
    const items = () => screen.getAllByRole("menuitem");
    expect(items()[2]).toHaveFocus(); // ↑ opens on the last
    await userEvent.keyboard("{ArrowDown}");
    expect(items()[0]).toHaveFocus(); // and wraps round
    await userEvent.keyboard("{End}");
    expect(items()[2]).toHaveFocus();
    await userEvent.keyboard("{Home}{ArrowDown}");
    expect(items()[1]).toHaveFocus();
    await userEvent.keyboard("{Enter}");
    expect(onChoose).toHaveBeenCalledExactlyOnceWith("mini");
    expect(button).toHaveFocus();
  });

  it("closes on Esc (focus back on the button, the key goes no further), on Tab and on a click outside, choosing nothing", async () => {
    const { button, onChoose } = setup();
    const seen = vi.fn();
    document.addEventListener("keydown", seen);
    onTestFinished(() => document.removeEventListener("keydown", seen));
    button.focus();
    await userEvent.keyboard("{Enter}");
    expect(screen.getAllByRole("menuitem")[0]).toHaveFocus();
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("menu")).toBeNull();
    expect(button).toHaveFocus();
    expect(seen.mock.calls.filter(([event]) => (event as KeyboardEvent).key === "Escape")).toEqual([]);

    await userEvent.keyboard(" ");
    expect(screen.getByRole("menu")).toBeInTheDocument();
    await userEvent.tab();
    expect(screen.queryByRole("menu")).toBeNull();

    await userEvent.click(button);
    await userEvent.click(screen.getByRole("button", { name: "Elsewhere" }));
    expect(screen.queryByRole("menu")).toBeNull();
    expect(onChoose).not.toHaveBeenCalled();
  });

  it("offers nothing when the user may use no model", () => {
    render(<RegenerateMenu models={[]} onChoose={vi.fn()} />);
    expect(screen.queryByRole("button", { name: "Regenerate with…" })).toBeNull();
  });
});

describe("MessageItem's reply versions", () => {
  const reply: DisplayMessage = {
    id: "A2",
    conversationId: "C",
    authorId: "assistant",
    role: "assistant",
    content: "It is Paris.",
    status: "complete",
    usage: { inputTokens: 700, outputTokens: 4 },
    model: "mini",
    costUsd: 0.0000358,
    replyTo: "U1",
    createdAt: "t",
    updatedAt: "t",
  };

  it("offers Regenerate and Regenerate with… beside the model that wrote the version and its cost", async () => {
    const onRegenerate = vi.fn();
    const onChoose = vi.fn();
    render(
      <MessageItem
        message={reply}
        mine={false}
        modelName="Mini model"
        actions={{ onRegenerate, regenerateWith: { models, onChoose }, versions: { index: 1, count: 2, onPrevious: vi.fn() } }}
      />,
    );
    const footer = screen.getByRole("article").querySelector("footer")!;
    expect(footer).toHaveTextContent("Written by Mini model");
    expect(footer).toHaveTextContent("700 in · 4 out tokens · $0.000036");
    expect(within(footer).getByRole("group", { name: "Answer versions" })).toHaveTextContent("2/2");
    await userEvent.click(within(footer).getByRole("button", { name: "Regenerate" }));
    expect(onRegenerate).toHaveBeenCalledOnce();
    await userEvent.click(within(footer).getByRole("button", { name: "Regenerate with…" }));
    await userEvent.click(screen.getByRole("menuitem", { name: /Big model/ }));
    expect(onChoose).toHaveBeenCalledExactlyOnceWith("big");
  });

  it("has no Regenerate with… while the reply streams", () => {
    render(<MessageItem message={{ ...reply, status: "streaming" }} mine={false} actions={{ regenerateWith: { models, onChoose: vi.fn() } }} />);
    expect(screen.queryByRole("button", { name: "Regenerate with…" })).toBeNull();
  });
});
