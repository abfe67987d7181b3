"""Web app bundle benchmark: what a first visit downloads, against everything the app ships.

Builds the production bundle into a temporary folder and reads `index.html` for what loads at
once (the entry script and its preloaded chunks); every other chunk (markdown rendering, code
highlighting) loads on demand. The baseline is the whole bundle measured in the same run; the
budget is 250 KB of gzipped JavaScript for the first load.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import tempfile
from pathlib import Path

from tasks.core.manifest import ROOT

FRONTEND = ROOT / "frontend"
FIRST_LOAD_BUDGET = 250 * 1024


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="parley-bench-web-") as tmp:
        out = Path(tmp)
        subprocess.run(
            ["npx", "vite", "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "error"],
            cwd=FRONTEND,
            check=True,
        )
        html = (out / "index.html").read_text()
        eager = {
            out / m.lstrip("/")
            for m in re.findall(
                r'<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="([^"]+\.js)"', html
            )
        }
        scripts = sorted((out / "assets").glob("*.js"))
        lazy = [p for p in scripts if p not in eager]
        first = sum(gz(p) for p in eager)
        total = sum(gz(p) for p in scripts)
        css = sum(gz(p) for p in (out / "assets").glob("*.css"))
        on_demand = [(p.name, gz(p)) for p in lazy]
    print(f"all JavaScript        {total / 1024:8.1f} KB gzip   (baseline)")
    print(
        f"first-load JavaScript {first / 1024:8.1f} KB gzip   ratio {first / total:.2f} of all, "
        f"{first / FIRST_LOAD_BUDGET:.0%} of the {FIRST_LOAD_BUDGET // 1024} KB budget"
    )
    print(f"CSS                   {css / 1024:8.1f} KB gzip")
    for name, size in on_demand:
        print(f"  on demand: {name:<36}{size / 1024:8.1f} KB gzip")
    assert first <= FIRST_LOAD_BUDGET, "the first load is over its budget"


if __name__ == "__main__":
    main()
