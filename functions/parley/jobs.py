"""The contract between the functions that ask for a reply and the one that writes it.

`ws_message` sends a `ReplyJob` to `bot_worker` as an async invoke payload; `chat_api` hands
the same job to the same writer in process. The reply id is chosen by the asker, before the
job leaves, so a retried invoke finds the same reply; the claim it carries is what the reply
settles when it ends (see `parley.quota`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from parley.models import Persona
from parley.store.usage import Claim


class ReplyJob(BaseModel):
    """Which reply to write, to which message, for whom, and what it may spend."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    conversation_id: str
    reply_id: str
    reply_to: str
    requested_by: str
    claim_day: str | None = None
    """The UTC day the claim was made on (its usage counter); None: no claim to settle."""
    claim_tokens: int = 0
    model: str | None = None
    """The catalog id of the model the asker was checked for (`parley.catalog`); None: the
    conversation's model as the writer finds it (a job queued before models were chosen)."""
    persona: Persona | None = None
    """The user's assistant a room member called (`parley.assistants`): its instructions are
    the system prompt and its name the reply's author. None: the conversation's own (a chat
    started from an assistant) or the default assistant."""

    @classmethod
    def for_claim(
        cls,
        claim: Claim,
        *,
        reply_to: str,
        model: str | None = None,
        persona: Persona | None = None,
    ) -> ReplyJob:
        return cls(
            conversation_id=claim.conversation_id,
            reply_id=claim.reply_id,
            reply_to=reply_to,
            requested_by=claim.user_id,
            claim_day=claim.day,
            claim_tokens=claim.tokens,
            model=model,
            persona=persona,
        )

    @property
    def claim(self) -> Claim | None:
        if self.claim_day is None:
            return None
        return Claim(
            user_id=self.requested_by,
            conversation_id=self.conversation_id,
            reply_id=self.reply_id,
            day=self.claim_day,
            tokens=self.claim_tokens,
        )
