"""Linguistic annotation of raw text: the language pipelines applied paragraph by paragraph.

With `lang="auto"` each paragraph is segmented and every run of consecutive sentences in one
language goes to that language's pipeline, so a page holding Kazakh and Russian is analysed
by the right model throughout. Offsets are always into the original input text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from spacy.tokens import Doc

from pipeline.nlp import LANGS, pipe_by_language

_PARA_RE = re.compile(r"\n[ \t]*\n")


@dataclass
class Chunk:
    """A stretch of the input handed to one pipeline: `text == input[start:end]`."""

    start: int
    end: int
    lang: str
    doc: Doc | None = None


def paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of the blank-line separated paragraphs, whitespace trimmed."""
    pos = 0
    for m in list(_PARA_RE.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        chunk = text[pos:end]
        stripped = chunk.strip()
        if stripped:
            s = pos + (len(chunk) - len(chunk.lstrip()))
            yield s, s + len(stripped)
        if m:
            pos = m.end()


def chunks(text: str, lang: str = "auto") -> list[Chunk]:
    """Split `text` into single-language chunks (paragraphs, or sentence runs within one)."""
    if lang != "auto":
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)} or auto")
        return [Chunk(s, e, lang) for s, e in paragraphs(text)]
    from pipeline.text.segment import segment

    out: list[Chunk] = []
    for para in segment("input", text):
        run: Chunk | None = None
        for sent in para.sentences:
            slang = sent.lang if sent.lang in LANGS else None
            if run is not None and (slang is None or slang == run.lang):
                run.end = sent.end  # "other" sentences (numbers, Latin names) join the run
                continue
            if slang is None:
                slang = _guess_neighbour(para.sentences, sent)
            run = Chunk(sent.start, sent.end, slang)
            out.append(run)
    return out


def _guess_neighbour(sentences, sent) -> str:
    """Language for an 'other' sentence that opens a paragraph: the next known one, else ru."""
    for s in sentences:
        if s.start > sent.start and s.lang in LANGS:
            return s.lang
    return "ru"


def annotate(text: str, lang: str = "auto") -> list[Chunk]:
    """Analyse every chunk with its language pipeline (batched per language)."""
    parts = chunks(text, lang)
    for c, _, doc in pipe_by_language((c, c.lang, text[c.start:c.end]) for c in parts):
        c.doc = doc
    return parts


def chunk_to_json(text: str, chunk: Chunk) -> list[dict]:
    """Sentences of a chunk as JSON-ready dicts with offsets into the whole input."""
    out = []
    for sent in chunk.doc.sents:
        toks = [t for t in sent if not t.is_space]
        if not toks:
            continue
        ids = {t.i: n for n, t in enumerate(toks, start=1)}
        start = chunk.start + toks[0].idx
        end = chunk.start + toks[-1].idx + len(toks[-1].text)
        ents = {}
        for ent in sent.ents:
            for t in ent:
                ents[t.i] = ("B-" if t.i == ent.start else "I-") + ent.label_
        out.append({
            "lang": chunk.lang,
            "start": start,
            "end": end,
            "text": text[start:end],
            "tokens": [{
                "id": ids[t.i],
                "text": t.text,
                "form": t._.form or t.text,
                "start": chunk.start + t.idx,
                "end": chunk.start + t.idx + len(t.text),
                "lemma": t.lemma_,
                "upos": t.pos_,
                "feats": str(t.morph),
                "head": 0 if t.head.i == t.i else ids.get(t.head.i, 0),
                "deprel": t.dep_,
                "ner": ents.get(t.i, "O"),
            } for t in toks],
            "entities": [{"text": e.text, "label": e.label_, "start": chunk.start + e.start_char,
                          "end": chunk.start + e.end_char} for e in sent.ents],
        })
    return out
