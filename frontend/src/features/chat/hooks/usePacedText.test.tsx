import { act, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { usePacedText } from "@/features/chat/hooks/usePacedText";

const FRAME = "lorem ipsum ".repeat(25); // 300 characters

function mount() {
  return renderHook(({ text, streaming }) => usePacedText(text, streaming), {
    initialProps: { text: "", streaming: true },
  });
}

/** Sends the server's cadence: the first text at once, then frames at the given gaps. */
function frames(view: ReturnType<typeof mount>, gaps: number[]) {
  let text = "Sure. ";
  view.rerender({ text, streaming: true });
  for (const gap of gaps) {
    act(() => vi.advanceTimersByTime(gap));
    text += FRAME;
    view.rerender({ text, streaming: true });
  }
  return text;
}

describe("usePacedText", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["requestAnimationFrame", "cancelAnimationFrame", "performance", "setTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("shows the first text at once, then reveals each frame between frames", () => {
    const view = mount();
    view.rerender({ text: "Sure. ", streaming: true });
    expect(view.result.current).toBe("Sure. ");
    const text = frames(view, [3000, 3000]).length;
    act(() => vi.advanceTimersByTime(100));
    const early = view.result.current.length;
    expect(early).toBeLessThan(text - 250);
    act(() => vi.advanceTimersByTime(1250));
    const middle = view.result.current.length;
    expect(middle).toBeGreaterThan(early + 100);
    expect(middle).toBeLessThan(text - 100);
    act(() => vi.advanceTimersByTime(1400));
    expect(view.result.current.length).toBe(text);
  });

  it("keeps up with quicker frames and is never more than one frame behind", () => {
    const view = mount();
    let text = frames(view, [3000, 3000]);
    for (const gap of [500, 250, 120]) {
      const before = text.length;
      act(() => vi.advanceTimersByTime(gap));
      text += FRAME;
      view.rerender({ text, streaming: true });
      act(() => vi.advanceTimersByTime(16));
      expect(view.result.current.length).toBeGreaterThanOrEqual(before);
    }
    // The last gap (120 ms) is the new estimate: the next frame is expected after twice that, and
    // this one is shown in full by then.
    act(() => vi.advanceTimersByTime(240));
    expect(view.result.current).toBe(text);
  });

  it.each(["completed", "stopped", "failed"])("shows the whole text at once when the reply is %s", () => {
    const view = mount();
    const text = frames(view, [3000, 3000]);
    act(() => vi.advanceTimersByTime(50));
    expect(view.result.current.length).toBeLessThan(text.length);
    view.rerender({ text, streaming: false });
    expect(view.result.current).toBe(text);
  });

  it("only ever shows a prefix of the text it is given", () => {
    const view = mount();
    const text = frames(view, [110, 170, 250, 380, 3000]);
    for (let i = 0; i < 20; i++) {
      act(() => vi.advanceTimersByTime(137));
      expect(text.startsWith(view.result.current)).toBe(true);
    }
  });

  it("shows text as it arrives for readers who prefer reduced motion", () => {
    vi.stubGlobal("matchMedia", (query: string) => ({
      matches: query === "(prefers-reduced-motion: reduce)",
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    }));
    const view = mount();
    const text = frames(view, [3000, 3000]);
    expect(view.result.current).toBe(text);
  });

  it("stops animating once caught up and when unmounted", () => {
    const view = mount();
    frames(view, [3000, 3000]);
    act(() => vi.advanceTimersByTime(3000));
    expect(vi.getTimerCount()).toBe(0);
    const text = frames(view, [3000]);
    expect(vi.getTimerCount()).toBe(1);
    view.unmount();
    expect(vi.getTimerCount()).toBe(0);
    expect(text.length).toBeGreaterThan(0);
  });
});
