"""`stream_processor`: the `chat` table's DynamoDB stream → the projections of `parley.changes`.

Lambda's event source mapping delivers batches in shard order; each record becomes a `Change`
and every projection is applied to it. Records that fail are reported as `batchItemFailures`
(partial batch response): Lambda retries from the first of them, bisects the batch, and after
the manifest's retries sends the rest to the dead-letter queue (`invoke redrive` replays it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from parley.changes import Change
from parley.observability import lambda_handler
from parley.services import change_feed

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    change_feed().apply(Change.from_record(record))


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
