"""The records that flow through polclaims: statements in, sentences and failures out.

One data model for the whole program: readers yield `Statement` or `Failure`, the segmenter
turns a statement into `Sentence`s, and later stages add claims to those. Everything is a plain
dataclass so it serialises to JSON/CSV/Parquet without glue.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATEMENT_FIELDS = ("id", "text", "speaker", "date", "source", "url", "title", "parallel_id")


@dataclass
class Statement:
    """One input statement (a speech, a news page, a post)."""

    id: str
    text: str
    speaker: str | None = None
    date: str | None = None
    source: str | None = None
    url: str | None = None
    title: str | None = None
    parallel_id: str | None = None
    origin: str | None = None  # file (and line/row) the record came from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Failure:
    """An input record that could not be processed, and why. Nothing is dropped silently."""

    record_id: str
    reason: str
    origin: str | None = None
    stage: str = "read"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Sentence:
    """A sentence of a statement; `text == statement.text[start:end]` always holds."""

    statement_id: str
    index: int
    start: int
    end: int
    text: str
    lang: str  # "kk", "ru" or "other"
    paragraph: int
    boilerplate: bool = False
    boilerplate_rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Paragraph:
    index: int
    start: int
    end: int
    sentences: list[Sentence] = field(default_factory=list)
