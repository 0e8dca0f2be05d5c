"""The claims corpus: texts from ../shared/data with claim labels kept in ``data/claims/``.

Why labels and texts live apart: the texts belong to public corpora (the apertium-kaz-rus
parallel corpus, KazNERD, UD treebanks, GramEval) that the project does not redistribute. Each
label record names its text (``item_id``) and carries a hash of it; ``items`` joins them again and
reports, rather than silently re-attaches, a label whose text has changed.

Units: a parallel line pair (``<site>:<line>``, both sides annotated, claims linked by ``align``)
or a single-language sentence (``<key>:<n>`` of a `[sentences]` source in configs/claims/corpus.toml).
An annotated text is an *item*: ``<unit_id>:<lang>`` for a pair side, the unit id for a sentence.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from pipeline import config

_WS = re.compile(r"\s+")

TYPES = ("commitment", "obligation", "decision")
ACTOR_KINDS = ("speaker", "government", "society", "other", "unspecified")
POLARITIES = ("affirmative", "negative")
TENSES = ("past", "present", "future")


def text_hash(text: str) -> str:
    return hashlib.sha1(_WS.sub(" ", text).strip().encode("utf-8")).hexdigest()[:12]


@dataclass
class Unit:
    """What an annotator gets as one input line: a pair (``kk`` and ``ru``) or one sentence."""
    unit_id: str
    source: str
    texts: dict[str, str]          # lang -> text (one entry for a sentence, two for a pair)

    @property
    def is_pair(self) -> bool:
        return len(self.texts) == 2

    def item_id(self, lang: str) -> str:
        return f"{self.unit_id}:{lang}" if self.is_pair else self.unit_id

    def items(self) -> Iterator[tuple[str, str, str]]:
        """(item_id, lang, text) of each annotated text, kk first."""
        for lang in ("kk", "ru"):
            if lang in self.texts:
                yield self.item_id(lang), lang, self.texts[lang]


_NO_SPACE_BEFORE = re.compile(r"\s+([.,:;!?)\]}»”%…])")
_NO_SPACE_AFTER = re.compile(r"([(\[{«“])\s+")


def detokenize(tokens: Iterable[str]) -> str:
    """Tokens of a treebank or NER file without `# text` back to readable text: no space before
    closing punctuation, none after opening brackets and quotes."""
    text = " ".join(t for t in tokens if t)
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    return _NO_SPACE_AFTER.sub(r"\1", text).strip()


def _conllu_sentences(path: Path) -> Iterator[str]:
    text_line, forms, skip_until = None, [], 0
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if forms or text_line:
                yield text_line if text_line is not None else detokenize(forms)
            text_line, forms, skip_until = None, [], 0
        elif line.startswith("# text = "):
            text_line = line[len("# text = "):].strip()
        elif not line.startswith("#"):
            cols = line.split("\t")
            if len(cols) < 2 or "." in cols[0]:
                continue
            if "-" in cols[0]:              # a multi-word token: its surface form stands for its words
                forms.append(cols[1])
                skip_until = int(cols[0].split("-")[1])
            elif int(cols[0]) > skip_until:
                forms.append(cols[1])


def _iob_sentences(path: Path) -> Iterator[str]:
    from pipeline.training.kk_stanza import read_iob

    for sent in read_iob(path):
        yield detokenize(w for w, _ in sent)


def sentence_sources() -> dict[str, dict]:
    return config.load("claims/corpus").get("sentences", {})


def read_sentences(sources: dict | None = None, data_dir: Path | None = None) -> Iterator[Unit]:
    """Single-language sentences of the configured sources; a source whose file is absent (a clone
    without ../shared) yields nothing."""
    data_dir = data_dir or config.shared_data_dir()
    for key, src in sorted((sources if sources is not None else sentence_sources()).items()):
        path = data_dir / src["file"]
        if not path.exists():
            continue
        fmt = src.get("format", "conllu")
        if fmt == "conllu":
            reader = _conllu_sentences(path)
        elif fmt == "iob":
            reader = _iob_sentences(path)
        else:
            raise ValueError(f"configs/claims/corpus.toml sentences.{key}: format {fmt!r} is not supported (conllu, iob)")
        for i, text in enumerate(reader, start=1):
            yield Unit(f"{key}:{i}", src["source"], {src["lang"]: _WS.sub(" ", text).strip()})


def read_pairs(directory: Path | None = None) -> Iterator[Unit]:
    """The parallel corpus's line pairs (the same ids as the topic corpus: ``<site>:<line>``)."""
    from pipeline.topics import corpus as topic_corpus

    directory = directory or topic_corpus.parallel_dir()
    if not directory.exists():
        return
    for p in topic_corpus.read_pairs(directory):
        yield Unit(p.pair_id, p.pair_id.split(":")[0], {"kk": p.kk, "ru": p.ru})


def read_units() -> Iterator[Unit]:
    yield from read_pairs()
    yield from read_sentences()


def write_annotator_batch(path: Path, units: Iterable[Unit]) -> int:
    """An annotator's batch in the brief's input format: {"pair_id", "source", "kk", "ru"} for a pair,
    {"item_id", "lang", "text"} for a sentence. Texts are whole (the selection keeps them short)."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for u in units:
            if u.is_pair:
                rec = {"pair_id": u.unit_id, "source": u.source, "kk": u.texts["kk"], "ru": u.texts["ru"]}
            else:
                (lang, text), = u.texts.items()
                rec = {"item_id": u.unit_id, "lang": lang, "text": text}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    return n


def topic_codes() -> list[str]:
    return list(config.load("topics")["codes"])


def check_claim(c: Any, text: str) -> list[str]:
    """What is wrong with one annotated claim (empty when nothing): the brief's contract."""
    if not isinstance(c, dict):
        return ["a claim is not a JSON object"]
    probs = []
    if c.get("type") not in TYPES:
        probs.append(f"type {c.get('type')!r} not in {TYPES}")
    if c.get("actor_kind") not in ACTOR_KINDS:
        probs.append(f"actor_kind {c.get('actor_kind')!r} not in {ACTOR_KINDS}")
    if c.get("polarity") not in POLARITIES:
        probs.append(f"polarity {c.get('polarity')!r} not in {POLARITIES}")
    if c.get("tense") not in TENSES:
        probs.append(f"tense {c.get('tense')!r} not in {TENSES}")
    if not c.get("predicate") or not isinstance(c.get("predicate"), str):
        probs.append("predicate missing")
    for name in ("predicate", "actor", "target"):
        v = c.get(name)
        if v is not None and (not isinstance(v, str) or v not in text):
            probs.append(f"{name} {v!r} is not a substring of the text")
    qs = c.get("quantities") or []
    if not isinstance(qs, list):
        probs.append("quantities is not a list")
        qs = []
    for q in qs:
        if not isinstance(q, dict) or not isinstance(q.get("text"), str) or q["text"] not in text:
            probs.append(f"quantity {q!r}: text is not a substring of the text")
        elif not isinstance(q.get("value"), (int, float)) or isinstance(q.get("value"), bool):
            probs.append(f"quantity {q['text']!r}: value {q.get('value')!r} is not a number")
    if c.get("topic") is not None and c.get("topic") not in topic_codes():
        probs.append(f"claim topic {c.get('topic')!r} is not a topic code")
    if c.get("align") is not None and not isinstance(c.get("align"), int):
        probs.append(f"align {c.get('align')!r} is not an integer or null")
    return probs


def expected_items(batch_path: Path) -> list[tuple[str, str, str, str | None]]:
    """(item_id, lang, text, pair_id) in the order an annotator's output must have them."""
    out = []
    for line in Path(batch_path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if "pair_id" in rec:
            out += [(f"{rec['pair_id']}:kk", "kk", rec["kk"], rec["pair_id"]),
                    (f"{rec['pair_id']}:ru", "ru", rec["ru"], rec["pair_id"])]
        else:
            out.append((rec["item_id"], rec["lang"], rec["text"], None))
    return out


def validate_annotation(batch_path: Path, out_path: Path) -> list[str]:
    """Every problem of an annotator's output against its batch, as "line N (item): reason"."""
    expected = expected_items(batch_path)
    problems: list[str] = []
    lines = [l for l in Path(out_path).read_text(encoding="utf-8").splitlines() if l.strip()]
    if len(lines) != len(expected):
        problems.append(f"{len(lines)} output lines, the batch needs {len(expected)}")
    codes = set(topic_codes())
    aligns: dict[str, dict[str, list]] = {}
    for n, (line, (item_id, lang, text, pair_id)) in enumerate(zip(lines, expected), start=1):
        where = f"line {n} ({item_id})"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: not JSON ({e.msg})")
            continue
        if rec.get("item_id") != item_id:
            problems.append(f"{where}: item_id {rec.get('item_id')!r}, expected {item_id!r}")
            continue
        if rec.get("text") != text:
            problems.append(f"{where}: text differs from the input")
        if rec.get("topic") is not None and rec.get("topic") not in codes:
            problems.append(f"{where}: topic {rec.get('topic')!r} is not a topic code")
        claims = rec.get("claims")
        if not isinstance(claims, list):
            problems.append(f"{where}: claims is not a list")
            continue
        for i, c in enumerate(claims, start=1):
            problems += [f"{where} claim {i}: {p}" for p in check_claim(c, text)]
            if pair_id and isinstance(c, dict) and c.get("align") is not None:
                aligns.setdefault(pair_id, {}).setdefault(lang, []).append(c["align"])
    for pair_id, by_lang in aligns.items():
        kk, ru = by_lang.get("kk", []), by_lang.get("ru", [])
        for side, own, other in (("kk", kk, ru), ("ru", ru, kk)):
            if len(set(own)) != len(own):
                problems.append(f"pair {pair_id}: align number used twice on the {side} side")
            for a in own:
                if a not in other:
                    problems.append(f"pair {pair_id}: align {a} on the {side} side has no partner")
    return problems


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m pipeline.claims.corpus",
                                 description="The claims corpus: validate annotations, build, stats.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="check an annotator's output against its batch")
    v.add_argument("batch", type=Path)
    v.add_argument("output", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "validate":
        problems = validate_annotation(args.batch, args.output)
        for p in problems:
            print(p)
        print("OK" if not problems else f"{len(problems)} problem(s)")
        raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
