"""Core benchmarks: chat_api cold import against boto3, handler latency against a DynamoDB
round trip, all measured in this run.

1. Cold import of the `chat_api` handler module in a fresh interpreter (as Lambda's init does,
   tracing on), against `import boto3` alone; best of 5 each, interleaved; goal ≤ 2×. The X-Ray
   SDK's share (Powertools' Tracer imports it even when tracing is off) is shown apart. Also
   checks that the provider SDK (`openai`) is not imported on the way.
2. Handler time (in-process, payload-2.0 events) for `GET /conversations` (20 conversations)
   and `POST /chat` (scripted model, no token delay) against moto in server mode: p50 and p99,
   and as a ratio of one DynamoDB GetItem round trip to the same moto.

Run: `python -m tests.benchmarks.bench_core` (or `invoke bench --only core`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
sys.path.insert(0, str(FUNCTIONS))

RUNS = 5
GET_SAMPLES = 200
CHAT_SAMPLES = 60

IMPORT_SNIPPET = """
import sys, time
sys.path.insert(0, {functions!r})
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
print(elapsed, "openai" in sys.modules)
"""


def import_once(module: str, env: dict[str, str]) -> tuple[float, bool]:
    """Seconds to import `module` in a fresh interpreter, and whether openai got loaded."""
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_SNIPPET.format(functions=str(FUNCTIONS), module=module)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    return float(out[0]), out[1] == "True"


def cold_imports(variants: dict[str, tuple[str, dict[str, str]]]) -> dict[str, tuple[float, bool]]:
    """Best of RUNS per variant, the variants interleaved so machine load hits them alike."""
    best: dict[str, tuple[float, bool]] = {}
    for _ in range(RUNS):
        for name, (module, env) in variants.items():
            seconds, openai_loaded = import_once(module, env)
            previous = best.get(name, (float("inf"), False))
            best[name] = (min(previous[0], seconds), previous[1] or openai_loaded)
    return best


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    # -- 1. cold import ----------------------------------------------------------------------
    lambda_env = {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": "chat_api",  # Powertools behaves as in Lambda (tracing on)
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "chat_api",
        "POWERTOOLS_METRICS_NAMESPACE": "Parley",
    }
    results = cold_imports(
        {
            "boto3": ("boto3", lambda_env),
            "boto3+xray": ("boto3, aws_xray_sdk.core", lambda_env),
            "chat_api": ("chat_api.app", lambda_env),
        }
    )
    boto3_s = results["boto3"][0]
    xray_s = max(0.0, results["boto3+xray"][0] - boto3_s)
    api_s, openai_loaded = results["chat_api"]
    ratio = api_s / boto3_s
    print(
        f"cold import   boto3 {boto3_s * 1000:7.1f} ms   chat_api.app {api_s * 1000:7.1f} ms"
        f"   ratio {ratio:.2f}× (goal ≤ 2.00×: {'met' if ratio <= 2 else 'NOT met'})"
    )
    print(
        f"              of which the X-Ray SDK (Powertools Tracer) {xray_s * 1000:7.1f} ms;"
        f" without it {(api_s - xray_s) / boto3_s:.2f}×   openai imported: {openai_loaded}"
    )

    # -- 2. handler latency --------------------------------------------------------------------
    import logging

    import boto3

    from tasks.local.bootstrap import bootstrap
    from tasks.local.scripted_model import Reply, ScriptedModel
    from tests.support.api import call
    from tests.support.cognito import create_user
    from tests.support.environment import (
        clear_parley_caches,
        function_env,
        store_scripted_catalog,
    )
    from tests.support.moto_server import MotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = MotoServer().start()
    model = ScriptedModel(default=Reply(text="A short scripted answer for the benchmark.")).start()
    try:
        resources = bootstrap(moto.url)
        os.environ.update(function_env(resources, model_base_url=model.base_url))
        store_scripted_catalog(resources, model.base_url)
        os.environ["LOG_LEVEL"] = "ERROR"
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        clear_parley_caches()
        user = create_user(resources)
        from chat_api.app import handler

        headers = user.bearer()
        for n in range(20):
            call(handler, "POST", "/conversations", headers=headers, body={"title": f"c{n}"})

        table = boto3.resource("dynamodb", endpoint_url=moto.url).Table(resources.chat_table)
        roundtrip: list[float] = []
        for _ in range(GET_SAMPLES):
            started = time.perf_counter()
            table.get_item(Key={"pk": f"USER#{user.sub}", "sk": "PROFILE"})
            roundtrip.append(time.perf_counter() - started)

        def timed(samples: int, method: str, path: str, **kwargs: object) -> list[float]:
            call(handler, method, path, headers=headers, **kwargs)  # warm
            spent = []
            for _ in range(samples):
                started = time.perf_counter()
                answer = call(handler, method, path, headers=headers, **kwargs)
                spent.append(time.perf_counter() - started)
                assert answer.status < 300, answer.text
            return spent

        listing = timed(GET_SAMPLES, "GET", "/conversations")
        chat_headers = {"id_token": user.id_token}
        call(handler, "POST", "/chat", headers=chat_headers, body={"prompt": "warm"})
        chat = []
        for _ in range(CHAT_SAMPLES):
            started = time.perf_counter()
            answer = call(
                handler,
                "POST",
                "/chat",
                headers=chat_headers,
                body={"prompt": "Benchmark question?"},
            )
            chat.append(time.perf_counter() - started)
            assert answer.status == 200, answer.text

        base = statistics.median(roundtrip)
        print(f"baseline      DynamoDB GetItem round trip (moto)  p50 {base * 1000:6.2f} ms")
        for name, samples in (("GET /conversations", listing), ("POST /chat", chat)):
            p50, p99 = percentile(samples, 50), percentile(samples, 99)
            print(
                f"{name:<19} p50 {p50 * 1000:7.2f} ms  p99 {p99 * 1000:7.2f} ms"
                f"   = {p50 / base:5.1f}× / {p99 / base:5.1f}× a round trip"
            )
        print(
            json.dumps(
                {
                    "import_ratio": round(ratio, 2),
                    "import_ratio_without_xray": round((api_s - xray_s) / boto3_s, 2),
                    "get_conversations_p50_ms": round(percentile(listing, 50) * 1000, 2),
                    "get_conversations_p99_ms": round(percentile(listing, 99) * 1000, 2),
                    "post_chat_p50_ms": round(percentile(chat, 50) * 1000, 2),
                    "post_chat_p99_ms": round(percentile(chat, 99) * 1000, 2),
                    "roundtrip_p50_ms": round(base * 1000, 2),
                }
            )
        )
    finally:
        model.stop()
        moto.stop()
    return 1 if openai_loaded else 0  # timing goals are reported; a lazy import is a must


if __name__ == "__main__":
    raise SystemExit(main())
