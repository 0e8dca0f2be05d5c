"""`polclaims analyze`: statements -> sentences with language, boilerplate and NLP highlights.

It is the quickest way for a user to see what the pipeline makes of a page before trusting
its claims: every sentence, its exact offsets, its language, whether it is page furniture.
"""
from __future__ import annotations

import sys
from collections import Counter
from typing import Iterable

from pipeline.io.records import Failure, Statement


def analyze_statements(inputs: Iterable[str], run_nlp: bool = True, read_options=None) -> tuple[list[dict], list[Failure]]:
    from pipeline.io.readers import read_statements
    from pipeline.text.segment import segment

    rows: list[dict] = []
    failures: list[Failure] = []
    todo: list[tuple[dict, str, str]] = []
    for item in read_statements(list(inputs), read_options):
        if isinstance(item, Failure):
            failures.append(item)
            continue
        st: Statement = item
        try:
            paras = segment(st.id, st.text)
        except Exception as exc:  # keep the batch going; report the record
            failures.append(Failure(st.id, f"segmentation failed: {exc}", st.origin, "segment"))
            continue
        for para in paras:
            for s in para.sentences:
                row = {
                    "statement_id": s.statement_id, "sentence": s.index, "paragraph": s.paragraph,
                    "char_start": s.start, "char_end": s.end, "lang": s.lang,
                    "boilerplate": s.boilerplate_rule if s.boilerplate else None,
                    "text": s.text, "tokens": None, "root": None, "entities": None,
                }
                rows.append(row)
                if run_nlp and not s.boilerplate and s.lang in ("kk", "ru"):
                    todo.append((row, s.lang, s.text))
    if run_nlp:
        from pipeline.nlp import pipe_by_language

        for row, _, doc in pipe_by_language(todo):
            toks = [t for t in doc if not t.is_space]
            row["tokens"] = len(toks)
            roots = [t for t in toks if t.dep_.lower() == "root"]
            row["root"] = ", ".join(f"{t.text}/{t.pos_}" for t in roots) or None
            row["entities"] = "; ".join(f"{e.text} [{e.label_}]" for e in doc.ents) or None
    return rows, failures


def print_analysis(rows: list[dict], failures: list[Failure], fmt: str) -> None:
    from pipeline.io.output import write_records

    if fmt == "table":
        write_records(rows, "table", ["statement_id", "sentence", "lang", "char_start", "char_end",
                                      "boilerplate", "text", "root", "entities"],
                      widths={"text": 60, "entities": 40, "statement_id": 18},
                      title="Sentences")
        by_lang = Counter(r["lang"] for r in rows if not r["boilerplate"])
        bp = sum(1 for r in rows if r["boilerplate"])
        stmts = len({r["statement_id"] for r in rows})
        print(f"{stmts} statement(s), {len(rows)} sentences: "
              + ", ".join(f"{k} {v}" for k, v in sorted(by_lang.items()))
              + f", boilerplate {bp}; {len(failures)} failed record(s)")
        for f in failures:
            where = f" at {f.origin}" if f.origin and f.origin != f.record_id else ""
            print(f"FAILED {f.record_id}{where}: {f.reason}", file=sys.stderr)
    else:
        out = rows + [{"failed": f.record_id, "reason": f.reason, "origin": f.origin} for f in failures]
        write_records(out, fmt, list(rows[0].keys()) + ["failed", "reason", "origin"] if rows else None)
