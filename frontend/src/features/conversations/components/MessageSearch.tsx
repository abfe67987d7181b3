import { useEffect, useState } from "react";

import { Button } from "@/components/ui/Button";
import { Icon } from "@/components/ui/Icon";
import { Spinner } from "@/components/ui/Spinner";
import { MAX_SEARCH_CHARS, MIN_SEARCH_CHARS, useSearchMessages } from "@/features/conversations/api/searchMessages";
import type { SearchHit } from "@/features/conversations/api/searchMessages";
import { displayTitle, relativeTime } from "@/features/conversations/format";
import { hrefFor } from "@/lib/router";

const DEBOUNCE_MS = 250;

/** `value`, once it has stopped changing for `ms`. */
function useDebounced(value: string, ms: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * Messages that match the sidebar's search, in every conversation I belong to. A snippet's
 * matched words arrive as flagged plain-text pieces and are rendered as text inside `<mark>`:
 * nothing from the server is ever parsed as HTML.
 */
export function MessageSearch({ query, onNavigate }: { query: string; onNavigate?: () => void }) {
  const settled = useDebounced(query.trim(), DEBOUNCE_MS);
  const search = useSearchMessages(settled);
  const hits = search.data?.pages.flatMap((page) => page.items) ?? [];
  const tooShort = settled.length < MIN_SEARCH_CHARS;
  const tooLong = settled.length > MAX_SEARCH_CHARS;

  let status = "";
  if (tooLong) status = `A search is at most ${MAX_SEARCH_CHARS} characters.`;
  else if (tooShort) status = `Type ${MIN_SEARCH_CHARS} or more characters to search messages.`;
  else if (search.error) status = search.error.message;
  else if (search.isSuccess) {
    status = hits.length === 0 ? "No messages match." : `${hits.length}${search.hasNextPage ? "+" : ""} ${hits.length === 1 ? "message" : "messages"} found.`;
  }

  return (
    <section className="message-search" aria-labelledby="message-search-heading">
      <h2 id="message-search-heading" className="sidebar-heading">
        Messages
      </h2>
      <p className="muted small" role="status" aria-live="polite">
        {status}
      </p>
      {search.isFetching && !search.isFetchingNextPage && <Spinner label="Searching messages" />}
      {hits.length > 0 && (
        <ul className="search-results" aria-label="Messages found">
          {hits.map((hit) => (
            <li key={`${hit.conversationId}/${hit.messageId}`}>
              <a
                href={hrefFor({ name: "conversation", id: hit.conversationId, message: hit.messageId })}
                onClick={() => onNavigate?.()}
                aria-label={`${hitAuthor(hit)} in ${displayTitle({ title: hit.conversationTitle, kind: hit.conversationKind })}: ${snippetText(hit)}`}
              >
                <span className="search-result-head">
                  <Icon name={hit.conversationKind === "group" ? "hash" : "spark"} size={14} />
                  <span className="search-result-title">{displayTitle({ title: hit.conversationTitle, kind: hit.conversationKind })}</span>
                  <time dateTime={hit.createdAt} className="conversation-time">
                    {relativeTime(hit.createdAt)}
                  </time>
                </span>
                <span className="search-result-snippet">
                  <span className="search-result-author">{hitAuthor(hit)}: </span>
                  {hit.snippet.map((segment, index) => (segment.match ? <mark key={index}>{segment.text}</mark> : <span key={index}>{segment.text}</span>))}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
      {search.hasNextPage && (
        <Button variant="ghost" onClick={() => void search.fetchNextPage()} busy={search.isFetchingNextPage}>
          More messages
        </Button>
      )}
    </section>
  );
}

function hitAuthor(hit: SearchHit): string {
  return hit.role === "assistant" ? "Assistant" : hit.authorName || "Someone";
}

function snippetText(hit: SearchHit): string {
  return hit.snippet.map((segment) => segment.text).join("");
}
