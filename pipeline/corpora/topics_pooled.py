"""The default topic model's training data: the topic corpus (data/topics) and the topics of the
claims corpus (data/claims) pooled into one table, one row per distinct text.

Why pool: the topic corpus holds government web text of 19 sites and Kazakh news; the claims
corpus adds Russian news and social media, UD sentences and more lines of the same sites, each
text with a topic from two independent annotators (a third where they disagreed). A model that
has seen more kinds of text holds up better on a site it has never seen.

How one label per text is reached: the same text (equal after lower-casing and dropping
everything but letters and digits, so a KazNERD sentence joined with spaces and the same one
detokenized are one text) may be labelled in both corpora, and there the two majorities
disagree for about one text in seven. Every annotator's own label of the text, from both
corpora, is one vote (the topic corpus keeps owner and second opinions; where its third
annotator changed a label, that label is counted as the third vote); the most voted label wins.
A tie is broken by a corpus's final (majority) label when only one of the tied labels is one;
otherwise the text is left out as split. `none` / null (no policy topic) is a label like the
others and a text it wins is not a training row. Then the codebook-boundary re-labels
(data/topics/boundary_relabels.jsonl, written by data/topics/relabel_boundaries.py) apply.

Dev and reference-statement gold texts are never rows (checked here for both corpora).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline import config
from pipeline.corpora import topics as tc

_NON_WORD = re.compile(r"[\W_]+")


def dedupe_key(text: str) -> str:
    """Equal for texts that differ only in case, spacing or punctuation."""
    import hashlib

    return hashlib.sha1(_NON_WORD.sub("", text.lower()).encode("utf-8")).hexdigest()[:16]


def relabels_path() -> Path:
    return config.resolve_path(config.load("topics").get("default_corpus", {})
                               .get("boundary_relabels", "data/topics/boundary_relabels.jsonl"))


def load_relabels(path: Path | None = None) -> dict[str, dict]:
    """text hash -> {"sha1", "from", "to", "rule"} (absent file: no re-labels)."""
    path = path or relabels_path()
    if not path.exists():
        return {}
    return {r["sha1"]: r for r in tc.load_labels(path)}


def overlaps_gold_text(text: str, gold: list[str], probe: int = 60) -> bool:
    side = tc._norm(text)
    return any(g[:probe] in side or side[:probe] in g for g in gold)


def _topic_votes(directory: Path) -> tuple[list[dict], dict[tuple[str, str], list[str]], dict[tuple[str, str], str]]:
    """Topic corpus: its examples (keep_none) and, per (pair_id, side), every annotator's label."""
    labels = tc.load_labels(directory / "labels.jsonl")
    second = tc.load_labels(directory / "second_opinions.jsonl")
    examples, problems = tc.join_labels(labels, keep_none=True)
    if problems:
        raise ValueError(f"data/topics: {len(problems)} label(s) no longer match their text, e.g. {problems[0]}")
    votes: dict[tuple[str, str], list[str]] = {}
    final: dict[tuple[str, str], str] = {}
    for rec in labels:
        for lang in tc.sides(rec):
            own = tc.annotated_label(rec, lang)
            votes[(rec["pair_id"], lang)] = [own] + ([rec[lang]] if rec[lang] != own else [])
            final[(rec["pair_id"], lang)] = rec[lang]
    for r in second:
        for lang in tc.sides(r):
            votes.setdefault((r["pair_id"], lang), []).append(r[lang])
    return examples, votes, final


def _claims_votes() -> tuple[list[dict], dict[str, list[str]]]:
    """Claims corpus: its items with text, and per item_id every annotator's topic."""
    from pipeline.corpora import claims as cc

    items, problems = cc.items()
    if problems:
        raise ValueError(f"data/claims: {len(problems)} label(s) no longer match their text, e.g. {problems[0]}")
    ann_path = cc.labels_path().with_name("annotations.jsonl")
    votes: dict[str, list[str]] = {}
    if ann_path.exists():
        for a in cc.read_jsonl(ann_path):
            votes.setdefault(a["item_id"], []).append(a.get("topic") or "none")
    return items, votes


def apply_relabel(text: str, label: str, relabels: dict[str, dict]) -> str:
    """The re-labelled label of a text, if a re-label record names it and its label is still the
    record's `from` (a label that already changed for another reason is left alone)."""
    rec = relabels.get(tc.text_hash(text))
    return rec["to"] if rec and rec["from"] == label else label


def decide(votes: list[str], finals: list[str]) -> str | None:
    """The most voted label; a tie goes to the one tied label that is a corpus's final label;
    None when still split."""
    counts = Counter(votes).most_common()
    top = [lab for lab, n in counts if n == counts[0][1]]
    if len(top) == 1:
        return top[0]
    tied_finals = [lab for lab in top if lab in set(finals)]
    return tied_finals[0] if len(tied_finals) == 1 else None


def pooled_examples(topics_dir: Path | None = None, use_claims: bool = True,
                    relabels: dict[str, dict] | None = None) -> tuple[list[dict], dict[str, Any]]:
    """(rows, summary). Row: {"id", "pair_id", "lang", "text", "label", "source", "corpus",
    "round", "labels_from", "votes"}; `pair_id` keeps a translated pair's two sides together
    (random folds), `source` the site or corpus (leave-one-source-out)."""
    topics_dir = topics_dir or config.resolve_path("data/topics")
    gold = tc.gold_texts()
    relabels = load_relabels() if relabels is None else relabels
    rows: dict[str, dict] = {}      # dedupe key -> row (first seen wins the id / source)
    votes: dict[str, list[str]] = {}
    finals: dict[str, list[str]] = {}
    froms: dict[str, set[str]] = {}
    t_examples, t_votes, t_final = _topic_votes(topics_dir)
    for ex in t_examples:
        key = dedupe_key(ex["text"])
        rows.setdefault(key, {k: ex[k] for k in ("id", "pair_id", "lang", "text", "source", "corpus", "round")})
        side = (ex["pair_id"], ex["lang"])
        votes.setdefault(key, []).extend(t_votes.get(side, [ex["label"]]))
        finals.setdefault(key, []).append(t_final.get(side, ex["label"]))
        froms.setdefault(key, set()).add("topics")
    if use_claims:
        c_items, c_votes = _claims_votes()
        for it in c_items:
            key = dedupe_key(it["text"])
            label = it.get("topic") or "none"
            rows.setdefault(key, {"id": it["item_id"], "pair_id": it.get("pair_id") or it["item_id"],
                                  "lang": it["lang"], "text": it["text"], "source": it["source"],
                                  "corpus": "parallel" if it.get("pair_id") else "single-language",
                                  "round": "claims"})
            votes.setdefault(key, []).extend(c_votes.get(it["item_id"], [label]))
            finals.setdefault(key, []).append(label)
            froms.setdefault(key, set()).add("claims")
    out: list[dict] = []
    summary = Counter()
    for key, row in rows.items():
        if overlaps_gold_text(row["text"], gold):
            summary["left_out_gold_text"] += 1
            continue
        label = decide(votes[key], finals[key])
        if label is None:
            summary["left_out_split_votes"] += 1
            continue
        if len(set(finals[key])) > 1:
            summary["corpora_disagreed_resolved_by_votes"] += 1
        new = apply_relabel(row["text"], label, relabels)
        if new != label:
            label = new
            summary["boundary_relabels_applied"] += 1
        if label == "none":
            summary["no_policy_topic"] += 1
            continue
        n = len(votes[key])
        out.append({**row, "label": label, "labels_from": "+".join(sorted(froms[key])),
                    "votes": f"{sum(v == label for v in votes[key])}/{n}"})
    summary["rows"] = len(out)
    summary["distinct_texts"] = len(rows)
    return out, dict(summary)


def write(out: Path, **kwargs) -> dict[str, Any]:
    rows, summary = pooled_examples(**kwargs)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    summary["by_source"] = dict(Counter(r["source"] for r in rows).most_common())
    summary["by_lang"] = dict(Counter(r["lang"] for r in rows).most_common())
    summary["labels_from"] = dict(Counter(r["labels_from"] for r in rows).most_common())
    summary["out"] = str(out)
    return summary


def main(argv: list[str] | None = None) -> None:
    """python -m pipeline.corpora.topics_pooled OUT.jsonl: the default topic model's training table."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m pipeline.corpora.topics_pooled",
                                 description="data/topics and data/claims topic labels joined with their texts from "
                                             "../shared/data, one row per distinct text (majority label, codebook "
                                             "re-labels applied)")
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    res = write(args.out)
    print(json.dumps(res, ensure_ascii=False, indent=1))
    print(f"{res['rows']} labelled texts written to {res['out']}")


if __name__ == "__main__":
    main()
