"""The local Lambda service: warm execution environments per function, sync and async invokes.

Isolation choice: one OS process per execution environment, started with exactly the
environment the manifest gives the function (refs resolved) plus the runtime's own variables.
Setting `os.environ` around an in-process call under a lock would serialise every invocation of
every function (a streaming bot reply would block the whole API) and still share imported
modules, cached settings and boto3 clients between functions. Processes give what Lambda gives:
separate imports and settings per function, one invocation at a time per environment, reuse
while warm, more environments under concurrency (up to `max_concurrency`), and a timed-out
environment is discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).with_name("worker.py")
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")
"""The only variables of the parent's environment a function sees (never its secrets)."""
_LINE_LIMIT = 64 * 1024 * 1024
INIT_TIMEOUT = 60.0
"""Lambda allows 10 s of init; a loaded two-core machine importing boto3 in several processes
at once needs more, and a slow start must not look like a broken function."""

log = logging.getLogger("parley.local.lambda")


@dataclass(frozen=True)
class AsyncPolicy:
    """Lambda's asynchronous invocation settings (manifest `triggers.async`)."""

    max_retries: int = 2
    max_event_age_seconds: int = 3600
    retry_delays: tuple[float, ...] = (1.0, 2.0)
    """Lambda waits about 1 and 2 minutes; the local stack keeps the count, shortens the wait."""


@dataclass(frozen=True)
class FunctionSpec:
    """What the runtime needs to run one manifest function locally."""

    name: str
    handler: str
    timeout: float
    memory: int = 256
    environment: Mapping[str, str] = field(default_factory=dict)
    max_concurrency: int = 4
    async_policy: AsyncPolicy | None = None
    code_root: Path = ROOT / "functions"


class FunctionError(Exception):
    """The handler raised (or could not be imported): Lambda's `Unhandled` function error."""

    def __init__(self, function: str, error: dict[str, Any]) -> None:
        super().__init__(f"{function}: {error.get('errorType')}: {error.get('errorMessage')}")
        self.error = error


class FunctionTimeout(FunctionError):
    """The invocation ran past the function's timeout; its environment was discarded."""

    def __init__(self, function: str, seconds: float) -> None:
        super().__init__(
            function,
            {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {seconds:.2f} seconds",
            },
        )


def runtime_environment(spec: FunctionSpec, base: Mapping[str, str]) -> dict[str, str]:
    """The process environment of one function: pass-through basics, runtime values, its env."""
    env = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
    env.update(base)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(spec.code_root),
            "PYTHONPATH": str(spec.code_root),
            "PYTHONUNBUFFERED": "1",
            "TZ": "UTC",
        }
    )
    env.update(spec.environment)
    return env


class ExecutionEnvironment:
    """One worker process running one function's handler, one invocation at a time."""

    _ids = itertools.count(1)

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str]) -> None:
        self.spec = spec
        self._env = dict(env)
        self._process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self.number = next(self._ids)

    async def start(self) -> None:
        """Start the process and wait for its init phase (the handler's import)."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",
            str(WORKER),
            self.spec.handler,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
            cwd=str(self.spec.code_root),
            limit=_LINE_LIMIT,
        )
        assert self._process.stderr is not None
        self._pump = asyncio.create_task(self._pump_logs(self._process.stderr))
        try:
            line = await self._read_line(timeout=INIT_TIMEOUT)
        except TimeoutError:
            await self.stop()
            raise FunctionError(
                self.spec.name,
                {"errorType": "Runtime.InitTimeout", "errorMessage": "init phase timed out"},
            ) from None
        if line is None:
            raise FunctionError(
                self.spec.name,
                {"errorType": "Runtime.ExitError", "errorMessage": "the runtime exited on start"},
            )

    async def _pump_logs(self, stream: asyncio.StreamReader) -> None:
        logger = logging.getLogger(f"parley.local.lambda.{self.spec.name}")
        while line := await stream.readline():
            logger.info("%s", line.decode("utf-8", "replace").rstrip())

    async def _read_line(self, timeout: float) -> dict[str, Any] | None:
        assert self._process is not None
        assert self._process.stdout is not None
        raw = await asyncio.wait_for(self._process.stdout.readline(), timeout)
        if not raw:
            return None
        answer: dict[str, Any] = json.loads(raw)
        return answer

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def invoke(self, event: Any, request_id: str) -> Any:
        """Run the handler once; raise FunctionError / FunctionTimeout as Lambda reports them."""
        assert self._process is not None
        assert self._process.stdin is not None
        deadline = time.time() + self.spec.timeout
        request = {
            "id": request_id,
            "event": event,
            "request_id": request_id,
            "deadline_ms": int(deadline * 1000),
        }
        self._process.stdin.write(json.dumps(request).encode() + b"\n")
        await self._process.stdin.drain()
        try:
            answer = await self._read_line(timeout=self.spec.timeout)
        except TimeoutError:
            log.warning(
                "%s %s: Task timed out after %.2f seconds",
                self.spec.name,
                request_id,
                self.spec.timeout,
            )
            await self.stop()
            raise FunctionTimeout(self.spec.name, self.spec.timeout) from None
        if answer is None:
            raise FunctionError(
                self.spec.name,
                {"errorType": "Runtime.ExitError", "errorMessage": "the runtime exited"},
            )
        if answer.get("id") != request_id:
            await self.stop()
            raise FunctionError(
                self.spec.name,
                {"errorType": "Runtime.ExitError", "errorMessage": "answer out of order"},
            )
        if not answer.get("ok"):
            raise FunctionError(self.spec.name, answer.get("error") or {})
        return answer.get("result")

    async def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if self._pump is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._pump, 2)


class FunctionPool:
    """The warm environments of one function; a new one starts when all are busy."""

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str]) -> None:
        self.spec = spec
        self._env = runtime_environment(spec, env)
        self._idle: list[ExecutionEnvironment] = []
        self._all: set[ExecutionEnvironment] = set()
        self._slots = asyncio.Semaphore(max(1, spec.max_concurrency))
        self._running = asyncio.Event()
        self._running.set()
        self.cold_starts = 0
        self.invocations = 0

    @property
    def environment(self) -> Mapping[str, str]:
        return self._env

    async def pause(self) -> None:
        """Hold every invocation that arrives from now on, queued as a throttled one is, until
        `resume`: for tests that must act between a trigger and the function's run (run on the
        stack's loop, e.g. `stack.loop.run(pool.pause())`)."""
        self._running.clear()

    async def resume(self) -> None:
        self._running.set()

    async def invoke(self, event: Any, request_id: str | None = None) -> Any:
        request_id = request_id or str(uuid.uuid4())
        await self._running.wait()
        async with self._slots:
            worker = await self._take()
            self.invocations += 1
            try:
                result = await worker.invoke(event, request_id)
            except FunctionError:
                self._release(worker)
                raise
            except BaseException:
                # Abandoned mid-invocation (the caller timed out): its state is unknown.
                await worker.stop()
                self._all.discard(worker)
                raise
            self._release(worker)
            return result

    def _release(self, worker: ExecutionEnvironment) -> None:
        if worker.alive:
            self._idle.append(worker)
        else:
            self._all.discard(worker)

    async def _take(self) -> ExecutionEnvironment:
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
            self._all.discard(worker)
        worker = ExecutionEnvironment(self.spec, self._env)
        self._all.add(worker)
        self.cold_starts += 1
        try:
            await worker.start()
        except BaseException:
            self._all.discard(worker)
            await worker.stop()
            raise
        return worker

    async def warm(self) -> None:
        """Start one environment ahead of the first request (the stack does this at start)."""
        async with self._slots:
            self._idle.append(await self._take())

    async def close(self) -> None:
        workers, self._all, self._idle = list(self._all), set(), []
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)


DeadLetter = Callable[[str, Any, dict[str, Any]], Awaitable[None]]


@dataclass
class AsyncOutcome:
    """What became of one asynchronous invocation (kept for tests and the summary)."""

    function: str
    request_id: str
    attempts: int = 0
    succeeded: bool | None = None
    error: dict[str, Any] | None = None


class LambdaRuntime:
    """Every function of the manifest, invokable by name, synchronously or as an event."""

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        env: Mapping[str, str],
        *,
        dead_letter: DeadLetter | None = None,
    ) -> None:
        self.pools = {name: FunctionPool(spec, env) for name, spec in specs.items()}
        self._dead_letter = dead_letter
        self._tasks: set[asyncio.Task[None]] = set()
        self.outcomes: list[AsyncOutcome] = []

    def resolve(self, name: str) -> FunctionPool | None:
        """Find a function by name, full ARN or partial ARN, as Lambda's API accepts."""
        if ":function:" in name:
            name = name.split(":function:", 1)[1]
        name = name.split(":", 1)[0]
        return self.pools.get(name)

    async def invoke(self, name: str, event: Any, request_id: str | None = None) -> Any:
        pool = self.resolve(name)
        if pool is None:
            raise KeyError(name)
        return await pool.invoke(event, request_id)

    def invoke_event(self, name: str, event: Any) -> str:
        """Queue an asynchronous invocation (InvocationType=Event) and return its request id."""
        pool = self.resolve(name)
        if pool is None:
            raise KeyError(name)
        outcome = AsyncOutcome(pool.spec.name, str(uuid.uuid4()))
        self.outcomes.append(outcome)
        task = asyncio.create_task(self._run_event(pool, event, outcome))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return outcome.request_id

    async def _run_event(self, pool: FunctionPool, event: Any, outcome: AsyncOutcome) -> None:
        policy = pool.spec.async_policy or AsyncPolicy()
        queued = time.monotonic()
        for attempt in range(policy.max_retries + 1):
            if attempt:
                delay = policy.retry_delays[min(attempt, len(policy.retry_delays)) - 1]
                await asyncio.sleep(delay)
                if time.monotonic() - queued > policy.max_event_age_seconds:
                    break
            outcome.attempts = attempt + 1
            try:
                await pool.invoke(event, outcome.request_id)
            except FunctionError as exc:
                outcome.error = exc.error
                log.warning(
                    "async %s %s attempt %d failed: %s",
                    pool.spec.name,
                    outcome.request_id,
                    attempt + 1,
                    exc,
                )
                continue
            outcome.succeeded = True
            return
        outcome.succeeded = False
        log.error(
            "async %s %s: giving up after %d attempts",
            pool.spec.name,
            outcome.request_id,
            outcome.attempts,
        )
        if self._dead_letter is not None:
            try:
                await self._dead_letter(pool.spec.name, event, outcome.error or {})
            except Exception:
                log.exception("dead-letter delivery failed for %s", outcome.request_id)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for queued asynchronous invocations (tests use this before asserting)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(p.close() for p in self.pools.values()), return_exceptions=True)
