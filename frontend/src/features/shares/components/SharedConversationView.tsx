import { useEffect, useState } from "react";
import type { ReactNode } from "react";

import { Icon } from "@/components/ui/Icon";
import { Spinner } from "@/components/ui/Spinner";
import { ThemeToggle } from "@/components/ui/ThemeToggle";
import { fetchShared } from "@/features/shares/api/shares";
import type { SharedMessage, SharedResult } from "@/features/shares/api/shares";

const GONE_TITLES = {
  revoked: "This link was revoked",
  expired: "This link has expired",
  deleted: "This conversation was deleted",
} as const;

const when = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

/**
 * The public, read-only page of a shared conversation (`#/s/<id>`), shown signed out: the
 * snapshot's messages rendered as in a chat (`markdown` is the app's renderer, safe as
 * everywhere), or a clear page when the link was revoked, has expired, or is unknown.
 */
export function SharedConversationView({
  httpApiUrl,
  shareId,
  markdown,
  load = fetchShared,
}: {
  httpApiUrl: string;
  shareId: string;
  markdown: (text: string) => ReactNode;
  load?: typeof fetchShared;
}) {
  const [loaded, setLoaded] = useState<{ shareId: string; result: SharedResult } | null>(null);
  const result = loaded?.shareId === shareId ? loaded.result : null;
  useEffect(() => {
    let live = true;
    void load(httpApiUrl, shareId).then((found) => live && setLoaded({ shareId, result: found }));
    return () => {
      live = false;
    };
  }, [httpApiUrl, shareId, load]);

  useEffect(() => {
    const before = document.title;
    if (result?.status === "ok") document.title = `${result.conversation.title} · Shared on Parley`;
    else if (result) document.title = "Shared conversation · Parley";
    return () => {
      document.title = before;
    };
  }, [result]);

  return (
    <div className="shared-page">
      <header className="shared-header">
        <a className="shared-brand" href="#/">
          <Icon name="spark" size={16} /> Parley
        </a>
        <span className="badge">Read-only</span>
        <ThemeToggle />
      </header>
      <main className="shared-main" aria-busy={result === null || undefined}>
        {result === null && <Spinner label="Loading the shared conversation" />}
        {result?.status === "ok" && (
          <>
            <div className="shared-title">
              <h1>{result.conversation.title}</h1>
              <p className="muted small">
                Shared {when(result.conversation.sharedAt)} · a snapshot: messages added after that are not shown
                {result.conversation.expiresAt ? ` · link expires ${when(result.conversation.expiresAt)}` : ""}
              </p>
            </div>
            <div className="messages shared-messages" role="list" aria-label="Messages">
              {result.conversation.messages.map((message, index) => (
                <SharedMessageItem key={index} message={message} markdown={markdown} />
              ))}
            </div>
          </>
        )}
        {result && result.status !== "ok" && (
          <section className="shared-gone" role="alert" aria-labelledby="shared-gone-title">
            <h1 id="shared-gone-title">
              {result.status === "gone"
                ? GONE_TITLES[result.reason]
                : result.status === "unknown"
                  ? "This link does not exist"
                  : "The conversation could not be loaded"}
            </h1>
            <p>
              {result.status === "gone"
                ? `${result.message}. Ask whoever shared it for a new link.`
                : result.status === "unknown"
                  ? "Check that the whole link was copied, or ask whoever shared it for a new one."
                  : result.message}
            </p>
            <a className="btn btn-primary" href="#/">
              Go to Parley
            </a>
          </section>
        )}
      </main>
    </div>
  );
}

function SharedMessageItem({ message, markdown }: { message: SharedMessage; markdown: (text: string) => ReactNode }) {
  return (
    <article className={`message message-${message.role}`} role="listitem" aria-label={`${message.authorName} said`}>
      <header className="message-author">
        <span className="avatar" aria-hidden="true">
          {message.role === "assistant" ? <Icon name="spark" size={14} /> : message.authorName.slice(0, 1).toUpperCase()}
        </span>
        <span>{message.authorName}</span>
        <time className="muted small" dateTime={message.createdAt}>
          {when(message.createdAt)}
        </time>
      </header>
      <div className="message-body">
        {message.role === "assistant" ? markdown(message.content) : <p className="plain">{message.content}</p>}
        {message.attachments.length > 0 && (
          <ul className="message-attachments" aria-label="Attachments (not shared)">
            {message.attachments.map((attachment, index) => (
              <li key={index} className="message-attachment">
                <Icon name="paperclip" size={14} />
                <span className="attachment-name">{attachment.name}</span>
                <span className="muted small"> · not shared</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </article>
  );
}
