"""The delta coalescer: few frames, gap-free seq, nothing lost, never a split character."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.realtime.coalescer import Chunk, DeltaCoalescer, split_utf8


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def stream(
    coalescer: DeltaCoalescer, clock: FakeClock, tokens: list[str], gap: float
) -> list[Chunk]:
    chunks: list[Chunk] = []
    for token in tokens:
        chunks += coalescer.add(token)
        clock.now += gap
    return chunks + coalescer.flush()


def test_first_text_is_released_at_once_then_buffered_by_window() -> None:
    clock = FakeClock()
    coalescer = DeltaCoalescer(interval=0.075, clock=clock)

    assert coalescer.add("Hel") == [Chunk(1, "Hel")]
    clock.now = 0.01
    assert coalescer.add("lo") == []
    clock.now = 0.05
    assert coalescer.add(",") == []
    clock.now = 0.09  # the window opened at 0.01 has passed
    assert coalescer.add(" world") == [Chunk(2, "lo, world")]
    assert coalescer.flush() == []
    assert coalescer.seq == 2


def test_due_releases_an_idle_buffer_and_flush_releases_the_rest() -> None:
    clock = FakeClock()
    coalescer = DeltaCoalescer(interval=0.1, clock=clock, release_first=False)
    assert coalescer.add("a") == []
    assert coalescer.due() == []
    clock.now = 0.2
    assert coalescer.due() == [Chunk(1, "a")]
    coalescer.add("b")
    assert coalescer.flush() == [Chunk(2, "b")]
    assert not coalescer.pending


def test_size_threshold_releases_before_the_window_and_splits_long_text() -> None:
    clock = FakeClock()
    coalescer = DeltaCoalescer(interval=10, max_bytes=8, clock=clock, release_first=False)
    assert coalescer.add("abcd") == []
    chunks = coalescer.add("efghijklmnopqrs")
    assert [c.text for c in chunks] == ["abcdefgh", "ijklmnop", "qrs"]
    assert [c.seq for c in chunks] == [1, 2, 3]


def test_seq_continues_from_a_resume_point() -> None:
    coalescer = DeltaCoalescer(start_seq=41, clock=FakeClock())
    assert coalescer.add("x") == [Chunk(42, "x")]


def test_thousand_tokens_at_100_per_second_cost_at_most_one_frame_per_50ms() -> None:
    clock = FakeClock()
    tokens = [f" tok{i}" for i in range(1000)]
    chunks = stream(DeltaCoalescer(clock=clock), clock, tokens, gap=0.01)
    duration = 1000 * 0.01
    assert len(chunks) <= duration / 0.05
    assert "".join(c.text for c in chunks) == "".join(tokens)


@given(
    tokens=st.lists(st.text(min_size=0, max_size=40), max_size=60),
    gap=st.floats(min_value=0, max_value=0.2),
    max_bytes=st.integers(min_value=4, max_value=64),
)
def test_coalescing_never_loses_reorders_or_gaps(
    tokens: list[str], gap: float, max_bytes: int
) -> None:
    clock = FakeClock()
    chunks = stream(DeltaCoalescer(max_bytes=max_bytes, clock=clock), clock, tokens, gap)
    assert "".join(c.text for c in chunks) == "".join(tokens)
    assert [c.seq for c in chunks] == list(range(1, len(chunks) + 1))
    assert all(c.text and len(c.text.encode()) <= max_bytes for c in chunks)


@given(text=st.text(max_size=200), max_bytes=st.integers(min_value=4, max_value=50))
def test_split_utf8_cuts_on_character_boundaries(text: str, max_bytes: int) -> None:
    pieces = split_utf8(text, max_bytes)
    assert "".join(pieces) == text
    assert all(0 < len(p.encode()) <= max_bytes for p in pieces)


def test_split_utf8_refuses_a_budget_smaller_than_a_character() -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        split_utf8("€", 3)
    assert split_utf8("€€€", 4) == ["€", "€", "€"]


def test_windows_widen_per_frame_up_to_the_maximum() -> None:
    now = [0.0]
    coalescer = DeltaCoalescer(interval=0.1, max_interval=0.3, growth=2.0, clock=lambda: now[0])
    released_at: list[float] = []
    for _ in range(200):  # a token every 10 ms for 2 s
        if coalescer.add("x"):
            released_at.append(now[0])
        now[0] = round(now[0] + 0.01, 2)
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(released_at)]
    assert released_at[0] == 0.0  # the first text at once
    # 0.1 → 0.2 → 0.3 (capped) after each frame; a window opens with the next token (≤ 10 ms)
    for gap, window in zip(gaps[:3], [0.2, 0.3, 0.3], strict=True):
        assert window <= gap <= window + 0.02
    assert max(gaps) <= 0.32


def test_the_window_jumps_to_the_widest_once_the_ramp_is_done() -> None:
    """Quick frames while the reader starts, then one every `max_interval` (each frame is a
    billed message per subscriber)."""
    now = [0.0]
    coalescer = DeltaCoalescer(
        interval=0.1, max_interval=3.0, growth=2.0, ramp_until=0.5, clock=lambda: now[0]
    )
    released: list[float] = []
    for _ in range(1000):  # a token every 10 ms for 10 s
        if coalescer.add("ab "):
            released.append(round(now[0], 2))
        now[0] += 0.01
    # at once, then windows of 0.2 and 0.4 (each opens with the next token, 10 ms later);
    # 0.8 is past the ramp: 3 s from then on
    gaps = [round(b - a, 1) for a, b in itertools.pairwise(released)]
    assert gaps == [0.2, 0.4, 3.0, 3.0, 3.0]
