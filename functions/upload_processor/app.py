"""`upload_processor`: S3 ObjectCreated on the uploads bucket (async, DLQ on failure).

Each record's file is checked and extracted by `parley.attachments.Attachments.process`; a
record that fails raises, so Lambda retries the event and then sends it to the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import lambda_handler, logger
from parley.services import attachments


@lambda_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service = attachments()
    if service is None:
        raise RuntimeError("UPLOADS_BUCKET_NAME is not set")
    outcomes = []
    for record in S3Event(event).records:
        if record.s3.bucket.name != service.bucket.bucket:
            raise ValueError(f"event for another bucket: {record.s3.bucket.name}")
        result = service.process(record.s3.get_object.key)
        status = result.status if result is not None else "deleted"
        logger.info(
            "upload processed", extra={"status": status, "reason": result and result.reason}
        )
        outcomes.append(status)
    return {"outcomes": outcomes}
