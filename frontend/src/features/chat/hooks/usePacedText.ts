import { useEffect, useLayoutEffect, useRef, useState } from "react";

import { Pacer } from "@/features/chat/pacing";
import { useMediaQuery } from "@/lib/media";

/**
 * Shortest time between two renders of a paced text: ~20 updates a second keep the text flowing
 * without a render per character.
 */
export const PACED_UPDATE_MS = 50;
/** Longest: a long reply's markdown takes long to render, but the text must still move. */
export const PACED_UPDATE_MAX_MS = 250;
/** Renders of the paced text may take at most this share of the time (each re-parses markdown). */
const RENDER_BUDGET = 0.2;

/**
 * The part of a streaming reply's `text` to show now: revealed smoothly between the server's
 * frames (see `Pacer`) while `streaming`, all of it at once when the reply ends (completed,
 * stopped or failed) and, for readers who prefer reduced motion, as it arrives.
 */
export function usePacedText(text: string, streaming: boolean): string {
  const reduced = useMediaQuery("(prefers-reduced-motion: reduce)");
  const paced = streaming && !reduced;
  const pacer = useRef<Pacer | null>(null);
  const frame = useRef(0);
  const lastRender = useRef(0);
  const renderStarted = useRef(0);
  const updateMs = useRef(PACED_UPDATE_MS);
  const [shown, setShown] = useState<string | null>(null);

  useLayoutEffect(() => {
    if (!paced) {
      pacer.current?.flush();
      cancelAnimationFrame(frame.current);
      frame.current = 0;
      return;
    }
    const current = (pacer.current ??= new Pacer());
    const now = performance.now();
    current.receive(text, now);
    // The next animation frame renders what is due (a new frame's text at once where it must be).
    lastRender.current = -Infinity;
    if (frame.current) return;
    const tick = () => {
      const at = performance.now();
      current.advance(at);
      if (current.caughtUp || at - lastRender.current >= updateMs.current) {
        lastRender.current = at;
        renderStarted.current = at;
        setShown(current.text);
      }
      frame.current = current.caughtUp ? 0 : requestAnimationFrame(tick);
    };
    frame.current = requestAnimationFrame(tick);
  }, [text, paced]);

  // How long the last update took to render sets how often the next may come.
  useLayoutEffect(() => {
    if (!renderStarted.current) return;
    const took = performance.now() - renderStarted.current;
    renderStarted.current = 0;
    updateMs.current = Math.min(PACED_UPDATE_MAX_MS, Math.max(PACED_UPDATE_MS, took / RENDER_BUDGET));
  });

  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  // Only ever a prefix of the text: what is copied, stored and resumed stays the whole text.
  return paced && shown !== null && text.startsWith(shown) ? shown : text;
}
