"""CoNLL-U and IOB files: spaCy `Doc`s written as CoNLL-U (so output is scorable by the CoNLL 2018
evaluation), treebank and NER files read, and the fixed KTB fold split every Kazakh figure uses."""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterable

from spacy.tokens import Doc, Span

from pipeline.nlp.docs import register_extensions

register_extensions()


def read_conllu_blocks(path: Path) -> list[str]:
    """Sentences of a CoNLL-U file as raw text blocks (comments and token lines)."""
    text = Path(path).read_text(encoding="utf-8")
    return [b.strip("\n") for b in re.split(r"\n\s*\n", text) if b.strip()]


def parse_feats(feats: str | None) -> dict[str, str]:
    """A FEATS column ("Case=Nom|Number=Sing", "_" or empty) as a dict."""
    if not feats or feats == "_":
        return {}
    return dict(x.split("=", 1) for x in feats.split("|") if "=" in x)


def format_feats(feats: dict[str, str]) -> str:
    """A FEATS column in UD order: feature names sorted case-insensitively (spaCy's order is
    case-sensitive); "_" when empty."""
    return "|".join(f"{k}={feats[k]}" for k in sorted(feats, key=str.lower)) or "_"


def word_rows(path: Path) -> list[list[list[str]]]:
    """Per sentence, the columns of its syntactic words (multi-word token lines and empty nodes
    skipped)."""
    return [[cols for cols in (line.split("\t") for line in block.splitlines() if not line.startswith("#"))
             if len(cols) >= 6 and "-" not in cols[0] and "." not in cols[0]]
            for block in read_conllu_blocks(path)]


def sentence_texts(path: Path) -> list[str]:
    """The `# text = ...` lines of a CoNLL-U file: its raw sentences."""
    prefix = "# text = "
    return [line[len(prefix):].strip() for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.startswith(prefix)]


def _clean(value: str) -> str:
    value = (value or "").replace("\t", " ").replace("\n", " ")
    return value if value.strip() else "_"


def _misc(*parts: str) -> str:
    """A MISC column from its attribute=value parts ("_" when none)."""
    kept = [p for p in parts if p and p != "_"]
    return "|".join(kept) or "_"


def _ner(t) -> str:
    """The token's named-entity tag for MISC (`NER=B-PER`, `NER=I-LOC`); "" outside entities, so
    MISC stays "_" there (the CoNLL-U convention for an empty column)."""
    if not t.ent_type_:
        return ""
    return f"NER={'B' if t.ent_iob_ == 'B' else 'I'}-{t.ent_type_}"


def sentence_to_conllu(sent: Span, sent_id: str | None = None) -> str:
    """One sentence block. Whitespace tokens are dropped; split surface tokens get a range line.
    Named entities go into MISC as `NER=B-<label>` / `NER=I-<label>` (BIO tags on words)."""
    toks = [t for t in sent if not t.is_space]
    if not toks:
        return ""
    ids = {t.i: n for n, t in enumerate(toks, start=1)}
    doc = sent.doc
    has_parse = doc.has_annotation("DEP")
    lines = []
    if sent_id:
        lines.append(f"# sent_id = {sent_id}")
    text = doc.text[toks[0].idx: toks[-1].idx + len(toks[-1].text)]
    lines.append("# text = " + " ".join(text.split()))
    i = 0
    while i < len(toks):
        t = toks[i]
        group = [t]
        if t._.mwt is not None:
            j = i + 1
            while (j < len(toks) and toks[j]._.mwt == t._.mwt and toks[j].i == toks[j - 1].i + 1
                   and not toks[j - 1].whitespace_ and toks[j].idx > t.idx):
                group.append(toks[j])
                j += 1
            # a group ends where the surface token ends
            surface_end = t.idx + len(t._.mwt)
            group = [g for g in group if g.idx < surface_end]
        last = group[-1]
        space_after = bool(last.whitespace_) or (last.i + 1 < len(doc) and doc[last.i + 1].is_space)
        at_end = last.i + 1 >= len(doc)
        misc_space = "_" if space_after or at_end else "SpaceAfter=No"
        if len(group) > 1:
            a, b = ids[group[0].i], ids[group[-1].i]
            surface = doc.text[group[0].idx: last.idx + len(last.text)]
            lines.append(f"{a}-{b}\t{_clean(surface)}\t_\t_\t_\t_\t_\t_\t_\t{misc_space}")
        for k, w in enumerate(group):
            form = w._.form or w.text
            if has_parse:
                head = 0 if w.head.i == w.i or w.dep_.lower() == "root" else ids.get(w.head.i, 0)
                dep = "root" if head == 0 else (w.dep_ or "dep")
            else:  # no parser: a flat tree keeps the file valid CoNLL-U
                head, dep = (0, "root") if ids[w.i] == 1 else (1, "dep")
            misc = _misc(misc_space if len(group) == 1 else "_", _ner(w))
            feats = format_feats(parse_feats(str(w.morph)))
            lines.append("\t".join([
                str(ids[w.i]), _clean(form), _clean(w.lemma_), w.pos_ or "X", _clean(w.tag_),
                feats, str(head), dep, "_", misc]))
        i += len(group)
    return "\n".join(lines) + "\n"


def doc_to_conllu(doc: Doc, doc_id: str = "doc") -> str:
    blocks = []
    for n, sent in enumerate(doc.sents, start=1):
        block = sentence_to_conllu(sent, f"{doc_id}-{n}")
        if block:
            blocks.append(block)
    return "\n".join(blocks) + ("\n" if blocks else "")


def docs_to_conllu(docs: Iterable[Doc], prefix: str = "doc") -> str:
    return "".join(doc_to_conllu(d, f"{prefix}{i}") for i, d in enumerate(docs, start=1))


def split_ktb(cfg: dict, data_root: Path, work: Path) -> dict[str, Path]:
    """Deterministic split of the merged KTB files: sentence i goes to fold i % folds."""
    blocks: list[str] = []
    for rel in cfg["data"]["ktb_files"]:
        blocks.extend(read_conllu_blocks(data_root / rel))
    folds = cfg["data"]["folds"]
    parts: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for i, block in enumerate(blocks):
        fold = i % folds
        if fold == cfg["data"]["test_fold"]:
            parts["test"].append(block)
        elif fold == cfg["data"]["dev_fold"]:
            parts["dev"].append(block)
        else:
            parts["train"].append(block)
    out = {}
    for name, items in parts.items():
        path = work / f"kk_ktb.{name}.gold.conllu"
        path.write_text("\n\n".join(items) + "\n\n", encoding="utf-8")
        out[name] = path
        logging.getLogger(__name__).info("KTB %s: %d sentences", name, len(items))
    return out


def read_iob(path: Path) -> list[list[tuple[str, str]]]:
    """Sentences of an IOB file (KazNERD: token ... tag per line, blank line between sentences)."""
    sents, cur = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            if cur:
                sents.append(cur)
                cur = []
            continue
        if len(parts) < 2:
            continue
        cur.append((parts[0], parts[-1]))
    if cur:
        sents.append(cur)
    return sents
