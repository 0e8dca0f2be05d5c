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

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from pipeline import config

_WS = re.compile(r"\s+")

# the claim record's value sets, and the topic corpus's text hash (one definition each)
from pipeline.io.records import ACTOR_KINDS, CLAIM_TYPES as TYPES, POLARITIES, TENSES  # noqa: E402
from pipeline.corpora.topics import text_hash  # noqa: E402


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

    @classmethod
    def of_pair(cls, pair: Any) -> "Unit":
        """The unit of a parallel-corpus line pair (``topics.Pair``): both sides, the site as source."""
        return cls(pair.pair_id, pair.pair_id.split(":")[0], {"kk": pair.kk, "ru": pair.ru})

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
    from pipeline.nlp.conllu import read_iob

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
    from pipeline.corpora import topics as topic_corpus

    directory = directory or topic_corpus.parallel_dir()
    if not directory.exists():
        return
    for p in topic_corpus.read_pairs(directory):
        yield Unit.of_pair(p)


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


def cut_batches(units: Sequence[Unit], texts_per_batch: int) -> list[list[Unit]]:
    """Consecutive batches of about `texts_per_batch` texts (a pair counts two)."""
    batches: list[list[Unit]] = [[]]
    size = 0
    for u in units:
        if size >= texts_per_batch:
            batches.append([])
            size = 0
        batches[-1].append(u)
        size += len(u.texts)
    return [b for b in batches if b]


def write_double_batches(out: Path, prefix: str, batches: Sequence[Sequence[Unit]], rng) -> None:
    """Each batch twice, for two independent annotators: ``<prefix>_<k>`` in order and
    ``<prefix>_<k>b`` shuffled by `rng`."""
    for k, batch in enumerate(batches):
        other = list(batch)
        rng.shuffle(other)
        write_annotator_batch(Path(out) / f"{prefix}_{k:02d}.jsonl", batch)
        write_annotator_batch(Path(out) / f"{prefix}_{k:02d}b.jsonl", other)


def write_selection(path: Path, chosen: Iterable[tuple[Unit, str]]) -> None:
    """The selection record of a round: every chosen unit with its source, stratum and text hashes."""
    with open(path, "w", encoding="utf-8") as fh:
        for u, stratum in chosen:
            fh.write(json.dumps({"unit_id": u.unit_id, "source": u.source, "stratum": stratum,
                                 "items": {u.item_id(lang): text_hash(t) for lang, t in u.texts.items()}},
                                ensure_ascii=False) + "\n")


def sentence_pool(gold: list[str], keep) -> Iterator[Unit]:
    """Single-language sentences a selection may draw: `keep(unit, text)` true, no duplicate text,
    no dev or reference-statement gold text."""
    from pipeline.corpora import topics as topic_corpus

    seen: set[str] = set()
    for u in read_sentences():
        (text,) = u.texts.values()
        key = text_hash(text)
        if not keep(u, text) or key in seen:
            continue
        seen.add(key)
        probe = topic_corpus.Pair(u.unit_id, "", "", 0, u.texts.get("kk", ""), u.texts.get("ru", ""))
        if not topic_corpus.overlaps_gold(probe, gold):
            yield u


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




# ---------------------------------------------------------------- annotations -> labels


def read_annotation_file(path: Path) -> list[dict]:
    """An annotator's output lines (the annotator is the file's batch name)."""
    name = Path(path).name.split(".")[0]
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            rec["annotator"] = name
            out.append(rec)
    return out


def _span(text: str, predicate: str | None, taken: list) -> tuple[int, int] | None:
    from pipeline.claims.matching import locate_predicate

    if not predicate:
        return None
    loc = locate_predicate(text, predicate, taken)
    if loc is None:
        return None
    taken.append((loc[0], loc[1]))
    return loc[0], loc[1]


def claim_spans(text: str, claims: Sequence[dict]) -> list[tuple[int, int] | None]:
    taken: list = []
    return [_span(text, c.get("predicate"), taken) for c in claims]


def match_claims(text: str, a: Sequence[dict], b: Sequence[dict]) -> list[tuple[int, int]]:
    """Claims of two annotations of one text that anchor on overlapping predicates (one-to-one),
    as `evaluate claims` matches predictions with gold."""
    from pipeline.claims.matching import match_spans

    return match_spans(claim_spans(text, a), claim_spans(text, b))


def majority_claims(text: str, annotations: Sequence[Sequence[dict]]) -> list[dict]:
    """Claims that at least two of the annotations hold (overlapping predicates); the type is the
    majority type of the matched claims (ties: the earliest annotator's), every other field comes
    from the earliest annotator holding the claim, and ``align`` is dropped (``pair_links`` re-derives it)."""
    from collections import Counter

    need = 2 if len(annotations) >= 2 else 1
    kept: list[dict] = []
    covered: list[set[int]] = [set() for _ in annotations]
    for i, ann in enumerate(annotations):
        for ci, c in enumerate(ann):
            if ci in covered[i]:
                continue
            group = {i: ci}
            for j in range(i + 1, len(annotations)):
                for ai, bj in match_claims(text, [c], annotations[j]):
                    if bj not in covered[j]:
                        group[j] = bj
            if len(group) < need:
                continue
            for j, cj in group.items():
                covered[j].add(cj)
            types = Counter(annotations[j][cj]["type"] for j, cj in group.items())
            top = max(types.values())
            typ = next(annotations[j][cj]["type"] for j, cj in sorted(group.items()) if types[annotations[j][cj]["type"]] == top)
            src = next(annotations[j][cj] for j, cj in sorted(group.items()) if annotations[j][cj]["type"] == typ)
            out = {k: v for k, v in src.items() if k != "align"}
            out["type"] = typ
            out["_from"] = dict(group)   # annotation index -> its claim index
            kept.append(out)
    return kept


def annotations_agree(text: str, a: Sequence[dict], b: Sequence[dict]) -> bool:
    """Same claims (overlapping predicates) with the same types."""
    if len(a) != len(b):
        return False
    pairs = match_claims(text, a, b)
    return len(pairs) == len(a) and all(a[i]["type"] == b[j]["type"] for i, j in pairs)


def agreement(pairs_of_annotations: Iterable[tuple[str, Sequence[dict], Sequence[dict]]]) -> dict[str, Any]:
    """Between two annotators: claim F1 (one's claims scored against the other's, by predicate
    overlap), Cohen's kappa on the type of matched claims, and the share of texts where both agree
    exactly (same claims, same types)."""
    from collections import Counter

    n_a = n_b = matched = same_type = texts = exact = 0
    type_pairs: list[tuple[str, str]] = []
    for text, a, b in pairs_of_annotations:
        texts += 1
        n_a += len(a)
        n_b += len(b)
        pairs = match_claims(text, a, b)
        matched += len(pairs)
        for i, j in pairs:
            type_pairs.append((a[i]["type"], b[j]["type"]))
            same_type += a[i]["type"] == b[j]["type"]
        exact += annotations_agree(text, a, b)
    f1 = 2 * matched / (n_a + n_b) if n_a + n_b else None
    kappa = None
    if type_pairs:
        po = same_type / len(type_pairs)
        ca, cb = Counter(x for x, _ in type_pairs), Counter(y for _, y in type_pairs)
        pe = sum(ca[t] * cb[t] for t in set(ca) | set(cb)) / len(type_pairs) ** 2
        kappa = (po - pe) / (1 - pe) if pe < 1 else 1.0
    return {"texts": texts, "claims_a": n_a, "claims_b": n_b, "matched": matched,
            "claim_f1": None if f1 is None else round(f1, 4),
            "type_kappa": None if kappa is None else round(kappa, 4),
            "type_agreement": round(same_type / len(type_pairs), 4) if type_pairs else None,
            "texts_identical": round(exact / texts, 4) if texts else None}


def pair_links(kk_claims: Sequence[dict], ru_claims: Sequence[dict], annotations: dict[str, list[list[dict]]]) -> None:
    """Set ``align`` on kept claims of a pair: a kk claim and a ru claim are linked when every
    annotator whose claims both stand on (at least two) gave them one align number."""
    n = 0
    for k in kk_claims:
        for r in ru_claims:
            votes = 0
            for ai in set(k["_from"]) & set(r["_from"]):
                ka = annotations["kk"][ai][k["_from"][ai]].get("align")
                ra = annotations["ru"][ai][r["_from"][ai]].get("align")
                votes += ka is not None and ka == ra
            if votes >= 2 and k.get("align") is None and r.get("align") is None:
                n += 1
                k["align"] = r["align"] = n


CLAIM_FIELDS = ("type", "predicate", "predicate_lemma", "actor", "actor_kind", "target", "polarity",
                "tense", "quantities", "topic", "align")


def _clean_claim(c: dict) -> dict:
    out = {k: c.get(k) for k in CLAIM_FIELDS}
    out["quantities"] = list(c.get("quantities") or [])
    return out


def _majority_topic(topics: Sequence[str | None]) -> str | None:
    from collections import Counter

    counts = Counter(topics)
    top = max(counts.values())
    return next(t for t in topics if counts[t] == top)


def merge(batch_dir: Path, selection_files: Sequence[Path]) -> dict[str, Any]:
    """Annotator outputs -> labels. Returns {"labels", "annotations", "pending"}: one label per
    item whose annotators agree, or whose disagreement a third annotator settled (claims held by at
    least two of three, ``majority_claims``); ``pending`` lists the units still waiting for a third.
    Annotators are ordered: the batch owning the unit (``c1_07``), the second (``c1_07b``), then
    third opinions (``adj...``). ``items``: the item ids the selection files hold."""
    sel: dict[str, dict] = {}
    for f in selection_files:
        for line in Path(f).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                sel[rec["unit_id"]] = rec
    by_item: dict[str, list[dict]] = {}
    for f in sorted(Path(batch_dir).glob("*.labels.jsonl")):
        for rec in read_annotation_file(f):
            by_item.setdefault(rec["item_id"], []).append(rec)

    def order(rec: dict) -> tuple:
        a = rec["annotator"]
        return (a.startswith("adj"), a.endswith("b"), a)

    labels, annotations, pending = [], [], set()
    units: dict[str, dict[str, list[dict]]] = {}
    for item_id, recs in by_item.items():
        recs.sort(key=order)
        unit_id = recs[0].get("pair_id") or item_id
        units.setdefault(unit_id, {})[recs[0]["lang"] if recs[0].get("pair_id") else "one"] = recs
    for unit_id, sides in sorted(units.items()):
        meta = sel.get(unit_id)
        complete = all(len(r) >= 2 for r in sides.values())
        disagree = any(not annotations_agree(r[0]["text"], r[0]["claims"], r[1]["claims"])
                       or r[0].get("topic") != r[1].get("topic") for r in sides.values() if len(r) >= 2)
        third = all(len(r) >= 3 for r in sides.values())
        for recs in sides.values():
            for rec in recs:
                annotations.append({"item_id": rec["item_id"], "annotator": rec["annotator"],
                                    "lang": rec["lang"], "source": meta["source"] if meta else None,
                                    "sha1": text_hash(rec["text"]), "topic": rec.get("topic"),
                                    "claims": [_clean_claim(c) for c in rec["claims"]]})
        if not complete or meta is None:
            continue
        if disagree and not third:
            pending.add(unit_id)
            continue
        kept_by_lang, anns_by_lang = {}, {}
        for lang, recs in sides.items():
            use = recs[:3] if disagree else recs[:2]
            anns = [r["claims"] for r in use]
            kept_by_lang[lang] = majority_claims(use[0]["text"], anns)
            anns_by_lang[lang] = anns
        if "kk" in sides and "ru" in sides:
            pair_links(kept_by_lang["kk"], kept_by_lang["ru"], anns_by_lang)
        for lang, recs in sides.items():
            use = recs[:3] if disagree else recs[:2]
            first = recs[0]
            labels.append({
                "item_id": first["item_id"], "unit_id": unit_id, "pair_id": first.get("pair_id"),
                "source": meta["source"], "lang": first["lang"], "sha1": text_hash(first["text"]),
                "stratum": meta["stratum"], "topic": _majority_topic([r.get("topic") for r in use]),
                "claims": [_clean_claim(c) for c in kept_by_lang[lang]],
                "annotators": [r["annotator"] for r in use], "adjudicated": bool(disagree)})
    return {"labels": labels, "annotations": annotations, "pending": sorted(pending),
            "items": {i for rec in sel.values() for i in rec["items"]}}


class MergeError(ValueError):
    """A round that cannot be added to the corpus (the message names the items and why)."""


def add_round(res: dict[str, Any], labels: Sequence[dict], annotations: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """The corpus's rows with one more round: `res` is ``merge`` of the round's batch folder (its
    ``items``: the item ids the round's selection holds). Rows the corpus already has for those items
    (an earlier merge of the same round, before its third opinions) are replaced; an item an
    earlier round labelled is refused, so no text is counted twice and no earlier label changes."""
    round_items = res["items"]
    own = {rec["annotator"] for rec in res["annotations"]}
    clash = sorted(r["item_id"] for r in labels
                   if r["item_id"] in round_items and not set(r.get("annotators", [])) <= own)
    if clash:
        raise MergeError(f"{len(clash)} item(s) of this round were labelled by another round: "
                         f"{', '.join(clash[:5])}{' ...' if len(clash) > 5 else ''}")
    return ([r for r in labels if r["item_id"] not in round_items] + res["labels"],
            [a for a in annotations if a["item_id"] not in round_items] + res["annotations"])


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def labels_path() -> Path:
    return config.resolve_path(config.load("claims/corpus").get("labels", "data/claims/labels.jsonl"))


class LabelError(ValueError):
    """A label row that cannot be used, named by its line and the reason."""


REQUIRED_LABEL_KEYS = ("item_id", "source", "lang", "sha1", "claims")


def check_label_rows(rows: Sequence[dict], path: str = "labels") -> list[str]:
    """Every problem of label rows as "<path>:<line> (<item_id>): reason" (no texts needed)."""
    problems, seen = [], set()
    for n, row in enumerate(rows, start=1):
        where = f"{path}:{n} ({row.get('item_id', '?') if isinstance(row, dict) else '?'})"
        if not isinstance(row, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        missing = [k for k in REQUIRED_LABEL_KEYS if k not in row]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        if row["item_id"] in seen:
            problems.append(f"{where}: duplicate item_id")
        seen.add(row["item_id"])
        if row["lang"] not in ("kk", "ru"):
            problems.append(f"{where}: lang {row['lang']!r} is not kk or ru")
        if not isinstance(row["claims"], list):
            problems.append(f"{where}: claims is not a list")
            continue
        for i, c in enumerate(row["claims"], start=1):
            if not isinstance(c, dict) or c.get("type") not in TYPES or not c.get("predicate"):
                problems.append(f"{where} claim {i}: needs a type in {TYPES} and a predicate")
    return problems


def load_labels(path: Path | None = None) -> list[dict]:
    """The label rows; a malformed file raises LabelError naming every bad row."""
    path = Path(path or labels_path())
    rows = []
    problems = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                problems.append(f"{path}:{n}: not JSON ({e.msg})")
                rows.append({"item_id": f"<line {n}>", "source": "", "lang": "kk", "sha1": "", "claims": []})
    problems += check_label_rows(rows, str(path))
    if problems:
        raise LabelError(f"{len(problems)} bad label row(s):\n" + "\n".join(problems))
    return rows


def items(labels: Sequence[dict] | None = None) -> tuple[list[dict], list[dict]]:
    """Join labels with their texts from ../shared/data. Returns (gold records in the format of
    ../shared/data/gold, with ``source`` and ``stratum`` added; problems). A label whose text is
    missing or changed (hash mismatch) is a problem, never silently re-attached."""
    labels = load_labels() if labels is None else labels
    texts: dict[str, str] = {}
    wanted = {r["item_id"] for r in labels}
    for u in read_units():
        for item_id, _lang, text in u.items():
            if item_id in wanted:
                texts[item_id] = text
    out, problems = [], []
    for r in labels:
        text = texts.get(r["item_id"])
        if text is None:
            problems.append({"item_id": r["item_id"], "reason": "text not found in ../shared/data"})
            continue
        if text_hash(text) != r["sha1"]:
            problems.append({"item_id": r["item_id"], "reason": "text changed (hash mismatch)"})
            continue
        out.append({"item_id": r["item_id"], "pair_id": r.get("pair_id"), "lang": r["lang"], "text": text,
                    "topic": r.get("topic"), "claims": r["claims"], "source": r["source"],
                    "stratum": r.get("stratum")})
    return out, problems


def _kappa(pairs: Sequence[tuple[Any, Any]]) -> float | None:
    from collections import Counter

    if not pairs:
        return None
    po = sum(a == b for a, b in pairs) / len(pairs)
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    pe = sum(ca[t] * cb[t] for t in set(ca) | set(cb)) / len(pairs) ** 2
    return round((po - pe) / (1 - pe), 4) if pe < 1 else 1.0


def stats(directory: Path | None = None) -> dict[str, Any]:
    """Counts (texts, claims by type, natural-rate share) and agreement of the first two
    annotators (before any third opinion) per language and per source."""
    from collections import Counter, defaultdict

    directory = Path(directory or labels_path().parent)
    labels = load_labels(directory / "labels.jsonl")
    anns = read_jsonl(directory / "annotations.jsonl")
    annotated = {a["item_id"] for a in anns}
    texts: dict[str, str] = {}
    for u in read_units():
        for item_id, _lang, text in u.items():
            if item_id in annotated:
                texts[item_id] = text
    by_item: dict[str, list[dict]] = defaultdict(list)
    for a in anns:
        by_item[a["item_id"]].append(a)
    groups: dict[str, list] = defaultdict(list)
    topic_pairs: dict[str, list] = defaultdict(list)
    for item_id, rows in by_item.items():
        m = rows[0]
        if item_id not in texts or m.get("source") is None:
            continue
        rows = sorted((r for r in rows if not r["annotator"].startswith("adj")), key=lambda r: (r["annotator"].endswith("b"), r["annotator"]))
        if len(rows) < 2:
            continue
        trip = (texts[item_id], rows[0]["claims"], rows[1]["claims"])
        tp = (rows[0].get("topic"), rows[1].get("topic"))
        for key in ("all", f"lang:{m['lang']}", f"source:{m['source']}"):
            groups[key].append(trip)
            topic_pairs[key].append(tp)
    agreement_rep = {}
    for key in sorted(groups):
        a = agreement(groups[key])
        a["topic_kappa"] = _kappa(topic_pairs[key])
        agreement_rep[key] = a
    counts: dict[str, Any] = {"texts": len(labels), "by_lang": dict(Counter(r["lang"] for r in labels)),
                              "sources": dict(sorted(Counter(r["source"] for r in labels).items())),
                              "n_sources": len({r["source"] for r in labels}),
                              "natural_rate_share": round(sum(r.get("stratum") == "random" for r in labels) / max(1, len(labels)), 4),
                              "adjudicated_texts": sum(bool(r.get("adjudicated")) for r in labels),
                              "pairs": len({r["pair_id"] for r in labels if r.get("pair_id")}),
                              "aligned_links": sum(1 for r in labels if r["lang"] == "kk" for c in r["claims"] if c.get("align") is not None)}
    claims = Counter()
    for r in labels:
        for c in r["claims"]:
            claims[(r["lang"], c["type"])] += 1
    counts["claims"] = {lang: {t: claims[(lang, t)] for t in TYPES} | {"all": sum(claims[(lang, t)] for t in TYPES)}
                        for lang in ("kk", "ru")}
    counts["texts_with_claims"] = {lang: sum(1 for r in labels if r["lang"] == lang and r["claims"]) for lang in ("kk", "ru")}
    counts["topic_null_share"] = round(sum(r.get("topic") is None for r in labels) / max(1, len(labels)), 4)
    return {"counts": counts, "agreement_first_two_annotators": agreement_rep}


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m pipeline.corpora.claims",
                                 description="The claims corpus: validate annotations, build, stats.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="check an annotator's output against its batch")
    v.add_argument("batch", type=Path)
    v.add_argument("output", type=Path)
    m = sub.add_parser("merge", help="annotator outputs -> data/claims labels, annotations, pending units")
    m.add_argument("batch_dir", type=Path)
    m.add_argument("--out", type=Path, default=Path("data/claims"))
    m.add_argument("--add", action="store_true",
                   help="add this folder's round to the labels already in --out (earlier rounds' rows kept; "
                        "this round's rows replaced, e.g. after its third opinions) instead of rewriting them")
    b = sub.add_parser("build", help="labels joined with their texts -> a gold-format JSONL file")
    b.add_argument("out", type=Path)
    st = sub.add_parser("stats", help="counts and annotator agreement per language and source")
    st.add_argument("--out", type=Path, default=None, help="also write the report as JSON")
    args = ap.parse_args(argv)
    if args.cmd == "validate":
        problems = validate_annotation(args.batch, args.output)
        for p in problems:
            print(p)
        print("OK" if not problems else f"{len(problems)} problem(s)")
        raise SystemExit(1 if problems else 0)


    if args.cmd == "merge":
        res = merge(args.batch_dir, sorted(Path(args.batch_dir).glob("selection_*.jsonl")))
        labels, annotations = res["labels"], res["annotations"]
        if args.add:
            try:
                labels, annotations = add_round(res, read_jsonl(args.out / "labels.jsonl"),
                                                read_jsonl(args.out / "annotations.jsonl"))
            except MergeError as e:
                raise SystemExit(f"merge --add {args.batch_dir}: {e}") from None
        write_jsonl(args.out / "labels.jsonl", sorted(labels, key=lambda r: r["item_id"]))
        write_jsonl(args.out / "annotations.jsonl", sorted(annotations, key=lambda r: (r["item_id"], r["annotator"])))
        write_jsonl(args.batch_dir / "pending.jsonl", [{"unit_id": u} for u in res["pending"]])
        print(f"{len(res['labels'])} labelled texts, {len(res['pending'])} units waiting for a third annotator")
    elif args.cmd == "build":
        recs, problems = items()
        for p in problems:
            print(f"skipped {p['item_id']}: {p['reason']}")
        print(write_jsonl(args.out, recs), "items written to", args.out)
    elif args.cmd == "stats":
        rep = stats()
        print(json.dumps(rep, ensure_ascii=False, indent=1))
        if args.out:
            Path(args.out).write_text(json.dumps(rep, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
