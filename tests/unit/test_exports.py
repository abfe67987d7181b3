"""Exports on moto: who may ask for one and read it (`parley.exports`), the steps of the
workflow run in process (`parley.export_job`) — page by page, assembled in order, equal to the
stored history — and the reason a failed export gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from parley.errors import ConversationNotFound, ExportNotFound, ServiceUnavailable
from parley.export_job import GENERIC_FAILURE, ExportJob, ExportRefused, file_name
from parley.exports import FILE_DAYS, LINK_SECONDS, START_FAILED, Exports, execution_input
from parley.ids import new_ulid
from parley.models import Profile
from parley.store import Store
from parley.store.exports import ExportRepository
from tests.unit.conftest import fresh_id


class Told:
    """The broadcaster's personal-event side, recorded."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def tell_users(self, events: dict[str, Any]) -> Any:
        self.events.extend(events.items())

        class Result:
            delivered = len(events)

        return Result()


def _profile(name: str = "Ada") -> Profile:
    return Profile(id=fresh_id("u-"), email=f"{new_ulid().lower()}@x.org", name=name, created_at="")


@pytest.fixture
def records(fast_store: Store) -> ExportRepository:
    return ExportRepository(fast_store.messages.table)


@pytest.fixture
def started() -> list[tuple[str, dict[str, Any]]]:
    return []


@pytest.fixture
def exports(
    fast_store: Store, records: ExportRepository, started: list[tuple[str, dict[str, Any]]]
) -> Exports:
    def start(name: str, document: str) -> None:
        started.append((name, json.loads(document)))

    return Exports(fast_store, records, start=start, presign=lambda key, name: f"https://s3/{key}")


# -- asking and reading ----------------------------------------------------------------------------
def test_a_member_asks_and_the_workflow_gets_exactly_the_export(
    fast_store: Store, exports: Exports, started: list[tuple[str, dict[str, Any]]]
) -> None:
    owner = _profile()
    conversation = fast_store.conversations.create(owner, kind="assistant", title="T")
    export = exports.request(conversation.id, owner.id, "json")
    assert (export.status, export.format, export.conversation_id) == (
        "running",
        "json",
        conversation.id,
    )
    assert export.download_url is None
    assert started == [
        (
            export.id,
            {
                "export": {
                    "id": export.id,
                    "userId": owner.id,
                    "conversationId": conversation.id,
                    "format": "json",
                }
            },
        )
    ]
    assert exports.status(export.id, owner.id) == export


def test_a_non_member_can_neither_export_nor_read_anothers_export(
    fast_store: Store, exports: Exports, started: list[tuple[str, dict[str, Any]]]
) -> None:
    owner, stranger = _profile(), _profile("Eve")
    conversation = fast_store.conversations.create(owner, kind="group", title="Room")
    with pytest.raises(ConversationNotFound):
        exports.request(conversation.id, stranger.id, "md")
    assert started == []
    export = exports.request(conversation.id, owner.id, "md")
    with pytest.raises(ExportNotFound):
        exports.status(export.id, stranger.id)
    with pytest.raises(ExportNotFound):
        exports.status(new_ulid(), owner.id)


def test_a_member_of_a_room_may_export_it(fast_store: Store, exports: Exports) -> None:
    owner = _profile()
    member = _profile("Bob")
    conversation = fast_store.conversations.create(owner, kind="group", title="Room")
    record = fast_store.conversations.record(conversation.id)
    fast_store.conversations.add_member(record, member)
    assert exports.request(conversation.id, member.id, "md").status == "running"


def test_a_workflow_that_cannot_start_fails_the_export_with_a_reason(
    fast_store: Store, records: ExportRepository
) -> None:
    owner = _profile()
    conversation = fast_store.conversations.create(owner, kind="assistant", title="T")

    def refuse(name: str, document: str) -> None:
        raise RuntimeError("throttled")

    exports = Exports(fast_store, records, start=refuse, presign=lambda k, n: "")
    with pytest.raises(ServiceUnavailable) as refused:
        exports.request(conversation.id, owner.id, "md")
    assert refused.value.message == START_FAILED
    [item] = [
        i
        for i in fast_store.messages.table.query(
            KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": f"USER#{owner.id}"}
        )["Items"]
        if str(i["sk"]).startswith("EXPORT#")
    ]
    assert (item["status"], item["error"]) == ("failed", START_FAILED)


def test_a_ready_export_links_to_its_file_until_the_file_expires(
    fast_store: Store, records: ExportRepository
) -> None:
    owner = _profile()
    conversation = fast_store.conversations.create(owner, kind="assistant", title="T")
    now = [datetime.now(UTC)]
    signed: list[tuple[str, str]] = []

    def presign(key: str, name: str) -> str:
        signed.append((key, name))
        return "https://link"

    exports = Exports(
        fast_store, records, start=lambda n, d: None, presign=presign, now=lambda: now[0]
    )
    export = exports.request(conversation.id, owner.id, "md")
    assert records.finish(owner.id, export.id, status="ready", key="exports/k/t.md",
                          file_name="t.md", message_count=3) is not None  # fmt: skip
    assert records.finish(owner.id, export.id, status="failed", error="late") is None  # once
    ready = exports.status(export.id, owner.id)
    assert (ready.status, ready.download_url, ready.message_count) == ("ready", "https://link", 3)
    assert (ready.id, ready.format, ready.file_name, ready.error) == (export.id, "md", "t.md", None)
    assert (ready.conversation_id, ready.created_at) == (conversation.id, export.created_at)
    assert ready.finished_at is not None
    assert ready.finished_at >= export.created_at
    link_ends = datetime.fromisoformat(str(ready.download_expires_at).replace("Z", "+00:00"))
    assert abs(link_ends - now[0] - timedelta(seconds=LINK_SECONDS)) < timedelta(milliseconds=2)
    assert signed == [("exports/k/t.md", "t.md")]
    now[0] = now[0] + timedelta(days=FILE_DAYS) - timedelta(seconds=5)
    assert exports.status(export.id, owner.id).status == "ready"  # a moment before it expires
    now[0] = now[0] + timedelta(seconds=10)
    expired = exports.status(export.id, owner.id)
    assert (expired.status, expired.download_url, expired.download_expires_at) == (
        "expired", None, None
    )  # fmt: skip
    assert len(signed) == 2

    now[0] = datetime.now(UTC)
    nameless = exports.request(conversation.id, owner.id, "json")
    records.finish(owner.id, nameless.id, status="ready", key="exports/k/x.json")
    exports.status(nameless.id, owner.id)
    assert signed[-1] == ("exports/k/x.json", "x.json")  # named after its key
    failed = exports.request(conversation.id, owner.id, "json")
    records.finish(owner.id, failed.id, status="failed", error="why")
    assert exports.status(failed.id, owner.id).download_url is None
    assert len(signed) == 3


# -- the steps of the workflow ---------------------------------------------------------------------
@pytest.fixture
def bucket(moto_server: Any) -> str:
    name = fresh_id("exports-").lower()
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def _job(store: Store, records: ExportRepository, bucket: str, told: Told, page: int) -> ExportJob:
    return ExportJob(
        store=store,
        records=records,
        s3=boto3.client("s3"),
        bucket=bucket,
        broadcaster=told,  # type: ignore[arg-type]
        page_size=page,
    )


def _run(job: ExportJob, document: dict[str, Any]) -> None:
    """The state machine's path, in process: plan, every page, assemble, notify."""
    plan = job.run({"step": "plan", **document})
    pages = [job.run({"step": "page", "page": p, **document}) for p in plan["pages"]]
    job.run({"step": "assemble", "pages": pages, **document})
    job.run({"step": "notify", **document})


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_the_steps_render_the_history_page_by_page_in_order(
    fast_store: Store, records: ExportRepository, bucket: str, fmt: str
) -> None:
    owner = _profile()
    conversation = fast_store.conversations.create(owner, kind="assistant", title="Notes: 1/2")
    stored = [
        fast_store.messages.put_user_message(
            conversation.id, author_id=owner.id, author_name="Ada", content=f"m{n} ✓ **x**"
        )[0]
        for n in range(7)
    ]
    export = Exports(fast_store, records, start=lambda n, d: None, presign=lambda k, n: "")
    record = export.request(conversation.id, owner.id, fmt)  # type: ignore[arg-type]
    told = Told()
    _run(
        _job(fast_store, records, bucket, told, page=3),
        execution_input(records.get(owner.id, record.id)),
    )  # type: ignore[arg-type]

    done = records.get(owner.id, record.id)
    assert done is not None
    assert (done.status, done.message_count, done.file_name) == ("ready", 7, f"notes-1-2.{fmt}")
    body = boto3.client("s3").get_object(Bucket=bucket, Key=done.key)["Body"].read().decode()
    if fmt == "json":
        document = json.loads(body)
        assert document["messages"] == [m.model_dump(mode="json", by_alias=True) for m in stored]
        assert document["messageCount"] == 7
    else:
        blocks = body.split("\n### ")[1:]
        assert [b.partition("\n\n")[2].rstrip("\n") for b in blocks] == [m.content for m in stored]
    parts = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"exports/{owner.id}/")
    assert [o["Key"] for o in parts.get("Contents", [])] == [done.key]  # parts removed
    [(user, event)] = told.events
    assert (user, event.type, event.export_id, event.message_count) == (
        owner.id, "export.ready", record.id, 7
    )  # fmt: skip


def test_an_empty_conversation_exports_to_a_file_with_no_messages(
    fast_store: Store, records: ExportRepository, bucket: str
) -> None:
    owner = _profile()
    conversation = fast_store.conversations.create(owner, kind="assistant", title=None)
    record = records.create(owner.id, conversation.id, "json")
    _run(_job(fast_store, records, bucket, Told(), page=3), execution_input(record))
    done = records.get(owner.id, record.id)
    assert done is not None
    assert done.key is not None
    body = boto3.client("s3").get_object(Bucket=bucket, Key=done.key)["Body"].read()
    assert json.loads(body)["messages"] == []


def test_a_member_removed_before_the_plan_is_refused_without_retries(
    fast_store: Store, records: ExportRepository, bucket: str
) -> None:
    owner, member = _profile(), _profile("Bob")
    conversation = fast_store.conversations.create(owner, kind="group", title="Room")
    fast_store.conversations.add_member(fast_store.conversations.record(conversation.id), member)
    record = records.create(member.id, conversation.id, "md")
    fast_store.conversations.remove_member(conversation.id, member.id)
    job = _job(fast_store, records, bucket, Told(), page=3)
    with pytest.raises(ExportRefused, match="no longer a member"):
        job.run({"step": "plan", **execution_input(record)})


def test_a_failed_export_says_why_and_tells_the_user_once(
    fast_store: Store, records: ExportRepository, bucket: str
) -> None:
    owner = _profile()
    conversation = fast_store.conversations.create(owner, kind="assistant", title="T")
    record = records.create(owner.id, conversation.id, "md")
    told = Told()
    job = _job(fast_store, records, bucket, told, page=3)
    refused = {"Error": "ExportRefused", "Cause": json.dumps({"errorMessage": "Gone away"})}
    job.run({"step": "fail", "error": refused, **execution_input(record)})
    job.run({"step": "fail", "error": refused, **execution_input(record)})  # a retried step
    done = records.get(owner.id, record.id)
    assert done is not None
    assert (done.status, done.error) == ("failed", "Gone away")
    assert [(u, e.type, e.reason) for u, e in told.events] == [
        (owner.id, "export.failed", "Gone away")
    ]
    other = records.create(owner.id, conversation.id, "md")
    crash = {"Error": "States.Timeout", "Cause": "Traceback (most recent call last): secret"}
    job.run({"step": "fail", "error": crash, **execution_input(other)})
    failed = records.get(owner.id, other.id)
    assert failed is not None
    assert failed.error == GENERIC_FAILURE


def test_file_names_are_safe() -> None:
    assert file_name('Trip: "Lisbon" / Porto', "md") == "trip-lisbon-porto.md"
    assert file_name("✓✓", "json") == "conversation.json"
    assert len(file_name("x" * 500, "md")) == 63
