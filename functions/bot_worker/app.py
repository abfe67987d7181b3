"""`bot_worker`: async-invoked by `ws_message`; streams one assistant reply to the room."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.jobs import ReplyJob
from parley.observability import lambda_handler, logger
from parley.services import sharded_reply_writer, warm_reply_worker

# Init runs on a full vCPU, an invocation on a share of one: build the first reply's set-up now.
warm_reply_worker()


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = ReplyJob.model_validate(event)
    logger.append_keys(conversation_id=job.conversation_id, reply_id=job.reply_id)
    outcome = sharded_reply_writer().run(
        job, time_left=context.get_remaining_time_in_millis() / 1000
    )
    logger.info("reply done", extra={"outcome": outcome.status})
    return {"outcome": outcome.status}
