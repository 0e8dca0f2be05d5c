"""Experiment: does a small torch model over the sentence context beat the claim LR? (issue #13)

Compares, on the leave-one-source-out folds of `polclaims train claims` (same candidates, same
fold names, same scorer), three deciders of the candidates:

  (a) ``lr``: the shipped logistic regression (``ClaimModel``'s type classifier; its P(none)
      threshold tuned, as ``ClaimModel.fit`` does, on out-of-fold probabilities of 4 source-grouped
      folds inside the training sources);
  (b) ``ctx``: ``pipeline.claims.context.ContextClaimNet`` (BiLSTM over the sentence), its threshold
      tuned the same way on the same inner folds;
  (c) ``stack``: w * P(ctx) + (1 - w) * P(lr), w and the threshold chosen on the same inner
      out-of-fold probabilities (never on the held-out source, dev or seed gold).

    python -m pipeline.training.claims_context run [--inner 4] [--inner-ctx 2] [--jobs 2] [--only SOURCE ...]

Writes build/claims_context/result.json and prints the P/R/F1 table (detection by predicate-span
overlap, `pipeline.evaluation.claims.score`, per language and overall; typed F1 too).
"""
from __future__ import annotations

import copy
import json
import pickle
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pipeline.claims.context import LABELS, CandidateInput, ContextClaimNet, SentenceTokens, sentence_tokens
from pipeline.claims.learned import best_threshold, in_label_order

OUT = Path("build/claims_context")
WEIGHTS = np.round(np.arange(0.0, 1.01, 0.1), 2)


def prepare(items: Sequence[dict], cache: Path | None = OUT / "prep.pkl", min_source_texts: int | None = None
            ) -> dict[str, Any]:
    """Candidate records (the LR's features), each candidate's context input, labels and folds."""
    from pipeline import config
    from pipeline.training.claims import analyse_items, fold_groups, gold_items_of
    from pipeline.claims.learned import label_records

    if cache is not None and cache.exists():
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    sents: dict[tuple[str, int], SentenceTokens] = {}

    def keep(it, s, doc, recs):
        sents[(s.statement_id, s.index)] = sentence_tokens(s.lang, doc)

    records, _rules = analyse_items(items, on_sentence=keep)
    gold = gold_items_of(items)
    label_records(records, gold)
    mst = min_source_texts or int(config.load("claims/model").get("cv", {}).get("min_source_texts", 60))
    groups = fold_groups(items, mst)
    for r in records:   # keep what the comparison needs (roles are not part of it)
        r.roles = None
    ctx = [CandidateInput(sents[(r.statement_id, r.sentence_index)], r.words, r.main, r.rule,
                          float(r.features.get("rule_conf", 0.0))) for r in records]
    data = {"records": records, "ctx": ctx, "y": [r.label for r in records],
            "groups": [groups[r.statement_id] for r in records], "items": items, "item_groups": groups}
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(cache, "wb") as fh:
            pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return data


def _labels(proba: np.ndarray, t: float) -> np.ndarray:
    """ClaimModel.labels_from_proba over LABELS columns: "none" unless P(none) < t."""
    best = proba[:, 1:].argmax(1) + 1
    return np.where(proba[:, 0] >= t, 0, best)


def _best_threshold(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """ClaimModel's threshold choice over LABELS columns (y: label indices, 0 = none)."""
    return best_threshold(proba[:, 0], y != 0)


def _lr(settings=None):
    from pipeline.training.claims import model_from_settings

    m = model_from_settings(settings)
    return m._pipe(m.C)


def ctx_model(settings: dict | None = None) -> ContextClaimNet:
    from pipeline import config

    s = (settings or config.load("claims/model")).get("model", {}).get("context", {})
    return ContextClaimNet(**{k: v for k, v in s.items() if k not in ("use", "weight", "inner_folds")})


def run_fold(name: str, data: dict, inner: int = 4, ctx_settings: dict | None = None, inner_ctx: int | None = None
             ) -> dict[str, Any]:
    """One held-out source: inner out-of-fold probabilities of both models (source-grouped folds of
    the training part) choose thresholds and the stacking weight; then both are fitted on the
    whole training part and score the held-out source."""
    import torch
    from sklearn.model_selection import GroupKFold

    torch.set_num_threads(1)
    t0 = time.time()
    groups = np.array(data["groups"])
    y = np.array([LABELS.index(v) for v in data["y"]])
    tr = np.where(groups != name)[0]
    te = np.where(groups == name)[0]
    feats = [r.features for r in data["records"]]
    ctx = data["ctx"]
    oof_lr = np.zeros((len(tr), len(LABELS)))
    oof_cx = np.zeros((len(tr), len(LABELS)))
    g_tr = groups[tr]
    n_groups = len(set(g_tr))
    if n_groups < 2:
        raise ValueError(f"fold {name}: the training part has {n_groups} source group(s); inner folds need 2")
    for itr, ite in GroupKFold(n_splits=min(inner, n_groups)).split(tr, y[tr], g_tr):
        a, b = tr[itr], tr[ite]
        m = _lr().fit([feats[i] for i in a], [data["y"][i] for i in a])
        oof_lr[ite] = in_label_order(m.classes_, m.predict_proba([feats[i] for i in b]))
    for itr, ite in GroupKFold(n_splits=min(inner_ctx or inner, n_groups)).split(tr, y[tr], g_tr):
        a, b = tr[itr], tr[ite]
        c = ctx_model(ctx_settings).fit([ctx[i] for i in a], [data["y"][i] for i in a])
        oof_cx[ite] = c.predict_proba([ctx[i] for i in b])
    t_lr, _ = _best_threshold(oof_lr, y[tr])
    t_cx, _ = _best_threshold(oof_cx, y[tr])
    best = (-1.0, 0.5, 0.5)
    for w in WEIGHTS:
        t, f = _best_threshold(w * oof_cx + (1 - w) * oof_lr, y[tr])
        if f > best[0]:
            best = (f, float(w), t)
    m = _lr().fit([feats[i] for i in tr], [data["y"][i] for i in tr])
    p_lr = in_label_order(m.classes_, m.predict_proba([feats[i] for i in te]))
    c = ctx_model(ctx_settings).fit([ctx[i] for i in tr], [data["y"][i] for i in tr])
    p_cx = c.predict_proba([ctx[i] for i in te])
    return {"name": name, "te": te, "p_lr": p_lr, "p_cx": p_cx, "t_lr": t_lr, "t_cx": t_cx,
            "w": best[1], "t_stack": best[2], "seconds": round(time.time() - t0, 1)}


def _claims(records, idx: np.ndarray, labels: np.ndarray, proba: np.ndarray) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for i, lab, row in zip(idx, labels, proba):
        if lab == 0:
            continue
        c = copy.copy(records[i].claim)
        c.type = LABELS[lab]
        c.confidence = float(row[lab])
        out[records[i].statement_id].append(c)
    return out


def evaluate(data: dict, folds: Sequence[dict]) -> dict[str, Any]:
    from pipeline.evaluation.claims import score
    from pipeline.training.claims import gold_items_of

    held_groups = {f["name"] for f in folds}
    gold = [g for g in gold_items_of(data["items"]) if data["item_groups"][g.item_id] in held_groups]
    variants = {
        "lr": lambda f: (f["p_lr"], f["t_lr"]),
        "ctx": lambda f: (f["p_cx"], f["t_cx"]),
        "stack": lambda f: (f["w"] * f["p_cx"] + (1 - f["w"]) * f["p_lr"], f["t_stack"]),
        "mean": lambda f: (0.5 * f["p_cx"] + 0.5 * f["p_lr"], f["t_stack"]),
    }
    res: dict[str, Any] = {}
    for name, get in variants.items():
        pred: dict[str, list] = defaultdict(list)
        for f in folds:
            p, t = get(f)
            for k, v in _claims(data["records"], f["te"], _labels(p, t), p).items():
                pred[k].extend(v)
        s = score(gold, pred, text_langs=False)
        keep = ("gold", "pred", "precision", "recall", "f1")
        res[name] = {"all": {k: s["detection"]["all"][k] for k in keep},
                     "by_lang": {lg: {k: v[k] for k in keep} for lg, v in s["detection"]["by_lang"].items()},
                     "typed_f1": s["detection_typed"]["all"]["f1"]}
    res["folds"] = [{k: f[k] for k in ("name", "t_lr", "t_cx", "w", "t_stack", "seconds")} for f in folds]
    return res


def _p(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def table(res: dict) -> str:
    lines = ["| decider | lang | gold | predicted | P | R | F1 | typed F1 |", "|---|---|---|---|---|---|---|---|"]
    for name in ("lr", "ctx", "stack", "mean"):
        r = res[name]
        for lg in ("kk", "ru"):
            if lg in r["by_lang"]:
                v = r["by_lang"][lg]
                lines.append(f"| {name} | {lg} | {v['gold']} | {v['pred']} | {_p(v['precision'])} | "
                             f"{_p(v['recall'])} | {_p(v['f1'])} | |")
        v = r["all"]
        lines.append(f"| {name} | all | {v['gold']} | {v['pred']} | {_p(v['precision'])} | {_p(v['recall'])} | "
                     f"{_p(v['f1'])} | {_p(r['typed_f1'])} |")
    return "\n".join(lines)


_JOB: tuple = ()


def _warm() -> None:
    """Load what every fold needs once, before forking: the vector tables, their PCA, torch's
    optimiser modules (their first import takes ~20 s)."""
    import torch

    from pipeline.claims.vectors import _pca, _table

    for lang in ("kk", "ru"):
        _table(lang)
    s = config_model().get("model", {}).get("vectors", {})
    if s.get("use"):
        for lang in ("kk", "ru"):
            _pca(lang, int(s.get("dims", 64)))
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def config_model() -> dict:
    from pipeline import config

    return config.load("claims/model")


def _one(name: str) -> dict[str, Any]:
    data, done_dir, inner, ctx_settings, inner_ctx = _JOB
    path = done_dir / f"{name}.pkl"
    if path.exists():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    f = run_fold(name, data, inner=inner, ctx_settings=ctx_settings, inner_ctx=inner_ctx)
    with open(path, "wb") as fh:
        pickle.dump(f, fh)
    print(f"  fold {name}: {f['seconds']} s  t_lr {f['t_lr']} t_cx {f['t_cx']} w {f['w']} t {f['t_stack']}", flush=True)
    return f


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m pipeline.training.claims_context")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="leave-one-source-out comparison of LR, context net and their stack")
    r.add_argument("--inner", type=int, default=4, help="source-grouped inner folds (thresholds, stacking weight)")
    r.add_argument("--inner-ctx", type=int, default=None,
                   help="inner folds for the context net's out-of-fold probabilities (default: --inner)")
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--only", nargs="*", help="only these held-out folds (quick looks)")
    r.add_argument("--epochs", type=int, default=None)
    r.add_argument("--out", type=Path, default=OUT / "result.json")
    args = ap.parse_args(argv)
    from pipeline.corpora import claims as corpus
    from pipeline.nlp import quiet_libraries

    quiet_libraries()
    items, problems = corpus.items()
    t0 = time.time()
    data = prepare(items)
    print(f"{len(data['records'])} candidates prepared in {time.time() - t0:.0f} s", flush=True)
    ctx_settings = None
    if args.epochs:
        from pipeline import config

        ctx_settings = config.load("claims/model")
        m = ctx_settings.get("model", {})
        ctx_settings = {**ctx_settings, "model": {**m, "context": {**m.get("context", {}), "epochs": args.epochs}}}
    names = sorted(set(data["groups"]))
    if args.only:
        names = [n for n in names if n in args.only]
    done_dir = args.out.parent / (args.out.stem + "_folds")
    done_dir.mkdir(parents=True, exist_ok=True)

    global _JOB
    _JOB = (data, done_dir, args.inner, ctx_settings, args.inner_ctx)
    _warm()
    big_first = sorted(names, key=lambda n: -data["groups"].count(n))
    import multiprocessing as mp

    if args.jobs > 1:   # forked workers share the prepared data (no pickling of 24k records per fold)
        with mp.get_context("fork").Pool(args.jobs) as pool:
            folds = list(pool.imap_unordered(_one, big_first))
    else:
        folds = [_one(n) for n in big_first]
    res = evaluate(data, folds)
    import sys

    res["command"] = "python -m pipeline.training.claims_context " + " ".join(argv if argv is not None else sys.argv[1:])
    res["ctx_settings"] = {k: v for k, v in vars(ctx_model(ctx_settings)).items() if not k.endswith("_")}
    res["inner"], res["inner_ctx"] = args.inner, args.inner_ctx or args.inner
    args.out.write_text(json.dumps(res, indent=1, default=str) + "\n", encoding="utf-8")
    print(table(res))


if __name__ == "__main__":
    main()
