"""Parley's developer tasks: `invoke --list` shows them, one line each.

One module per area; every task is exposed at the top level (`invoke build`, `invoke test`).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from invoke.collection import Collection

# Tools of the project environment (ruff, mypy, pytest…) resolve whether or not the venv is
# activated: `.venv/bin/invoke test` behaves like `uv run invoke test`.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

MODULES = (
    "build",
    "quality",
    "bench",
    "release",
    "infra",
    "frontend",
    "dev",
    "streams",
    "workflows",
)
"""Task modules, in the order `invoke --list` reads best."""

ns = Collection()
for _name in MODULES:
    _module = importlib.import_module(f"tasks.{_name}")
    for _task in Collection.from_module(_module).tasks.values():
        ns.add_task(_task)
ns.configure({"run": {"echo": False, "pty": False}})
