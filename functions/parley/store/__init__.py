"""DynamoDB repositories over the single-table design (docs/contracts.md), one cached factory.

Handlers call `get_store()` and work with domain models; `ClientError`s become domain
exceptions (`ConversationNotFound`, `Conflict`…) inside the repositories.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from parley.store.attachments import AttachmentRepository
from parley.store.conversations import ConversationRecord, ConversationRepository
from parley.store.feedback import FeedbackRepository
from parley.store.invites import InviteRepository
from parley.store.messages import MessageRepository
from parley.store.profiles import ProfileRepository
from parley.store.rollups import RollupRepository
from parley.store.search import SearchIndexRepository
from parley.store.table import chat_table
from parley.store.usage import UsageRepository


@dataclass(frozen=True)
class Store:
    profiles: ProfileRepository
    conversations: ConversationRepository
    messages: MessageRepository
    usage: UsageRepository
    search: SearchIndexRepository
    rollups: RollupRepository

    @property
    def attachments(self) -> AttachmentRepository:
        """Attachment items, over the same table (a view: nothing to build at cold start)."""
        return AttachmentRepository(self.messages.table)

    @property
    def feedback(self) -> FeedbackRepository:
        """Ratings of replies, over the same table (a view: nothing to build at cold start)."""
        return FeedbackRepository(self.messages.table)

    @property
    def invites(self) -> InviteRepository:
        """Sign-up invitations, over the same table (a view: nothing to build at cold start)."""
        return InviteRepository(self.messages.table)


@cache
def get_store() -> Store:
    """The repositories of this cold start, sharing one table resource."""
    table = chat_table()
    return Store(
        profiles=ProfileRepository(table),
        conversations=ConversationRepository(table),
        messages=MessageRepository(table),
        usage=UsageRepository(table),
        rollups=RollupRepository(table),
        search=SearchIndexRepository(table),
    )


__all__ = ["ConversationRecord", "Store", "get_store"]
