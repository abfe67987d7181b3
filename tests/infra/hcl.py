"""Terraform read with python-hcl2, in a plain shape the contract tests can walk.

python-hcl2 keeps HCL's quotes on strings and labels and marks blocks with `__is_block__`; this
module strips both, so `modules["functions"].resources["aws_lambda_function"]["this"]` is a dict
of attributes whose literal strings are plain and whose expressions stay `${...}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from tasks.infra import TERRAFORM_DIR, tf_files


def unquote(value: Any) -> Any:
    """Plain Python values: quotes off literal strings, block markers dropped, recursively."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


def parse_file(path: Path) -> dict[str, Any]:
    """One .tf file, unquoted (raises on a syntax error)."""
    with path.open(encoding="utf-8") as handle:
        return dict(unquote(hcl2.load(handle)))


@dataclass
class Config:
    """One Terraform directory (a module or an environment): its blocks by kind and name."""

    path: Path
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    moved: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    def resource(self, kind: str, name: str = "this") -> dict[str, Any]:
        """A resource's attributes; a missing one fails with the module and address."""
        try:
            return self.resources[kind][name]
        except KeyError:
            raise AssertionError(f"{self.path.name}: no resource {kind}.{name}") from None

    def text(self) -> str:
        """Every file's source, for checks about comments."""
        return "\n".join(self.sources.values())


def load_config(directory: Path) -> Config:
    config = Config(path=directory)
    for path in sorted(directory.glob("*.tf")):
        config.sources[path.name] = path.read_text(encoding="utf-8")
        parsed = parse_file(path)
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    config.resources.setdefault(kind, {})[name] = body
        for block in parsed.get("data", []):
            for kind, named in block.items():
                for name, body in named.items():
                    config.data.setdefault(kind, {})[name] = body
        for block in parsed.get("variable", []):
            config.variables.update(block)
        for block in parsed.get("output", []):
            config.outputs.update(block)
        for block in parsed.get("module", []):
            config.modules.update(block)
        for block in parsed.get("locals", []):
            config.locals.update(block)
        config.terraform.extend(parsed.get("terraform", []))
        for block in parsed.get("provider", []):
            # An aliased configuration is keyed "<name>.<alias>" beside the default "<name>".
            for name, body in block.items():
                alias = body.get("alias")
                config.providers[f"{name}.{alias}" if alias else name] = body
        config.moved.extend(parsed.get("moved", []))
        config.removed.extend(parsed.get("removed", []))
    return config


def load_all(root: Path = TERRAFORM_DIR) -> dict[str, Config]:
    """Every module and environment by 'modules/<name>' or 'envs/<name>'."""
    directories = sorted({p.parent for p in tf_files(root)})
    return {str(d.relative_to(root)): load_config(d) for d in directories}


_VAR = re.compile(r"^\$\{var\.([A-Za-z0-9_]+)\}$")


def resolve(config: Config, value: Any) -> Any:
    """A `${var.x}` value replaced by the variable's default (other expressions unchanged)."""
    if isinstance(value, str) and (match := _VAR.match(value)):
        variable = config.variables.get(match.group(1), {})
        return variable.get("default", value)
    return value


def references(expression: Any) -> set[str]:
    """The `module.x.y` / `var.x` / `local.x` names an expression mentions."""
    text = str(expression)
    return set(
        re.findall(r"\b(?:module|var|local|data|aws_[a-z0-9_]+)\.[A-Za-z0-9_.\[\]\"-]+", text)
    )
