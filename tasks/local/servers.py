"""Serving ASGI apps on loopback sockets we bind ourselves, several in one event loop.

Binding first gives a clear "port in use" message (not a traceback from deep in uvicorn) and
lets the stack learn every URL before any function's environment is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

T = TypeVar("T")


class PortInUse(Exception):
    """A fixed port is taken; the message says which and what to do."""


def bind(host: str, port: int, what: str) -> socket.socket:
    """A listening-ready TCP socket on host:port (0 picks a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} ({what}) is already in use: stop whatever listens there "
                f"(`ss -ltnp 'sport = :{port}'` shows it) or choose another port"
            ) from None
        raise
    sock.listen(512)
    sock.set_inheritable(False)
    return sock


def port_of(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the stack stops every server at once."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class AsgiServer:
    """One ASGI app served on one bound socket until `stop()`."""

    def __init__(self, app: ASGIApp, sock: socket.socket, *, ws_max_size: int = 1 << 20) -> None:
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws_max_size=ws_max_size,
            timeout_graceful_shutdown=3,
        )
        self._server = _Server(config)
        self._sock = sock
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return port_of(self._sock)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sock.close()


class LoopThread:
    """An event loop in a daemon thread, so synchronous code (pytest, benchmarks) can drive
    async servers: `loop.run(coro)` waits for the result."""

    def __init__(self, name: str = "local-stack") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()
