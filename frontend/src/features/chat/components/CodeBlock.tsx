import { useEffect, useState } from "react";

import { CopyButton } from "@/components/ui/CopyButton";
import type { highlight } from "@/lib/highlight";

type Highlighter = typeof highlight;
let loading: Promise<Highlighter> | null = null;

/** Loads the highlighter once, on the first code block shown. */
export function loadHighlighter(): Promise<Highlighter> {
  loading ??= import("@/lib/highlight").then((module) => module.highlight);
  return loading;
}

/** A fenced code block: plain text at once, highlighted when the highlighter has loaded. */
export function CodeBlock({ code, language }: { code: string; language: string | undefined }) {
  const [highlighted, setHighlighted] = useState<{ html: string; language: string | undefined } | null>(null);
  useEffect(() => {
    let live = true;
    void loadHighlighter().then((highlight) => {
      if (live) setHighlighted(highlight(code, language));
    });
    return () => {
      live = false;
    };
  }, [code, language]);
  const shownLanguage = language ?? highlighted?.language;
  return (
    <div className="code-block">
      <div className="code-toolbar">
        <span className="code-language">{shownLanguage ?? "text"}</span>
        <CopyButton text={code} label="Copy code" />
      </div>
      <pre tabIndex={0} aria-label={`${shownLanguage ?? "text"} code`}>
        {highlighted ? (
          <code className="hljs" dangerouslySetInnerHTML={{ __html: highlighted.html }} />
        ) : (
          <code>{code}</code>
        )}
      </pre>
    </div>
  );
}
