/**
 * Pacing of a streaming reply's text on screen.
 *
 * The server coalesces a reply into few frames: the first text at once, a few quick frames, then
 * one every few seconds. Shown as it arrives, the reply would jump a paragraph at a time. The
 * pacer reveals what has arrived but is not shown yet at a steady speed, timed from the gap
 * between the last two frames so that it has shown everything just before the next frame is due
 * (`catchUpShare` of the next gap, which the server makes twice the last, up to 3 s: a steady
 * ramp is what lets the pacer foresee it, so the text never stands still between frames). It never lags more than one frame: when a frame arrives, all text
 * of the frames before it is shown. It only decides how much of the text to show; the text itself
 * (what is stored, copied, resumed) is never changed.
 */

export interface PacerOptions {
  /** The share of the expected gap between frames in which a frame's text is revealed. */
  catchUpShare?: number;
  /** Frames closer than this are one burst (a catch-up, a resume): their gap says nothing. */
  burstMs?: number;
  /** The longest a frame's text takes to reveal, however long the model paused before it. */
  maxRevealMs?: number;
  /** How much longer than the last gap the next is expected to be: the server doubles its window. */
  gapGrowth?: number;
  /** The server's widest window: gaps grow up to this and no further. */
  maxGapMs?: number;
}

export const DEFAULT_CATCH_UP_SHARE = 0.9;
export const DEFAULT_BURST_MS = 30;
export const DEFAULT_MAX_REVEAL_MS = 3_600;
/** The server's coalescer doubles its window per frame up to 3 s (parley.realtime.coalescer). */
export const DEFAULT_GAP_GROWTH = 2;
export const DEFAULT_MAX_GAP_MS = 3_000;
const MIN_REVEAL_MS = 16;

export class Pacer {
  private target = "";
  private shown = 0;
  private started = false;
  private lastArrival = 0;
  private gap = 0;
  private fromLength = 0;
  private fromTime = 0;
  private dueAt = 0;
  private readonly share: number;
  private readonly burstMs: number;
  private readonly maxRevealMs: number;
  private readonly growth: number;
  private readonly maxGapMs: number;

  constructor(options: PacerOptions = {}) {
    this.share = options.catchUpShare ?? DEFAULT_CATCH_UP_SHARE;
    this.burstMs = options.burstMs ?? DEFAULT_BURST_MS;
    this.maxRevealMs = options.maxRevealMs ?? DEFAULT_MAX_REVEAL_MS;
    this.growth = options.gapGrowth ?? DEFAULT_GAP_GROWTH;
    this.maxGapMs = options.maxGapMs ?? DEFAULT_MAX_GAP_MS;
  }

  /** The whole text received so far. */
  get received(): string {
    return this.target;
  }

  /** What to show now (as of the last `advance`). */
  get text(): string {
    return this.target.slice(0, this.shown);
  }

  /** Whether everything received is shown. */
  get caughtUp(): boolean {
    return this.shown >= this.target.length;
  }

  /** The gap between the last two frames, as measured (0 before the second frame). */
  get expectedGapMs(): number {
    return this.gap;
  }

  /** When the next frame is expected after the last: the gap grows (the server widens its
   * window) up to the widest, and a longer pause of the model's is not expected to grow. */
  get nextGapMs(): number {
    return Math.min(this.gap * this.growth, Math.max(this.gap, this.maxGapMs));
  }

  /**
   * The reply's text as of a new frame, received at `now` (ms). The first text seen (the first
   * frame, or a reply met mid-way after a reload or by a late subscriber) is shown at once, as is
   * a text that does not extend the one before (another version, a correction).
   */
  receive(text: string, now: number): void {
    if (text === this.target) return;
    if (!this.started || !text.startsWith(this.target)) {
      this.started = true;
      this.target = text;
      this.shown = text.length;
      this.lastArrival = now;
      return;
    }
    const since = now - this.lastArrival;
    if (since < this.burstMs && this.gap > 0) {
      // Part of the same burst: reveal the larger backlog by the same deadline.
      this.target = text;
      this.restart(now, Math.max(this.dueAt, now + MIN_REVEAL_MS));
      return;
    }
    // Never more than one frame behind: the frames before this one are shown in full now.
    this.shown = Math.max(this.shown, this.target.length);
    this.target = text;
    this.lastArrival = now;
    if (since >= this.burstMs) this.gap = since;
    const reveal = Math.min(this.maxRevealMs, Math.max(MIN_REVEAL_MS, this.nextGapMs * this.share));
    this.restart(now, now + reveal);
  }

  /** Moves the shown text on to `now` (ms); returns how many characters are shown. */
  advance(now: number): number {
    if (this.shown >= this.target.length) return this.shown;
    const span = this.dueAt - this.fromTime;
    const progress = span <= 0 ? 1 : Math.min(1, Math.max(0, (now - this.fromTime) / span));
    let next = Math.floor(this.fromLength + (this.target.length - this.fromLength) * progress);
    // Never split a character written as two UTF-16 units (an emoji).
    const code = this.target.charCodeAt(next - 1);
    if (next < this.target.length && code >= 0xd800 && code <= 0xdbff) next += 1;
    this.shown = Math.max(this.shown, next);
    return this.shown;
  }

  /** Shows everything received (the reply completed, was stopped or failed). */
  flush(): void {
    this.shown = this.target.length;
  }

  private restart(now: number, dueAt: number): void {
    this.fromLength = this.shown;
    this.fromTime = now;
    this.dueAt = dueAt;
  }
}
