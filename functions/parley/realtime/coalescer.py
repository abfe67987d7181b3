"""Coalescing of a model's token deltas into few, gap-free WebSocket frames.

A provider yields a delta per token (tens to hundreds a second); posting each one would cost a
PostToConnection per token per subscriber. The coalescer buffers text and releases it as one
chunk when the buffer is older than its window or larger than ``max_bytes``, so a reply costs
tens of frames. The very first text is released at once so the time to first token the user
sees is the model's, not ours; the window then starts at ``interval`` and doubles per frame up
to ``max_interval`` (150, 300, 600 ms, 1.2, 2.4, 3 s) — quick while the reader starts, then few
frames (each a billed WebSocket message per subscriber) once the answer is flowing. The steady
doubling is what lets the app pace the text between frames without a stall: it can tell when the
next frame is due (``ramp_until`` can still end the ramp early with a jump to the widest).
Chunks carry a ``seq`` that
counts from ``start_seq + 1`` without gaps, which is what lets a client resume and drop
duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_INTERVAL = 0.075
DEFAULT_MAX_INTERVAL = 3.0
"""The widest window. Each frame is a billed WebSocket message per subscriber: a 1,000-token
reply of about 10 s is 9 frames (27 at 0.4 s), and the app paces what it shows between them."""
DEFAULT_GROWTH = 2.0
"""Each window is twice the one before, up to the widest: the app expects the next frame after
twice the last gap (frontend/src/features/chat/pacing.ts) and reveals the text until then."""
DEFAULT_RAMP_UNTIL = DEFAULT_MAX_INTERVAL
"""No jump: a window that leapt from 0.4 s to 3 s would leave the text standing still for
seconds in the app, whatever it paces."""
DEFAULT_MAX_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Chunk:
    """A coalesced piece of the reply: the ``seq``-th delta sent to clients."""

    seq: int
    text: str


def split_utf8(text: str, max_bytes: int) -> list[str]:
    """Split ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes, never inside a character."""
    if max_bytes < 4:
        raise ValueError("max_bytes must hold any character (4 bytes)")
    pieces: list[str] = []
    data = text.encode()
    start = 0
    while start < len(data):
        end = min(start + max_bytes, len(data))
        # step back over continuation bytes (10xxxxxx) so the cut is on a character boundary
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        pieces.append(data[start:end].decode())
        start = end
    return pieces


class DeltaCoalescer:
    """Buffers deltas; ``add`` and ``flush`` return the chunks due to be sent, in order."""

    def __init__(
        self,
        *,
        interval: float = DEFAULT_INTERVAL,
        max_bytes: int = DEFAULT_MAX_BYTES,
        start_seq: int = 0,
        clock: Callable[[], float] = time.monotonic,
        release_first: bool = True,
        max_interval: float | None = None,
        growth: float = 1.0,
        ramp_until: float | None = None,
    ) -> None:
        if interval < 0:
            raise ValueError("interval must not be negative (0 releases every delta)")
        self.interval = interval
        self.max_interval = interval if max_interval is None else max(interval, max_interval)
        self.growth = growth
        self.ramp_until = self.max_interval if ramp_until is None else ramp_until
        self.max_bytes = max_bytes
        self._clock = clock
        self._seq = start_seq
        self._buffer: list[str] = []
        self._buffered_bytes = 0
        self._window_start: float | None = None
        self._release_next = release_first

    @property
    def seq(self) -> int:
        """The ``seq`` of the last chunk released (``start_seq`` before the first)."""
        return self._seq

    @property
    def pending(self) -> bool:
        return bool(self._buffer)

    def add(self, text: str) -> list[Chunk]:
        """Take a delta; return the chunks that are now due (often none)."""
        if not text:
            return self._due()
        now = self._clock()
        if self._window_start is None:
            self._window_start = now
        self._buffer.append(text)
        self._buffered_bytes += len(text.encode())
        if self._release_next or self._buffered_bytes >= self.max_bytes or not self.interval:
            self._release_next = False
            return self._release()
        return self._due(now)

    def due(self) -> list[Chunk]:
        """Release the buffer if its window has passed (call it when the source is idle)."""
        return self._due()

    def flush(self) -> list[Chunk]:
        """Release whatever is buffered (end of stream, stop, failure)."""
        return self._release() if self._buffer else []

    def _due(self, now: float | None = None) -> list[Chunk]:
        if self._window_start is None:
            return []
        now = self._clock() if now is None else now
        if now - self._window_start >= self.interval:
            return self._release()
        return []

    def _release(self) -> list[Chunk]:
        if self.interval:
            self.interval = min(self.max_interval, self.interval * self.growth)
            if self.interval >= self.ramp_until:
                self.interval = self.max_interval
        text = "".join(self._buffer)
        self._buffer.clear()
        self._buffered_bytes = 0
        self._window_start = None
        chunks = []
        for piece in split_utf8(text, self.max_bytes):
            self._seq += 1
            chunks.append(Chunk(self._seq, piece))
        return chunks
