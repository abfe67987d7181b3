"""Parley's developer tasks: `invoke --list` shows them, one line each.

One module per area; every task is exposed at the top level (`invoke build`, `invoke test`).
"""

from __future__ import annotations

import importlib

from invoke.collection import Collection

MODULES = ("build", "quality", "bench", "release", "infra", "frontend", "dev")
"""Task modules, in the order `invoke --list` reads best."""

ns = Collection()
for _name in MODULES:
    _module = importlib.import_module(f"tasks.{_name}")
    for _task in Collection.from_module(_module).tasks.values():
        ns.add_task(_task)
ns.configure({"run": {"echo": False, "pty": False}})
