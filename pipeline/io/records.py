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


# One claim record wherever claims leave the program (`process --out`, `query`): the claim's fields
# with the statement's speaker, date, source, url and title beside them, in this order.
CLAIM_RECORD_COLUMNS = (
    "claim_id", "statement_id", "speaker", "date", "lang", "type", "predicate", "predicate_lemma",
    "actor", "actor_kind", "target", "polarity", "tense", "quantities", "has_quantity", "topic",
    "sentence", "char_start", "char_end", "predicate_start", "predicate_end", "entities", "topics",
    "aligned_to", "confidence", "sentence_index", "pipeline_version", "model_versions",
    "source", "url", "title",
)
STATEMENT_META = ("speaker", "date", "source", "url", "title")

CLAIM_TYPES = ("commitment", "obligation", "decision")
ACTOR_KINDS = ("speaker", "government", "society", "other", "unspecified")
POLARITIES = ("affirmative", "negative")
TENSES = ("past", "present", "future")


@dataclass
class Quantity:
    """A number found in a claim: "2 млрд тенге" -> value 2000000000, unit "тенге"."""

    text: str
    value: float | int
    unit: str | None = None
    start: int | None = None  # offsets in the statement text
    end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Claim:
    """One policy claim (see ../shared/docs/claims-guideline.md); the record every stage shares.

    Offsets (`char_start`/`char_end` of the sentence, `predicate_start`/`predicate_end`) index
    the statement text, so `text[predicate_start:predicate_end] == predicate`.
    """

    statement_id: str
    lang: str
    sentence: str
    char_start: int
    char_end: int
    type: str
    predicate: str
    predicate_start: int
    predicate_end: int
    predicate_lemma: str | None = None
    actor: str | None = None
    actor_kind: str = "unspecified"
    target: str | None = None
    polarity: str = "affirmative"
    tense: str = "present"
    quantities: list[dict] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    topic: str | None = None
    topics: list[dict] = field(default_factory=list)
    aligned_to: str | None = None
    confidence: float = 1.0
    sentence_index: int | None = None
    claim_id: str = ""
    pipeline_version: str = ""
    model_versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
