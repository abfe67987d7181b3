"""Build benchmark: a clean build against a no-op rebuild, and the size of every artifact.

The no-op build is what a developer pays on every `invoke build` with nothing changed; the clean
build (layer install from the uv cache, zipping, hashing) is the baseline it is measured against.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tasks.core.artifacts import MB, Budgets, Builder
from tasks.core.manifest import load_manifest


def main() -> None:
    manifest = load_manifest()
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        dist = Path(tmp) / "dist"
        started = time.perf_counter()
        artifacts = Builder(manifest, dist=dist, log=lambda _: None).build()
        clean = time.perf_counter() - started
        noops = []
        for _ in range(5):
            started = time.perf_counter()
            again = Builder(manifest, dist=dist, log=lambda _: None).build()
            noops.append(time.perf_counter() - started)
            assert not any(a.rebuilt for a in again), "a no-op build rebuilt something"
        noop = min(noops)
    budgets = Budgets()
    print(f"clean build        {clean:8.2f} s   (baseline)")
    print(
        f"no-op build        {noop:8.3f} s   ratio {noop / clean:.4f} of clean "
        f"({clean / noop:.0f}× faster)"
    )
    print(f"\n{'artifact':<28}{'zipped':>12}{'unzipped':>12}  budget")
    for a in artifacts:
        limit = budgets.layer_zip if a.kind == "layer" else budgets.function_zip
        print(
            f"{a.key:<28}{a.size / MB:>10.2f}MB{a.unzipped_size / MB:>10.2f}MB  "
            f"{a.size / limit:.1%} of {limit / MB:.0f} MB zipped"
        )


if __name__ == "__main__":
    main()
