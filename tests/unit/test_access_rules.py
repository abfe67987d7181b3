"""Who may do what in a conversation: the rules of `parley.access`, and `Conversations` applying
them to the store. Every refusal is paired with the case just inside the rule, so a weakened
or a tightened check fails here (these tests are what `invoke mutate` runs for both modules)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from parley import access
from parley.conversations import Conversations, RoomPresence
from parley.errors import (
    Conflict,
    ConversationNotFound,
    Forbidden,
    MemberNotFound,
    ParleyError,
    UserNotFound,
)
from parley.models import Kind, Member, MemberRole, Profile
from parley.store import Store
from parley.store.conversations import ConversationRecord
from tests.unit.conftest import fresh_id

OWNER, MEMBER, OTHER = "u-owner", "u-member", "u-other"


def member(user_id: str, role: MemberRole = "member") -> Member:
    return Member(
        user_id=user_id,
        email=f"{user_id}@example.com",
        name=user_id,
        role=role,
        joined_at="2026-11-27T08:00:00.000Z",
    )


def record(kind: Kind = "group", owner_id: str = OWNER) -> ConversationRecord:
    at = "2026-11-27T08:00:00.000Z"
    return ConversationRecord(
        id="c1",
        kind=kind,
        title="Room",
        owner_id=owner_id,
        created_at=at,
        updated_at=at,
        titled=True,
    )


def room(caller: Member, *others: Member, kind: Kind = "group") -> access.Room:
    members = {m.user_id: m for m in (caller, *others)}
    return access.Room(record=record(kind), members=members, caller=caller)


def refused(error: type[ParleyError], message: str, attempt: Callable[[], object]) -> None:
    """`attempt` raises exactly `error` with exactly this message (what the person reads)."""
    with pytest.raises(error) as raised:
        attempt()
    assert type(raised.value) is error
    assert raised.value.message == message


OWNER_ONLY_RENAME = "Only the owner can rename a group conversation"
OWNER_ONLY_ADD = "Only the owner can add members"
OWNER_ONLY_REMOVE = "Only the owner can remove other members"
OWNER_CANNOT_LEAVE = "The owner cannot leave; delete the conversation instead"
OWNER_ONLY_DELETE = "Only the owner can delete a conversation"
ONLY_GROUPS = "Members can only be added to a group conversation"
FULL = f"A conversation has at most {access.MAX_MEMBERS} members"
STOP = "Only who asked for this reply, or the room's owner, can stop it"
RETRY = "Only the author or the room's owner can ask again"


# -- the rules, on plain records -----------------------------------------------------------------
def test_only_the_owner_renames_a_group_and_the_owner_of_a_chat_renames_it() -> None:
    access.require_may_rename(record("group"), member(OWNER, "owner"))
    access.require_may_rename(record("assistant"), member(OWNER, "owner"))
    refused(
        Forbidden,
        OWNER_ONLY_RENAME,
        lambda: access.require_may_rename(record("group"), member(MEMBER)),
    )


def test_only_the_owner_invites_only_into_a_group_and_not_past_the_limit() -> None:
    owner = member(OWNER, "owner")
    access.require_may_invite(record("group"), owner, 1)
    access.require_may_invite(record("group"), owner, access.MAX_MEMBERS - 1)
    refused(Conflict, FULL, lambda: access.require_may_invite(record(), owner, access.MAX_MEMBERS))
    refused(
        Conflict, FULL, lambda: access.require_may_invite(record(), owner, access.MAX_MEMBERS + 1)
    )
    refused(
        Forbidden,
        OWNER_ONLY_ADD,
        lambda: access.require_may_invite(record("group"), member(MEMBER), 1),
    )
    # the kind is refused first, for the owner too
    refused(Conflict, ONLY_GROUPS, lambda: access.require_may_invite(record("assistant"), owner, 1))
    refused(
        Conflict,
        ONLY_GROUPS,
        lambda: access.require_may_invite(record("assistant"), member(MEMBER), 1),
    )
    assert access.MAX_MEMBERS == 50


def test_anyone_but_the_owner_may_leave_and_only_the_owner_removes_others() -> None:
    owner, someone, another = member(OWNER, "owner"), member(MEMBER), member(OTHER)
    access.require_may_remove(someone, someone)  # leaving
    access.require_may_remove(owner, someone)  # removing
    refused(Forbidden, OWNER_ONLY_REMOVE, lambda: access.require_may_remove(someone, another))
    refused(Forbidden, OWNER_ONLY_REMOVE, lambda: access.require_may_remove(someone, owner))
    refused(Conflict, OWNER_CANNOT_LEAVE, lambda: access.require_may_remove(owner, owner))


def test_only_the_owner_deletes() -> None:
    access.require_may_delete(member(OWNER, "owner"))
    refused(Forbidden, OWNER_ONLY_DELETE, lambda: access.require_may_delete(member(MEMBER)))


@pytest.mark.parametrize(
    ("rule", "message"), [(access.require_may_stop, STOP), (access.require_may_retry, RETRY)]
)
def test_a_reply_is_stopped_or_asked_again_by_who_asked_or_by_the_owner(
    rule: Callable[[access.Room, str], None], message: str
) -> None:
    owner, asker, bystander = member(OWNER, "owner"), member(MEMBER), member(OTHER)
    rule(room(asker, owner, bystander), MEMBER)  # who asked
    rule(room(owner, asker, bystander), MEMBER)  # the owner, for someone else
    rule(room(owner, asker), OWNER)  # the owner, for themselves
    refused(Forbidden, message, lambda: rule(room(bystander, owner, asker), MEMBER))
    refused(Forbidden, message, lambda: rule(room(asker, owner), OWNER))


def test_the_owner_is_who_the_record_names_not_a_role_a_member_item_claims() -> None:
    assert room(member(OWNER, "owner")).is_owner
    assert not room(member(MEMBER)).is_owner
    impostor = member(MEMBER, "owner")  # a member item that says "owner" for another user
    assert not room(impostor).is_owner
    refused(Forbidden, STOP, lambda: access.require_may_stop(room(impostor), OTHER))
    everyone = room(member(OWNER, "owner"), member(MEMBER), member(OTHER))
    assert everyone.member_ids == frozenset({OWNER, MEMBER, OTHER})


# -- the rules against the store -----------------------------------------------------------------
class Presence(RoomPresence):
    def __init__(self) -> None:
        self.removed: list[tuple[str, str]] = []

    def member_removed(self, conversation_id: str, user_id: str) -> None:
        self.removed.append((conversation_id, user_id))


class People:
    """Profiles with fresh ids, so tests sharing the module's table never meet."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, name: str) -> Profile:
        user_id = fresh_id(f"{name}-")
        return self.store.profiles.ensure(user_id, f"{user_id}@example.com", name)


@pytest.fixture
def people(fast_store: Store) -> People:
    return People(fast_store)


@pytest.fixture
def presence() -> Presence:
    return Presence()


@pytest.fixture
def rooms(fast_store: Store, presence: Presence) -> Conversations:
    return Conversations(fast_store, presence)


def group_of(store: Store, owner: Profile, *members: Profile) -> str:
    conversation = store.conversations.create(owner, kind="group", title="Room")
    for profile in members:
        store.conversations.add_member(store.conversations.record(conversation.id), profile)
    return conversation.id


def member_ids(store: Store, conversation_id: str) -> set[str]:
    return {m.user_id for m in store.conversations.members(conversation_id)}


def test_membership_is_the_access_check_and_tells_nothing_to_others(
    fast_store: Store, people: People
) -> None:
    alice, bob, eve = people("alice"), people("bob"), people("eve")
    group = group_of(fast_store, alice, bob)

    assert access.membership(fast_store, group, alice.id).role == "owner"
    assert access.membership(fast_store, group, bob.id).role == "member"
    seen = access.room_for(fast_store, group, bob.id)
    assert (seen.caller.user_id, seen.record.id, seen.record.owner_id) == (bob.id, group, alice.id)
    assert seen.member_ids == {alice.id, bob.id}
    assert not seen.is_owner
    assert access.room_for(fast_store, group, alice.id).is_owner

    for conversation_id in (group, fresh_id("missing-")):  # not a member, or no such room
        with pytest.raises(ConversationNotFound):
            access.membership(fast_store, conversation_id, eve.id)
        with pytest.raises(ConversationNotFound):
            access.room_for(fast_store, conversation_id, eve.id)


def test_a_non_member_gets_not_found_from_every_operation(
    fast_store: Store, rooms: Conversations, people: People, presence: Presence
) -> None:
    alice, bob, eve = people("alice"), people("bob"), people("eve")
    group = group_of(fast_store, alice, bob)
    for attempt in (
        lambda: rooms.get(group, eve.id),
        lambda: rooms.rename(group, eve.id, "mine now"),
        lambda: rooms.delete(group, eve.id),
        lambda: rooms.members(group, eve.id),
        lambda: rooms.invite(group, eve.id, eve.email),
        lambda: rooms.remove(group, eve.id, bob.id),
        lambda: rooms.remove(group, eve.id, eve.id),
    ):
        with pytest.raises(ConversationNotFound):
            attempt()
    record = fast_store.conversations.record(group)
    assert (record.title, member_ids(fast_store, group)) == ("Room", {alice.id, bob.id})
    assert presence.removed == []


def test_who_creates_a_conversation_owns_it(
    fast_store: Store, rooms: Conversations, people: People
) -> None:
    alice = people("alice")
    made = rooms.create(alice, kind="group", title="Plans")
    assert (made.kind, made.title, made.owner_id, made.role) == (
        "group",
        "Plans",
        alice.id,
        "owner",
    )
    assert access.membership(fast_store, made.id, alice.id).role == "owner"
    assert rooms.create(alice, kind="assistant", title=None).kind == "assistant"


def test_members_read_the_conversation_with_their_own_role(
    fast_store: Store, rooms: Conversations, people: People
) -> None:
    alice, bob = people("alice"), people("bob")
    group = group_of(fast_store, alice, bob)
    assert rooms.get(group, alice.id).role == "owner"
    assert rooms.get(group, bob.id).role == "member"
    assert {m.user_id for m in rooms.members(group, bob.id)} == {alice.id, bob.id}


def test_only_the_owner_renames_a_group(
    fast_store: Store, rooms: Conversations, people: People
) -> None:
    alice, bob = people("alice"), people("bob")
    group = group_of(fast_store, alice, bob)
    refused(Forbidden, OWNER_ONLY_RENAME, lambda: rooms.rename(group, bob.id, "Bob's"))
    assert fast_store.conversations.record(group).title == "Room"

    renamed = rooms.rename(group, alice.id, "Alice's")
    assert (renamed.title, renamed.role) == ("Alice's", "owner")
    assert fast_store.conversations.record(group).title == "Alice's"
    chat = fast_store.conversations.create(alice, kind="assistant", title=None).id
    assert rooms.rename(chat, alice.id, "Mine").title == "Mine"


def test_only_the_owner_deletes_a_conversation(
    fast_store: Store, rooms: Conversations, people: People
) -> None:
    alice, bob = people("alice"), people("bob")
    group = group_of(fast_store, alice, bob)
    refused(Forbidden, OWNER_ONLY_DELETE, lambda: rooms.delete(group, bob.id))
    assert fast_store.conversations.record(group).owner_id == alice.id
    assert member_ids(fast_store, group) == {alice.id, bob.id}

    rooms.delete(group, alice.id)
    with pytest.raises(ConversationNotFound):
        fast_store.conversations.record(group)
    with pytest.raises(ConversationNotFound):
        rooms.get(group, bob.id)


def test_only_the_owner_invites_and_who_may_not_learns_nothing_about_addresses(
    fast_store: Store, rooms: Conversations, people: People
) -> None:
    alice, bob, carol = people("alice"), people("bob"), people("carol")
    group = group_of(fast_store, alice, bob)
    nobody = f"{fresh_id('nobody-')}@example.com"
    for address in (carol.email, nobody):  # an account or none: the same refusal
        refused(Forbidden, OWNER_ONLY_ADD, lambda a=address: rooms.invite(group, bob.id, a))
    assert member_ids(fast_store, group) == {alice.id, bob.id}
    assert not fast_store.invites.is_invited(nobody)  # a refused invitation admits nobody

    with pytest.raises(UserNotFound):
        rooms.invite(group, alice.id, nobody)
    # The owner's invitation of an address without an account is kept for its sign-up.
    assert fast_store.invites.is_invited(nobody)
    added = rooms.invite(group, alice.id, carol.email.upper())
    assert (added.user_id, added.role) == (carol.id, "member")
    assert member_ids(fast_store, group) == {alice.id, bob.id, carol.id}
    with pytest.raises(Conflict, match="Already a member"):
        rooms.invite(group, alice.id, carol.email)

    chat = fast_store.conversations.create(alice, kind="assistant", title=None).id
    stranger = f"{fresh_id('stranger-')}@example.com"
    for address in (carol.email, stranger):
        refused(Conflict, ONLY_GROUPS, lambda a=address: rooms.invite(chat, alice.id, a))
    assert member_ids(fast_store, chat) == {alice.id}
    assert not fast_store.invites.is_invited(stranger)


def test_a_room_takes_members_up_to_the_limit(
    fast_store: Store, rooms: Conversations, people: People
) -> None:
    alice = people("alice")
    group = group_of(fast_store, alice)
    record = fast_store.conversations.record(group)
    for n in range(access.MAX_MEMBERS - 2):  # members need no profile item to be counted
        profile = Profile(id=fresh_id(f"m{n}-"), email="", name="", created_at="")
        fast_store.conversations.add_member(record, profile)
    last, late = people("last"), people("late")
    rooms.invite(group, alice.id, last.email)  # the 50th
    refused(Conflict, FULL, lambda: rooms.invite(group, alice.id, late.email))
    assert len(member_ids(fast_store, group)) == access.MAX_MEMBERS


def test_members_leave_and_only_the_owner_removes_others(
    fast_store: Store, rooms: Conversations, people: People, presence: Presence
) -> None:
    alice, bob, carol, eve = people("alice"), people("bob"), people("carol"), people("eve")
    group = group_of(fast_store, alice, bob, carol)

    refused(Forbidden, OWNER_ONLY_REMOVE, lambda: rooms.remove(group, bob.id, carol.id))
    refused(Forbidden, OWNER_ONLY_REMOVE, lambda: rooms.remove(group, bob.id, alice.id))
    # a member asking about a non-member hears the same: no membership is revealed
    refused(Forbidden, OWNER_ONLY_REMOVE, lambda: rooms.remove(group, bob.id, eve.id))
    refused(Conflict, OWNER_CANNOT_LEAVE, lambda: rooms.remove(group, alice.id, alice.id))
    assert member_ids(fast_store, group) == {alice.id, bob.id, carol.id}
    assert presence.removed == []

    with pytest.raises(MemberNotFound):
        rooms.remove(group, alice.id, eve.id)
    rooms.remove(group, bob.id, bob.id)  # leaving
    rooms.remove(group, alice.id, carol.id)  # removed by the owner
    assert member_ids(fast_store, group) == {alice.id}
    assert presence.removed == [(group, bob.id), (group, carol.id)]
    with pytest.raises(ConversationNotFound):
        rooms.get(group, bob.id)
