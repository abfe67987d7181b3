import { describe, expect, it } from "vitest";

import { Pacer } from "@/features/chat/pacing";

const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `w${from + i} `).join("");

/** Feeds frames of `size` characters every `gaps[i]` ms; returns the pacer and the frame times. */
function stream(gaps: number[], size = 30) {
  const pacer = new Pacer();
  let text = words(2);
  let now = 0;
  pacer.receive(text, now);
  const times = [0];
  for (const gap of gaps) {
    now += gap;
    text += "x".repeat(size);
    pacer.receive(text, now);
    times.push(now);
  }
  return { pacer, text, now, times };
}

describe("Pacer", () => {
  it("shows the first text at once", () => {
    const pacer = new Pacer();
    pacer.receive("Hello", 0);
    expect(pacer.advance(0)).toBe(5);
    expect(pacer.text).toBe("Hello");
  });

  it("reveals a frame evenly and has it all shown just before the next frame is due", () => {
    const { pacer, now } = stream([3000, 3000], 300);
    const start = pacer.text.length;
    expect(pacer.advance(now)).toBe(start);
    const quarter = pacer.advance(now + 675) - start;
    expect(quarter).toBeGreaterThan(60);
    expect(quarter).toBeLessThan(90);
    expect(pacer.advance(now + 2600)).toBeLessThan(pacer.received.length);
    expect(pacer.advance(now + 2700)).toBe(pacer.received.length);
  });

  it("adapts its speed to the gap between recent frames", () => {
    const quick = stream([110, 170]);
    const slow = stream([380, 3000]);
    expect(quick.pacer.expectedGapMs).toBe(170);
    expect(slow.pacer.expectedGapMs).toBe(3000);
    // Same 30 characters to reveal: the quick stream shows them before its next frame (due after
    // twice the last gap, 340 ms: the server doubles its window), the slow one spreads them.
    expect(quick.pacer.nextGapMs).toBe(340);
    expect(slow.pacer.nextGapMs).toBe(3000);
    expect(quick.pacer.advance(quick.now + 160)).toBeLessThan(quick.pacer.received.length);
    expect(quick.pacer.advance(quick.now + 310)).toBe(quick.pacer.received.length);
    expect(slow.pacer.advance(slow.now + 160)).toBeLessThan(slow.pacer.received.length - 25);
    expect(slow.pacer.advance(slow.now + 2700)).toBe(slow.pacer.received.length);
  });

  it("keeps the text moving through the server's ramp: each frame shown just before the next", () => {
    const pacer = new Pacer();
    let text = "Hi ";
    pacer.receive(text, 0);
    let now = 0;
    const gaps = [75, 150, 300, 600, 1200, 2400, 3000, 3000];
    for (const [i, gap] of gaps.entries()) {
      now += gap;
      text += "z".repeat(60);
      pacer.receive(text, now);
      const next = gaps[i + 1];
      if (next === undefined || i === 0) continue; // the first gap has nothing to grow from
      // Still revealing at 80% of the way to the next frame, done by its arrival: no standstill.
      expect(pacer.advance(now + next * 0.8)).toBeLessThan(text.length);
      expect(pacer.advance(now + next)).toBe(text.length);
    }
  });

  it("is never more than one frame behind, even when frames come sooner than expected", () => {
    const pacer = new Pacer();
    let text = "Hi ";
    pacer.receive(text, 0);
    let now = 0;
    for (const gap of [3000, 3000, 400, 300, 200]) {
      const before = text.length;
      now += gap;
      text += "y".repeat(500);
      pacer.receive(text, now);
      // Everything before the newest frame is shown the moment it arrives.
      expect(pacer.advance(now)).toBeGreaterThanOrEqual(before);
      pacer.advance(now + gap / 4);
    }
  });

  it("treats frames arriving together (a catch-up) as one, keeping the deadline", () => {
    const { pacer, now } = stream([1000, 1000], 100);
    pacer.receive(pacer.received + "z".repeat(100), now + 5);
    expect(pacer.expectedGapMs).toBe(1000);
    expect(pacer.advance(now + 1800)).toBe(pacer.received.length);
  });

  it("shows everything at once when flushed (completed, stopped, failed)", () => {
    const { pacer, now } = stream([3000, 3000], 400);
    pacer.advance(now + 100);
    expect(pacer.caughtUp).toBe(false);
    pacer.flush();
    expect(pacer.caughtUp).toBe(true);
    expect(pacer.text).toBe(pacer.received);
  });

  it("caps the reveal of a frame after a long pause of the model", () => {
    const { pacer, now } = stream([20_000], 100);
    expect(pacer.advance(now + 3600)).toBe(pacer.received.length);
  });

  it("shows at once a text that does not extend the one before", () => {
    const { pacer, now } = stream([3000, 3000], 100);
    pacer.receive("Another version", now + 10);
    expect(pacer.advance(now + 10)).toBe("Another version".length);
  });

  it("never splits an emoji", () => {
    const pacer = new Pacer();
    pacer.receive("a", 0);
    pacer.receive("a" + "😀".repeat(50), 1000);
    for (let t = 1000; t <= 1900; t += 7) {
      const text = pacer.text;
      pacer.advance(t);
      const last = pacer.text.charCodeAt(pacer.text.length - 1);
      expect(last >= 0xd800 && last <= 0xdbff, `at ${t} after "${text.length}"`).toBe(false);
    }
  });
});
