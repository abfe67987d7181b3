"""Step Functions and EventBridge Scheduler on the local stack.

**State machines** run on moto's own ASL interpreter (`moto.stepfunctions.parser`, moto's port
of a real Step Functions executor: Task, Map, Retry with backoff, Catch, paths and selectors),
switched on with moto's `stepfunctions.execute_state_machine` setting. Nothing here interprets
ASL. The one change: that interpreter sends a Task's Lambda invoke to moto's own Lambda service
(which runs functions in Docker); `run_state_machines` points those invokes at the local Lambda
API instead (`tasks.local.gateway.lambda_api`), where the manifest's functions run as they do
for every other trigger. The definition is the same file Terraform deploys
(`functions/workflows/<name>.asl.json`), filled in by `tasks.workflows.render`.

**Schedules**: every manifest function with a `schedule` trigger is invoked asynchronously with
the schedule's input on a timer (`schedule_forever`); the interval is the stack's
`schedule_interval` (`PARLEY_SCHEDULE_INTERVAL`, seconds), not the cron expression, so a
developer can make the nightly job come every minute.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from tasks.core.manifest import Manifest
from tasks.workflows import definitions, render

log = logging.getLogger("parley.local.workflows")

EXPORTS_BUCKET = "parley-local-exports"
LOCAL_ROLE = "arn:aws:iam::123456789012:role/parley-local-workflows"
"""moto checks no IAM: the state machine's role is a name only locally (docs/local-stack.md)."""
_BOTO_CLIENT_FOR = "(region, service, state_credentials=None)"
"""The signature of moto's `boto_client_for` the redirect was written for."""


def run_state_machines(lambda_url: str) -> None:
    """In moto's process: execute state machines for real, their Lambda tasks on `lambda_url`."""
    import boto3
    from botocore.config import Config
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    shape = str(inspect.signature(original)).replace("'", "")
    if "state_credentials" not in shape or not shape.startswith("(region"):
        raise RuntimeError(f"moto's boto_client_for is {shape}, expected {_BOTO_CLIENT_FOR}")

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if service != "lambda":
            return original(region, service, state_credentials)
        return boto3.client(
            "lambda",
            endpoint_url=lambda_url,
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the local Lambda API checks none
            config=Config(
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=5,
                read_timeout=900,  # a task's own TimeoutSeconds ends it first
            ),
        )

    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    boto_client.boto_client_for = boto_client_for
    setattr(lambda_eval_utils, "boto_client_for", boto_client_for)  # noqa: B010 - moto's import


def create_workflows(session: Any, moto_url: str, manifest: Manifest) -> dict[str, str]:
    """The exports bucket and every state machine, as Terraform makes them; returns the refs
    the functions need (`exports_bucket_name`, `<name>_state_machine_arn`)."""
    s3 = session.client("s3", endpoint_url=moto_url)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if EXPORTS_BUCKET not in existing:
        s3.create_bucket(Bucket=EXPORTS_BUCKET)
    s3.put_public_access_block(
        Bucket=EXPORTS_BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    sfn = session.client("stepfunctions", endpoint_url=moto_url)
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    refs = {"exports_bucket_name": EXPORTS_BUCKET}
    region = session.region_name
    for name in definitions():
        values = {
            f"{function}_arn": f"arn:aws:lambda:{region}:123456789012:function:{function}"
            for function, spec in manifest.functions.items()
            if name in spec.triggers.workflow
        }
        definition = render(name, values)
        machine = f"parley-local-{name}"
        if machine in machines:
            sfn.update_state_machine(stateMachineArn=machines[machine], definition=definition)
            arn = machines[machine]
        else:
            arn = sfn.create_state_machine(
                name=machine, definition=definition, roleArn=LOCAL_ROLE, type="STANDARD"
            )["stateMachineArn"]
        refs[f"{name}_state_machine_arn"] = arn
    return refs


def scheduled_functions(manifest: Manifest) -> dict[str, dict[str, Any]]:
    """Function name => the input its schedule sends."""
    return {
        name: dict(f.triggers.schedule.input)
        for name, f in manifest.functions.items()
        if f.triggers.schedule is not None
    }


async def schedule_forever(
    runtime: Any, function: str, event: dict[str, Any], every: float
) -> None:
    """Invoke `function` asynchronously every `every` seconds (retries and the dead-letter
    queue are the runtime's, as for any async invoke) until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            runtime.invoke_event(function, event)
        except Exception:
            log.exception("scheduling %s failed", function)
