"""Attachment extraction: the time the upload processor spends on a 100-page PDF (pypdf, the
layer's pure-Python PDF library), against reading the same text from a .txt upload, in this run.

A 100-page report (40 lines a page, Helvetica, deflated content streams) is made here
(`tests.support.documents.long_pdf`); `parley.extraction.examine` runs on it as the processor
runs it (type sniffing, bomb limits, page-by-page extraction up to the 100,000-character
budget). Best of 5 each. pypdf was chosen over pdfminer.six on this measurement: on this
machine pdfminer.six took ~18× longer for the same pages and adds ~9 MB (with charset-normalizer)
to the layer, pypdf ~2 MB unzipped, ~0.4 MB zipped.

Run: `python -m tests.benchmarks.bench_attachments` (or `invoke bench --only attachments`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "functions"))

RUNS = 5
PAGES = 100


def best(action: object, runs: int = RUNS) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> int:
    from parley.extraction import examine
    from tests.support.documents import long_pdf

    pdf = long_pdf(PAGES)
    found = examine(pdf, "application/pdf")
    assert found.text is not None
    assert found.pages == PAGES
    text = found.text.encode()

    def every_page() -> None:
        import io

        import pypdf

        for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
            page.extract_text()

    pdf_seconds = best(lambda: examine(pdf, "application/pdf"))
    all_pages = best(every_page)
    text_seconds = best(lambda: examine(text, "text/plain"))
    chars = f"{len(found.text):,}"
    print(f"extraction of a {PAGES}-page PDF ({len(pdf) / 1024:.0f} KB)")
    print(f"  every page (pypdf)          {all_pages * 1000:8.0f} ms   (best of {RUNS})")
    print(f"  as the processor does       {pdf_seconds * 1000:8.0f} ms   (to {chars} chars)")
    print(f"  the same text as a .txt     {text_seconds * 1000:8.1f} ms")
    print(f"  ratio, processor to .txt    {pdf_seconds / text_seconds:8.0f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
