/**
 * Syntax highlighting, loaded on demand (dynamic import) so the first load stays small:
 * highlight.js with its common languages is bigger than the rest of the app.
 */
import hljs from "highlight.js/lib/common";

/** HTML for `code` (escaped by highlight.js), auto-detecting the language when it is unknown. */
export function highlight(code: string, language: string | undefined): { html: string; language: string | undefined } {
  if (language && hljs.getLanguage(language)) {
    return { html: hljs.highlight(code, { language, ignoreIllegals: true }).value, language };
  }
  const auto = hljs.highlightAuto(code);
  return { html: auto.value, language: auto.language };
}
