"""Static checks of the CI workflows in .github/workflows/.

Four layers: the GitHub workflow JSON schema (vendored by check-jsonschema), actionlint
(expressions, contexts, the job graph, action inputs), shellcheck on every `run:` script, and
the pipeline's own rules — OIDC instead of stored keys, one concurrency group
per environment, Terraform applying exactly the plan file it saved, build once and promote.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")
# A tag can be moved to other code; a commit cannot. The comment names the release it is.
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+\.\d+\.\d+\s*$")


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path.name} is not a mapping"
    if True in document:  # YAML 1.1 reads the key `on` as the boolean true
        document["on"] = document.pop(True)
    return document


def jobs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(document["jobs"])


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> list[str]:
    return [str(s["run"]) for s in steps(job) if "run" in s]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(f"{action}@")]


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
        + [str(f) for f in files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def pipeline() -> dict[str, Any]:
    return load(ROOT / ".github" / "workflows" / "pipeline.yml")


def test_there_are_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["pipeline.yml"]


def test_workflows_match_the_github_schema() -> None:
    result = check_jsonschema(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n"
        "    permissions: {id-token: maybe}\n    steps: [{run: true, uses: x}]\n"
    )
    result = check_jsonschema(broken)
    assert result.returncode == 1
    assert "Schema validation errors" in result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_run_scripts_pass_shellcheck(path: Path, tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    scripts = []
    for name, job in jobs(load(path)).items():
        for index, script in enumerate(runs(job)):
            # Expressions are replaced the way the runner substitutes a plain value.
            body = EXPRESSION.sub("placeholder", script)
            target = tmp_path / f"{name}-{index}.sh"
            target.write_text(f"#!/usr/bin/env bash\nset -eo pipefail\n{body}")
            scripts.append(str(target))
    assert scripts
    result = subprocess.run(
        [shellcheck, "--severity=style", *scripts],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_stored_cloud_keys_anywhere() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert "secrets." not in text, f"{path.name}: AWS access is by OIDC; no secrets are stored"
        for word in ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"):
            assert word not in text, f"{path.name}: {word} — use role-to-assume (OIDC)"


def test_untrusted_values_reach_scripts_only_through_env(pipeline: dict[str, Any]) -> None:
    """`${{ }}` inside a script is pasted into the shell before it runs: script injection."""
    for name, job in jobs(pipeline).items():
        for script in runs(job):
            assert not EXPRESSION.search(script), f"{name}: pass values to `run` through env"


def test_least_privilege(pipeline: dict[str, Any]) -> None:
    assert pipeline["permissions"] == {"contents": "read"}
    for name, job in jobs(pipeline).items():
        aws = bool(uses(job, AWS_CREDENTIALS))
        granted = job.get("permissions", {})
        assert (granted.get("id-token") == "write") == aws, f"{name}: id-token only with AWS"
        assert all(v in ("read", "none") for k, v in granted.items() if k != "id-token"), name
        for checkout in uses(job, "actions/checkout"):
            assert checkout.get("with", {}).get("persist-credentials") is False, name


def test_aws_access_is_by_oidc_role_per_environment(pipeline: dict[str, Any]) -> None:
    deploying = {n: j for n, j in jobs(pipeline).items() if uses(j, AWS_CREDENTIALS)}
    assert set(deploying) == {"plan", "deploy-dev", "promote-prod"}
    # Pull requests plan with the read-only role (terraform/envs/bootstrap: parley-deploy-plan),
    # which trusts pull_request tokens only; they never hold an environment's deploy role.
    plan = deploying.pop("plan")
    assert plan["if"] == "github.event_name == 'pull_request'"
    assert "environment" not in plan
    for step in uses(plan, AWS_CREDENTIALS):
        assert step["with"]["role-to-assume"] == "${{ vars.AWS_PLAN_ROLE_ARN }}"
    assert "apply" not in "\n".join(runs(plan))
    assert "-lock=false" in "\n".join(runs(plan))
    for name, job in deploying.items():
        for step in uses(job, AWS_CREDENTIALS):
            options = step["with"]
            assert options["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}", name
            assert set(options) <= {"role-to-assume", "role-session-name", "aws-region"}, name
        # The environment scopes the role variable, the OIDC subject and the approval rules.
        assert job["environment"] in ("dev", "prod"), name


def test_one_concurrency_group_per_environment(pipeline: dict[str, Any]) -> None:
    for name, job in jobs(pipeline).items():
        if "environment" not in job:
            continue
        concurrency = job["concurrency"]
        assert concurrency["group"] == f"deploy-{job['environment']}", name
        # Cancelling would stop a Terraform apply halfway; a second deploy waits instead.
        assert concurrency["cancel-in-progress"] is False, name


def test_terraform_applies_exactly_the_saved_plan(pipeline: dict[str, Any]) -> None:
    applied = 0
    for name, job in jobs(pipeline).items():
        saved: set[tuple[str, str]] = set()
        for line in "\n".join(runs(job)).splitlines():
            if " plan " in line and "-out=" in line:
                chdir = re.search(r"-chdir=(\S+)", line)
                out = re.search(r"-out=(\S+)", line)
                assert chdir, f"{name}: {line}"
                assert out, f"{name}: {line}"
                saved.add((chdir.group(1), out.group(1)))
            if re.search(r"terraform\b.*\bapply\b", line):
                assert "-auto-approve" not in line, f"{name}: apply a saved plan instead"
                chdir = re.search(r"-chdir=(\S+)", line)
                assert chdir, f"{name}: {line}"
                plan_file = line.split()[-1]
                assert (chdir.group(1), plan_file) in saved, f"{name}: {line} applies no saved plan"
                applied += 1
    assert applied == 2


def test_build_once_then_promote_the_same_bytes(pipeline: dict[str, Any]) -> None:
    every = jobs(pipeline)
    scripts = {name: "\n".join(runs(job)) for name, job in every.items()}
    assert [n for n, s in scripts.items() if "invoke build" in s] == ["build"]
    assert "needs" not in every["test"]
    assert "if" not in every["test"]  # tests run on every push and pull request
    assert every["build"]["needs"] == "test"
    assert "refs/heads/main" in every["build"]["if"]
    assert every["deploy-dev"]["needs"] == "build"
    dev = scripts["deploy-dev"]
    assert dev.index("invoke publish --env dev") < dev.index("plan -input=false -out=tfplan")
    prod = scripts["promote-prod"]
    assert "invoke publish" not in prod
    assert prod.index("invoke promote --from dev --to prod") < prod.index("plan -input=false")
    # Functions shift after the apply published their versions; the web app follows them.
    for script in (dev, prod):
        assert script.index("apply -input=false tfplan") < script.index("invoke shift")
        assert script.index("invoke shift") < script.index("invoke sync-frontend")
        # The environment's config.json goes with the app, written just before index.html.
        assert script.index("output -raw app_config >") < script.index("invoke sync-frontend")
        assert "--config-file" in script[script.index("invoke sync-frontend") :]
    assert "--strategy" in prod
    assert "--expect-commit" in prod
    assert "--release" in prod
    assert "refs/tags/v" in every["promote-prod"]["if"]


def test_triggers(pipeline: dict[str, Any]) -> None:
    triggers = pipeline["on"]
    assert triggers["push"]["branches"] == ["**"]
    assert triggers["push"]["tags"] == ["v*"]
    assert "pull_request" in triggers
    assert "release" in triggers["workflow_dispatch"]["inputs"]


def test_actions_are_pinned_to_a_commit(pipeline: dict[str, Any]) -> None:
    for name, job in jobs(pipeline).items():
        for step in steps(job):
            if "uses" in step:
                assert PINNED.fullmatch(step["uses"]), (
                    f"{name}: {step['uses']} — pin the action to a full commit SHA"
                )


def unversioned_pins(text: str) -> list[str]:
    """`uses:` lines without a `# vX.Y.Z` comment naming the release the SHA is."""
    return [
        line.strip()
        for line in text.splitlines()
        if (match := USES_LINE.match(line)) and not VERSION_COMMENT.match(match["rest"])
    ]


def test_every_pin_names_its_release() -> None:
    for path in WORKFLOWS:
        assert not unversioned_pins(path.read_text()), f"{path.name}: add the version comment"
    assert unversioned_pins(
        "    steps:\n      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262\n"
        "      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4\n"
        "      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0\n"
    ) == [
        "- uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262",
        "- uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4",
    ]


def test_no_cache_where_an_oidc_token_is_held(pipeline: dict[str, Any]) -> None:
    """A cache is written by any branch's run: restored into a job that can deploy (or builds
    what is released), a poisoned one would run with the deploy role's credentials."""
    for name, job in jobs(pipeline).items():
        deploys = job.get("permissions", {}).get("id-token") == "write"
        builds = any("invoke build" in script for script in runs(job))
        if not (deploys or builds):
            continue
        for step in uses(job, "astral-sh/setup-uv"):
            assert step.get("with", {}).get("enable-cache") is False, (
                f"{name}: setup-uv caches by default; set enable-cache: false"
            )
        for step in uses(job, "actions/setup-node"):
            options = step.get("with", {})
            assert "cache" not in options, f"{name}: setup-node caches"
            assert options.get("package-manager-cache") is False, (
                f"{name}: setup-node v5+ caches by default; set package-manager-cache: false"
            )
        for step in uses(job, "actions/setup-python"):
            assert "cache" not in step.get("with", {}), f"{name}: setup-python caches"
        assert not uses(job, "actions/cache"), f"{name}: no actions/cache here"


def test_zizmor_finds_nothing() -> None:
    """zizmor's audits at its default persona, offline (no GitHub API calls)."""
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    result = subprocess.run(
        [zizmor, "--offline", "--format", "plain", "--no-progress", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    tools = Path(sys.executable).parent
    command = [str(tools / "actionlint"), "-oneline", "-shellcheck", str(tools / "shellcheck")]
    return subprocess.run(
        [*command, *map(str, files)], capture_output=True, text=True, timeout=120, check=False
    )


def test_actionlint_finds_nothing() -> None:
    result = _actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_mistyped_context_and_a_missing_job(tmp_path: Path) -> None:
    # GIVEN the pipeline with a step reading a context that does not exist, and a job needing
    # one that is not there
    [pipeline] = [w for w in WORKFLOWS if w.stem == "pipeline"]
    document = yaml.safe_load(pipeline.read_text())
    document["on"] = document.pop(True)  # YAML 1.1 reads the `on:` key as true
    first = next(iter(document["jobs"]))
    document["jobs"][first]["steps"].append({"run": "echo ${{ github.shaa }}"})
    document["jobs"][first]["needs"] = ["no-such-job"]
    broken = tmp_path / "pipeline.yml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False))
    # WHEN actionlint reads it THEN it names both
    result = _actionlint(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    problems = result.stdout.strip().splitlines()
    assert len(problems) == 2, result.stdout
    assert "shaa" in problems[0] or "shaa" in problems[1]
    assert any("no-such-job" in problem for problem in problems)


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _step(document: dict[str, Any], job: str, needle: str) -> int:
    return next(i for i, s in enumerate(steps(document["jobs"][job])) if needle in str(s))


@pytest.mark.parametrize(
    ("check", "mutate"),
    [
        (test_least_privilege, lambda d: _set(d, "permissions", {"contents": "write"})),
        (test_least_privilege, lambda d: _set(d, "jobs.test.permissions", {"id-token": "write"})),
        (
            test_aws_access_is_by_oidc_role_per_environment,
            lambda d: d["jobs"]["deploy-dev"]["steps"][_step(d, "deploy-dev", AWS_CREDENTIALS)][
                "with"
            ].update({"aws-access-key-id": "${{ vars.KEY }}"}),
        ),
        (
            test_one_concurrency_group_per_environment,
            lambda d: _set(d, "jobs.promote-prod.concurrency.group", "${{ github.ref }}"),
        ),
        (
            test_one_concurrency_group_per_environment,
            lambda d: _set(d, "jobs.deploy-dev.concurrency.cancel-in-progress", True),
        ),
        (
            test_terraform_applies_exactly_the_saved_plan,
            lambda d: d["jobs"]["promote-prod"]["steps"][
                _step(d, "promote-prod", "apply -input=false tfplan")
            ].update({"run": "terraform -chdir=terraform/envs/prod apply -auto-approve"}),
        ),
        (
            test_terraform_applies_exactly_the_saved_plan,
            lambda d: d["jobs"]["deploy-dev"]["steps"][
                _step(d, "deploy-dev", "apply -input=false tfplan")
            ].update({"run": "terraform -chdir=terraform/envs/dev apply -input=false other.plan"}),
        ),
        (
            test_untrusted_values_reach_scripts_only_through_env,
            lambda d: d["jobs"]["promote-prod"]["steps"][
                _step(d, "promote-prod", "invoke promote")
            ].update({"run": "uv run invoke promote --to prod --release ${{ inputs.release }}"}),
        ),
        (
            test_build_once_then_promote_the_same_bytes,
            lambda d: d["jobs"]["promote-prod"]["steps"].append({"run": "uv run invoke build"}),
        ),
        (
            test_actions_are_pinned_to_a_commit,
            lambda d: d["jobs"]["test"]["steps"][0].update({"uses": "actions/checkout@v4"}),
        ),
        (
            test_no_cache_where_an_oidc_token_is_held,
            lambda d: d["jobs"]["deploy-dev"]["steps"][
                _step(d, "deploy-dev", "astral-sh/setup-uv")
            ]["with"].update({"enable-cache": True}),
        ),
        (
            test_no_cache_where_an_oidc_token_is_held,
            lambda d: d["jobs"]["promote-prod"]["steps"][
                _step(d, "promote-prod", "astral-sh/setup-uv")
            ]["with"].pop("enable-cache"),
        ),
        (
            test_no_cache_where_an_oidc_token_is_held,
            lambda d: d["jobs"]["build"]["steps"][_step(d, "build", "actions/setup-node")][
                "with"
            ].update({"cache": "npm"}),
        ),
    ],
)
def test_each_rule_catches_its_fault(pipeline: dict[str, Any], check: Any, mutate: Any) -> None:
    broken = copy.deepcopy(pipeline)
    mutate(broken)
    with pytest.raises(AssertionError):
        check(broken)


def test_shellcheck_flags_a_faulty_script(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    script = tmp_path / "bad.sh"
    script.write_text("#!/usr/bin/env bash\nsite=$(echo x)\nrm -rf $site/*\n")
    result = subprocess.run(
        [shellcheck, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "SC2086" in result.stdout


def test_every_job_has_a_time_limit() -> None:
    """A hung step must not hold an environment's concurrency group for GitHub's 6 hours."""
    for path in WORKFLOWS:
        for name, job in jobs(load(path)).items():
            assert 0 < job.get("timeout-minutes", 0) <= 60, f"{path.name} {name}"


def test_invoke_lint_audits_the_workflows_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks import quality

    ran: list[str] = []

    class Recorder:
        def run(self, command: str, **_: Any) -> Any:
            ran.append(command)
            return type("Result", (), {"ok": True})()

    monkeypatch.setattr(quality, "_has_frontend", lambda: False)
    quality.lint.body(Recorder())
    assert [c for c in ran if c.split()[0] == "zizmor"] == [
        "zizmor --offline --no-progress .github/workflows"
    ]
