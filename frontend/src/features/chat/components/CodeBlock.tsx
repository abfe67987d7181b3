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

/**
 * A fenced code block: plain text at once, highlighted when the highlighter has loaded. Its
 * label is the language the fence names, and only once the fence's first line is complete (a
 * streaming reply shows ```pyt before ```python); a block that names none has no label, never a
 * guess such as "text".
 */
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
  const label = code && language ? language : null;
  return (
    <div className="code-block">
      <div className="code-toolbar">
        <span className="code-language">{label}</span>
        <CopyButton text={code} label="Copy code" />
      </div>
      <pre tabIndex={0} aria-label={label ? `${label} code` : "Code"}>
        {highlighted ? (
          <code className="hljs" dangerouslySetInnerHTML={{ __html: highlighted.html }} />
        ) : (
          <code>{code}</code>
        )}
      </pre>
    </div>
  );
}
