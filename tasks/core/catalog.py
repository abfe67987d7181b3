"""The model catalogs (`parley.catalog`): every environment's and the local stack's.

`invoke build` and `invoke lint` validate them all, so a bad catalog fails before Terraform or
the stack reads it, with a message that names the file and the field
(`terraform/envs/dev/models.yaml: models[2].price.input: must be ≥ 0`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tasks.core.manifest import ROOT

if str(ROOT / "functions") not in sys.path:
    sys.path.append(str(ROOT / "functions"))

from parley.catalog import Catalog, CatalogError, load_catalog

LOCAL_CATALOG = ROOT / "tasks" / "local" / "models.yaml"
ENVIRONMENTS_DIR = ROOT / "terraform" / "envs"


def environment_catalogs() -> dict[str, Path]:
    """Each environment's catalog file (`terraform/envs/<env>/models.yaml`), by environment."""
    return {p.parent.name: p for p in sorted(ENVIRONMENTS_DIR.glob("*/models.yaml"))}


def load(path: Path, *, deployed: bool) -> Catalog:
    """A catalog file, named in messages from the repository's root when it is inside it."""
    shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    return load_catalog(path, deployed=deployed, shown=shown)


def check_catalogs() -> dict[str, Catalog]:
    """Validate every catalog; `CatalogError` naming each problem of each file."""
    found: dict[str, Catalog] = {}
    problems: list[str] = []
    for name, path in [*environment_catalogs().items(), ("local", LOCAL_CATALOG)]:
        try:
            found[name] = load(path, deployed=name != "local")
        except CatalogError as exc:
            problems.append(str(exc))
    if problems:
        raise CatalogError("\n".join(problems))
    return found


__all__ = ["LOCAL_CATALOG", "CatalogError", "check_catalogs", "environment_catalogs", "load"]


def main() -> int:
    """Validate every catalog (`invoke lint`), one line per problem."""
    try:
        found = check_catalogs()
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    for name, catalog in found.items():
        print(f"{name}: {len(catalog.models)} models, default {catalog.default}")
    return 0
