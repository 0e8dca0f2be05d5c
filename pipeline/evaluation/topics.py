"""`polclaims evaluate topics GOLD`: topic accuracy on gold texts (claims-guideline format:
one JSON object per line with `text`, `lang` and `topic`), per language.

Only items with a non-null topic count. Accuracy is reported per gold `lang` and per the
language the text is actually in (langid), because some gold items carry the wrong `lang`.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from pipeline.topics.model import TopicModel


def read_gold_topics(path: Path) -> tuple[list[dict], list[str]]:
    items, problems = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{n}: not JSON ({exc.msg})")
                continue
            if not isinstance(obj.get("text"), str):
                problems.append(f"{path}:{n}: no text")
                continue
            if obj.get("topic"):
                items.append({"id": obj.get("item_id") or obj.get("id") or f"line {n}", "text": obj["text"],
                              "lang": obj.get("lang"), "topic": obj["topic"]})
    return items, problems


def evaluate_topics(model: TopicModel, gold: Path) -> dict[str, Any]:
    from pipeline.text import langid

    items, problems = read_gold_topics(gold)
    preds = model.predict([it["text"] for it in items])
    groups: dict[str, dict[str, list]] = {"gold_lang": defaultdict(list), "text_lang": defaultdict(list)}
    errors = []
    for it, (label, tops) in zip(items, preds):
        ok = label == it["topic"]
        top3 = it["topic"] in [t["label"] for t in tops]
        groups["gold_lang"][it["lang"] or "?"].append((ok, top3))
        groups["text_lang"][langid.identify(it["text"])].append((ok, top3))
        if not ok:
            errors.append({"id": it["id"], "gold": it["topic"], "predicted": label,
                           "scores": tops})

    def summary(rows: list) -> dict:
        n = len(rows)
        return {"n": n, "accuracy": round(sum(o for o, _ in rows) / n, 4) if n else None,
                "top3_accuracy": round(sum(t for _, t in rows) / n, 4) if n else None}

    all_rows = [r for rows in groups["gold_lang"].values() for r in rows]
    unknown = sorted({it["topic"] for it in items} - set(model.labels))
    return {
        "gold": str(gold), "model": model.name, "items": len(items),
        "overall": summary(all_rows),
        "by_gold_lang": {k: summary(v) for k, v in sorted(groups["gold_lang"].items())},
        "by_text_lang": {k: summary(v) for k, v in sorted(groups["text_lang"].items())},
        "gold_topics": dict(Counter(it["topic"] for it in items).most_common()),
        "labels_unknown_to_model": unknown,
        "problems": problems,
        "errors": errors,
    }
