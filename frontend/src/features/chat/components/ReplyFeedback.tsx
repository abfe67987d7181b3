import { useState } from "react";

import { Button } from "@/components/ui/Button";
import { Icon } from "@/components/ui/Icon";
import { useFeedback } from "@/features/chat/hooks/useFeedback";
import type { Feedback, Rating } from "@/types/api";

/** The server's limit on a rating's comment (`RateReply.comment`). */
export const MAX_COMMENT_CHARS = 1000;

const BUTTONS: { rating: Rating; label: string; icon: "thumbUp" | "thumbDown" }[] = [
  { rating: "up", label: "Helpful", icon: "thumbUp" },
  { rating: "down", label: "Not helpful", icon: "thumbDown" },
];

/**
 * Thumbs up / down on a finished reply, with an optional comment: pressing the rating given
 * takes it back; a thumbs down asks what was wrong (optional). Only the rater sees it.
 */
export function ReplyFeedback({ conversationId, messageId, saved }: { conversationId: string; messageId: string; saved: Feedback | null }) {
  const feedback = useFeedback(conversationId, messageId, saved);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const fieldId = `feedback-comment-${messageId}`;

  const choose = (rating: Rating) => {
    if (feedback.saving) return;
    if (feedback.rating === rating) {
      feedback.remove();
      setEditing(false);
      return;
    }
    feedback.rate(rating); // a new rating starts without the earlier comment
    setDraft("");
    setEditing(rating === "down");
  };
  const openEditor = () => {
    setDraft(feedback.comment ?? "");
    setEditing(true);
  };
  const save = () => {
    if (feedback.rating && draft.trim() !== (feedback.comment ?? "")) feedback.rate(feedback.rating, draft);
    setEditing(false);
  };
  const left = MAX_COMMENT_CHARS - draft.length;

  return (
    <div className="feedback" aria-busy={feedback.saving || undefined}>
      <div className="feedback-buttons" role="group" aria-label="Rate this answer">
        {BUTTONS.map(({ rating, label, icon }) => (
          <button
            key={rating}
            type="button"
            className="btn btn-ghost btn-small feedback-button"
            aria-pressed={feedback.rating === rating}
            aria-label={label}
            title={feedback.rating === rating ? `${label} (press again to take it back)` : label}
            onClick={() => choose(rating)}
          >
            <Icon name={icon} size={16} />
          </button>
        ))}
      </div>
      {feedback.rating && !editing && (
        <button type="button" className="link small feedback-comment-toggle" onClick={openEditor}>
          {feedback.comment ? "Edit comment" : "Add a comment"}
        </button>
      )}
      {feedback.comment && !editing && <p className="feedback-comment">{feedback.comment}</p>}
      {editing && (
        <form
          className="feedback-form"
          onSubmit={(event) => {
            event.preventDefault();
            save();
          }}
        >
          <label htmlFor={fieldId}>{feedback.rating === "down" ? "What was wrong? (optional)" : "Your comment (optional)"}</label>
          <textarea
            id={fieldId}
            value={draft}
            maxLength={MAX_COMMENT_CHARS}
            rows={2}
            autoFocus
            aria-describedby={`${fieldId}-hint`}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Escape") {
                event.preventDefault();
                setEditing(false);
              }
              if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
                event.preventDefault();
                event.currentTarget.form?.requestSubmit();
              }
            }}
          />
          <p id={`${fieldId}-hint`} className="field-hint">
            Only you see your rating and comment.{left <= 100 ? ` ${left} characters left.` : ""}
          </p>
          <div className="row">
            <Button type="submit" variant="primary" className="btn-small">
              Save comment
            </Button>
            <Button className="btn-small" onClick={() => setEditing(false)}>
              Cancel
            </Button>
          </div>
        </form>
      )}
      {feedback.error && (
        <div className="feedback-error" role="alert">
          <span>Your rating was not saved: {feedback.error}</span>
          <Button variant="secondary" className="btn-small" onClick={feedback.retry}>
            Retry
          </Button>
          <button type="button" className="link small" onClick={feedback.dismissError}>
            Dismiss
          </button>
        </div>
      )}
      <span className="visually-hidden" role="status">
        {feedback.announcement}
      </span>
    </div>
  );
}
