"""`polclaims analyze --explain`: why a sentence gave a claim, or none.

For every sentence `process` would analyse, list each claim candidate (the predicate words the
parse offers: finite verbs, modal and predicative words, verbal nouns, participles), the rule
that proposed it, and the verdict with its reason: the learned extractor's P(no claim) against
its threshold and the type it chose, or, with the rule extractor, whether a rule kept it. A
sentence without candidates is listed too, so "why no claim here?" always has an answer.

Read-only use of the extractors: the same segmentation, language pipelines, candidates and model
scores as `process` (`pipeline.claims.learned.analyse_sentence`, `ClaimModel.predict_proba`,
`labels_from_proba`), so a candidate marked kept is a claim `process` writes.
"""
from __future__ import annotations

from typing import Iterable

from pipeline.io.records import Failure, Statement

COLUMNS = ("statement_id", "sentence", "lang", "candidate", "rule", "p_none", "type_scores", "verdict", "text")


def _span_words(cand, base: int) -> tuple[str, int, int]:
    words = sorted(cand.words, key=lambda w: w.i)
    return (" ".join(w.text for w in words), base + min(w.idx for w in words),
            base + max(w.idx + len(w.text) for w in words))


def explain_statements(inputs: Iterable[str], read_options=None) -> tuple[list[dict], list[Failure]]:
    from pipeline.claims.extract import extractor_for
    from pipeline.claims.learned import active_model, analyse_sentence, candidate_groups
    from pipeline.nlp import pipe_by_language
    from pipeline.io.readers import read_statements
    from pipeline.text.segment import segment

    rows: list[dict] = []
    failures: list[Failure] = []
    jobs = []
    order: dict[str, int] = {}
    for item in read_statements(list(inputs), read_options):
        if isinstance(item, Failure):
            failures.append(item)
            continue
        st: Statement = item
        order[st.id] = len(order)
        try:
            paras = segment(st.id, st.text)
        except Exception as exc:  # noqa: BLE001 - report the record, go on
            failures.append(Failure(st.id, f"segmentation failed: {exc}", st.origin, "segment"))
            continue
        for s in (s for p in paras for s in p.sentences):
            if not s.boilerplate and s.lang in ("kk", "ru"):
                jobs.append(((st, s), s.lang, s.text))
            else:
                why = f"boilerplate ({s.boilerplate_rule})" if s.boilerplate else f"language {s.lang!r}: not analysed"
                rows.append(_row(st.id, s, verdict=f"no claim: {why}"))
    model = active_model()
    threshold = float(getattr(model, "threshold_", 0.5)) if model is not None else None
    classes = [str(c) for c in model.classes_] if model is not None else []
    for (st, sent), lang, doc in pipe_by_language(jobs):
        ex = extractor_for(lang)
        cands = candidate_groups(ex, doc)
        if not cands:
            rows.append(_row(st.id, sent, verdict="no claim: no candidate (no finite verb, modal or "
                                                  "predicative word, verbal noun or participle in the parse)"))
            continue
        recs = analyse_sentence(ex, doc, sent, st.text, context=model is not None and model.uses_context)
        if model is not None and recs:
            proba = model.proba_records(recs)
            labels = model.labels_from_proba(proba)
        else:
            proba, labels = [None] * len(recs), [None] * len(recs)
        rule_claims = {(c.predicate_start, c.predicate_end): c for c in ex.extract(doc, sent, st.text)} \
            if model is None else {}
        matched: set[int] = set()
        for cand in cands:
            words, start, end = _span_words(cand, sent.start)
            k = next((i for i, r in enumerate(recs) if i not in matched and r.start < end and start < r.end), None)
            rule = cand.rule if cand.rule == "none" else f"{cand.rule} ({cand.type})"
            if k is None:
                rows.append(_row(st.id, sent, candidate=words, rule=rule,
                                 verdict="dropped: no claim frame could be filled for it"))
                continue
            matched.add(k)
            rec, row, label = recs[k], proba[k], labels[k]
            pred = rec.claim.predicate
            if model is not None:
                p = dict(zip(classes, (float(x) for x in row)))
                p_none = p.get("none", 0.0)
                scores = ", ".join(f"{c} {p[c]:.2f}" for c in classes if c != "none")
                if label == "none":
                    verdict = f"dropped: P(none) {p_none:.2f} >= threshold {threshold:.2f}"
                else:
                    verdict = f"kept: {label} ({p[label]:.2f}); P(none) {p_none:.2f} < threshold {threshold:.2f}"
                rows.append(_row(st.id, sent, candidate=pred, rule=rule, p_none=round(p_none, 4),
                                 type_scores=scores, verdict=verdict))
            else:
                c = rule_claims.get((rec.start, rec.end))
                verdict = (f"kept: {c.type} (rule {cand.rule}, reliability {c.confidence:.2f})" if c is not None
                           else "dropped: no rule made it a claim" if cand.rule == "none"
                           else "dropped: the rule extractor filters it out (a question, or an actor "
                                "that is a company, an author or an NGO)")
                rows.append(_row(st.id, sent, candidate=pred, rule=rule, verdict=verdict))
    rows.sort(key=lambda r: (order.get(r["statement_id"], -1), r["sentence"]))
    return rows, failures


def _row(statement_id: str, sent, **kw) -> dict:
    row = dict.fromkeys(COLUMNS)
    row.update(statement_id=statement_id, sentence=sent.index, lang=sent.lang, text=sent.text, **kw)
    return row


def print_explanation(rows: list[dict], failures: list[Failure], fmt: str) -> None:
    from pipeline.io.output import write_records

    if fmt == "table":
        write_records(rows, "table", ["statement_id", "sentence", "lang", "candidate", "rule", "verdict", "text"],
                      widths={"text": 50, "verdict": 44, "candidate": 20, "rule": 18, "statement_id": 14},
                      title="Claim candidates and why each was kept or dropped")
        kept = sum(1 for r in rows if (r["verdict"] or "").startswith("kept"))
        cands = sum(1 for r in rows if r["candidate"])
        print(f"{cands} candidate(s), {kept} kept as claims; {len(failures)} failed record(s)")
    else:
        write_records(rows, fmt, list(COLUMNS))
