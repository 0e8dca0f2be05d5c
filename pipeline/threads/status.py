"""Roles of a thread's members and the thread's status, with the evidence for it.

Why rules, not a model: a reader must be able to check a status against its evidence. A thread is
ordered by statement date (the ``date`` field, else a dateline in the text, marked inferred). Roles
follow the claim type (the claims guideline): the first commitment is ``announced``, later ones
``reaffirmed``; a decision is ``decided`` (approved, allocated, signed, appointed), an obligation
``obligated``. Status, the first rule that holds:

1. ``acted on``: a decision that is not dated before the first commitment (or any decision, when
   the thread holds no commitment);
2. ``overdue``: a commitment names a year ("до 2020 года", "2025 жылға дейін") that ended before
   the latest statement date in the store, and no decision;
3. ``reaffirmed``: the commitment was repeated N times (shown "reaffirmed N times");
4. ``open``.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Sequence

from pipeline.threads.dates import deadline

ROLES = ("announced", "reaffirmed", "decided", "obligated")
STATUSES = ("acted on", "overdue", "reaffirmed", "open")
ROLE_OF_TYPE = {"decision": "decided", "obligation": "obligated"}


@dataclass
class Member:
    """A thread member: one claim with its statement's date."""

    claim_id: str
    statement_id: str
    type: str
    sentence: str = ""
    date: str | None = None          # ISO date of the statement
    date_inferred: bool = False      # read from a dateline in the text, not the `date` field
    unit: int = 0                    # kk↔ru twins share a unit: one step of the timeline
    lang: str | None = None
    role: str | None = None
    position: int = 0


@dataclass
class ThreadStatus:
    status: str
    reaffirmed: int
    evidence: list[dict] = field(default_factory=list)
    deadline: str | None = None

    @property
    def label(self) -> str:
        if self.status == "reaffirmed":
            return f"reaffirmed {self.reaffirmed} time{'s' if self.reaffirmed != 1 else ''}"
        return self.status


def _when(m: Member) -> str:
    return m.date + (" (inferred from the dateline)" if m.date_inferred else "") if m.date else "undated"


def order_and_roles(members: Sequence[Member]) -> list[Member]:
    """Members in timeline order (dated first, by date, then statement and claim id), each with its
    role and position; twins share the position and role of their unit."""
    units: dict[int, list[Member]] = {}
    for m in members:
        units.setdefault(m.unit, []).append(m)

    def unit_key(ms: list[Member]):
        dates = [m.date for m in ms if m.date]
        return (0 if dates else 1, min(dates) if dates else "", min(m.statement_id for m in ms), min(m.claim_id for m in ms))

    ordered = sorted(units.values(), key=unit_key)
    seen_commitment = False
    out: list[Member] = []
    for pos, ms in enumerate(ordered):
        types = {m.type for m in ms}
        if "commitment" in types:
            role = "reaffirmed" if seen_commitment else "announced"
            seen_commitment = True
        elif "decision" in types:
            role = "decided"
        else:
            role = "obligated"
        for m in sorted(ms, key=lambda m: (m.lang or "", m.claim_id)):
            m.role, m.position = role, pos
            out.append(m)
    return out


def _ev(rule: str, m: Member, **extra) -> dict:
    return {"rule": rule, "claim_id": m.claim_id, "statement_id": m.statement_id, "date": m.date,
            "date_inferred": m.date_inferred, "role": m.role, "sentence": m.sentence, **extra}


def thread_status(members: Sequence[Member], store_latest: str | None) -> ThreadStatus:
    """The status of an ordered thread (see the module docstring), with the members that prove it."""
    steps: dict[int, Member] = {}
    for m in members:
        steps.setdefault(m.unit, m)
    first = next((m for m in steps.values() if m.role == "announced"), None)
    reaffirmed = [m for m in steps.values() if m.role == "reaffirmed"]
    decided = [m for m in steps.values() if m.role == "decided"]
    acting = [d for d in decided if first is None or not (d.date and first.date and d.date < first.date)]
    if acting:
        evidence = ([_ev("commitment", first)] if first else []) + [
            _ev("decision followed" if first else "decision", d, when=_when(d)) for d in acting]
        return ThreadStatus("acted on", len(reaffirmed), evidence)
    commitments = [m for m in steps.values() if m.role in ("announced", "reaffirmed")]
    named = []  # (deadline, commitment naming it)
    for m in commitments:
        d = deadline(m.sentence, _dt.date.fromisoformat(m.date) if m.date else None)
        if d is not None:
            named.append((d, m))
    for d, m in named:
        if store_latest and d.due.isoformat() < store_latest:
            ev = [_ev("deadline passed", m, deadline=d.text, due=d.due.isoformat(), store_latest=store_latest)]
            ev += [_ev("earlier decision, before the commitment", x) for x in decided]
            return ThreadStatus("overdue", len(reaffirmed), ev, d.due.isoformat())
    due = max((d.due for d, _ in named), default=None)
    due_ev = [_ev("deadline not yet passed", m, deadline=d.text, due=d.due.isoformat(), store_latest=store_latest)
              for d, m in named[:1]]
    if reaffirmed:
        return ThreadStatus("reaffirmed", len(reaffirmed),
                            ([_ev("commitment", first)] if first else []) + [_ev("repeated", m, when=_when(m)) for m in reaffirmed]
                            + due_ev, due.isoformat() if due else None)
    return ThreadStatus("open", 0, [_ev("commitment" if m.role == "announced" else m.role, m) for m in steps.values()][:3]
                        + due_ev, due.isoformat() if due else None)
