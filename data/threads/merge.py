"""Third-opinion batches and the merged gold of the promise-thread annotation.

    python data/threads/merge.py third BATCH_DIR   # third-NN.jsonl / third-dates-NN.jsonl: disagreements only
    python data/threads/merge.py merge BATCH_DIR   # pairs.jsonl, dates_gold.jsonl, annotations.jsonl, stats.json
    python data/threads/merge.py merge BATCH_DIR --add   # keep the gold of earlier rounds, add this batch dir's

Without ``--add`` the gold files are rebuilt from BATCH_DIR alone (every round's batches in one dir).
With it the existing rows of pairs.jsonl / dates_gold.jsonl / annotations.jsonl are kept and BATCH_DIR's
are added (a new round; an id already judged is an error, nothing written); stats.json is recomputed
over all annotations, with kappa and counts per round (``pairs.by_round``, round from the selection).

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


SOURCES = (("pairs", "batch", "pair_id", "selection.jsonl", "pairs.jsonl"),
           ("dates", "dates", "item_id", "dates_selection.jsonl", "dates_gold.jsonl"))


def selections(here: Path, sel_name: str, key: str) -> dict[str, dict]:
    """Every drawn record of every round: ``selection.jsonl`` (round 1), ``selection_r2.jsonl`` …"""
    names = [sel_name] + [sel_name.replace(".jsonl", f"_r{k}.jsonl") for k in range(2, 10)]
    return {r[key]: r for name in names if (here / name).exists() for r in read_jsonl(here / name)}


def merge_batches(batch_dir: Path, here: Path, problems: list) -> tuple[dict[str, list], list[dict]]:
    """Majority labels of one batch dir: kind -> merged records, and every annotator's label."""
    third_labels: dict[str, dict[str, object]] = {}
    for kind, prefix in (("pairs", "third"), ("dates", "third-dates")):
        for b in batches(batch_dir, prefix):
            for ann, got in labels(batch_dir, b, kind, problems).items():
                third_labels.setdefault(kind, {}).update(got)
    annotations: list[dict] = []
    out: dict[str, list] = {}
    for kind, prefix, key, sel_name, _ in SOURCES:
        selection = selections(here, sel_name, key)
        merged = []
        for b in batches(batch_dir, prefix):
            anns = labels(batch_dir, b, kind, problems)
            two = first_two(anns)
            for r in read_jsonl(batch_dir / f"{b}.jsonl"):
                rid = r[key]
                if rid not in selection:
                    raise ValueError(f"{b}.jsonl: {rid!r} is in no {sel_name.replace('.jsonl', '*.jsonl')} of {here}")
                votes = {a: anns[a][rid] for a in two if rid in anns[a]}
                for a, v in votes.items():
                    annotations.append({"kind": kind, "id": rid, "annotator": a, "label": v})
                tv = third_labels.get(kind, {}).get(rid)
                if tv is not None:
                    votes["third"] = tv
                    annotations.append({"kind": kind, "id": rid, "annotator": "third", "label": tv})
                count = collections.Counter(votes.values())
                top, n = count.most_common(1)[0] if count else (None, 0)
                if n < 2:
                    continue   # undecided: counted in the stats from the annotations
                rec = dict(selection[rid])
                if kind == "pairs":
                    rec["same"] = bool(top)
                else:
                    rec["dates"] = list(top)
                rec["votes"] = len(votes)
                rec["agreement"] = n
                merged.append(rec)
        out[kind] = merged
    return out, annotations


def _agreement(labels_by_id: dict[str, list], ids) -> list[tuple[object, object]]:
    return [tuple(labels_by_id[i]) for i in ids if len(labels_by_id.get(i, ())) == 2]


def compute_stats(annotations: list[dict], merged: dict[str, list], here: Path, problems: list) -> dict:
    """Counts and agreement over every annotation in `annotations` (all rounds in the files)."""
    stats: dict = {}
    for kind, _, key, sel_name, _ in SOURCES:
        selection = selections(here, sel_name, key)
        rows = merged.get(kind, [])
        first: dict[str, list] = collections.defaultdict(list)   # id -> labels of the first two annotators
        thirds: set[str] = set()
        for a in annotations:
            if a["kind"] != kind:
                continue
            lab = tuple(a["label"]) if isinstance(a["label"], list) else a["label"]
            if a["annotator"] == "third":
                thirds.add(a["id"])
            else:
                first[a["id"]].append(lab)
        judged = set(first) | thirds
        gold_ids = {r[key] for r in rows}
        agree = _agreement(first, sorted(first))
        per_lang = collections.defaultdict(list)
        for i in sorted(first):
            if len(first[i]) == 2:
                per_lang[selection[i]["lang"]].append(tuple(first[i]))
        raw = lambda v: round(sum(a == b for a, b in v) / len(v), 3) if v else None  # noqa: E731
        s = {"items": len(rows), "undecided": len(judged - gold_ids), "double_labelled": len(agree),
             "raw_agreement": raw(agree)}
        if kind == "pairs":
            s["kappa"] = kappa(agree)
            s["kappa_by_lang"] = {k: kappa(v) for k, v in sorted(per_lang.items())}
            s["same"] = sum(1 for r in rows if r["same"])
            s["same_by_stratum"] = dict(collections.Counter(r["stratum"] for r in rows if r["same"]))
            s["pairs_by_stratum"] = dict(collections.Counter(r["stratum"] for r in rows))
            s["third_opinions"] = len(thirds)
            by_round = {}
            for rnd in sorted({r.get("round", 1) for r in rows} | {selection[i].get("round", 1) for i in judged}):
                ids = {i for i in judged if selection[i].get("round", 1) == rnd}
                rr = [r for r in rows if r.get("round", 1) == rnd]
                ag = _agreement(first, sorted(ids))
                by_round[str(rnd)] = {"items": len(rr), "same": sum(1 for r in rr if r["same"]),
                                      "same_by_lang": dict(sorted(collections.Counter(r["lang"] for r in rr if r["same"]).items())),
                                      "double_labelled": len(ag), "raw_agreement": raw(ag), "kappa": kappa(ag),
                                      "disagreed": sum(1 for a, b in ag if a != b), "third_opinions": len(ids & thirds),
                                      "undecided": len(ids - gold_ids)}
            s["by_round"] = by_round
        else:
            s["raw_agreement_by_lang"] = {k: raw(v) for k, v in sorted(per_lang.items())}
            s["dates"] = sum(len(r["dates"]) for r in rows)
        stats[kind] = s
    stats["problems"] = problems
    return stats


def _write(here: Path, merged: dict[str, list], annotations: list[dict], stats: dict) -> None:
    for kind, _, key, _, out_name in SOURCES:
        with open(here / out_name, "w", encoding="utf-8") as fh:
            for rec in sorted(merged[kind], key=lambda r: r[key]):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with open(here / "annotations.jsonl", "w", encoding="utf-8") as fh:
        for a in annotations:
            lab = list(a["label"]) if isinstance(a["label"], tuple) else a["label"]
            fh.write(json.dumps({**a, "label": lab}, ensure_ascii=False) + "\n")
    (here / "stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def merge(batch_dir: Path, add: bool = False, here: Path = HERE) -> dict:
    """Rebuild the gold files of `here` from `batch_dir` alone, or with `add` keep every row of the
    existing gold files and annotations and add those of `batch_dir` (a new round; an id already in
    the gold is an error and nothing is written). The stats are recomputed over all annotations."""
    here = Path(here)
    problems: list[str] = []
    new, new_ann = merge_batches(Path(batch_dir), here, problems)
    if not add:
        merged, annotations = new, new_ann
    else:
        merged, annotations = {}, []
        if (here / "annotations.jsonl").exists():
            annotations = read_jsonl(here / "annotations.jsonl")
        old_problems = []
        if (here / "stats.json").exists():
            old_problems = json.loads((here / "stats.json").read_text(encoding="utf-8")).get("problems", [])
        for kind, _, key, _, out_name in SOURCES:
            old = read_jsonl(here / out_name) if (here / out_name).exists() else []
            bad = [r for r in old + annotations if "_bad" in r]
            if bad:
                raise ValueError(f"{here}: a line that is not JSON: {bad[0]['_bad']!r}")
            judged = {r[key] for r in old} | {a["id"] for a in annotations if a["kind"] == kind}
            clash = sorted({r[key] for r in new[kind]} | {a["id"] for a in new_ann if a["kind"] == kind})
            clash = [i for i in clash if i in judged]
            if clash:
                raise ValueError(f"--add: {len(clash)} {kind} of {batch_dir} already in the gold of {here} "
                                 f"(first: {clash[0]}); --add only adds new ones")
            merged[kind] = old + new[kind]
        annotations = annotations + new_ann
        problems = old_problems + problems
    stats = compute_stats(annotations, merged, here, problems)
    _write(here, merged, annotations, stats)
    return stats


if __name__ == "__main__":
    args = sys.argv[1:]
    add = "--add" in args
    args = [a for a in args if a != "--add"]
    if len(args) != 2 or args[0] not in ("third", "merge") or (add and args[0] != "merge"):
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    d = Path(args[1])
    if args[0] == "third":
        third(d)
    else:
        try:
            print(json.dumps(merge(d, add=add), ensure_ascii=False, indent=1))
        except ValueError as e:
            print(f"merge: {e}", file=sys.stderr)
            raise SystemExit(1)
