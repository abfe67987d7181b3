"""Every .tf file parses with HashiCorp's parser and with python-hcl2, and is formatted."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tasks.infra import TERRAFORM_DIR, hcl2json_script, run_terraform, terraform_binary, tf_files
from tests.infra.hcl import parse_file


def hcl2json(files: list[Path]) -> dict[str, dict[str, object]]:
    script = hcl2json_script()
    done = subprocess.run(
        ["node", str(script), *map(str, files)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"hcl2json crashed: {done.stderr}"
    results: dict[str, dict[str, object]] = json.loads(done.stdout)
    return results


def test_there_is_terraform_to_check() -> None:
    names = {p.parent.name for p in tf_files()}
    expected = {"auth", "data", "functions", "http_api", "websocket_api", "frontend"}
    expected |= {"observability", "artifacts", "manifest", "parley", "dev", "prod", "bootstrap"}
    assert expected <= names, f"missing Terraform directories: {sorted(expected - names)}"


def test_every_tf_file_parses_with_hashicorps_parser() -> None:
    files = tf_files()
    results = hcl2json(files)
    broken = {
        str(Path(f).relative_to(TERRAFORM_DIR)): r["error"]
        for f, r in results.items()
        if not r["ok"]
    }
    assert not broken, "HCL syntax errors (@cdktf/hcl2json):\n" + "\n".join(
        f"  {f}: {e}" for f, e in broken.items()
    )
    assert len(results) == len(files)


def test_hashicorps_parser_rejects_broken_hcl(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tf"
    broken.write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    result = hcl2json([broken])[str(broken)]
    assert result["ok"] is False
    assert "broken.tf:2" in str(result["error"])


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: str(p.relative_to(TERRAFORM_DIR)))
def test_tf_file_parses_with_python_hcl2(path: Path) -> None:
    parsed = parse_file(path)
    assert parsed, f"{path.relative_to(TERRAFORM_DIR)} parsed to nothing"


def test_terraform_files_are_canonically_formatted() -> None:
    binary, version = terraform_binary()
    done = run_terraform(["fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)])
    assert done.returncode == 0, (
        f"terraform {version} ({binary}) fmt -check: run `invoke tf-fmt` to fix:\n{done.stdout}"
    )


def test_format_check_notices_misformatted_files(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('locals {\nx=1\n    yy = "a"\n}\n')
    done = run_terraform(["fmt", "-check", str(tmp_path)])
    assert done.returncode != 0
    assert "main.tf" in done.stdout
