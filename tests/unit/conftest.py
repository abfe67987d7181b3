"""A fast store for the unit tests of the rules that guard access, quota and replies.

One `chat` table per test module, made from `functions/tables.yaml` on the session's moto
server, with no user pool and no reset between tests: each test works under ids of its own
(`fresh_id`). Mutation testing (`invoke mutate`) runs these tests once per mutant, so their
set-up is kept to one table.
"""

from __future__ import annotations

import boto3
import pytest

from parley.ids import new_ulid
from parley.store import Store
from parley.store.conversations import ConversationRepository
from parley.store.messages import MessageRepository
from parley.store.profiles import ProfileRepository
from parley.store.rollups import RollupRepository
from parley.store.search import SearchIndexRepository
from parley.store.usage import UsageRepository
from tasks.local.bootstrap import create_table_args, load_tables
from tests.support.moto_server import MotoServer


def fresh_id(prefix: str = "") -> str:
    """An id no other test uses (tests share their module's table)."""
    return f"{prefix}{new_ulid()}"


@pytest.fixture(scope="module")
def chat_table_name(moto_server: MotoServer) -> str:
    name = fresh_id("unit-chat-")
    boto3.client("dynamodb").create_table(**create_table_args(name, load_tables()["chat"]))
    return name


@pytest.fixture
def fast_store(chat_table_name: str) -> Store:
    """The repositories over this module's table (as `get_store()` builds them)."""
    table = boto3.resource("dynamodb").Table(chat_table_name)
    return Store(
        profiles=ProfileRepository(table),
        conversations=ConversationRepository(table),
        messages=MessageRepository(table),
        usage=UsageRepository(table),
        rollups=RollupRepository(table),
        search=SearchIndexRepository(table),
    )
