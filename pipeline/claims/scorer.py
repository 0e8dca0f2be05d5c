"""A learned claim scorer: the rule-based extractor proposes claims, a classifier trained on gold
claims says how likely each one is a real claim; `process` can drop those below a threshold.

Why a re-scorer and not a second extractor: the rules already find most gold claims (recall
~87 % on dev); their errors are mostly false positives of a few kinds (procedural passives,
reported obligations of third parties) which show in the predicate, the rule's confidence and
the sentence. The scorer is a picklable scikit-learn Pipeline over one dict per candidate.

`polclaims train claims GOLD...` runs the rules over the gold texts, labels each candidate by
whether it matches a gold claim (same predicate span matching as `evaluate claims`), and
reports on held-out folds (grouped by `pair_id`) whether rules + scorer beat rules alone.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from pipeline import config
from pipeline.records import Claim


# ---- features (module-level functions, so the Pipeline pickles) ---------------------------
def claim_features(c: Claim | dict) -> dict[str, Any]:
    g = (lambda k, d=None: c.get(k, d)) if isinstance(c, dict) else (lambda k, d=None: getattr(c, k, d))
    sentence = g("sentence") or ""
    qs = g("quantities") or []
    words = sentence.split()
    return {
        "type=" + str(g("type")): 1, "lang=" + str(g("lang")): 1,
        "polarity=" + str(g("polarity")): 1, "tense=" + str(g("tense")): 1,
        "actor_kind=" + str(g("actor_kind")): 1,
        "type_lang=" + f"{g('type')}_{g('lang')}": 1,
        "lemma=" + str(g("predicate_lemma") or "").lower(): 1,
        "has_actor": int(bool(g("actor"))), "has_target": int(bool(g("target"))),
        "n_quantities": min(len(qs), 3), "confidence": float(g("confidence") or 0.0),
        "question": int(sentence.rstrip().endswith("?")),
        "long_sentence": int(len(words) > 40), "short_sentence": int(len(words) < 6),
    }


def feature_dicts(claims: Sequence[Any]) -> list[dict]:
    return [claim_features(c) for c in claims]


def predicate_texts(claims: Sequence[Any]) -> list[str]:
    return [((c.get("predicate") if isinstance(c, dict) else c.predicate) or "").lower() for c in claims]


def sentence_texts(claims: Sequence[Any]) -> list[str]:
    return [((c.get("sentence") if isinstance(c, dict) else c.sentence) or "").lower() for c in claims]


def build_pipeline(settings: dict[str, Any] | None = None):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    s = (settings or config.load("claims/scorer")).get("model", {})
    feats = FeatureUnion([
        ("fields", make_pipeline(FunctionTransformer(feature_dicts), DictVectorizer())),
        ("predicate", make_pipeline(FunctionTransformer(predicate_texts),
                                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=1))),
        ("sentence", make_pipeline(FunctionTransformer(sentence_texts),
                                   TfidfVectorizer(analyzer="word", ngram_range=(1, 1), min_df=2))),
    ])
    clf = LogisticRegression(C=float(s.get("C", 1.0)), class_weight=s.get("class_weight") or None,
                             max_iter=2000)
    return Pipeline([("features", feats), ("clf", clf)])


# ---- training data from gold ------------------------------------------------------------
@dataclass
class Candidates:
    items: list  # GoldItem
    predicted: dict[str, list[Claim]]
    claims: list[Claim]  # flattened, in item order
    owner: list[str]  # item_id of each claim
    labels: list[int]  # 1 = matches a gold claim
    groups: list[str]  # pair_id (or item_id) of the owning item


def candidates_from_gold(paths: Sequence[str | Path]) -> Candidates:
    from pipeline.claims.process import extract_for_evaluation
    from pipeline.evaluate_claims import _pred_span, gold_to_statements, load_gold, match_spans

    items = [it for p in paths for it in load_gold(p)]
    predicted = extract_for_evaluation(gold_to_statements(items))
    claims, owner, labels, groups = [], [], [], []
    for it in items:
        preds = predicted.get(it.item_id) or []
        gspans = [(g.start, g.end) if g.start is not None else None for g in it.claims]
        pspans = [_pred_span(it.text, c)[0] for c in preds]
        matched = {pi for _, pi in match_spans(gspans, pspans)}
        for pi, c in enumerate(preds):
            claims.append(c)
            owner.append(it.item_id)
            labels.append(int(pi in matched))
            groups.append(it.pair_id or it.item_id)
    return Candidates(items, predicted, claims, owner, labels, groups)


def _filtered(cands: Candidates, keep: Sequence[bool]) -> dict[str, list[Claim]]:
    out: dict[str, list[Claim]] = {it.item_id: [] for it in cands.items}
    for c, o, k in zip(cands.claims, cands.owner, keep):
        if k:
            out[o].append(c)
    return out


def _best_threshold(y: Sequence[int], p: Sequence[float], n_gold: int) -> float:
    """The threshold that maximises claim F1 (gold claims the rules missed count as misses)."""
    best_t, best_f = 0.0, -1.0
    for t in sorted(set([0.0] + [round(x, 3) for x in p])):
        kept = [yi for yi, pi in zip(y, p) if pi >= t]
        tp = sum(kept)
        prec = tp / len(kept) if kept else 0.0
        rec = tp / n_gold if n_gold else 0.0
        f = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        if f > best_f + 1e-9:
            best_t, best_f = t, f
    return best_t


def cross_validate(cands: Candidates, folds: int = 5, seed: int = 13,
                   settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Held-out comparison: for each fold, fit on the other folds' candidates, pick the threshold
    by inner out-of-fold F1, filter the held-out candidates; then score rules alone and rules +
    scorer with `evaluate claims`' scorer over all held-out predictions."""
    import numpy as np
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from pipeline.evaluate_claims import score

    y = np.array(cands.labels)
    groups = np.array(cands.groups)
    gold_by_item = {it.item_id: len(it.claims) for it in cands.items}
    item_group = {it.item_id: (it.pair_id or it.item_id) for it in cands.items}
    keep = np.ones(len(y), dtype=bool)
    proba = np.zeros(len(y))
    thresholds = []
    splitter = GroupKFold(n_splits=folds)
    X = np.array(cands.claims, dtype=object)
    for tr, te in splitter.split(X, y, groups):
        if len(set(y[tr])) < 2:
            continue
        inner = GroupKFold(n_splits=min(folds, len(set(groups[tr]))))
        oof = cross_val_predict(build_pipeline(settings), list(X[tr]), y[tr], groups=groups[tr], cv=inner,
                                method="predict_proba")[:, 1]
        tr_groups = set(groups[tr])
        n_gold = sum(n for item, n in gold_by_item.items() if item_group[item] in tr_groups)
        t = _best_threshold(list(y[tr]), list(oof), n_gold)
        thresholds.append(t)
        model = build_pipeline(settings).fit(list(X[tr]), y[tr])
        proba[te] = model.predict_proba(list(X[te]))[:, 1]
        keep[te] = proba[te] >= t
    rules = score(cands.items, cands.predicted, text_langs=None)
    combined = score(cands.items, _filtered(cands, list(keep)), text_langs=None)
    return {"folds": folds, "candidates": int(len(y)), "positives": int(y.sum()),
            "thresholds": thresholds,
            "rules": {"overall": rules["detection"]["all"], "by_lang": rules["detection"]["by_lang"]},
            "rules_plus_scorer": {"overall": combined["detection"]["all"],
                                  "by_lang": combined["detection"]["by_lang"]},
            "dropped": int((~keep).sum()), "dropped_true": int(((~keep) & (y == 1)).sum())}


@dataclass
class ClaimScorer:
    pipeline: Any
    threshold: float
    card: dict[str, Any]

    def score(self, claims: Sequence[Claim]) -> list[float]:
        if not claims:
            return []
        return [float(p) for p in self.pipeline.predict_proba(list(claims))[:, 1]]

    def save(self, path: str | Path) -> Path:
        import joblib

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipeline, path / "model.joblib", compress=3)
        self.card["threshold"] = self.threshold
        (path / "card.json").write_text(json.dumps(self.card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path


def train(gold: Sequence[str | Path], out: str | Path, folds: int = 5, command: str = "",
          settings: dict[str, Any] | None = None) -> ClaimScorer:
    t0 = time.perf_counter()
    cands = candidates_from_gold(gold)
    cv = cross_validate(cands, folds, settings=settings)
    n_gold = sum(len(it.claims) for it in cands.items)
    from sklearn.model_selection import GroupKFold, cross_val_predict

    oof = cross_val_predict(build_pipeline(settings), cands.claims, cands.labels, groups=cands.groups,
                            cv=GroupKFold(n_splits=folds), method="predict_proba")[:, 1]
    threshold = _best_threshold(cands.labels, list(oof), n_gold)
    pipe = build_pipeline(settings).fit(cands.claims, cands.labels)
    r, c = cv["rules"]["overall"], cv["rules_plus_scorer"]["overall"]
    card = {"gold": [str(g) for g in gold], "cv": cv, "threshold": threshold,
            "beats_rules": (c.get("f1") or 0) > (r.get("f1") or 0),
            "seconds": round(time.perf_counter() - t0, 1), "command": command}
    scorer = ClaimScorer(pipe, threshold, card)
    scorer.save(out)
    (Path(out) / "README.md").write_text(card_markdown(card), encoding="utf-8")
    return scorer


def _prf(d: dict) -> str:
    from pipeline.evaluate_claims import _pct

    f = lambda x: _pct(x).strip()  # noqa: E731
    return f"P {f(d.get('precision'))} / R {f(d.get('recall'))} / F1 {f(d.get('f1'))}"


def cv_table(cv: dict) -> str:
    lines = [f"{cv['folds']}-fold held-out comparison (folds grouped by pair_id) over {cv['candidates']} rule "
             f"candidates ({cv['positives']} match a gold claim):",
             f"  rules alone        {_prf(cv['rules']['overall'])}",
             f"  rules + scorer     {_prf(cv['rules_plus_scorer']['overall'])}  "
             f"(dropped {cv['dropped']} candidates, {cv['dropped_true']} of them true)"]
    for lang in sorted(cv["rules"]["by_lang"]):
        lines.append(f"  {lang}: rules {_prf(cv['rules']['by_lang'][lang])}; rules + scorer "
                     f"{_prf(cv['rules_plus_scorer']['by_lang'].get(lang, {}))}")
    return "\n".join(lines)


def card_markdown(card: dict) -> str:
    verdict = ("beats the rules alone on held-out folds" if card["beats_rules"]
               else "does NOT beat the rules alone on held-out folds")
    return "\n".join([
        "# Claim scorer", "",
        "Logistic regression over each rule candidate's fields, predicate characters and sentence words; "
        "trained on rule candidates labelled by matching gold claims (`polclaims train claims`).", "",
        f"Gold: {', '.join(card['gold'])}", "", "```", card.get("command") or "polclaims train claims ...", "```", "",
        "## Held-out comparison (computed by the command above)", "", "```", cv_table(card["cv"]), "```", "",
        f"The scorer {verdict}. Threshold chosen on out-of-fold predictions: {card['threshold']}.",
        "`configs/claims/scorer.toml` decides whether `process` applies it (`apply`).", ""])


# ---- use in process -----------------------------------------------------------------------
@lru_cache(maxsize=4)
def _load(path_str: str) -> ClaimScorer | None:
    import joblib

    path = Path(path_str)
    if not (path / "model.joblib").exists():
        return None
    card = json.loads((path / "card.json").read_text(encoding="utf-8"))
    return ClaimScorer(joblib.load(path / "model.joblib"), float(card.get("threshold", 0.5)), card)


def active_scorer() -> ClaimScorer | None:
    """The scorer `process` applies, or None (configs/claims/scorer.toml `apply = false`)."""
    s = config.load("claims/scorer")
    if not s.get("apply", False):
        return None
    return _load(str(config.resolve_path(s.get("path", "models/claims"))))


def apply_scorer(claims: list[Claim], scorer: ClaimScorer | None = None) -> list[Claim]:
    """Set each claim's `confidence` to the scorer's probability and drop those below threshold."""
    scorer = scorer or active_scorer()
    if scorer is None or not claims:
        return claims
    kept = []
    for c, p in zip(claims, scorer.score(claims)):
        c.confidence = round(p, 4)
        if p >= scorer.threshold:
            kept.append(c)
    return kept
