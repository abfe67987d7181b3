"""Conversation titles taken from the first message: short, one line, cut on a word."""

from __future__ import annotations

import re

from parley.models import MAX_TITLE_CHARS

TITLE_CHARS = 60
_MARKUP = re.compile(r"[`*_#>\[\]()~|]+")
_SPACE = re.compile(r"\s+")


def title_from(text: str, limit: int = TITLE_CHARS) -> str:
    """A clean title: markup and line breaks gone, at most `limit` characters, `…` when cut."""
    limit = min(limit, MAX_TITLE_CHARS)
    clean = _SPACE.sub(" ", _MARKUP.sub(" ", text)).strip(" .,:;!?-")
    if not clean:
        return "New conversation"
    if len(clean) <= limit:
        return clean
    cut = clean[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" .,:;!?-") + "…"
