"""Link each Kazakh claim to the Russian claim it translates (`aligned_to`, both ways).

Signals, weighted in `configs/claims/align.toml`: same type and polarity, similar relative
position, shared numbers, shared names (Kazakh letters transliterated), and predicate lemmas
that the bilingual lexicon (`configs/claims/bilingual.toml`) lists as translations.
Pairs are matched one-to-one with the Hungarian algorithm.
"""
from __future__ import annotations

import re
from functools import lru_cache

from pipeline import config
from pipeline.io.records import Claim

_NUM = re.compile(r"\d+(?:[.,]\d+)?")
_NAME = re.compile(r"\b[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][\w-]{2,}")


@lru_cache(maxsize=1)
def _settings() -> tuple[dict, dict, dict[str, set[str]]]:
    cfg = config.load("claims/align")
    lex = config.load("claims/bilingual").get("lexicon", {})
    return cfg, cfg.get("transliterate", {}), {k.lower(): {v.lower() for v in vs} for k, vs in lex.items()}


def _numbers(text: str) -> set[str]:
    return {n.replace(",", ".") for n in _NUM.findall(text) if len(n) > 0}


def _names(text: str, translit: dict) -> set[str]:
    out = set()
    for m in _NAME.finditer(text):
        w = m.group().lower()
        w = "".join(translit.get(ch, ch) for ch in w)
        out.add(w[:5])
    return out


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def pair_score(kk: Claim, ru: Claim, pos_kk: float, pos_ru: float) -> float:
    cfg, translit, lex = _settings()
    w = cfg["weights"]
    s = 0.0
    s += w["type"] * (kk.type == ru.type)
    s += w["polarity"] * (kk.polarity == ru.polarity)
    s += w["position"] * max(0.0, 1.0 - 2.0 * abs(pos_kk - pos_ru))
    nk, nr = _numbers(kk.sentence), _numbers(ru.sentence)
    if nk or nr:
        s += w["numbers"] * (_jaccard(nk, nr) if nk and nr else -0.5)
    s += w["names"] * _jaccard(_names(kk.sentence, translit), _names(ru.sentence, translit))
    lk = (kk.predicate_lemma or "").lower()
    lr = (ru.predicate_lemma or "").lower()
    if lk in lex and lr in lex[lk]:
        s += w["lexicon"]
    return s


def _positions(claims: list[Claim]) -> list[float]:
    """Relative position of each claim among its language's sentences (0..1)."""
    sent_ids = sorted({c.sentence_index or 0 for c in claims})
    if len(sent_ids) <= 1:
        return [0.5 if len(sent_ids) == 1 else 0.0 for _ in claims]
    rank = {s: i / (len(sent_ids) - 1) for i, s in enumerate(sent_ids)}
    return [rank[c.sentence_index or 0] for c in claims]


def align(kk_claims: list[Claim], ru_claims: list[Claim]) -> list[tuple[Claim, Claim, float]]:
    """Match the claims of the two languages one-to-one; set `aligned_to` on both sides."""
    if not kk_claims or not ru_claims:
        return []
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    cfg, _, _ = _settings()
    pk, pr = _positions(kk_claims), _positions(ru_claims)
    scores = np.array([[pair_score(a, b, pk[i], pr[j]) for j, b in enumerate(ru_claims)]
                       for i, a in enumerate(kk_claims)])
    rows, cols = linear_sum_assignment(-scores)
    out = []
    for i, j in zip(rows, cols):
        if scores[i, j] >= cfg["threshold"]:
            a, b = kk_claims[i], ru_claims[j]
            a.aligned_to, b.aligned_to = b.claim_id, a.claim_id
            out.append((a, b, float(scores[i, j])))
    return out
