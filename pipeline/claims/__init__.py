"""Policy-claim extraction: statements in, `Claim` records out (see claims-guideline.md)."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.io.records import Claim, Failure, Sentence, Statement


@dataclass
class StatementResult:
    """Everything `process` learns about one statement; stored and written together."""

    statement: Statement
    sentences: list[Sentence] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    failure: Failure | None = None
    skipped: bool = False  # unchanged since the store's last run: claims come from the store
    topic: str | None = None  # the statement's topic and top-k (topic model)
    topics: list[dict] = field(default_factory=list)
