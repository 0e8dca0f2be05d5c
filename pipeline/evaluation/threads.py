"""Scores of promise threads on gold: pairwise linking and the dateline parser.

Linking: every gold claim of the claims corpus (``data/claims``, texts from ``../shared/data``)
is linked as ``polclaims track`` links a store (each annotated text a statement, the two sides of a
parallel pair one statement group, ``align`` making kk↔ru twins). A gold pair of
``data/threads/pairs.jsonl`` is predicted *same* when both its claims end in one thread. Scores
are grouped by source (every pair that touches a site counts for that site), as for claims; the linker's
settings are set a priori in configs/threads/, not fitted to these pairs, so every source is
unseen by construction. Thread purity: the share of threads holding a judged pair in which no
judged pair is a wrong link.

Dates: ``data/threads/dates_gold.jsonl`` holds, per text of the sample
(``data/threads/select_dates.py``), the full dates two or three annotators wrote; the parser is
right on a text when it finds exactly those dates.

``python -m pipeline.evaluation.threads store OUT.db`` writes the corpus's gold claims into a store
(a real-data store to try ``track`` on; the README's example thread comes from it).
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.threads.cluster import link
from pipeline.threads.link import ThreadClaim

YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def window(text: str, width: int = 300) -> str:
    """The dateline sample's view of a long line: about `width` characters around its first year,
    cut on word boundaries (data/threads/select_dates.py draws with it; evaluation re-cuts with it)."""
    m = YEAR.search(text)
    if len(text) <= width + 100 or not m:
        return text
    start = max(0, m.start() - width // 2)
    end = min(len(text), start + width)
    if start > 0:
        start = text.find(" ", start) + 1
    if end < len(text):
        end = text.rfind(" ", start, end)
    return text[start:end].strip()


def claim_key(item_id: str, index: int) -> str:
    return f"{item_id}#{index}"


def gold_claims(records: Sequence[dict] | None = None) -> list[ThreadClaim]:
    """The claims corpus's gold claims as linking input (``corpus.items()`` records)."""
    if records is None:
        from pipeline.corpora import claims as corpus

        records, _ = corpus.items()
    out: list[ThreadClaim] = []
    by_pair_align: dict[tuple[str, int], list[ThreadClaim]] = defaultdict(list)
    for r in records:
        for i, c in enumerate(r["claims"]):
            tc = ThreadClaim(claim_key(r["item_id"], i), r["item_id"], r["lang"], c.get("type") or "",
                             c.get("predicate_lemma"), c.get("actor"), c.get("target"), r["text"],
                             c.get("topic") or r.get("topic"), c.get("polarity") or "affirmative",
                             c.get("quantities") or [], None, r.get("pair_id"), r.get("source"))
            out.append(tc)
            if r.get("pair_id") and c.get("align") is not None:
                by_pair_align[(r["pair_id"], c["align"])].append(tc)
    for twins in by_pair_align.values():
        kk = [t for t in twins if t.lang == "kk"]
        ru = [t for t in twins if t.lang == "ru"]
        if len(kk) == 1 and len(ru) == 1:
            kk[0].aligned_to, ru[0].aligned_to = ru[0].claim_id, kk[0].claim_id
    return out


def prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    rnd = lambda x: round(x, 3) if x is not None else None  # noqa: E731
    return {"precision": rnd(p), "recall": rnd(r), "f1": rnd(f), "tp": tp, "fp": fp, "fn": fn}


def load_pairs(path: Path) -> list[dict]:
    if not Path(path).is_file():
        raise FileNotFoundError(f"--pairs: no gold pairs at {path} (data/threads/README.md says how they are made)")
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            r["a"]["item_id"], r["b"]["item_id"], bool(r["same"])
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{n}: not a gold pair record ({e})") from None
        rows.append(r)
    return rows


MIN_POSITIVES = 5  # a source enters the macro average with at least this many gold links


def score_pairs(pairs: Sequence[dict], thread_of: dict[str, Any]) -> dict[str, Any]:
    """Pairwise P/R/F1 overall, per source, language and stratum, and thread purity."""
    return score_predicted(pairs, [(thread_of.get(claim_key(p["a"]["item_id"], p["a"]["claim"])),
                                    thread_of.get(claim_key(p["b"]["item_id"], p["b"]["claim"]))) for p in pairs])


def score_predicted(pairs: Sequence[dict], threads_ab: Sequence[tuple[Any, Any]]) -> dict[str, Any]:
    """As score_pairs, given each pair's two thread keys (None: in no thread)."""
    groups: dict[str, dict[str, Counter]] = {"source": defaultdict(Counter), "lang": defaultdict(Counter),
                                              "stratum": defaultdict(Counter)}
    total = Counter()
    judged: dict[int, list[bool]] = defaultdict(list)
    for p, (ta, tb) in zip(pairs, threads_ab):
        pred = ta is not None and ta == tb
        gold = bool(p["same"])
        cell = "tp" if pred and gold else "fp" if pred else "fn" if gold else "tn"
        total[cell] += 1
        for g, key in (("lang", p.get("lang")), ("stratum", p.get("stratum"))):
            groups[g][key or "?"][cell] += 1
        for src in sorted(set((p.get("source") or "?").split("+"))):  # a pair of two sites counts for both
            groups["source"][src][cell] += 1
        if pred:
            judged[ta].append(gold)
    out = {"pairs": len(pairs), "positives": total["tp"] + total["fn"], **prf(total["tp"], total["fp"], total["fn"])}
    for g, cells in groups.items():
        out[f"by_{g}"] = {k: {"pairs": sum(c.values()), **prf(c["tp"], c["fp"], c["fn"])} for k, c in sorted(cells.items())}
    f1s = [v["f1"] for v in out["by_source"].values() if v["f1"] is not None and v["tp"] + v["fn"] >= MIN_POSITIVES]
    out["macro_f1_by_source"] = round(sum(f1s) / len(f1s), 3) if f1s else None
    out["thread_purity"] = {"threads_with_judged_pairs": len(judged),
                            "pure": sum(1 for v in judged.values() if all(v)),
                            "purity": round(sum(1 for v in judged.values() if all(v)) / len(judged), 3) if judged else None}
    return out


def score_dates(gold_path: Path) -> dict[str, Any]:
    """The dateline parser against the gold date sample, per language."""
    from pipeline.corpora import claims as corpus
    from pipeline.corpora.topics import text_hash

    from pipeline.threads.dates import find_dates

    if not Path(gold_path).is_file():
        return {"error": f"no gold dates at {gold_path}"}
    gold = [json.loads(x) for x in Path(gold_path).read_text(encoding="utf-8").splitlines() if x.strip()]
    wanted = {g["item_id"] for g in gold}
    texts = {}
    for u in corpus.read_pairs():
        for item_id, _lang, text in u.items():
            if item_id in wanted:
                texts[item_id] = window(text)
    per = defaultdict(Counter)
    errors, problems = [], []
    for g in gold:
        text = texts.get(g["item_id"])
        if text is None or text_hash(text) != g["sha1"]:
            problems.append(g["item_id"])
            continue
        got = [f.iso for f in find_dates(text)]
        want = list(g["dates"])
        c = per[g["lang"]]
        c["texts"] += 1
        c["right"] += int(Counter(got) == Counter(want))
        common = sum((Counter(got) & Counter(want)).values())
        c["gold_dates"] += len(want)
        c["found"] += len(got)
        c["correct"] += common
        if Counter(got) != Counter(want) and len(errors) < 15:
            errors.append({"item_id": g["item_id"], "gold": want, "parsed": got, "text": text[:200]})
    total = sum(per.values(), Counter())

    def summarise(c: Counter) -> dict[str, Any]:
        return {"texts": c["texts"], "texts_right": round(c["right"] / c["texts"], 3) if c["texts"] else None,
                "gold_dates": c["gold_dates"],
                "date_recall": round(c["correct"] / c["gold_dates"], 3) if c["gold_dates"] else None,
                "date_precision": round(c["correct"] / c["found"], 3) if c["found"] else None}

    return {**summarise(total), "by_lang": {k: summarise(v) for k, v in sorted(per.items())},
            "texts_missing": problems, "errors": errors}


def _key(side: dict) -> str:
    return claim_key(side["item_id"], side["claim"])


def heldout_learned(claims: Sequence[ThreadClaim], pairs: Sequence[dict]) -> dict[str, Any]:
    """Every gold pair linked by a learned model fitted without any pair touching one of its sources.

    The pairs of one set of sources (a site, or two sites) are scored together: a model
    (``pipeline.threads.model``; its threshold chosen inside these training pairs, on
    source-grouped inner folds) is fitted on the gold pairs that touch none of those sources, all
    claims are linked with it, and each held-out pair gets its two claims' threads. Returns the
    thread keys per pair and the thresholds the folds chose."""
    import numpy as np

    from pipeline.threads.cluster import group
    from pipeline.threads.link import prepare
    from pipeline.threads.model import FEATURES, candidate_matrix, fit_gold, gold_matrix

    prepared, idf = prepare(claims)
    cand, Xc = candidate_matrix(prepared, idf)
    gold = gold_matrix(prepared, idf, pairs, _key)
    by_set: dict[frozenset, list[int]] = defaultdict(list)
    for k, g in enumerate(gold["groups"]):
        by_set[g].append(k)
    ab: list[tuple[Any, Any]] = [(None, None)] * len(pairs)
    thresholds, skipped, chosen = [], [], Counter()
    for sources, test in sorted(by_set.items(), key=lambda kv: sorted(kv[0])):
        name = "+".join(sorted(sources))
        train = [k for k, g in enumerate(gold["groups"]) if not (g & sources)]
        if len(set(gold["y"][[k for k in train if gold["eligible"][k]]])) < 2:
            skipped.append(name)   # nothing to learn from without these sources: nothing linked
            continue
        m = fit_gold(gold, np.asarray(train))
        thresholds.append(m.threshold)
        chosen[f"{'all features' if tuple(m.features) == FEATURES else 'configured features'}, C={m.C}"] += 1
        probs = m.predict_proba(Xc)[:, 1] if len(cand) else []
        threads, _ = group(prepared, [(i, j, float(pr), {}) for (i, j), pr in zip(cand, probs) if pr >= m.threshold],
                           m.merge_mean)
        thread_of = {cid: (name, n) for n, t in enumerate(threads) for cid in t}
        for k in test:
            ab[k] = (thread_of.get(_key(pairs[k]["a"])), thread_of.get(_key(pairs[k]["b"])))
    q = np.quantile(thresholds, [0, 0.5, 1]).round(3).tolist() if thresholds else None
    return {"threads_ab": ab, "folds": len(by_set), "folds_without_training_links": skipped,
            "settings_chosen": dict(chosen.most_common()),
            "threshold_min_median_max": q, "candidate_pairs": len(cand)}


def rule_candidates() -> list[dict[str, Any]]:
    """The rule settings `heldout_rules` chooses among: every combination of the lists of
    `[select]` of configs/threads/link.toml, in order (the first of each list first)."""
    import itertools

    from pipeline.threads.link import settings

    grid = settings().get("select", {})
    keys = sorted(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def heldout_rules(claims: Sequence[ThreadClaim], pairs: Sequence[dict]) -> dict[str, Any]:
    """The rule linker with its few fitted settings chosen without the pairs it is scored on.

    The rules' weights are set a priori; the settings of `[select]` (near action lemmas by word
    vectors, numbered clauses kept apart) are chosen among their combinations: the corpus is linked
    once per candidate, and the pairs of each set of sources are scored with the candidate that has
    the best F1 on the gold pairs touching none of those sources (ties: the earlier listed). Also
    the candidate the same choice makes on all the pairs (what configs/threads/link.toml should
    hold). Returns the thread keys per pair and the choices; {} when nothing is to be chosen."""
    from pipeline.threads.link import overridden

    cands = rule_candidates()
    if len(cands) < 2:
        return {}
    keyed = []
    for cand in cands:
        with overridden(cand):
            threads, _ = link(claims, model=None)
        thread_of = {cid: k for k, t in enumerate(threads) for cid in t}
        keyed.append([(thread_of.get(_key(p["a"])), thread_of.get(_key(p["b"]))) for p in pairs])
    groups = [frozenset((p.get("source") or "?").split("+")) for p in pairs]
    by_set: dict[frozenset, list[int]] = defaultdict(list)
    for k, g in enumerate(groups):
        by_set[g].append(k)

    def best(rows: list[int]) -> int:
        f1s = [score_predicted([pairs[k] for k in rows], [abc[k] for k in rows])["f1"] or 0.0 for abc in keyed]
        return max(range(len(cands)), key=lambda i: (f1s[i], -i))

    ab: list[tuple[Any, Any]] = [(None, None)] * len(pairs)
    chosen: Counter = Counter()
    for sources, test in by_set.items():
        b = best([k for k, g in enumerate(groups) if not (g & sources)])
        chosen[json.dumps(cands[b], sort_keys=True)] += 1
        for k in test:
            ab[k] = keyed[b][k]
    return {"threads_ab": ab, "folds": len(by_set), "candidates": len(cands),
            "settings_chosen": dict(chosen.most_common()), "chosen_on_all_pairs": cands[best(list(range(len(pairs))))]}


def evaluate_shipped(claims: Sequence[ThreadClaim], pairs: Sequence[dict], model=None) -> dict[str, Any]:
    """The linker as shipped, fitted on nothing here: the corpus linked with the model of
    configs/threads/link.toml `[model] path` (or `model`) as it is, and with the rules as configured
    (`[score]`, `[select]`); the test of a linker on gold pairs drawn after it was fitted."""
    from pipeline.threads.model import default_model, model_path

    model = model or default_model()
    if model is None:
        raise ValueError(f"--linker shipped: no model file at {model_path()} (make train-threads)")
    threads_m, _ = link(claims, model=model)
    threads_r, _ = link(claims, model=None)
    of_m = {cid: k for k, t in enumerate(threads_m) for cid in t}
    of_r = {cid: k for k, t in enumerate(threads_r) for cid in t}
    from pipeline.config import PROJECT_ROOT

    path = model_path()  # the report is committed: a project file by its project-relative name
    shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
    return {"linker": "shipped", "model": str(shown), "model_threshold": round(float(model.threshold), 4),
            "linking": score_pairs(pairs, of_m), "rules": score_pairs(pairs, of_r)}


def evaluate(pairs_path: Path, dates_path: Path | None = None, records: Sequence[dict] | None = None,
             linker: str = "learned", rounds: Sequence[int] | None = None) -> dict[str, Any]:
    """Scores of `linker` ("learned": held out by source, see heldout_learned; "rules": the rule
    score of configs/threads/link.toml, fitted to nothing; "shipped": the shipped model and rules as
    they are, see evaluate_shipped) on the gold pairs, with the rules' scores beside the learned
    ones. `rounds` (shipped only): score the gold pairs of these annotation rounds alone."""
    if linker not in ("learned", "rules", "shipped"):
        raise ValueError(f"--linker: {linker!r} is not allowed; use learned, rules or shipped")
    if rounds and linker != "shipped":
        raise ValueError("--round: only with --linker shipped (the held-out protocols use every round; "
                         "their scores per round are in by_round)")
    pairs = load_pairs(pairs_path)
    claims = gold_claims(records)
    known = {c.claim_id for c in claims}
    unknown = [p["pair_id"] for p in pairs if _key(p["a"]) not in known or _key(p["b"]) not in known]
    known_pairs = [p for p in pairs if p["pair_id"] not in set(unknown)]
    if linker == "shipped":
        if rounds:
            missing = sorted(set(rounds) - {p.get("round", 1) for p in known_pairs})
            if missing:
                raise ValueError(f"--round: no gold pairs of round {missing[0]} in {pairs_path}")
            known_pairs = [p for p in known_pairs if p.get("round", 1) in set(rounds)]
        out = evaluate_shipped(claims, known_pairs)
        out["rounds"] = sorted(set(rounds)) if rounds else sorted({p.get("round", 1) for p in known_pairs})
        out["pairs_without_claims"] = unknown
        if dates_path is not None:
            out["dates"] = score_dates(dates_path)
        return out
    threads, links = link(claims, model=None)
    thread_of = {cid: k for k, t in enumerate(threads) for cid in t}
    rounds = sorted({p.get("round", 1) for p in known_pairs})
    held_rules = heldout_rules(claims, known_pairs)
    if held_rules:   # the rules' fitted setting chosen without each pair's sources
        rab = held_rules.pop("threads_ab")
        rules = score_predicted(known_pairs, rab)
        rules_by_round = {f"round_{r}": score_predicted([p for p, x in zip(known_pairs, rab) if p.get("round", 1) == r],
                                                        [x for p, x in zip(known_pairs, rab) if p.get("round", 1) == r])
                          for r in rounds}
    else:
        rules = score_pairs(known_pairs, thread_of)
        rules_by_round = {f"round_{r}": score_pairs([p for p in known_pairs if p.get("round", 1) == r], thread_of)
                          for r in rounds}
    out: dict[str, Any] = {"linker": linker}
    if held_rules:
        out["rules_protocol"] = held_rules
        out["rules_configured"] = {k: v for k, v in score_pairs(known_pairs, thread_of).items()
                                   if k in ("pairs", "positives", "precision", "recall", "f1", "tp", "fp", "fn")}
    if linker == "learned":
        held = heldout_learned(claims, known_pairs)
        ab = held.pop("threads_ab")
        out["linking"] = score_predicted(known_pairs, ab)
        out["by_round"] = {f"round_{r}": score_predicted([p for p, x in zip(known_pairs, ab) if p.get("round", 1) == r],
                                                         [x for p, x in zip(known_pairs, ab) if p.get("round", 1) == r])
                           for r in rounds}
        out["protocol"] = held
        out["rules"] = rules
        out["rules_by_round"] = rules_by_round
    else:
        out["linking"] = rules
        out["by_round"] = rules_by_round
    out["corpus"] = {"claims": len(claims), "threads_rules": len(threads), "claims_in_threads_rules": len(thread_of),
                     "links_rules": len(links)}
    out["pairs_without_claims"] = unknown
    if dates_path is not None:
        out["dates"] = score_dates(dates_path)
    return out


def train_and_score(pairs_path: Path, out_dir: Path) -> dict[str, Any]:
    """Fit the shipped linker on every gold pair, score the held-out protocol, write
    `out_dir/linker.pkl` and its card `out_dir/README.md`."""
    from pipeline.threads.link import prepare
    from pipeline.threads.model import card, fit_gold, gold_matrix, save

    pairs = load_pairs(pairs_path)
    claims = gold_claims()
    known = {c.claim_id for c in claims}
    pairs = [p for p in pairs if _key(p["a"]) in known and _key(p["b"]) in known]
    scores = evaluate(pairs_path, None, linker="learned")
    prepared, idf = prepare(claims)
    gold = gold_matrix(prepared, idf, pairs, _key)
    model = fit_gold(gold)
    path = save(model, out_dir)
    command = "make train-threads"
    (Path(out_dir) / "README.md").write_text(card(model, scores, gold, path, command), encoding="utf-8")
    lk = scores["linking"]
    return {"model": str(path.name), "bytes": path.stat().st_size, "threshold": round(model.threshold, 4),
            "heldout": {k: lk[k] for k in ("precision", "recall", "f1")}, "purity": lk["thread_purity"]["purity"]}


ROUND_NAMES = {"round_1": "round 1", "round_2": "round 2", "round_3": "round 3", "round_4": "round 4"}


def summary_lines(scores: dict[str, Any]) -> Iterable[str]:
    if scores.get("linker") == "shipped":
        yield from _shipped_lines(scores)
        return
    held = scores.get("linker") == "learned"
    yield ("linker: learned pair classifier, every pair scored by a model fitted without its sources"
           if held else "linker: rules of configs/threads/link.toml [score] ([select] settings chosen without each pair's sources)")
    for name, r in scores.get("by_round", {}).items():
        yield (f"{ROUND_NAMES.get(name, name)}: {r['pairs']} pairs ({r['positives']} same): P {r['precision']} "
               f"R {r['recall']} F1 {r['f1']}; purity {r['thread_purity']['purity']}")
    lk = scores["linking"]
    yield (f"all rounds: {lk['pairs']} gold pairs ({lk['positives']} same): P {lk['precision']} R {lk['recall']} "
           f"F1 {lk['f1']}; macro F1 over sources {lk['macro_f1_by_source']}; thread purity "
           f"{lk['thread_purity']['purity']} ({lk['thread_purity']['pure']}/{lk['thread_purity']['threads_with_judged_pairs']})")
    for g in ("lang", "stratum", "source"):
        yield f"  by {g}:"
        for k, v in lk[f"by_{g}"].items():
            yield f"    {k:<28} pairs {v['pairs']:>4}  P {v['precision']}  R {v['recall']}  F1 {v['f1']}"
    r = scores.get("rules")
    if held and r:
        yield (f"rules, for comparison (round 1 was read while setting them): P {r['precision']} R {r['recall']} "
               f"F1 {r['f1']}; purity {r['thread_purity']['purity']}")
        for name, v in scores.get("rules_by_round", {}).items():
            yield f"  rules, {ROUND_NAMES.get(name, name)}: P {v['precision']} R {v['recall']} F1 {v['f1']}"
    rp = scores.get("rules_protocol")
    if rp:
        yield (f"rules' [select] settings chosen per held-out set of sources ({rp['folds']} folds, {rp['candidates']} "
               f"candidates): {rp['settings_chosen']}; chosen on all pairs: {rp['chosen_on_all_pairs']}")
        c = scores.get("rules_configured", {})
        yield (f"rules as configured (settings chosen on all pairs, scored on the same pairs): P {c.get('precision')} "
               f"R {c.get('recall')} F1 {c.get('f1')}")
    c = scores["corpus"]
    yield f"corpus: {c['claims']} gold claims"
    d = scores.get("dates")
    if d and "error" not in d:
        yield (f"dates: {d['texts']} texts, right {d['texts_right']}; date recall {d['date_recall']}, "
               f"precision {d['date_precision']}")
        for k, v in d["by_lang"].items():
            yield f"  {k}: texts {v['texts']} right {v['texts_right']} recall {v['date_recall']} precision {v['date_precision']}"
    elif d:
        yield f"dates: {d['error']}"


def _shipped_lines(scores: dict[str, Any]) -> Iterable[str]:
    yield (f"linker as shipped ({scores['model']}, threshold {scores['model_threshold']}), fitted on nothing here; "
           f"rounds {', '.join(map(str, scores['rounds']))}")
    for name, key in (("shipped model", "linking"), ("rules as configured", "rules")):
        r = scores[key]
        yield (f"{name}: {r['pairs']} pairs ({r['positives']} same): P {r['precision']} R {r['recall']} F1 {r['f1']} "
               f"(tp {r['tp']} fp {r['fp']} fn {r['fn']}); purity {r['thread_purity']['purity']}")
        for g in ("lang", "stratum", "source"):
            for k, v in r[f"by_{g}"].items():
                if v["tp"] + v["fp"] + v["fn"]:
                    yield f"    {g} {k:<24} pairs {v['pairs']:>4}  P {v['precision']}  R {v['recall']}  F1 {v['f1']}"


def gold_store(out: Path) -> dict[str, int]:
    """Write the claims corpus's gold claims into a store at `out` (replaced)."""
    from pipeline.claims import StatementResult
    from pipeline.corpora import claims as corpus
    from pipeline.io.records import Claim, Statement
    from pipeline.store.database import ClaimStore

    records, _ = corpus.items()
    claims = {c.claim_id: c for c in gold_claims(records)}
    out = Path(out)
    if out.exists():
        out.unlink()
    n = 0
    with ClaimStore(out) as store:
        for r in records:
            if not r["claims"]:
                continue
            st = Statement(r["item_id"], r["text"], source=r["source"], parallel_id=r.get("pair_id"))
            recs = []
            for i, c in enumerate(r["claims"]):
                tc = claims[claim_key(r["item_id"], i)]
                pos = r["text"].find(c.get("predicate") or "\0")
                s, e = (pos, pos + len(c["predicate"])) if pos >= 0 else (0, 0)
                recs.append(Claim(r["item_id"], r["lang"], r["text"], 0, len(r["text"]), tc.type, c.get("predicate") or "",
                                  s, e, tc.predicate_lemma, tc.actor, c.get("actor_kind") or "unspecified", tc.target,
                                  tc.polarity, c.get("tense") or "present", tc.quantities, [], tc.topic, [],
                                  None, 1.0, 0, tc.claim_id))
            store.save(StatementResult(st, [], recs))
            n += len(recs)
        # twins: aligned_to once both sides are stored (a claim may only point at a stored claim)
        with store.transaction() as conn:
            conn.executemany("UPDATE claims SET aligned_to = ? WHERE claim_id = ?",
                             [(c.aligned_to, c.claim_id) for c in claims.values() if c.aligned_to])
    return {"statements": sum(1 for r in records if r["claims"]), "claims": n}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "store":
        print(json.dumps(gold_store(Path(argv[1]))))
    else:
        print("usage: python -m pipeline.evaluation.threads store OUT.db", file=sys.stderr)
        raise SystemExit(2)


if __name__ == "__main__":
    main()
