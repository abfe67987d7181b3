"""`fanout`: invoked by `bot_worker` for a big room; posts one chunk to a slice of its sockets.

The worker waits for every slice before the next chunk, so each socket hears the chunks in
seq order (parley/realtime/shards.py). Answers each connection's outcome; never reads a table.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import lambda_handler
from parley.services import fanout_slice


@lambda_handler(trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return fanout_slice()(event)
