"""`bot_worker`: async-invoked by `ws_message`; streams one assistant reply to the room."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.realtime.metrics import metrics
from parley.realtime.rooms import ReplyJob
from parley.realtime.runtime import reply_writer

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = ReplyJob.model_validate(event)
    logger.append_keys(conversation_id=job.conversation_id, reply_id=job.reply_id)
    outcome = reply_writer().run(job, time_left=context.get_remaining_time_in_millis() / 1000)
    logger.info("reply done", extra={"outcome": outcome})
    return {"outcome": outcome}
