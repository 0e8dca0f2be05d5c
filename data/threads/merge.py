"""Third-opinion batches and the merged gold of the promise-thread annotation.

    python data/threads/merge.py third BATCH_DIR   # third-NN.jsonl / third-dates-NN.jsonl: disagreements only
    python data/threads/merge.py merge BATCH_DIR   # pairs.jsonl, dates_gold.jsonl, annotations.jsonl, stats.json

BATCH_DIR holds the batches (``batch-NN.jsonl``, ``dates-NN.jsonl``) and ``out/`` the annotators'
files ``out/<annotator>-<batch>.jsonl``. Every batch was labelled by two annotators independently;
the pairs (or date texts) where they disagree went, without their labels, to a third. The majority
is kept; agreement of the first two (Cohen's kappa on same/not same, exact agreement on the dates)
is reported in ``stats.json``. A line an annotator got wrong (unknown id, ``same`` not a boolean, a
date not in ISO form) counts as no label from that annotator and is listed.
"""
from __future__ import annotations

import collections
import datetime as _dt
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                rows.append(json.loads(line))
            except ValueError:
                rows.append({"_bad": line[:80]})
    return rows


def _valid_date(d) -> bool:
    if not isinstance(d, str) or not ISO.match(d):
        return False
    try:
        _dt.date.fromisoformat(d)
        return True
    except ValueError:
        return False


def labels(batch_dir: Path, batch: str, kind: str, problems: list) -> dict[str, dict[str, object]]:
    """annotator -> id -> label (bool for pairs, sorted tuple of dates for dates) for one batch."""
    key = "pair_id" if kind == "pairs" else "item_id"
    ids = {r[key] for r in read_jsonl(batch_dir / f"{batch}.jsonl")}
    out: dict[str, dict[str, object]] = {}
    for f in sorted((batch_dir / "out").glob(f"*-{batch}.jsonl")):
        if not batch.startswith("third") and "-third-" in f.name:
            continue  # "C-third-dates-01.jsonl" is not an annotation of "dates-01"
        ann = f.name[: -len(f"-{batch}.jsonl")]
        got: dict[str, object] = {}
        for r in read_jsonl(f):
            rid = r.get(key)
            if rid not in ids:
                problems.append(f"{f.name}: unknown or missing id {rid!r}")
                continue
            if kind == "pairs":
                if not isinstance(r.get("same"), bool):
                    problems.append(f"{f.name}: {rid}: same is not a boolean")
                    continue
                got[rid] = r["same"]
            else:
                dates = r.get("dates")
                if not isinstance(dates, list) or not all(_valid_date(d) for d in dates):
                    problems.append(f"{f.name}: {rid}: dates not a list of ISO dates")
                    continue
                got[rid] = tuple(sorted(dates))
        out[ann] = got
    return out


def batches(batch_dir: Path, prefix: str) -> list[str]:
    return sorted(p.stem for p in batch_dir.glob(f"{prefix}-[0-9][0-9].jsonl"))


def first_two(anns: dict[str, dict]) -> list[str]:
    """The two independent annotators of a batch: every annotator but the third-opinion one, in name order."""
    names = sorted(a for a in anns if not a.startswith("third"))
    return names[:2]


def third(batch_dir: Path) -> None:
    """Disagreements not yet sent to a third annotator, in new files numbered after the existing
    ones (a later round never rewrites a file a third annotator may be working on)."""
    problems: list[str] = []
    for kind, prefix, key, third_prefix in (("pairs", "batch", "pair_id", "third"), ("dates", "dates", "item_id", "third-dates")):
        done = {r[key] for b in batches(batch_dir, third_prefix) for r in read_jsonl(batch_dir / f"{b}.jsonl")}
        first = len(batches(batch_dir, third_prefix)) + 1
        disagree = []
        for b in batches(batch_dir, prefix):
            anns = labels(batch_dir, b, kind, problems)
            two = first_two(anns)
            if len(two) < 2:
                print(f"{b}: {len(two)} annotation(s) so far, skipped", file=sys.stderr)
                continue
            rows = read_jsonl(batch_dir / f"{b}.jsonl")
            x, y = anns[two[0]], anns[two[1]]
            disagree += [r for r in rows if (r[key] not in x or r[key] not in y or x[r[key]] != y[r[key]])
                         and r[key] not in done]
        for n, start in enumerate(range(0, len(disagree), 100), start=first):
            with open(batch_dir / f"{third_prefix}-{n:02d}.jsonl", "w", encoding="utf-8") as fh:
                for r in disagree[start:start + 100]:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{kind}: {len(disagree)} to a third annotator")
    for p in problems:
        print("problem:", p, file=sys.stderr)


def kappa(pairs: list[tuple[object, object]]) -> float | None:
    n = len(pairs)
    if not n:
        return None
    po = sum(a == b for a, b in pairs) / n
    ca = collections.Counter(a for a, _ in pairs)
    cb = collections.Counter(b for _, b in pairs)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return round((po - pe) / (1 - pe), 3) if pe < 1 else None


def merge(batch_dir: Path) -> dict:
    problems: list[str] = []
    third_labels: dict[str, dict[str, object]] = {}
    for kind, prefix in (("pairs", "third"), ("dates", "third-dates")):
        for b in batches(batch_dir, prefix):
            for ann, got in labels(batch_dir, b, kind, problems).items():
                third_labels.setdefault(kind, {}).update(got)
    stats: dict = {}
    annotations = []
    for kind, prefix, key, sel_name, out_name in (
            ("pairs", "batch", "pair_id", "selection.jsonl", "pairs.jsonl"),
            ("dates", "dates", "item_id", "dates_selection.jsonl", "dates_gold.jsonl")):
        selection = {r[key]: r for name in [sel_name] + [sel_name.replace(".jsonl", f"_r{k}.jsonl") for k in range(2, 10)]
                     if (HERE / name).exists() for r in read_jsonl(HERE / name)}
        agree_pairs: list[tuple[object, object]] = []
        per_lang = collections.defaultdict(list)
        merged, undecided = [], []
        for b in batches(batch_dir, prefix):
            anns = labels(batch_dir, b, kind, problems)
            two = first_two(anns)
            for r in read_jsonl(batch_dir / f"{b}.jsonl"):
                rid = r[key]
                votes = {a: anns[a][rid] for a in two if rid in anns[a]}
                for a, v in votes.items():
                    annotations.append({"kind": kind, "id": rid, "annotator": a, "label": v})
                if len(votes) == 2:
                    va, vb = votes.values()
                    agree_pairs.append((va, vb))
                    per_lang[selection[rid]["lang"]].append((va, vb))
                tv = third_labels.get(kind, {}).get(rid)
                if tv is not None:
                    votes["third"] = tv
                    annotations.append({"kind": kind, "id": rid, "annotator": "third", "label": tv})
                count = collections.Counter(votes.values())
                top, n = count.most_common(1)[0] if count else (None, 0)
                if n < 2:
                    undecided.append(rid)
                    continue
                rec = dict(selection[rid])
                if kind == "pairs":
                    rec["same"] = bool(top)
                else:
                    rec["dates"] = list(top)
                rec["votes"] = len(votes)
                rec["agreement"] = n
                merged.append(rec)
        with open(HERE / out_name, "w", encoding="utf-8") as fh:
            for rec in sorted(merged, key=lambda r: r[key]):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        s = {"items": len(merged), "undecided": len(undecided), "double_labelled": len(agree_pairs),
             "raw_agreement": round(sum(a == b for a, b in agree_pairs) / len(agree_pairs), 3) if agree_pairs else None}
        if kind == "pairs":
            s["kappa"] = kappa(agree_pairs)
            s["kappa_by_lang"] = {k: kappa(v) for k, v in sorted(per_lang.items())}
            s["same"] = sum(1 for r in merged if r["same"])
            s["same_by_stratum"] = dict(collections.Counter(r["stratum"] for r in merged if r["same"]))
            s["pairs_by_stratum"] = dict(collections.Counter(r["stratum"] for r in merged))
        else:
            s["raw_agreement_by_lang"] = {k: round(sum(a == b for a, b in v) / len(v), 3) for k, v in sorted(per_lang.items())}
            s["dates"] = sum(len(r["dates"]) for r in merged)
        stats[kind] = s
    with open(HERE / "annotations.jsonl", "w", encoding="utf-8") as fh:
        for a in annotations:
            lab = list(a["label"]) if isinstance(a["label"], tuple) else a["label"]
            fh.write(json.dumps({**a, "label": lab}, ensure_ascii=False) + "\n")
    stats["problems"] = problems
    (HERE / "stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return stats


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("third", "merge"):
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    d = Path(sys.argv[2])
    if sys.argv[1] == "third":
        third(d)
    else:
        print(json.dumps(merge(d), ensure_ascii=False, indent=1))
