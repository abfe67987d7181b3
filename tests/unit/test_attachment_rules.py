"""Who may see, download and send an attachment, and which keys name an upload: the rules of
`parley.access` and `parley.store.uploads` on plain records (no AWS), fast enough for
`invoke mutate` to run once per mutant."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parley import access
from parley.errors import AttachmentNotFound, Conflict
from parley.store.attachments import AttachmentRecord
from parley.store.uploads import object_key, parse_key

ROOM, BOB, ADA = "01ROOM", "bob-sub", "ada-sub"
READY = AttachmentRecord(
    id="01FILE",
    conversation_id=ROOM,
    owner_id=BOB,
    name="notes.txt",
    content_type="text/plain",
    size=5,
    kind="document",
    status="ready",
    object_key=object_key(ROOM, BOB, "01FILE"),
    created_at="2026-12-02T00:00:00.000Z",
    updated_at="2026-12-02T00:00:00.000Z",
)
SENT = replace(READY, message_id="01MSG")


def test_an_unsent_file_is_its_uploaders_alone() -> None:
    access.require_may_see_attachment(READY, BOB)
    access.require_may_download(READY, BOB)
    with pytest.raises(AttachmentNotFound):
        access.require_may_see_attachment(READY, ADA)
    with pytest.raises(AttachmentNotFound):
        access.require_may_download(READY, ADA)


def test_a_sent_file_is_the_rooms() -> None:
    access.require_may_see_attachment(SENT, ADA)
    access.require_may_download(SENT, ADA)


def test_nothing_is_said_about_a_missing_file() -> None:
    for check in (access.require_may_see_attachment, access.require_may_download):
        with pytest.raises(AttachmentNotFound):
            check(None, BOB)
    with pytest.raises(AttachmentNotFound):
        access.require_may_reference(None, BOB)


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_only_a_ready_file_downloads_or_sends(status: str) -> None:
    record = replace(SENT, status=status)
    access.require_may_see_attachment(record, BOB)  # its state is visible…
    with pytest.raises(Conflict, match=f"notes.txt cannot be downloaded: it is {status}"):
        access.require_may_download(record, BOB)  # …its bytes are not
    said = "still being checked" if status == "pending" else "was rejected and cannot be sent"
    with pytest.raises(Conflict, match=f"notes.txt (is )?{said}"):
        access.require_may_reference(record, BOB)


def test_a_message_carries_only_its_senders_files() -> None:
    access.require_may_reference(READY, BOB)
    access.require_may_reference(SENT, BOB)  # sent again: still the sender's
    with pytest.raises(AttachmentNotFound):
        access.require_may_reference(READY, ADA)
    with pytest.raises(AttachmentNotFound):
        access.require_may_reference(SENT, ADA)  # a teammate's file, though visible, is not theirs


def test_an_upload_key_names_its_conversation_uploader_and_file() -> None:
    key = object_key(ROOM, BOB, "01FILE")
    assert key == f"uploads/{ROOM}/{BOB}/01FILE"
    assert parse_key(key) == (ROOM, BOB, "01FILE")
    for other in (
        f"exports/{ROOM}/{BOB}/01FILE",
        f"uploads/{ROOM}/{BOB}",
        f"uploads/{ROOM}/{BOB}/01FILE/x",
        f"uploads/{ROOM}//01FILE",
        f"uploads//{BOB}/01FILE",
        f"uploads/{ROOM}/{BOB}/",
        "uploads/",
        f"x/uploads/{ROOM}/{BOB}/01FILE",
    ):
        assert parse_key(other) is None, other
