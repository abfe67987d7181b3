import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { Composer } from "@/features/chat/components/Composer";

function setup(props: Partial<Parameters<typeof Composer>[0]> = {}) {
  const onSend = vi.fn();
  const onStop = vi.fn();
  const onTyping = vi.fn();
  render(<Composer onSend={onSend} onStop={onStop} onTyping={onTyping} streaming={false} blockWhileStreaming placeholder="Ask" {...props} />);
  return { onSend, onStop, onTyping, box: screen.getByRole(props.mentionCandidates ? "combobox" : "textbox", { name: "Message" }) };
}

describe("Composer", () => {
  it("sends on Enter, adds a line on Shift+Enter, and clears", async () => {
    const { onSend, box } = setup();
    await userEvent.type(box, "first{Shift>}{Enter}{/Shift}second");
    expect(box).toHaveValue("first\nsecond");
    await userEvent.keyboard("{Enter}");
    expect(onSend).toHaveBeenCalledWith("first\nsecond");
    expect(box).toHaveValue("");
  });

  it("does not send blank text", async () => {
    const { onSend, box } = setup();
    await userEvent.type(box, "   {Enter}");
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
  });

  it("turns Send into Stop while a reply streams, and Esc stops it", async () => {
    const { onSend, onStop, box } = setup({ streaming: true });
    expect(screen.queryByRole("button", { name: "Send" })).toBeNull();
    await userEvent.type(box, "next{Enter}");
    expect(onSend).not.toHaveBeenCalled();
    await userEvent.keyboard("{Escape}");
    expect(onStop).toHaveBeenCalledTimes(1);
    await userEvent.click(screen.getByRole("button", { name: "Stop" }));
    expect(onStop).toHaveBeenCalledTimes(2);
  });

  it("reports typing and its end", async () => {
    const { onTyping, box } = setup();
    await userEvent.type(box, "h");
    expect(onTyping).toHaveBeenLastCalledWith(true);
    await userEvent.keyboard("{Enter}");
    expect(onTyping).toHaveBeenLastCalledWith(false);
  });

  it("offers @mentions, chosen with the arrows and Enter", async () => {
    const { onSend, box } = setup({ mentionCandidates: ["assistant", "Sam"], blockWhileStreaming: false });
    await userEvent.type(box, "hey @");
    const options = screen.getAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual(["@assistant", "@Sam"]);
    expect(box).toHaveAttribute("aria-expanded", "true");
    await userEvent.keyboard("{ArrowDown}{Enter}");
    expect(box).toHaveValue("hey @Sam ");
    expect(screen.queryAllByRole("option")).toHaveLength(0);
    await userEvent.type(box, "and @as{Tab}what is 2+2?{Enter}");
    expect(onSend).toHaveBeenCalledWith("hey @Sam and @assistant what is 2+2?");
  });

  it("takes back a draft the app hands it, before anything typed since, once", async () => {
    const props = { onSend: vi.fn(), onStop: vi.fn(), streaming: false, blockWhileStreaming: true, placeholder: "Ask" };
    const { rerender } = render(<Composer {...props} />);
    const box = screen.getByRole("textbox", { name: "Message" });
    rerender(<Composer {...props} restoreDraft={{ key: "k1", content: "first try" }} />);
    expect(box).toHaveValue("first try");
    await userEvent.clear(box);
    await userEvent.type(box, "typed since");
    rerender(<Composer {...props} restoreDraft={{ key: "k2", content: "second try" }} />);
    expect(box).toHaveValue("second try\ntyped since");
    rerender(<Composer {...props} restoreDraft={{ key: "k2", content: "second try" }} />);
    expect(box).toHaveValue("second try\ntyped since");
  });

  it("counts near the limit and refuses above it with the server's sentence", async () => {
    const { onSend, box } = setup({ maxChars: 10 });
    await userEvent.type(box, "1234567");
    expect(screen.queryByText(/\/ 10/)).toBeNull();
    await userEvent.type(box, "8");
    expect(screen.getByText("8 / 10")).toBeInTheDocument();
    await userEvent.type(box, "901{Enter}");
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole("alert")).toHaveTextContent("Message is too long: 11 characters; the limit is 10.");
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
    expect(box).toHaveAttribute("aria-invalid", "true");
    await userEvent.type(box, "{Backspace}{Enter}");
    expect(onSend).toHaveBeenCalledWith("1234567890");
  });
});
