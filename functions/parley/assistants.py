"""Users' assistants (a name, a handle, instructions, a model, a temperature) and who may use
them: decided here, once, for every transport.

* An assistant is its owner's alone: anyone else asking for it by id — to read, edit, delete,
  start a chat from or add to a room — gets `AssistantNotFound` (404), exactly as for an id that
  does not exist.
* Its model must be in the catalog and one the owner may use (`Catalog.require`: 400 unknown,
  403 not allowed), when it is made and whenever it is changed; whoever calls it must be allowed
  to use it when it answers (`parley.posting`).
* Limits: `MAX_ASSISTANTS` per user, `MAX_ROOM_ASSISTANTS` per room, the sizes of `parley.models`;
  a handle is unique per user (409), and `assistant` is the default assistant's.
* A room's owner adds their own assistants to the room and takes them out; every member may list
  them and call each with `@handle` (`called`). A deleted assistant leaves every room at once
  (its link is ignored, and pruned when the owner next adds one).
* A chat started from an assistant keeps a snapshot of it (`Persona`): editing or deleting the
  assistant later changes nothing there.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from parley import access
from parley.errors import BadRequest, Conflict, Forbidden, InvalidInput, NotFound
from parley.ids import new_ulid, now_iso
from parley.models import (
    HANDLE_PATTERN,
    Assistant,
    AssistantList,
    Persona,
    RoomAssistant,
    RoomAssistantList,
)
from parley.store.assistants import (
    AlreadyAdded,
    AssistantRecord,
    Changed,
    HandleTaken,
    LimitReached,
    RoomGone,
    RoomLink,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from parley.catalog import Catalog
    from parley.models import CreateAssistant, UpdateAssistant
    from parley.store import Store
    from parley.store.assistants import AssistantRepository

MAX_ASSISTANTS = 50
"""Assistants one person may have."""
MAX_ROOM_ASSISTANTS = 10
"""Assistants one room may add."""
DEFAULT_HANDLE = "assistant"
"""The default assistant's handle (`@assistant`): no user's assistant may take it."""
HANDLE_MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9-]{1,31})(?![a-z0-9-])", re.IGNORECASE)
"""A mention of a handle in a message."""
_HANDLE = re.compile(HANDLE_PATTERN)


class AssistantNotFound(NotFound):
    """Also raised for another user's assistant: no existence leak."""

    default_message = "Assistant not found"


def persona(record: AssistantRecord) -> Persona:
    """What a reply written as this assistant needs of it."""
    return Persona(
        id=record.id,
        name=record.name,
        handle=record.handle,
        instructions=record.instructions,
        temperature=record.temperature,
    )


def check_handle(handle: str) -> None:
    """`InvalidInput` for a handle outside the pattern or the default assistant's."""
    if not _HANDLE.fullmatch(handle):
        raise InvalidInput(
            "handle: 2–32 lowercase letters, digits and dashes, starting with a letter or digit"
        )
    if handle == DEFAULT_HANDLE:
        raise InvalidInput(f"handle: '{DEFAULT_HANDLE}' is the default assistant's")


def mentions(content: str) -> list[str]:
    """The handles a message mentions, lower-cased, in order of appearance."""
    return [m.group(1).lower() for m in HANDLE_MENTION.finditer(content)]


def view(record: AssistantRecord) -> Assistant:
    return Assistant(
        id=record.id,
        name=record.name,
        handle=record.handle,
        instructions=record.instructions,
        model=record.model,
        temperature=record.temperature,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


class Assistants:
    def __init__(
        self,
        store: Store,
        repository: AssistantRepository,
        catalog: Callable[[], Catalog] | None = None,
        *,
        max_assistants: int = MAX_ASSISTANTS,
        max_room_assistants: int = MAX_ROOM_ASSISTANTS,
    ) -> None:
        self.store = store
        self.repository = repository
        self.catalog = catalog
        self.max_assistants = max_assistants
        self.max_room_assistants = max_room_assistants

    # -- one's own ----------------------------------------------------------------------------
    def list_for(self, owner_id: str) -> AssistantList:
        return AssistantList(
            items=[view(r) for r in self.repository.of_user(owner_id)], limit=self.max_assistants
        )

    def record(self, owner_id: str, assistant_id: str) -> AssistantRecord:
        """The caller's own assistant; `AssistantNotFound` for anyone else's or none."""
        found = self.repository.get(owner_id, assistant_id)
        if found is None or found.owner_id != owner_id:
            raise AssistantNotFound()
        return found

    def get(self, owner_id: str, assistant_id: str) -> Assistant:
        return view(self.record(owner_id, assistant_id))

    def create(self, owner_id: str, body: CreateAssistant, groups: Sequence[str]) -> Assistant:
        check_handle(body.handle)
        now = now_iso()
        record = AssistantRecord(
            id=new_ulid(),
            owner_id=owner_id,
            name=body.name,
            handle=body.handle,
            instructions=body.instructions,
            model=self._model(body.model, groups),
            temperature=body.temperature,
            created_at=now,
            updated_at=now,
        )
        try:
            self.repository.create(record, limit=self.max_assistants)
        except HandleTaken:
            raise _taken(record.handle) from None
        except LimitReached:
            raise Conflict(
                f"You have {self.max_assistants} assistants, the most one person may have; "
                "delete one first"
            ) from None
        return view(record)

    def update(
        self, owner_id: str, assistant_id: str, body: UpdateAssistant, groups: Sequence[str]
    ) -> Assistant:
        before = self.record(owner_id, assistant_id)
        if body.handle is not None:
            check_handle(body.handle)
        after = replace(
            before,
            name=body.name if body.name is not None else before.name,
            handle=body.handle if body.handle is not None else before.handle,
            instructions=body.instructions
            if body.instructions is not None
            else before.instructions,
            model=self._model(body.model, groups) if body.model is not None else before.model,
            temperature=body.temperature if body.temperature is not None else before.temperature,
            updated_at=now_iso(),
        )
        try:
            self.repository.replace(before, after)
        except HandleTaken:
            raise _taken(after.handle) from None
        except Changed:
            raise Conflict("The assistant changed meanwhile; load it again") from None
        return view(after)

    def delete(self, owner_id: str, assistant_id: str) -> None:
        """Delete it; chats started from it keep their snapshot, rooms stop hearing it."""
        record = self.record(owner_id, assistant_id)
        try:
            self.repository.delete(record)
        except Changed:
            raise AssistantNotFound() from None

    def for_chat(self, owner_id: str, assistant_id: str) -> AssistantRecord:
        """The assistant a chat starts from: the caller's own (404 otherwise); the model it
        answers with is checked by the caller (`parley.conversations`)."""
        return self.record(owner_id, assistant_id)

    def _model(self, model: str | None, groups: Sequence[str]) -> str:
        """The catalog id to store: the one asked for (known and usable by the owner), else
        the environment's default."""
        if self.catalog is None:
            raise BadRequest("This environment offers no choice of model")
        catalog = self.catalog()
        if model is None:
            return catalog.default
        return catalog.require(model, groups).id

    # -- rooms --------------------------------------------------------------------------------
    def in_room(self, conversation_id: str) -> list[AssistantRecord]:
        """The live assistants a room added, in the order they were added (one Query, one
        BatchGetItem; a deleted assistant is left out)."""
        links = self.repository.links(conversation_id)
        found = self.repository.get_many((link.owner_id, link.assistant_id) for link in links)
        return [found[link.assistant_id] for link in links if link.assistant_id in found]

    def room_list(self, conversation_id: str, user_id: str) -> RoomAssistantList:
        """What a member may call in the room."""
        access.membership(self.store, conversation_id, user_id)
        links = self.repository.links(conversation_id)
        found = self.repository.get_many((link.owner_id, link.assistant_id) for link in links)
        items = [
            _room_view(found[link.assistant_id], link)
            for link in links
            if link.assistant_id in found
        ]
        return RoomAssistantList(items=items, limit=self.max_room_assistants)

    def room_add(self, conversation_id: str, user_id: str, assistant_id: str) -> RoomAssistant:
        """The room's owner adds one of their own assistants."""
        member = access.membership(self.store, conversation_id, user_id)
        room = self.store.conversations.record(conversation_id)
        require_may_manage_room(room.kind, room.owner_id, member.user_id)
        record = self.record(user_id, assistant_id)
        link = RoomLink(
            assistant_id=record.id, owner_id=record.owner_id, added_by=user_id, added_at=now_iso()
        )
        for attempt in range(2):
            try:
                self.repository.add_link(conversation_id, link, limit=self.max_room_assistants)
                break
            except AlreadyAdded:
                raise Conflict(f"This room has @{record.handle} already") from None
            except RoomGone:
                raise Forbidden("Only the room's owner adds assistants to it") from None
            except LimitReached:
                if attempt == 0 and self._prune(conversation_id):
                    continue  # deleted assistants made room
                raise Conflict(
                    f"This room has {self.max_room_assistants} assistants, the most a room may "
                    "have; remove one first"
                ) from None
        return _room_view(record, link)

    def room_remove(self, conversation_id: str, user_id: str, assistant_id: str) -> None:
        """The room's owner takes an assistant out (its own or one since deleted)."""
        member = access.membership(self.store, conversation_id, user_id)
        room = self.store.conversations.record(conversation_id)
        require_may_manage_room(room.kind, room.owner_id, member.user_id)
        if not self.repository.remove_link(conversation_id, assistant_id):
            raise AssistantNotFound("This room has no such assistant")

    def _prune(self, conversation_id: str) -> bool:
        """Take deleted assistants out of the room's count; True when any was."""
        links = self.repository.links(conversation_id)
        found = self.repository.get_many((link.owner_id, link.assistant_id) for link in links)
        gone = [link for link in links if link.assistant_id not in found]
        removed = [self.repository.remove_link(conversation_id, g.assistant_id) for g in gone]
        return any(removed)

    def called(self, conversation_id: str, content: str) -> tuple[int, AssistantRecord] | None:
        """The first of the room's assistants `content` mentions, with where the mention
        starts; None when it mentions none (a handle the room has not added is plain text)."""
        handles = [h for h in mentions(content) if h != DEFAULT_HANDLE]
        if not handles:
            return None
        by_handle = {r.handle: r for r in self.in_room(conversation_id)}
        for match in HANDLE_MENTION.finditer(content):
            found = by_handle.get(match.group(1).lower())
            if found is not None:
                return match.start(), found
        return None


def require_may_manage_room(kind: str, owner_id: str, user_id: str) -> None:
    """Only the owner of a room adds and removes its assistants."""
    if kind != "group":
        raise Conflict("Assistants are added to rooms; start a chat from an assistant instead")
    if owner_id != user_id:
        raise Forbidden("Only the room's owner adds or removes its assistants")


def _room_view(record: AssistantRecord, link: RoomLink) -> RoomAssistant:
    return RoomAssistant(
        id=record.id,
        name=record.name,
        handle=record.handle,
        model=record.model,
        added_by=link.added_by,
    )


def _taken(handle: str) -> Conflict:
    return Conflict(f"You already have an assistant with the handle '{handle}'")
