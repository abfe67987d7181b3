import { useState } from "react";

import { Button } from "@/components/ui/Button";
import { CopyButton } from "@/components/ui/CopyButton";
import { Icon } from "@/components/ui/Icon";
import { LazyMarkdown } from "@/features/chat/components/LazyMarkdown";
import { MessageAttachments } from "@/features/chat/components/MessageAttachments";
import { RegenerateMenu } from "@/features/chat/components/RegenerateMenu";
import { ReplyFeedback } from "@/features/chat/components/ReplyFeedback";
import type { DisplayMessage } from "@/features/chat/hooks/live-store";
import { usePacedText } from "@/features/chat/hooks/usePacedText";
import { formatUsd } from "@/lib/money";
import type { ModelInfo } from "@/types/api";

export interface MessageActions {
  onRetry?: () => void;
  onRegenerate?: () => void;
  /** "Regenerate with…": the models the user may use, one of which writes a new version. */
  regenerateWith?: { models: ModelInfo[]; onChoose: (model: string) => void };
  onEdit?: (content: string) => void;
  onResend?: () => void;
  /** A finished reply of the assistant: thumbs up / down, with an optional comment. */
  rateable?: boolean;
  /** The message has other versions (an edited question, a regenerated reply): "< 1/2 >". */
  versions?: { index: number; count: number; onPrevious?: () => void; onNext?: () => void };
}

function VersionSwitcher({ versions, what }: { versions: NonNullable<MessageActions["versions"]>; what: string }) {
  return (
    <span className="versions" role="group" aria-label={`${what} versions`}>
      <Button variant="ghost" className="btn-small" aria-label="Previous version" disabled={!versions.onPrevious} onClick={versions.onPrevious}>
        ‹
      </Button>
      <span aria-live="polite">
        {versions.index + 1}/{versions.count}
      </span>
      <Button variant="ghost" className="btn-small" aria-label="Next version" disabled={!versions.onNext} onClick={versions.onNext}>
        ›
      </Button>
    </span>
  );
}

function authorLabel(message: DisplayMessage, mine: boolean): string {
  // A reply of one of the users' assistants carries its name; the default's is "Assistant".
  if (message.role === "assistant") return (message.assistantId && message.authorName) || "Assistant";
  if (mine) return "You";
  return message.authorName || "Someone";
}

/** One message: author, markdown (assistant) or text (people), usage, and what can be done with it. */
export function MessageItem({
  message,
  mine,
  actions,
  modelName,
}: {
  message: DisplayMessage;
  mine: boolean;
  actions: MessageActions;
  /** The model that wrote a reply (its catalog label). */
  modelName?: string;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const streaming = message.status === "streaming";
  const failed = message.status === "failed" || message.local === "unsent";
  // Only the display is paced between the server's frames; copy and edit use the whole text.
  const shown = usePacedText(message.content, streaming && message.role === "assistant");
  return (
    <article
      className={`message message-${message.role} ${mine ? "message-mine" : ""} ${streaming ? "is-streaming" : ""}`}
      aria-label={`${authorLabel(message, mine)} said`}
      aria-busy={streaming || undefined}
      data-status={message.local ?? message.status}
      data-message-id={message.id}
    >
      <header className="message-author">
        <span className="avatar" aria-hidden="true">
          {message.role === "assistant" ? <Icon name="spark" size={14} /> : authorLabel(message, mine).slice(0, 1).toUpperCase()}
        </span>
        <span>{authorLabel(message, mine)}</span>
        {message.local === "sending" && <span className="muted small">Sending…</span>}
        {message.status === "stopped" && <span className="badge">Stopped</span>}
      </header>
      {editing ? (
        <form
          className="message-edit"
          onSubmit={(event) => {
            event.preventDefault();
            if (draft.trim()) actions.onEdit?.(draft.trim());
            setEditing(false);
          }}
        >
          <label className="visually-hidden" htmlFor={`edit-${message.id}`}>
            Edit message
          </label>
          <textarea id={`edit-${message.id}`} value={draft} onChange={(event) => setDraft(event.target.value)} rows={3} autoFocus
            onKeyDown={(event) => {
              if (event.key === "Escape") setEditing(false);
              if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
                event.preventDefault();
                event.currentTarget.form?.requestSubmit();
              }
            }}
          />
          <div className="row">
            <Button type="submit" variant="primary">
              Send edited
            </Button>
            <Button onClick={() => setEditing(false)}>Cancel</Button>
          </div>
        </form>
      ) : (
        <div className="message-body">
          {message.role === "assistant" ? (
            shown ? <LazyMarkdown text={shown} /> : streaming ? <p className="muted thinking">Thinking…</p> : null
          ) : (
            <p className="plain">{message.content}</p>
          )}
          {streaming && <span className="caret" aria-hidden="true" />}
          {message.attachments?.length ? (
            <MessageAttachments conversationId={message.conversationId} attachments={message.attachments} />
          ) : null}
        </div>
      )}
      {failed && (
        <div className="message-error" role="alert">
          <span>
            {message.local === "unsent"
              ? `Not sent: ${message.failure?.reason ?? "the server refused it"}`
              : `The assistant could not answer${message.failure?.reason ? `: ${message.failure.reason}` : "."}`}
          </span>
          {message.local === "unsent" && actions.onResend && (
            <Button variant="secondary" className="btn-small" onClick={actions.onResend}>
              Retry
            </Button>
          )}
          {message.local !== "unsent" && actions.onRetry && message.failure?.retryable !== false && (
            <Button variant="secondary" className="btn-small" onClick={actions.onRetry}>
              Retry
            </Button>
          )}
        </div>
      )}
      {!streaming && !editing && !message.local && (
        <footer className="message-meta">
          {actions.versions && <VersionSwitcher versions={actions.versions} what={message.role === "assistant" ? "Answer" : "Message"} />}
          {message.role === "assistant" && modelName && <span className="reply-model">Written by {modelName}</span>}
          {message.usage && (
            <span className="usage" title="Tokens used for this answer">
              {message.usage.inputTokens} in · {message.usage.outputTokens} out tokens
              {typeof message.costUsd === "number" && ` · ${formatUsd(message.costUsd)}`}
            </span>
          )}
          {message.content && <CopyButton text={message.content} />}
          {actions.onRegenerate && (
            <Button variant="ghost" className="btn-small" onClick={actions.onRegenerate}>
              Regenerate
            </Button>
          )}
          {actions.regenerateWith && (
            <RegenerateMenu models={actions.regenerateWith.models} writtenBy={message.model} onChoose={actions.regenerateWith.onChoose} />
          )}
          {actions.onEdit && (
            <Button
              variant="ghost"
              className="btn-small"
              onClick={() => {
                setDraft(message.content);
                setEditing(true);
              }}
            >
              Edit
            </Button>
          )}
          {actions.rateable && <ReplyFeedback conversationId={message.conversationId} messageId={message.id} saved={message.feedback ?? null} />}
        </footer>
      )}
    </article>
  );
}
