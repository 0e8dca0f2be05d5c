"""Actor and target of claims, measured alone: leave-one-source-out with oracle detection (issue #13).

Why: `polclaims train claims` scores the role chooser (``pipeline/claims/roles.py``) only on the
claims its detector finds, after a 45-minute cross-validation. This harness isolates the roles: it
takes every candidate whose predicate overlaps a gold predicate (matched one-to-one with
``matching.match_spans``, as `polclaims evaluate claims` matches), trains the role chooser the way
``ClaimModel.fit`` does on the other sources' matched candidates (``ClaimModel.fit_roles``), applies
it to the held-out source (``apply_roles``) and compares the fields with the scorer's
``compare_fields`` (actor, actor_kind, target, target_lenient). The rules' fields of the same
candidates (``ClaimExtractor.fill``, what ``learn_roles = false`` gives) are scored beside.
Folds are the sources of ``fold_groups`` (small sites together), as in `polclaims train claims`.

Only the sentences that hold a gold predicate are read, from the parse cache (never parsed again:
a sentence missing from the cache is an error); a run takes a few minutes on 2 cores.

    python -m pipeline.training.claims_roles [--lang kk] [--errors N] [--json OUT] [--set model.role_C=0.5]
    python -m pipeline.training.claims_roles --set 'model.roles={}'     # the chooser before issue #13's changes
"""
from __future__ import annotations

import copy
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Sequence

from pipeline import config
from pipeline.claims.learned import CandidateRecord, ClaimModel, label_records
from pipeline.training.claims import CACHE_DIR

FIELDS = ("actor", "actor_kind", "target", "target_lenient")


def prepare(items: Sequence[dict], min_source_texts: int, cache_dir: Path | None = CACHE_DIR,
            parse: bool = False, role_options: dict | None = None) -> dict[str, Any]:
    """The candidates matched to gold claims, each with its gold claim and fold (`cache_dir` None:
    no parse cache, parse everything: tests)."""
    from pipeline.claims.matching import match_spans
    from pipeline.training.claims import analyse_items, fold_groups, gold_items_of

    records, _ = analyse_items(items, cache_dir=cache_dir, progress=parse and cache_dir is not None,
                               context=False, gold_sentences_only=True, parse=parse,
                               role_options=role_options)
    gold = gold_items_of(items)
    label_records(records, gold)          # what ClaimModel.fit's role rows are made of
    groups = fold_groups(items, min_source_texts)
    by_item: dict[str, list[CandidateRecord]] = defaultdict(list)
    for r in records:
        by_item[r.statement_id].append(r)
    rows = []
    for it in gold:                       # the scorer's one-to-one matching of predicate spans
        recs = by_item.get(it.item_id, [])
        pairs = match_spans([(g.start, g.end) if g.start is not None else None for g in it.claims],
                            [(r.start, r.end) for r in recs])
        for gi, ri in pairs:
            rows.append({"record": recs[ri], "gold": it.claims[gi], "group": groups[it.item_id], "lang": it.lang})
    return {"records": records, "rows": rows, "groups": groups, "n_gold": sum(len(g.claims) for g in gold)}


def _model(settings: dict | None) -> ClaimModel:
    from pipeline.training.claims import model_from_settings

    return model_from_settings(settings)


def run_fold(name: str, data: dict, settings: dict | None = None) -> dict[str, Any]:
    """Train the chooser on every other fold's matched candidates; fields of this fold's claims."""
    from pipeline.claims.roles import apply_roles

    t0 = time.time()
    train = [r for r in data["records"] if data["groups"][r.statement_id] != name]
    model = _model(settings)
    model.fit_roles([r.roles for r in train], [r.label for r in train],
                    [{"actor": r.gold_actor, "target": r.gold_target} for r in train],
                    langs=[r.lang for r in train], groups=[data["groups"][r.statement_id] for r in train])
    test = [row for row in data["rows"] if row["group"] == name]
    claims = [copy.copy(row["record"].claim) for row in test]
    if model.role_model_ is not None:
        apply_roles(model.role_model_, claims, [row["record"].roles for row in test], langs=[row["lang"] for row in test])
    return {"name": name, "claims": claims, "rows": test, "seconds": round(time.time() - t0, 1),
            "choice": getattr(model.role_model_, "use_", None) if hasattr(model.role_model_, "decided_") else None}


def score_rows(rows: Sequence[dict], claims: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Field accuracies (``compare_fields``) per language and overall."""
    from pipeline.evaluation.claims import compare_fields

    counts: dict[str, Counter] = defaultdict(Counter)
    for row, c in zip(rows, claims):
        ok = compare_fields(row["gold"], c)
        for key in (row["lang"], "all"):
            counts[key]["n"] += 1
            for f in FIELDS:
                counts[key][f] += ok[f]
    return {k: {"n": v["n"], **{f: round(v[f] / v["n"], 4) for f in FIELDS}} for k, v in sorted(counts.items())}


def _option_info(o: dict) -> dict[str, str]:
    f = o.get("f", {})
    get = lambda key: next((k.split("=", 1)[1] for k in f if k.startswith(key + "=")), "-")  # noqa: E731
    return {"dep": get("dep"), "path": get("path"), "case": get("case"), "variant": get("variant"), "pos": get("pos")}


def error_class(role: str, gold: str | None, pred: str | None, options: Sequence[dict]) -> str:
    """A coarse class of a wrong actor/target: what was expected against what was chosen."""
    from pipeline.claims.matching import norm_string
    from pipeline.claims.roles import gold_choice, jaccard

    if not gold:
        return "gold none, chose a phrase"
    if not pred:
        k = gold_choice(options, gold)
        return "gold phrase, chose none" + ("" if k else " (gold not among options)")
    if norm_string(gold) == norm_string(pred):
        return "right"
    k = gold_choice(options, gold)
    if k is None:
        return "other phrase (gold not among options)"
    if jaccard(options[k]["text"], pred) > 0 and options[k]["text"] != pred:
        return "same head, other span" if jaccard(gold, pred) >= 0.5 else "overlapping, other span"
    return "other phrase (gold among options)"


def errors(folds: Sequence[dict], role: str, lang: str, limit: int) -> dict[str, Any]:
    """Counts of error classes (and, for the wrong phrase, the gold option's relation), plus examples."""
    from pipeline.claims.matching import norm_string
    from pipeline.claims.roles import gold_choice

    classes, deps, examples = Counter(), Counter(), []
    for f in folds:
        for row, c in zip(f["rows"], f["claims"]):
            if row["lang"] != lang:
                continue
            gold, pred = getattr(row["gold"], role), getattr(c, role)
            if norm_string(gold) == norm_string(pred):
                continue
            opts = row["record"].roles[role]
            cls = error_class(role, gold, pred, opts)
            classes[cls] += 1
            k = gold_choice(opts, gold) if gold else None
            if k:
                deps[f"gold {_option_info(opts[k])['path']}"] += 1
            chosen = next((o for o in opts if o["text"] == pred), None) if pred else None
            if chosen is not None:
                deps[f"chose {_option_info(chosen)['path']}"] += 1
            if len(examples) < limit:
                examples.append({"class": cls, "gold": gold, "pred": pred, "rules": getattr(row["record"].claim, role),
                                 "predicate": row["gold"].predicate, "sentence": row["record"].claim.sentence})
    return {"classes": dict(classes.most_common()), "paths": dict(deps.most_common(25)), "examples": examples}


def ceiling(rows: Sequence[dict]) -> dict[str, dict[str, float]]:
    """How often an option (or "none") is right as the scorer counts it (actor exact, target
    lenient): the best any chooser of these options can do."""
    from pipeline.claims.roles import role_correct

    out: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        for role in ("actor", "target"):
            gold = getattr(row["gold"], role)
            out[row["lang"]][role] += any(role_correct(role, gold, o["text"]) for o in row["record"].roles[role])
        out[row["lang"]]["n"] += 1
    return {lg: {k: round(v / c["n"], 4) for k, v in c.items() if k != "n"} for lg, c in out.items()}


def run(items: Sequence[dict], settings: dict | None = None, jobs: int = 1, error_examples: int = 0,
        cache_dir: Path | None = CACHE_DIR, parse: bool = False) -> dict[str, Any]:
    from joblib import Parallel, delayed

    settings = settings or config.load("claims/model")
    mst = int(settings.get("cv", {}).get("min_source_texts", 60))
    t0 = time.time()
    data = prepare(items, mst, cache_dir=cache_dir, parse=parse,
                   role_options=settings.get("model", {}).get("roles", {}))
    t_prep = time.time() - t0
    names = sorted({row["group"] for row in data["rows"]})
    folds = Parallel(n_jobs=jobs)(delayed(run_fold)(n, data, settings) for n in names)
    rows = [row for f in folds for row in f["rows"]]
    learned = score_rows(rows, [c for f in folds for c in f["claims"]])
    rules = score_rows(rows, [row["record"].claim for row in rows])
    out = {"matched": len(rows), "gold": data["n_gold"], "folds": names, "learned": learned, "rules": rules,
           "ceiling": ceiling(rows), "choices": {f["name"]: f["choice"] for f in folds if f["choice"]},
           "seconds": {"prepare": round(t_prep, 1), "folds": round(time.time() - t0 - t_prep, 1)}}
    if error_examples >= 0:
        out["errors"] = {f"{role}/{lg}": errors(folds, role, lg, error_examples)
                         for role in ("actor", "target") for lg in sorted(learned) if lg != "all"}
    return out


def table(res: dict) -> str:
    p = lambda x: "–" if x is None else f"{100 * x:.1f}"  # noqa: E731
    lines = [f"Roles, leave-one-source-out, oracle detection ({res['matched']} gold claims matched to a candidate "
             f"of {res['gold']}):", "", "| lang | n | " + " | ".join(f"{f} learned | {f} rules" for f in FIELDS) + " |",
             "|---|---|" + "---|---|" * len(FIELDS)]
    for lg in res["learned"]:
        L, R = res["learned"][lg], res["rules"][lg]
        lines.append(f"| {lg} | {L['n']} | " + " | ".join(f"{p(L[f])} | {p(R[f])}" for f in FIELDS) + " |")
    lines += ["", "An option is right (the ceiling of any chooser; actor exact, target lenient): " + "; ".join(
        f"{lg} actor {p(v['actor'])}, target {p(v['target'])}" for lg, v in sorted(res["ceiling"].items()))]
    return "\n".join(lines)


def _set(settings: dict, assignment: str) -> None:
    """`a.b.c=value` (value parsed as TOML when it can be) into the nested settings."""
    import tomllib

    key, _, raw = assignment.partition("=")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    *path, last = key.split(".")
    d = settings
    for k in path:
        d = d.setdefault(k, {})
    d[last] = value


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m pipeline.training.claims_roles", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lang", choices=("kk", "ru"), help="only this language's texts (train and test)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--errors", type=int, default=-1, metavar="N",
                    help="also count error classes per role and language, with N examples each")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override configs/claims/model.toml, e.g. model.role_C=1.0 (repeatable)")
    ap.add_argument("--json", type=Path, help="write the full result here")
    ap.add_argument("--parse", action="store_true", help="parse sentences missing from the cache (slow)")
    args = ap.parse_args(argv)
    from pipeline.corpora import claims as corpus
    from pipeline.nlp import quiet_libraries

    quiet_libraries()
    items, problems = corpus.items()
    for pr in problems:
        print(f"skipped {pr['item_id']}: {pr['reason']}")
    if args.lang:
        items = [it for it in items if it["lang"] == args.lang]
    settings = config.load("claims/model")
    for a in args.set:
        _set(settings, a)
    res = run(items, settings, jobs=args.jobs, error_examples=args.errors, parse=args.parse)
    print(table(res))
    if res["choices"]:
        print("\nRules or learned per role and language, chosen inside each fold: " + json.dumps(res["choices"], ensure_ascii=False))
    if "errors" in res:
        for key, e in res["errors"].items():
            print(f"\nErrors {key}: " + json.dumps(e["classes"], ensure_ascii=False))
            print("  paths: " + json.dumps(e["paths"], ensure_ascii=False))
            for x in e["examples"]:
                print(f"  [{x['class']}] gold {x['gold']!r} | learned {x['pred']!r} | rules {x['rules']!r} | "
                      f"pred {x['predicate']!r} | {x['sentence'][:160]}")
    print(f"\n({res['seconds']['prepare']} s reading, {res['seconds']['folds']} s folds)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({k: v for k, v in res.items()}, ensure_ascii=False, indent=1, default=str) + "\n",
                             encoding="utf-8")


if __name__ == "__main__":
    main()
