import { lazy, Suspense } from "react";

const load = () => import("@/features/chat/components/Markdown").then((module) => ({ default: module.Markdown }));
const Markdown = lazy(load);

/** Starts fetching the markdown renderer before the first reply needs it. */
export function preloadMarkdown(): void {
  void load();
}

/**
 * Markdown, with the renderer (a third of the app's weight) split from the first load; until it
 * arrives the text shows as is.
 */
export function LazyMarkdown({ text }: { text: string }) {
  return (
    <Suspense fallback={<p className="plain">{text}</p>}>
      <Markdown text={text} />
    </Suspense>
  );
}
