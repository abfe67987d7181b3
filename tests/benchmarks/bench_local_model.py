"""The local models scored on twenty simple questions, with their speed beside the score.

Each model in `tasks.local.model.LOCAL_MODELS` is asked every question of
`local_model_questions.yaml` through the local model server (llama.cpp's OpenAI-compatible
API, the one `invoke dev --model local` runs), one question per conversation with Parley's
system prompt, temperature 0 (so runs agree), streamed. Printed per model:

* **score**: answers that match the question's `accept` pattern and not its `reject` one;
* **time to first token**: median and worst over the twenty, from the request to the first
  piece of text (the first question also pays for loading the weights, so it is left out);
* **tokens/s**: streamed pieces (llama.cpp sends one token per piece) over the time from the
  first piece to the last, summed over the questions.

The default local model (`DEFAULT_ALIAS`) must score at least as well as every other one:
if it does not, this benchmark fails and says which to make the default.

Skipped with a reason when the local model is not built (`python -m tasks.local.model install`
or `invoke dev` builds it once). Run: `invoke bench --only local_model`.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "functions"))

from parley.bots import SYSTEM_PROMPT  # noqa: E402
from tasks.local import model as local  # noqa: E402
from tasks.local.servers import bind, port_of  # noqa: E402

QUESTIONS = Path(__file__).with_name("local_model_questions.yaml")


@dataclass(frozen=True)
class Question:
    ask: str
    accept: re.Pattern[str]
    reject: re.Pattern[str] | None = None

    def right(self, answer: str) -> bool:
        if not self.accept.search(answer):
            return False
        return self.reject is None or not self.reject.search(answer)


def load_questions(path: Path = QUESTIONS) -> tuple[list[Question], int]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = [
        Question(
            ask=q["ask"],
            accept=re.compile(q["accept"], re.IGNORECASE),
            reject=re.compile(q["reject"], re.IGNORECASE) if q.get("reject") else None,
        )
        for q in data["questions"]
    ]
    return questions, int(data["max_tokens"])


@dataclass
class Result:
    alias: str
    right: int = 0
    first_token: list[float] = field(default_factory=list)
    pieces: int = 0
    streaming_seconds: float = 0.0
    wrong: list[tuple[str, str]] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        return self.pieces / self.streaming_seconds if self.streaming_seconds else 0.0


def ask(
    client: httpx.Client, alias: str, question: str, max_tokens: int
) -> tuple[str, float, int, float]:
    """One streamed answer: (text, seconds to the first piece, pieces, seconds streaming)."""
    started = time.monotonic()
    first = last = 0.0
    pieces: list[str] = []
    body = {
        "model": alias,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": question},
        ],
        "temperature": 0,
        "max_tokens": max_tokens,
        "stream": True,
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = yaml.safe_load(line[6:])  # JSON is YAML; avoids a second parser import
            delta = (chunk.get("choices") or [{}])[0].get("delta", {}).get("content") or ""
            if delta:
                last = time.monotonic()
                if not pieces:
                    first = last
                pieces.append(delta)
    return "".join(pieces), (first or time.monotonic()) - started, len(pieces), last - first


def main() -> int:
    if not local.installed():
        print(
            "skipped: the local model is not built "
            "(`python -m tasks.local.model install` or `invoke dev` builds it once)"
        )
        return 0
    questions, max_tokens = load_questions()
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sock = bind("127.0.0.1", 0, "model")
        port = port_of(sock)
        sock.close()
        server = local.LocalModelServer(port, Path(tmp) / "model.log")
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=120) as client:
                for model in local.LOCAL_MODELS:
                    result = results[model.alias] = Result(model.alias)
                    for i, question in enumerate(questions):
                        text, first, pieces, streaming = ask(
                            client, model.alias, question.ask, max_tokens
                        )
                        if question.right(text):
                            result.right += 1
                        else:
                            result.wrong.append((question.ask, text.strip()))
                        if i:  # the first answer also loads the weights
                            result.first_token.append(first)
                        result.pieces += pieces
                        result.streaming_seconds += streaming
        finally:
            server.stop()

    print(f"{len(questions)} questions, at most {max_tokens} tokens each, temperature 0")
    print(f"{'model':<24}{'score':>8}{'TTFT p50':>11}{'TTFT max':>11}{'tokens/s':>10}")
    for r in results.values():
        print(
            f"{r.alias:<24}{r.right:>5}/{len(questions):<2}"
            f"{statistics.median(r.first_token) * 1000:>9.0f}ms"
            f"{max(r.first_token) * 1000:>9.0f}ms{r.tokens_per_second:>10.1f}"
        )
    for r in results.values():
        for asked, answered in r.wrong[:5]:
            print(f"  {r.alias} missed: {asked!r} → {answered[:80]!r}")
    best = max(results.values(), key=lambda r: r.right)
    default = results[local.DEFAULT_ALIAS]
    if best.right > default.right:
        print(
            f"FAIL: {best.alias} answers {best.right}/{len(questions)}, the default "
            f"{default.alias} {default.right}: make {best.alias} DEFAULT_ALIAS "
            "(tasks/local/model.py)"
        )
        return 1
    print(f"default {default.alias}: the best score ({default.right}/{len(questions)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
