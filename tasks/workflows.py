"""State machine definitions and the scheduled jobs: `invoke maintenance`, `invoke check-workflows`.

Each workflow is ONE Amazon States Language file, `functions/workflows/<name>.asl.json`, read
by Terraform (`templatefile`, terraform/modules/workflows) and by the local stack
(`tasks.local.workflows`, through `render` here). Its only template values are
`${<function>_arn}` for the manifest functions whose `workflow` trigger names it; both readers
fill in exactly those. `check_workflows` validates every file with asl-validator (npm, in
tests/infra) — `invoke lint` runs it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.core.manifest import ROOT

WORKFLOWS = ROOT / "functions" / "workflows"
VALIDATOR = ROOT / "tests" / "infra" / "node_modules" / ".bin" / "asl-validator"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class WorkflowError(Exception):
    """A definition cannot be filled in or is not valid ASL; the message says which and why."""


def definitions() -> dict[str, Path]:
    """Workflow name => its definition file."""
    return {p.name.removesuffix(".asl.json"): p for p in sorted(WORKFLOWS.glob("*.asl.json"))}


def placeholders(name: str) -> set[str]:
    return set(_PLACEHOLDER.findall(definitions()[name].read_text(encoding="utf-8")))


def render(name: str, values: Mapping[str, str]) -> str:
    """The definition with its `${…}` values filled in, as Terraform's templatefile does;
    every placeholder must get a value and every value must be used."""
    text = definitions()[name].read_text(encoding="utf-8")
    if "$${" in text or "%{" in text:
        raise WorkflowError(f"{name}: template escapes and directives are not used here")
    wanted = set(_PLACEHOLDER.findall(text))
    if wanted != set(values):
        raise WorkflowError(
            f"functions/workflows/{name}.asl.json uses {sorted(wanted)}, given {sorted(values)}"
        )
    filled = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    json.loads(filled)  # still JSON
    return filled


def validate(path: Path) -> str | None:
    """asl-validator's complaint about one definition file, or None when it is valid."""
    if not VALIDATOR.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise WorkflowError("npm is needed for asl-validator (tests/infra/package.json)")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=VALIDATOR.parents[2], check=True, capture_output=True,
        )  # fmt: skip
    done = subprocess.run(
        [str(VALIDATOR), "--json-path", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode == 0:
        return None
    return (done.stdout + done.stderr).strip() or f"asl-validator exited {done.returncode}"


def check_workflows() -> list[str]:
    """Every problem of every definition (empty: all valid)."""
    problems = []
    for name, path in definitions().items():
        complaint = validate(path)
        if complaint:
            problems.append(f"{path.relative_to(ROOT)}: {complaint}")
        for placeholder in placeholders(name):
            if not placeholder.endswith("_arn"):
                problems.append(f"{path.relative_to(ROOT)}: unknown value ${{{placeholder}}}")
    return problems


@task(name="check-workflows")
def check_workflows_task(c: Context) -> None:
    """Validate every state machine definition (functions/workflows/*.asl.json) statically."""
    problems = check_workflows()
    for problem in problems:
        print(problem)
    if problems:
        raise Exit("state machine definitions are invalid", code=1)
    print(f"{len(definitions())} state machine definition(s) valid")


@task(
    help={
        "env": "local (a running `invoke dev`, default) or an environment: dev, prod",
        "lambda_url": "the local stack's Lambda API (default http://127.0.0.1:8083)",
        "backfill": "also index conversations stored before the housekeeping index (once)",
        "region": "AWS region of the environment (default: the AWS CLI's)",
    }
)
def maintenance(
    c: Context, env: str = "local", lambda_url: str = "", backfill: bool = False, region: str = ""
) -> None:
    """Run the nightly maintenance now (retention, interrupted replies, reply slots,
    connections) — the same function the schedule invokes — and print what it did."""
    import boto3
    from botocore.config import Config

    event = {"job": "on-demand", **({"backfill": True} if backfill else {})}
    config = Config(read_timeout=900, retries={"max_attempts": 0})
    if env == "local":
        client = boto3.client(
            "lambda",
            endpoint_url=lambda_url or "http://127.0.0.1:8083",
            region_name=region or "us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the local Lambda API checks none
            config=config,
        )
        function = "maintenance"
    else:
        client = boto3.client("lambda", region_name=region or None, config=config)
        function = f"parley-{env}-maintenance"
    try:
        answer = client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    except Exception as exc:  # noqa: BLE001 - said in a sentence, not a traceback
        raise Exit(f"could not invoke {function}: {exc}", code=1) from None
    payload = json.loads(answer["Payload"].read() or b"null")
    print(json.dumps(payload, indent=2))
    if answer.get("FunctionError"):
        raise Exit(f"{function} failed", code=1)
