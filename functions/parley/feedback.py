"""Ratings of the assistant's replies: thumbs up or down, with an optional comment.

* Who: a member of the conversation (`parley.access.membership` first, so anyone else gets
  `ConversationNotFound` whether or not the message exists); what: a reply of the assistant
  that has ended, complete or stopped (`parley.access.require_may_rate`: a person's message, a
  reply still streaming or a failed one is a 409 `Conflict`).
* One rating per person per reply, by its key (`parley.store.feedback`): rating again replaces
  it (a comment left out is removed), removing it is idempotent.
* Private: each person reads only their own ratings, on the messages they list
  (`with_my_ratings`: one Query per page).
* Counted: each rating given — new, or changed between up and down — is one `FeedbackUp` or
  `FeedbackDown`, and each removal one `FeedbackRemoved`, in the `Parley` namespace with the
  dimension `model`: the catalog id of the model that wrote the reply (recorded on it; a reply
  from before models were recorded counts under the environment's default), stored on the
  rating too; changing only the comment counts nothing. A reply written as one of the users'
  assistants (`parley.assistants`) is counted once more with the dimension `assistant` (its
  id), so each assistant's ratings can be read apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from parley import access
from parley.errors import InvalidInput, NotFound
from parley.models import MAX_FEEDBACK_COMMENT_CHARS, Feedback, ListedMessage, Message, Rating
from parley.observability import NAMESPACE

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from parley.store import Store

METRICS: dict[Rating, str] = {"up": "FeedbackUp", "down": "FeedbackDown"}
REMOVED = "FeedbackRemoved"


def clean_comment(comment: str | None) -> str | None:
    """The comment as stored: trimmed, None when blank; `InvalidInput` when too long."""
    if comment is None:
        return None
    if len(comment) > MAX_FEEDBACK_COMMENT_CHARS:
        raise InvalidInput(f"comment: at most {MAX_FEEDBACK_COMMENT_CHARS} characters")
    return comment.strip() or None


def record_feedback(name: str, model: str, assistant: str | None = None) -> None:
    """One count, in an EMF document of its own: the `model` dimension is this count's only
    (the function's other metrics keep theirs); a reply of a user's assistant is counted again
    under `assistant`."""
    dimensions = [{"model": model}]
    if assistant is not None:
        dimensions.append({"assistant": assistant})
    for dimension in dimensions:
        with single_metric(
            name=name,
            unit=MetricUnit.Count,
            value=1,
            namespace=NAMESPACE,
            default_dimensions=dimension,
        ):
            pass


class ReplyFeedback:
    """Rate a reply, or take the rating back, as one person."""

    def __init__(
        self, store: Store, *, model_id: str = "", default_model: Callable[[], str] | None = None
    ) -> None:
        self.store = store
        self.model_id = model_id
        self.default_model = default_model
        """The environment's default model, for a reply that recorded none."""

    def _model_of(self, message: Message) -> str:
        if message.model:
            return message.model
        return self.default_model() if self.default_model is not None else self.model_id

    def _assistant_of(self, conversation_id: str, message_id: str) -> str | None:
        """The user's assistant that wrote the reply (None: the default, or it is gone)."""
        try:
            return self.store.messages.get(conversation_id, message_id).assistant_id
        except NotFound:
            return None

    def rate(
        self,
        user_id: str,
        conversation_id: str,
        message_id: str,
        rating: Rating,
        comment: str | None = None,
    ) -> Feedback:
        comment = clean_comment(comment)
        access.membership(self.store, conversation_id, user_id)
        message = self.store.messages.get(conversation_id, message_id)  # a member may read it
        access.require_may_rate(message)
        model = self._model_of(message)
        saved = self.store.feedback.save(
            conversation_id,
            message_id,
            user_id,
            rating=rating,
            comment=comment,
            model=model,
        )
        if saved.rating_changed:
            record_feedback(METRICS[rating], model, message.assistant_id)
        return saved.feedback

    def remove(self, user_id: str, conversation_id: str, message_id: str) -> None:
        """Take the person's rating back; nothing to take back is fine, an unknown message is
        `MessageNotFound` (to a member)."""
        access.membership(self.store, conversation_id, user_id)
        removed = self.store.feedback.remove_rating(conversation_id, message_id, user_id)
        if removed is not None:
            model = removed[1]
            if model is None:
                model = self.default_model() if self.default_model is not None else self.model_id
            record_feedback(REMOVED, model, self._assistant_of(conversation_id, message_id))
            return
        self.store.messages.get(conversation_id, message_id)


def with_my_ratings(
    store: Store, user_id: str, conversation_id: str, messages: Sequence[Message]
) -> list[ListedMessage]:
    """The messages as `user_id` lists them, each reply with their own rating, if any: one
    Query for the page (none when it holds no reply of the assistant)."""
    replies = [m.id for m in messages if m.role == "assistant"]
    ratings = store.feedback.of_user(conversation_id, user_id, replies) if replies else {}
    return [ListedMessage(**dict(m), feedback=ratings.get(m.id)) for m in messages]
