"""Threads from claims: the candidate pairs blocking proposes, scored by the learned pair classifier
(`model`) or by the rule score (`link`), grouped by average linkage."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from pipeline.threads.link import (
    ThreadClaim,
    _Prepared,
    candidate_pairs,
    compatible,
    linked,
    pair_features,
    prepare,
    score,
    settings,
)
from pipeline.threads.model import candidate_matrix, default_model


@dataclass
class Link:
    a: str
    b: str
    score: float
    features: dict[str, float]


def link(claims: Sequence[ThreadClaim], progress=None, model="default", predicate_cosine: float | None = None
         ) -> tuple[list[list[str]], list[Link]]:
    """Group claims into threads. Returns (threads as lists of claim ids, the accepted pair links).

    `model`: the learned pair classifier (`pipeline.threads.model.LinkModel`; "default" loads the
    one `[model] path` of configs/threads/link.toml names, when it is there) or None for the rule
    score of `[score]`. Only groups holding claims of at least `blocking.min_statements`
    statements are threads. `predicate_cosine`: near action lemmas by word vectors (None: the
    configured `[vectors] related_predicate_cosine`; 0: off)."""
    if isinstance(model, str):
        model = default_model()
    prepared, idf = prepare(claims, predicate_cosine)
    if model is None:
        scored = []
        for i, j in candidate_pairs(prepared):
            a, b = prepared[i], prepared[j]
            if not compatible(a, b):
                continue
            f = pair_features(a, b, idf[a.claim.lang])
            if linked(f):
                scored.append((i, j, score(f), f))
                if progress:
                    progress()
        merge_mean = float(settings()["cluster"]["merge_mean"])
    else:
        pairs, X = candidate_matrix(prepared, idf, model.features)
        probs = model.predict_proba(X)[:, 1] if len(pairs) else []
        scored = []
        for (i, j), pr, x in zip(pairs, probs, X):
            if pr >= model.threshold:
                scored.append((i, j, float(pr), dict(zip(model.features, map(float, x)))))
                if progress:
                    progress()
        merge_mean = model.merge_mean
    return group(prepared, scored, merge_mean)


def group(prepared: Sequence[_Prepared], scored: Iterable[tuple[int, int, float, dict]],
          merge_mean: float) -> tuple[list[list[str]], list[Link]]:
    """Threads from the accepted, scored pairs (indexes into `prepared`) by average linkage."""
    links: list[Link] = []
    unit_edges: dict[tuple[int, int], float] = {}
    for i, j, sc, f in scored:
        a, b = prepared[i], prepared[j]
        links.append(Link(a.claim.claim_id, b.claim.claim_id, round(sc, 4), f))
        key = (min(a.unit, b.unit), max(a.unit, b.unit))
        unit_edges[key] = max(unit_edges.get(key, 0.0), sc)
    groups = _average_linkage(unit_edges, merge_mean)
    by_unit: dict[int, list[_Prepared]] = defaultdict(list)
    for p in prepared:
        by_unit[p.unit].append(p)
    min_st = int(settings()["blocking"].get("min_statements", 2))
    threads = []
    for units in groups:
        members = [p for u in units for p in by_unit[u]]
        statements = {p.claim.group or p.claim.statement_id for p in members}
        if len(statements) >= min_st:
            threads.append(sorted(p.claim.claim_id for p in members))
    kept = {cid for t in threads for cid in t}
    return sorted(threads), [lk for lk in links if lk.a in kept and lk.b in kept]


def _average_linkage(edges: dict[tuple[int, int], float], merge_mean: float) -> list[list[int]]:
    """Greedy average linkage over scored unit pairs, strongest first: two groups merge when the
    mean score over all their cross pairs (unscored ones count 0) reaches `merge_mean`."""
    members: dict[int, list[int]] = {}
    owner: dict[int, int] = {}
    cross: dict[int, dict[int, float]] = defaultdict(dict)   # group -> other group -> summed score
    for (u, v), sc in edges.items():
        for x in (u, v):
            if x not in owner:
                owner[x] = x
                members[x] = [x]
        cross[u][v] = cross[u].get(v, 0.0) + sc
        cross[v][u] = cross[v].get(u, 0.0) + sc
    for (u, v), sc in sorted(edges.items(), key=lambda kv: (-kv[1], kv[0])):
        gu, gv = owner[u], owner[v]
        if gu == gv:
            continue
        total = cross[gu].get(gv, 0.0)
        if total / (len(members[gu]) * len(members[gv])) < merge_mean:
            continue
        if len(members[gu]) < len(members[gv]):
            gu, gv = gv, gu
        for x in members[gv]:
            owner[x] = gu
        members[gu] += members.pop(gv)
        for other, s in cross.pop(gv).items():
            if other == gu:
                continue
            cross[gu][other] = cross[gu].get(other, 0.0) + s
            cross[other][gu] = cross[other].get(gu, 0.0) + s
            cross[other].pop(gv, None)
        cross[gu].pop(gv, None)
    return [sorted(m) for m in members.values() if len(m) > 1]
