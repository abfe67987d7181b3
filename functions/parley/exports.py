"""Asking for an export of a conversation and reading its status (`chat_api`).

A member asks (`POST /conversations/{id}/exports`): the export is recorded `running` under the
asker's key and the export workflow (Step Functions, `functions/workflows/export.asl.json`) is
started with the export's id as the execution's name, so a repeated start cannot run it twice.
The workflow writes the file to the private exports bucket and tells the asker's open apps
(`export.ready` / `export.failed`); `GET /exports/{id}` reports the same to its owner only, with a
fresh download link while the file exists. The steps themselves are in `parley.export_job`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from parley import access
from parley.errors import ExportNotFound, ServiceUnavailable
from parley.ids import iso
from parley.models import ExportFormat, ExportState, ExportStatus

if TYPE_CHECKING:
    from parley.store import Store
    from parley.store.exports import ExportRecord, ExportRepository

logger = logging.getLogger(__name__)

LINK_SECONDS = 5 * 60
"""How long a download link works; `GET /exports/{id}` gives a new one each time."""
FILE_DAYS = 1
"""How long the file is kept: the exports bucket's lifecycle rule deletes it after this many
days (terraform/modules/workflows, `export_retention_days`)."""
START_FAILED = "The export could not be started; please try again"

StartExecution = Callable[[str, str], None]
"""Start the workflow: (execution name, input JSON)."""
Presign = Callable[[str, str], str]
"""A time-limited GET link: (object key, file name to save as)."""


def execution_input(record: ExportRecord) -> dict[str, dict[str, str]]:
    """What the workflow gets: everything its steps need, nothing from the request."""
    return {
        "export": {
            "id": record.id,
            "userId": record.user_id,
            "conversationId": record.conversation_id,
            "format": record.format,
        }
    }


class Exports:
    def __init__(
        self,
        store: Store,
        records: ExportRepository,
        *,
        start: StartExecution,
        presign: Presign,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.records = records
        self.start = start
        self.presign = presign
        self.now = now

    def request(self, conversation_id: str, user_id: str, fmt: ExportFormat) -> ExportStatus:
        """Start exporting a conversation the caller is a member of (else not found)."""
        access.membership(self.store, conversation_id, user_id)
        record = self.records.create(user_id, conversation_id, fmt)
        try:
            self.start(record.id, json.dumps(execution_input(record)))
        except Exception:
            logger.exception("starting the export workflow failed", extra={"export": record.id})
            self.records.finish(user_id, record.id, status="failed", error=START_FAILED)
            raise ServiceUnavailable(START_FAILED) from None
        return self.view(record)

    def status(self, export_id: str, user_id: str) -> ExportStatus:
        """The caller's own export; anyone else's is not found."""
        record = self.records.get(user_id, export_id)
        if record is None:
            raise ExportNotFound()
        return self.view(record)

    def view(self, record: ExportRecord) -> ExportStatus:
        status: ExportState = record.status  # type: ignore[assignment]
        url = expires = None
        if status == "ready" and record.key:
            finished = datetime.fromisoformat((record.finished_at or "").replace("Z", "+00:00"))
            if self.now() - finished >= timedelta(days=FILE_DAYS):
                status = "expired"
            else:
                url = self.presign(record.key, record.file_name or record.key.rsplit("/", 1)[-1])
                expires = iso(self.now() + timedelta(seconds=LINK_SECONDS))
        return ExportStatus(
            id=record.id,
            conversation_id=record.conversation_id,
            format=record.format,
            status=status,
            created_at=record.created_at,
            finished_at=record.finished_at,
            message_count=record.message_count,
            file_name=record.file_name,
            download_url=url,
            download_expires_at=expires,
            error=record.error,
        )
