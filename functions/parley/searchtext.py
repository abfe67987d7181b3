"""Text analysis for search: the same terms when a message is indexed and when it is searched.

A term is a word of the text, folded and lightly stemmed:

* **words**: runs of Unicode letters and digits (`café`, `naïve`, `3.12` → `3`, `12`); each
  Chinese or Japanese character is a word of its own (those scripts do not separate words);
* **folding**: NFKD, combining marks dropped, `casefold()` — `Café`, `CAFE` and `café` are one
  term, `Straße` matches `strasse`;
* **stop words**: the commonest English words are not indexed (they would be the hottest
  postings and rank nothing);
* **stemming**: a light English suffix stripper (`deploys`, `deployed`, `deploying` →
  `deploy`), never below three letters, so it cannot merge short unrelated words.

`snippet` cuts a window of the original text around the first match and returns it as plain
segments flagged `match`, so a client renders marks without ever parsing HTML.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_TERM_CHARS = 40
"""Longer "words" (hashes, base64) are cut: a posting's key stays small."""
SNIPPET_CHARS = 160
"""About two lines of the results list."""

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
    ]
)


@dataclass(frozen=True, slots=True)
class Word:
    """A word of a text: where it is (code points) and its term."""

    start: int
    end: int
    term: str


def fold(word: str) -> str:
    """Case and diacritics folded: `Élan` → `elan`, `Straße` → `strasse`."""
    decomposed = unicodedata.normalize("NFKD", word)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", bare.casefold())


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A light English stemmer (plural and verb endings) that never leaves fewer than 3 letters."""
    if len(word) <= 3 or not word.isalpha() or not word.isascii():
        return word
    for suffix, replacement in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix):
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            base = word[: len(word) - len(suffix)] + replacement
            if len(base) < 3:
                return word
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2] != "l":
                base = base[:-1]  # running → run, stopped → stop
            if suffix == "es" and not base.endswith(("ch", "sh", "x", "z", "ss", "o")):
                base = base + "e"  # releases → release, but boxes → box
            return base
    return word


def term_of(word: str) -> str | None:
    """The indexed term of one word, or None for a stop word."""
    folded = fold(word)[:MAX_TERM_CHARS]
    if not folded or folded in STOP_WORDS:
        return None
    return stem(folded)


def words(text: str) -> list[Word]:
    """Every indexable word of `text`, in order, with its position."""
    found: list[Word] = []
    for match in _WORD.finditer(text):
        term = term_of(match.group())
        if term:
            found.append(Word(match.start(), match.end(), term))
    return found


def term_counts(text: str) -> dict[str, int]:
    """Each term of `text` with how often it occurs (its term frequency)."""
    counts: dict[str, int] = {}
    for word in words(text):
        counts[word.term] = counts.get(word.term, 0) + 1
    return counts


@dataclass(frozen=True, slots=True)
class QueryTerm:
    term: str
    prefix: bool
    """Matched as the start of longer terms too (the last word, as it is being typed)."""

    def matches(self, term: str) -> bool:
        return term.startswith(self.term) if self.prefix else term == self.term


def query_terms(q: str, *, max_terms: int) -> list[QueryTerm]:
    """The distinct terms of a query; the last word is a prefix unless the query ends in a space
    or it is shorter than 3 letters (a one-letter prefix would read every posting)."""
    found = words(q)
    terms: list[QueryTerm] = []
    seen: set[str] = set()
    for index, word in enumerate(found):
        if word.term in seen:
            continue
        seen.add(word.term)
        last = index == len(found) - 1 and word.end == len(q)
        raw = fold(q[word.start : word.end])[:MAX_TERM_CHARS]
        if last and len(raw) >= 3:
            # The prefix is the folded word as typed (`deplo` → `deploy`, `deployment`), not
            # its stem; the stem is a prefix of it, so the full word still matches itself.
            terms.append(QueryTerm(term=min(raw, word.term, key=len), prefix=True))
        else:
            terms.append(QueryTerm(term=word.term, prefix=False))
        if len(terms) == max_terms:
            break
    return terms


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    match: bool


def snippet(text: str, terms: list[QueryTerm], *, width: int = SNIPPET_CHARS) -> list[Segment]:
    """A window of `text` around its first match, the matched words flagged.

    The window starts a little before the first match (at a word boundary) and is cut to
    `width` characters; an ellipsis marks text left out at either end.
    """
    found = [w for w in words(text) if any(t.matches(w.term) for t in terms)]
    flat = " ".join(text.split()) if not found else None
    if flat is not None:
        cut = flat[:width]
        return [Segment(cut + ("…" if len(flat) > width else ""), False)]
    first = found[0]
    start = max(0, first.start - width // 4)
    if start > 0:
        space = text.rfind(" ", 0, first.start - width // 8)
        start = space + 1 if space >= start else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", first.end, end)
        end = space if space > first.end else end
    segments: list[Segment] = []
    if start > 0:
        segments.append(Segment("…", False))
    position = start
    for word in found:
        if word.start < start or word.end > end:
            continue
        if word.start > position:
            segments.append(Segment(text[position : word.start], False))
        segments.append(Segment(text[word.start : word.end], True))
        position = word.end
    if position < end:
        segments.append(Segment(text[position:end], False))
    if end < len(text):
        segments.append(Segment("…", False))
    return _collapse_whitespace(segments)


def _collapse_whitespace(segments: list[Segment]) -> list[Segment]:
    """Line breaks and runs of spaces become one space (a snippet is one or two lines)."""
    out: list[Segment] = []
    for segment in segments:
        text = re.sub(r"\s+", " ", segment.text)
        if text:
            out.append(Segment(text, segment.match))
    return out
