"""Score a language pipeline end to end on a UD treebank file (CoNLL 2018 shared-task metrics).

The pipeline sees only the raw text reconstructed from the gold file (sentences joined by a
space, paragraphs by a blank line), exactly as a user's text would arrive.
"""
from __future__ import annotations

import io
import time
from pathlib import Path

from pipeline.nlp.conllu import doc_to_conllu

METRICS = ("Tokens", "Sentences", "Words", "UPOS", "XPOS", "UFeats", "Lemmas", "UAS", "LAS")


class GoldFileError(ValueError):
    """The gold file is not CoNLL-U; the message names the file and line."""


def check_conllu(path: Path) -> None:
    """Refuse a file that is not CoNLL-U (binary, plain text, wrong columns) before the pipeline
    runs, naming the first bad line, instead of failing deep inside with an IndexError."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise GoldFileError(f"{path} is not UTF-8 text (a binary file?), so not CoNLL-U") from None
    words = 0
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise GoldFileError(f"{path}:{n} is not a CoNLL-U token line: {len(cols)} tab-separated "
                                "column(s) instead of 10")
        tid = cols[0]
        if not (tid.isdigit() or (tid.count("-") == 1 and all(x.isdigit() for x in tid.split("-")))
                or (tid.count(".") == 1 and all(x.isdigit() for x in tid.split(".")))):
            raise GoldFileError(f"{path}:{n}: {tid[:30]!r} is not a CoNLL-U token id (1, 2-3 or 4.1)")
        words += tid.isdigit()
    if not words:
        raise GoldFileError(f"{path} holds no CoNLL-U token lines")


def raw_text_from_conllu(path: Path) -> str:
    """Rebuild the text of a CoNLL-U file from its token forms and SpaceAfter=No marks."""
    paragraphs: list[list[str]] = [[]]
    sent: list[str] = []
    skip_until = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            if (line.startswith("# newpar") or line.startswith("# newdoc")) and paragraphs[-1]:
                paragraphs.append([])
            continue
        if not line.strip():
            if sent:
                paragraphs[-1].append("".join(sent).strip())
                sent = []
            skip_until = 0
            continue
        cols = line.split("\t")
        tid = cols[0]
        if "." in tid:
            continue
        if "-" in tid:
            a, b = (int(x) for x in tid.split("-"))
            skip_until = b
        elif int(tid) <= skip_until:
            continue
        sent.append(cols[1] + ("" if "SpaceAfter=No" in cols[9] else " "))
    if sent:
        paragraphs[-1].append("".join(sent).strip())
    return "\n\n".join(" ".join(p) for p in paragraphs if p)


def evaluate_pipeline(nlp, gold_path: Path, system_out: Path | None = None) -> dict:
    """Run `nlp` over the raw text of `gold_path`; return F1 (%) per metric and timing."""
    from udtools import udeval

    check_conllu(gold_path)
    text = raw_text_from_conllu(gold_path)
    t0 = time.perf_counter()
    docs = list(nlp.pipe(text.split("\n\n")))
    elapsed = time.perf_counter() - t0
    system = "".join(doc_to_conllu(d, f"p{i}") for i, d in enumerate(docs, start=1))
    if system_out:
        system_out.write_text(system, encoding="utf-8")
    try:
        gold_ud = udeval.load_conllu_file(str(gold_path))
    except udeval.UDError as e:
        raise GoldFileError(f"{gold_path} is not valid CoNLL-U: {e}") from None
    sys_ud = udeval.load_conllu(io.StringIO(system), "system", {})
    ev = udeval.evaluate(gold_ud, sys_ud)
    n_tokens = sum(1 for d in docs for t in d if not t.is_space)
    scores = {m: round(100 * ev[m].f1, 2) for m in METRICS if m in ev}
    scores["seconds"] = round(elapsed, 2)
    scores["tokens_per_second"] = round(n_tokens / elapsed, 1) if elapsed else None
    return scores
