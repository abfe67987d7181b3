"""`maintenance`: the nightly job (EventBridge Scheduler) and `invoke maintenance`.

The event is the schedule's fixed input, `{"job": "nightly"}`; `invoke maintenance --backfill`
adds `"backfill": true` once after an upgrade, to index conversations stored before the
housekeeping index existed. Returns what was done (`parley.maintenance.MaintenanceReport`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.config import MaintenanceSettings, get_settings
from parley.observability import lambda_handler
from parley.services import maintenance


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(MaintenanceSettings)
    report = maintenance().run(
        retention_days=settings.retention_days,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
        backfill=bool((event or {}).get("backfill")),
    )
    return report.as_dict()
