"""The change feed's dead-letter queue: `invoke redrive` replays the batches given up on.

Lambda's on-failure destination for a stream receives the failed batch's *position* (shard and
sequence numbers), not its records. Redrive reads each message, fetches those records from the
stream again (DynamoDB keeps them 24 hours), invokes the function with them (Lambda's event shape,
the mapping's key filter applied) and deletes the message once the function took every record. A
message whose records still fail, or are no longer in the stream, stays in the queue and is named.
The projections are idempotent, so replaying a batch that partly succeeded before is safe.

Locally (`--env local`, the default) it talks to the running `invoke dev` (moto and the Lambda API
on their fixed ports); with `--env dev|prod` to AWS, with the queue and function from
`terraform output`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.local.streams import failed_from, lambda_record, matches

ROOT = Path(__file__).resolve().parents[1]
FUNCTION = "stream_processor"
LOCAL_QUEUE = f"parley-local-{FUNCTION}-stream-dlq"
"""The local stack's stream dead-letter queue on moto (tasks/local/stack.py)."""

Invoke = Callable[[dict[str, Any]], Any]


@dataclass
class RedriveReport:
    replayed: int = 0
    """Messages whose records the function took (deleted from the queue)."""
    records: int = 0
    kept: list[str] = field(default_factory=list)
    """Why each message left in the queue stayed there."""


def batch_records(
    streams: Any, info: dict[str, Any], key_prefix: str | None
) -> list[dict[str, Any]]:
    """The records of one failed batch, read again from the stream, as Lambda delivers them."""
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    end = int(info["endSequenceNumber"])
    region = info["streamArn"].split(":")[3]
    found: list[dict[str, Any]] = []
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = response.get("Records", [])
        for record in records:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return found
            if matches(record, key_prefix):
                found.append(lambda_record(record, info["streamArn"], region))
        if not records:
            break
        iterator = response.get("NextShardIterator")
    return found


def replay(
    sqs: Any, queue_url: str, streams: Any, invoke: Invoke, *, key_prefix: str | None
) -> RedriveReport:
    """Replay every message of the dead-letter queue once."""
    report = RedriveReport()
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=0
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            return report
        for message in fresh:
            seen.add(message["MessageId"])
            info = json.loads(message["Body"]).get("DDBStreamBatchInfo")
            if info is None:
                report.kept.append(f"{message['MessageId']}: not a stream batch")
                continue
            records = batch_records(streams, info, key_prefix)
            if len(records) < 1:
                report.kept.append(
                    f"{message['MessageId']}: its records are no longer in the stream"
                )
                continue
            try:
                failed = failed_from(invoke({"Records": records}), records)
            except Exception as exc:  # noqa: BLE001 - any failure keeps the message, named
                report.kept.append(f"{message['MessageId']}: the function failed ({exc})")
                continue
            if failed is not None:
                report.kept.append(
                    f"{message['MessageId']}: {len(records) - failed} record(s) failed again"
                )
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            report.replayed += 1
            report.records += len(records)


def lambda_invoker(client: Any, function_name: str) -> Invoke:
    """Invoke the deployed (or local) function synchronously; a function error raises."""

    def invoke(event: dict[str, Any]) -> Any:
        response = client.invoke(
            FunctionName=function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{response['FunctionError']}: {payload}")
        return payload

    return invoke


def _terraform_output(env: str, name: str) -> str:
    result = subprocess.run(
        ["terraform", f"-chdir=terraform/envs/{env}", "output", "-raw", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout:
        raise Exit(f"terraform output {name} of envs/{env} failed: {result.stderr.strip()}", code=1)
    return result.stdout.strip()


@task(
    help={
        "env": "local (a running `invoke dev`, default) or an environment: dev, prod",
        "moto_url": "the local stack's moto (default http://127.0.0.1:8084)",
        "lambda_url": "the local stack's Lambda API (default http://127.0.0.1:8083)",
        "region": "AWS region (default: us-east-1 locally, the AWS CLI's otherwise)",
    }
)
def redrive(
    c: Context, env: str = "local", moto_url: str = "", lambda_url: str = "", region: str = ""
) -> None:
    """Replay the change feed's dead-letter queue through the stream processor."""
    import boto3
    from botocore.config import Config

    from tasks.core.manifest import load_manifest
    from tasks.local.bootstrap import FAKE_CREDENTIALS

    config = load_manifest().functions[FUNCTION].triggers.stream
    key_prefix = config.key_prefix if config is not None else None
    timeouts = Config(read_timeout=900, retries={"max_attempts": 0})
    if env == "local":
        session = boto3.Session(
            aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
            region_name=region or "us-east-1",
        )
        endpoint: str | None = moto_url or "http://127.0.0.1:8084"
        sqs = session.client("sqs", endpoint_url=endpoint)
        try:
            queue_url = sqs.get_queue_url(QueueName=LOCAL_QUEUE)["QueueUrl"]
        except Exception as exc:  # noqa: BLE001 - said in a sentence, not a traceback
            raise Exit(
                f"No local stack with a change feed here ({exc}): run `invoke dev`.", 1
            ) from None
        function = FUNCTION
        lambda_client = session.client(
            "lambda", endpoint_url=lambda_url or "http://127.0.0.1:8083", config=timeouts
        )
    elif env in ("dev", "prod"):
        session = boto3.Session(region_name=region or None)
        endpoint = None
        sqs = session.client("sqs")
        queue_url = _terraform_output(env, "stream_dlq_url")
        function = _terraform_output(env, "stream_processor_function_name")
        lambda_client = session.client("lambda", config=timeouts)
    else:
        raise Exit(f"--env must be local, dev or prod (got '{env}')", code=1)
    report = replay(
        sqs,
        queue_url,
        session.client("dynamodbstreams", endpoint_url=endpoint),
        lambda_invoker(lambda_client, function),
        key_prefix=key_prefix,
    )
    print(f"Replayed {report.replayed} failed batch(es), {report.records} record(s).")
    for reason in report.kept:
        print(f"  kept in the queue — {reason}")
    if report.kept:
        raise Exit(code=1)
