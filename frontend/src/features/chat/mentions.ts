/** The `@word` being typed just before the caret, if any: what the autocomplete completes. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const match = /(^|\s)@([\w.-]*)$/.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: caret - match[2]!.length - 1, query: match[2]!.toLowerCase() };
}

/** Candidates whose handle starts with (or contains) the query, best first. */
export function matchMentions(candidates: string[], query: string): string[] {
  const q = query.toLowerCase();
  const starts = candidates.filter((c) => c.toLowerCase().startsWith(q));
  const contains = candidates.filter((c) => !c.toLowerCase().startsWith(q) && c.toLowerCase().includes(q));
  return [...starts, ...contains].slice(0, 8);
}

/** Replaces the `@query` at `start` with `@handle ` and returns the new text and caret. */
export function applyMention(text: string, start: number, caret: number, handle: string): { text: string; caret: number } {
  const inserted = `@${handle} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

/** A member's handle for mentions: their name without spaces. */
export function handleFor(name: string): string {
  return name.trim().replace(/\s+/g, "_");
}
