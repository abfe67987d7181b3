"""Display names as Parley shows them: from the server-side profile, never from a token.

A profile's name is user-writable (Cognito's `name` attribute), and it travels into messages,
typing and presence events and the model's transcript, so it is cleaned once here: control and
format characters (newlines, bidi overrides, zero-width joiners) are dropped, runs of spaces
collapse, and the length is capped.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 64
FALLBACK_NAME = "Someone"


def display_name(name: str | None) -> str:
    """`name` safe to show and to quote: one line, printable, at most `MAX_NAME_CHARS`."""
    if not name:
        return FALLBACK_NAME
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    clean = " ".join(kept.split())[:MAX_NAME_CHARS].strip()
    return clean or FALLBACK_NAME
