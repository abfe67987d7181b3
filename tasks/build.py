"""Build tasks: reproducible function zips, the dependency layer and dist/manifest.json."""

from __future__ import annotations

from pathlib import Path
from typing import cast, get_args

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.core.artifacts import Builder, BuildError, digest_inputs, sha256_file
from tasks.core.artifacts import clean as clean_dist
from tasks.core.catalog import CatalogError, check_catalogs
from tasks.core.manifest import ROOT, Architecture, ManifestError, load_manifest

FRONTEND = ROOT / "frontend"


@task(
    help={
        "arch": "build the layer for this architecture instead of the manifest's (arm64|x86_64)",
        "frontend": "also build the web app and pack frontend/dist (default: when frontend exists)",
    }
)
def build(c: Context, arch: str = "", frontend: bool = True) -> None:
    """Build every function zip, the dependency layer and dist/manifest.json (incremental)."""
    if arch not in ("", *get_args(Architecture)):
        raise Exit(
            f"--arch must be one of {', '.join(get_args(Architecture))}, not {arch!r}", code=1
        )
    archs = [cast(Architecture, arch)] if arch else None
    try:
        manifest = load_manifest()
        check_catalogs()  # the environments' models: read by Terraform, not packed
        bundle = None
        if frontend and (FRONTEND / "package.json").exists():
            bundle = _build_frontend(c)
        Builder(manifest).build(architectures=archs, frontend_bundle=bundle)
    except (BuildError, ManifestError, CatalogError) as exc:
        raise Exit(f"build failed: {exc}", code=1) from None


@task
def clean(c: Context) -> None:
    """Remove dist/ so the next build starts from nothing."""
    clean_dist(ROOT / "dist")
    print(f"removed {Path('dist')}")


def _build_frontend(c: Context) -> Path:
    """Run the app's production build unless its sources are unchanged since the last one."""
    bundle = FRONTEND / "dist"
    stamp = ROOT / "dist" / ".frontend-inputs"
    sources = [
        p
        for p in sorted(FRONTEND.rglob("*"))
        if p.is_file()
        and not {"node_modules", "dist", "test-results", "playwright-report"} & set(p.parts)
    ]
    digest = digest_inputs(f"{p.relative_to(FRONTEND)}:{sha256_file(p)}" for p in sources)
    if bundle.exists() and stamp.exists() and stamp.read_text() == digest:
        print("frontend: sources unchanged, build skipped")
        return bundle
    print("frontend: npm run build")
    c.run(f"npm --prefix {FRONTEND} run --silent build", hide="out")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest)
    return bundle
