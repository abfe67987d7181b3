"""The change feed for in-process tests: the local event source mapping over the session's moto,
invoking `stream_processor`'s handler in this process.

`drain()` delivers everything written so far, with the mapping's batch semantics (partial batch
responses, bisect, retries, dead-letter queue), where AWS would have caught up on its own.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3

from tasks.core.manifest import load_manifest
from tasks.local.streams import Mapping, StreamPoller
from tests.support.events import LambdaContext

if TYPE_CHECKING:
    from tasks.local.bootstrap import LocalResources

FUNCTION = "stream_processor"


def stream_arn(resources: LocalResources, table: str = "chat") -> str:
    client = boto3.client("dynamodb", endpoint_url=resources.endpoint_url)
    return str(
        client.describe_table(TableName=resources.table_names[table])["Table"]["LatestStreamArn"]
    )


def invoke_in_process(event: dict[str, Any]) -> Any:
    from stream_processor.app import handler

    return handler(event, LambdaContext(FUNCTION))


def in_process_feed(
    resources: LocalResources, *, dead_letter_queue: str | None = None, retry_delay: float = 0.0
) -> StreamPoller:
    """A poller of the chat table's stream from its start; nothing runs until `drain()`."""
    config = load_manifest().functions[FUNCTION].triggers.stream
    assert config is not None
    sqs = boto3.client("sqs", endpoint_url=resources.endpoint_url)

    def dead_letter(record: dict[str, Any]) -> None:
        if dead_letter_queue is not None:
            sqs.send_message(QueueUrl=dead_letter_queue, MessageBody=json.dumps(record))

    return StreamPoller(
        boto3.client("dynamodbstreams", endpoint_url=resources.endpoint_url),
        stream_arn(resources),
        function_arn=f"arn:aws:lambda:{resources.region}:123456789012:function:{FUNCTION}",
        mapping=Mapping.from_manifest(config),
        invoke=invoke_in_process,
        dead_letter=dead_letter,
        region=resources.region,
        retry_delay=retry_delay,
    )
