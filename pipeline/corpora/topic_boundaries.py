"""The codebook's Boundaries (../shared/docs/topics.md) applied to existing labels.

Why: the topic corpus was labelled before the codebook said "classify by what a text is about,
not by who says it" (budget matters reported by an audit body are `macroeconomics`; e-government
as administration is `government_operations`). Labels that contradict a boundary teach the model
exactly the confusions seen on unseen sites. The rules (configs/topics.toml `[[boundaries.rules]]`)
find such labels; `relabel` returns one record per changed text, and
data/topics/relabel_boundaries.py writes them to data/topics/boundary_relabels.jsonl, which the
corpus build applies (only where the label is still the rule's `from`, so a later annotation
that already follows the codebook is never overwritten).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from pipeline import config


@dataclass(frozen=True)
class Rule:
    name: str
    why: str
    from_label: str
    to_label: str
    all: tuple[re.Pattern, ...]
    none: tuple[re.Pattern, ...]
    ignore: tuple[re.Pattern, ...] = ()

    def applies(self, text: str, label: str) -> bool:
        if label != self.from_label:
            return False
        low = text.lower()
        for p in self.ignore:
            low = p.sub(" ", low)
        return all(p.search(low) for p in self.all) and not any(p.search(low) for p in self.none)


def load_rules(settings: dict | None = None) -> list[Rule]:
    """The rules of configs/topics.toml (or of `settings`); a rule naming an unknown code is an error."""
    settings = settings if settings is not None else config.load("topics")
    codes = set(settings.get("codes", []))
    ignore = tuple(re.compile(p, re.I) for p in settings.get("boundaries", {}).get("ignore", []))
    rules = []
    for i, r in enumerate(settings.get("boundaries", {}).get("rules", []), start=1):
        for key in ("from", "to"):
            if codes and r[key] not in codes:
                raise ValueError(f"boundaries rule {i} ({r.get('name')}): {key} {r[key]!r} is not a topic code")
        rules.append(Rule(r["name"], r.get("why", ""), r["from"], r["to"],
                          tuple(re.compile(p, re.I) for p in r.get("all", [])),
                          tuple(re.compile(p, re.I) for p in r.get("none", [])), ignore))
    return rules


def relabel(rows: Iterable[dict], rules: list[Rule] | None = None) -> list[dict]:
    """Rows {"id", "text", "label", ...} -> one record {"sha1", "id", "lang", "from", "to", "rule"}
    per row a rule re-labels (the first rule that applies wins; rules do not chain)."""
    from pipeline.corpora.topics import text_hash

    rules = load_rules() if rules is None else rules
    out = []
    for row in rows:
        for rule in rules:
            if rule.applies(row["text"], row["label"]):
                out.append({"sha1": text_hash(row["text"]), "id": row.get("id"), "lang": row.get("lang"),
                            "from": rule.from_label, "to": rule.to_label, "rule": rule.name})
                break
    return out
