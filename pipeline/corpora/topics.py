"""The default topic corpus: aligned Kazakh-Russian line pairs of government web text, each pair
labelled with one CAP major topic.

Why labels and texts live apart: the texts belong to the apertium-kaz-rus parallel corpus
(GPL-3.0, ``../shared/data/parallel_kk_ru``); the project ships only the labels with their
provenance (file pair, line number, a hash of both sides) in ``data/topics/labels.jsonl`` and
joins them with the texts at training time. A label whose line no longer matches its hash is
reported and left out, never silently re-attached to other text.

``candidate_pairs`` decides which lines can be labelled at all (both sides real prose in the
right language, not a dev gold text); the labelling procedure is in ``data/topics/README.md``.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from pipeline import config
from pipeline.text import langid

# kk file -> ru file; the corpus pairs files by name, not by a rule.
FILE_PAIRS: dict[str, str] = {
    "almaty-gov-kaz-150": "almatygov-ru",
    "bolashak-kaz-242": "bolashak-ru",
    "conscouncil-kaz-250": "constcouncil-ru",
    "dingov-kaz.tmx": "dingov-rus.tmx",
    "egov-kaz-130": "egov-ru",
    "election-kaz-660": "election-ru-660",
    "enu1-kaz.tmx": "enu1-rus.tmx",
    "iak-kaz-125": "iak-ru",
    "inform-kaz-370": "inform-rus",
    "knb-kaz-1010": "knb-ru",
    "kyzmet-kaz.tmx": "kyzmet-rus.tmx",
    "minplan-kaz-734": "minplan-ru",
    "muftyat+kaz+500": "muuftyat+ru",
    "muftyat-kaz-725": "muftyat-ru",
    "nationalbank-kaz-530": "nationalbank-ru",
    "pravstat-kaz-130": "pravstat-ru",
    "prokuror-kaz-40": "prokuror-ru",
    "resurs-kaz-300": "resurs-ru",
    "supcourt-kaz-380": "supcourt-ru",
}

_WS = re.compile(r"\s+")


# two files would both be called "muftyat"
_SOURCE_NAMES = {"muftyat+kaz+500": "muftyat500"}


def source_name(kk_file: str) -> str:
    """Short source name of a file pair: "knb-kaz-1010" -> "knb" (as in the dev gold ids)."""
    return _SOURCE_NAMES.get(kk_file) or re.split(r"[-+]ka[zs]", kk_file)[0]


def unit_source(pair_id: str) -> str:
    """The source (site or corpus) of a unit id: "enu1:67" -> "enu1"; a single-language
    sentence's key -> its configured `source` ("kaznerd-valid:5" -> "kaznerd"), so that
    leave-one-source-out keeps both KazNERD files in one fold."""
    key = pair_id.split(":")[0]
    sentences = config.load("topics").get("default_corpus", {}).get("sentences", {})
    return sentences.get(key, {}).get("source", key)


def text_hash(text: str) -> str:
    return hashlib.sha1(_WS.sub(" ", text).strip().encode("utf-8")).hexdigest()[:12]


@dataclass
class Pair:
    """One aligned line pair; ``pair_id`` is "<source>:<line>" (line numbers from 1)."""
    pair_id: str
    kk_file: str
    ru_file: str
    line: int
    kk: str
    ru: str

    @property
    def hashes(self) -> tuple[str, str]:
        return text_hash(self.kk), text_hash(self.ru)


def parallel_dir() -> Path:
    return config.shared_data_dir() / "parallel_kk_ru"


def read_pairs(directory: Path | None = None) -> Iterator[Pair]:
    """Every line pair of the corpus, whitespace collapsed, in file order."""
    directory = directory or parallel_dir()
    for kk_file, ru_file in sorted(FILE_PAIRS.items()):
        kk_lines = (directory / kk_file).read_text(encoding="utf-8").splitlines()
        ru_lines = (directory / ru_file).read_text(encoding="utf-8").splitlines()
        for i, (kk, ru) in enumerate(zip(kk_lines, ru_lines), start=1):
            yield Pair(f"{source_name(kk_file)}:{i}", kk_file, ru_file, i,
                       _WS.sub(" ", kk).strip(), _WS.sub(" ", ru).strip())


def read_sentences(sources: dict | None = None) -> Iterator[Pair]:
    """Single-language sentences labelled like one side of a pair (the other side empty):
    the `[default_corpus.sentences]` sources of configs/topics.toml, ids "<name>:<n>" (n from 1).
    A source whose file is absent (a clone without ../shared) yields nothing."""
    if sources is None:
        sources = config.load("topics").get("default_corpus", {}).get("sentences", {})
    for name, src in sorted(sources.items()):
        path = config.shared_data_dir() / src["file"]
        if not path.exists():
            continue
        if src.get("format", "iob") != "iob":
            raise ValueError(f"configs/topics.toml sentences.{name}: format {src['format']!r} is not supported (iob)")
        from pipeline.nlp.conllu import read_iob

        for i, sent in enumerate(read_iob(path), start=1):
            text = " ".join(w for w, _ in sent)
            kk, ru = (text, "") if src["lang"] == "kk" else ("", text)
            yield Pair(f"{name}:{i}", src["file"] if kk else "", "" if kk else src["file"], i, kk, ru)


# annotators see texts cut here; read_annotations finds a unit again by its cut texts
SHOWN_CHARS = 700


def write_batch(path: Path, units: Iterable[Pair]) -> int:
    """An annotator's batch: one {"pair_id", "kk", "ru"} per unit, texts cut at SHOWN_CHARS."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for u in units:
            fh.write(json.dumps({"pair_id": u.pair_id, "kk": u.kk[:SHOWN_CHARS], "ru": u.ru[:SHOWN_CHARS]},
                                ensure_ascii=False) + "\n")
            n += 1
    return n


def read_units(directory: Path | None = None) -> Iterator[Pair]:
    """Everything a label can point at: the parallel pairs, then the single-language sentences."""
    yield from read_pairs(directory)
    yield from read_sentences()


def sides(pair_or_rec: "Pair | dict") -> tuple[str, ...]:
    """The sides that carry a label: both for a pair, one for a single-language sentence
    (its other side is empty text, or a null label)."""
    if isinstance(pair_or_rec, Pair):
        return tuple(lang for lang in ("kk", "ru") if getattr(pair_or_rec, lang))
    return tuple(lang for lang in ("kk", "ru") if pair_or_rec.get(lang) is not None)


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip().lower()


def dev_gold_texts(path: Path | None = None) -> list[str]:
    """Texts of the dev gold (kept out of topic training so its scores stay honest)."""
    path = path or config.shared_data_dir() / "gold" / "dev.gold.jsonl"
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return [_norm(json.loads(line)["text"]) for line in fh if line.strip()]


def gold_texts() -> list[str]:
    """Dev gold and the reference statement's gold: never topic training data."""
    gold_dir = config.shared_data_dir() / "gold"
    return dev_gold_texts(gold_dir / "dev.gold.jsonl") + dev_gold_texts(gold_dir / "seed.gold.jsonl")


def overlaps_gold(pair: Pair, gold: list[str], probe: int = 60) -> bool:
    """True when either side contains a dev gold text or a gold text contains it."""
    sides = [_norm(t) for t in (pair.kk, pair.ru) if t]
    for g in gold:
        key = g[:probe]
        for side in sides:
            if key in side or side[:probe] in g:
                return True
    return False


def candidate_pairs(min_chars: int = 40, max_chars: int = 1200,
                    directory: Path | None = None,
                    gold: list[str] | None = None) -> Iterator[Pair]:
    """Pairs worth labelling: both sides prose of the right language, no dev gold text,
    no exact duplicate of an earlier pair."""
    gold = gold_texts() if gold is None else gold
    seen: set[tuple[str, str]] = set()
    for pair in read_pairs(directory):
        if not (min_chars <= len(pair.kk) <= max_chars and min_chars <= len(pair.ru) <= max_chars):
            continue
        if langid.identify(pair.kk) != "kk" or langid.identify(pair.ru) != "ru":
            continue
        key = pair.hashes
        if key in seen:
            continue
        seen.add(key)
        if overlaps_gold(pair, gold):
            continue
        yield pair


def load_labels(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def annotation_round(annotator: str) -> str:
    """"llm-batch_3" -> "1", "llm-batch_r5_0" -> "5" (the rounds of GUIDELINES.md); "" if unknown."""
    m = re.search(r"batch_(?:r(\d+)_)?\d+$", annotator)
    return "" if m is None else (m.group(1) or "1")


def join_labels(labels: Iterable[dict], directory: Path | None = None, keep_none: bool = False
                ) -> tuple[list[dict], list[dict]]:
    """Attach texts to labels; returns (examples, problems). One example per labelled side:
    {"id", "pair_id", "lang", "text", "label", "source", "round"}. A side whose text no longer matches its
    hash is a problem, as is a label for a line the corpus does not have."""
    pairs = {p.pair_id: p for p in read_units(directory)}
    examples, problems = [], []
    for rec in labels:
        pair = pairs.get(rec["pair_id"])
        if pair is None:
            problems.append({"pair_id": rec["pair_id"], "reason": "no such line in the corpus"})
            continue
        kk_hash, ru_hash = pair.hashes
        for lang, text, h in (("kk", pair.kk, kk_hash), ("ru", pair.ru, ru_hash)):
            label = rec.get(lang)
            if label is None or not text or (label == "none" and not keep_none):
                continue
            if rec.get(f"{lang}_sha1") != h:
                problems.append({"pair_id": rec["pair_id"], "reason": f"{lang} text changed (hash mismatch)"})
                continue
            examples.append({"id": f"{rec['pair_id']}:{lang}", "pair_id": rec["pair_id"], "lang": lang,
                             "text": text, "label": label, "source": unit_source(rec["pair_id"]),
                             "corpus": "parallel" if pair.kk and pair.ru else "single-language",
                             "round": annotation_round(rec.get("annotator", ""))})
    return examples, problems


def select_for_labelling(per_source_cap: dict[str, int] | None = None, seed: int = 13,
                         default_cap: int = 10_000) -> list[Pair]:
    """The pairs sent to annotators: every candidate of the small sources, a seeded random
    sample of the two big ones (a university site and the religious-affairs site would
    otherwise swamp the corpus with education and civil_rights). Document order is kept."""
    import random

    caps = {"enu1": 650, "dingov": 350} if per_source_cap is None else per_source_cap
    by_source: dict[str, list[Pair]] = {}
    for pair in candidate_pairs():
        by_source.setdefault(pair.pair_id.split(":")[0], []).append(pair)
    rng = random.Random(seed)
    chosen: list[Pair] = []
    for source, pairs in sorted(by_source.items()):
        cap = caps.get(source, default_cap)
        if len(pairs) > cap:
            keep = set(rng.sample(range(len(pairs)), cap))
            pairs = [p for i, p in enumerate(pairs) if i in keep]
        chosen.extend(pairs)
    return chosen


def merge_annotations(batch_files: list[Path], batches_dir: Path) -> tuple[list[dict], list[dict]]:
    """Annotator outputs -> (labels, second_opinions). A pair's label comes from the batch that
    owns it (first batch listing it in sorted batch order); the copies in other batches are the
    second opinions used for the agreement figures and for adjudication."""
    labels: dict[str, dict] = {}
    second: list[dict] = []
    for ann in read_annotations(batch_files, batches_dir):
        pair = ann.pop("pair")
        kk_hash, ru_hash = pair.hashes
        rec = {"pair_id": pair.pair_id, "kk": ann["kk"], "ru": ann["ru"], "kk_sha1": kk_hash, "ru_sha1": ru_hash,
               "annotator": ann["annotator"]}
        if pair.pair_id in labels:
            second.append(rec)
        else:
            labels[pair.pair_id] = rec
    return list(labels.values()), second


def annotated_label(rec: dict, lang: str) -> str:
    """What the owner of a label record wrote for side `lang`, before any adjudication."""
    return rec.get(f"{lang}_annotated", rec[lang])


def agreement(labels: list[dict], second: list[dict]) -> dict:
    """Observed agreement and Cohen's kappa between owner and second annotator, per side."""
    from sklearn.metrics import cohen_kappa_score

    first = {r["pair_id"]: r for r in labels}
    a, b = [], []
    for r in second:
        for lang in sides(r):
            # the owner's own label, not the one adjudication may have put in its place
            a.append(annotated_label(first[r["pair_id"]], lang))
            b.append(r[lang])
    same = sum(x == y for x, y in zip(a, b))
    return {"pairs": len(second), "sides": len(a), "agreement": round(same / len(a), 4) if a else None,
            "cohen_kappa": round(float(cohen_kappa_score(a, b)), 4) if a else None}


def read_annotations(files: list[Path], batches_dir: Path) -> list[dict]:
    """Annotator outputs checked against their batches: [{"pair_id", "kk", "ru", "annotator"}]."""
    from pipeline.topics.codes import valid_codes

    codes = valid_codes() | {"none"}
    # batches show texts cut at SHOWN_CHARS; the cut texts, not the ids, identify the pair
    # (ids of an older naming could collide)
    by_text = {(p.kk[:SHOWN_CHARS], p.ru[:SHOWN_CHARS]): p for p in read_units()}
    out = []
    for bf in sorted(files):
        batch = bf.name.split(".")[0]
        inputs = [json.loads(l) for l in (batches_dir / f"{batch}.jsonl").open(encoding="utf-8")]
        outputs = [json.loads(l) for l in bf.open(encoding="utf-8") if l.strip()]
        if [i["pair_id"] for i in inputs] != [o["pair_id"] for o in outputs]:
            raise ValueError(f"{bf}: records do not match the batch's pairs one to one, in order")
        for inp, o in zip(inputs, outputs):
            pair = by_text[(inp["kk"], inp["ru"])]
            labelled = sides(pair)
            for lang in labelled:
                if o.get(lang) not in codes:
                    raise ValueError(f"{bf}: {pair.pair_id}: {lang} label {o.get(lang)!r} is not a topic code")
            # a single-language sentence's empty side has no label, whatever the annotator wrote
            out.append({"pair_id": pair.pair_id, **{lang: o.get(lang) if lang in labelled else None
                                                    for lang in ("kk", "ru")},
                        "annotator": f"llm-{batch}", "pair": pair})
    return out


def majority_adjudications(labels: list[dict], others: list[dict], why: str) -> list[dict]:
    """Where at least three annotations of a side exist (owner, second, third opinion) and a
    strict majority of them disagrees with the owner, the majority label replaces it."""
    from collections import Counter

    votes: dict[tuple[str, str], list[str]] = {}
    for r in others:
        for lang in sides(r):
            votes.setdefault((r["pair_id"], lang), []).append(r[lang])
    out = []
    for rec in labels:
        for lang in sides(rec):
            extra = votes.get((rec["pair_id"], lang), [])
            if len(extra) < 2:
                continue
            own = annotated_label(rec, lang)
            label, n = Counter([own, *extra]).most_common(1)[0]
            if label != own and n > (1 + len(extra)) / 2:
                out.append({"pair_id": rec["pair_id"], "side": lang, "label": label,
                            "annotator": rec["annotator"], "why": why})
    return out


def write_training_file(out: Path, labels_path: Path | None = None) -> dict:
    """The default model's training data: every labelled side (not `none`) with its text."""
    labels_path = labels_path or config.resolve_path(config.load("topics")["default_corpus"]["labels"])
    examples, problems = join_labels(load_labels(labels_path))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(ex, ensure_ascii=False) + "\n")
    return {"examples": len(examples), "problems": problems, "out": str(out)}


def stats(directory: Path) -> dict:
    """What README and data/topics/README.md quote: counts, imbalance, agreement."""
    from collections import Counter

    labels = load_labels(directory / "labels.jsonl")
    second = load_labels(directory / "second_opinions.jsonl")
    by_label = Counter(r[lang] for r in labels for lang in sides(r))
    topical = {k: v for k, v in by_label.items() if k != "none"}
    pairs = [r for r in labels if len(sides(r)) == 2]
    owner_round = {r["pair_id"]: annotation_round(r.get("annotator", "")) for r in labels}
    return {
        "labelled_pairs": len(pairs),
        "labelled_single_sentences": len(labels) - len(pairs),
        "pairs_both_sides_topical": sum(1 for r in pairs if r["kk"] != "none" and r["ru"] != "none"),
        "pairs_sides_differ": sum(1 for r in pairs if r["kk"] != r["ru"]),
        "labelled_sides_topical": sum(topical.values()),
        "sides_none": by_label.get("none", 0),
        "by_source": dict(Counter(r["pair_id"].split(":")[0] for r in labels).most_common()),
        "label_counts": dict(sorted(topical.items(), key=lambda kv: -kv[1])),
        "imbalance_largest_to_smallest": round(max(topical.values()) / min(topical.values()), 1),
        "adjudicated_pairs": sum(1 for r in labels if r.get("adjudicated")),
        "agreement": agreement(labels, second),
        # by the round of the pair's (first) annotation: later rounds picked harder lines
        "agreement_by_round": {
            r: agreement(labels, [x for x in second if owner_round[x["pair_id"]] == r])
            for r in sorted(set(owner_round[x["pair_id"]] for x in second))},
    }


def merge_into(batch_dir: Path, out_dir: Path) -> tuple[list[dict], list[dict]]:
    """Annotator batches + out_dir/adjudications.jsonl -> out_dir/labels.jsonl, second_opinions.jsonl."""
    labels, second = merge_annotations(sorted(batch_dir.glob("batch_*.labels.jsonl")), batch_dir)
    adj_path = out_dir / "adjudications.jsonl"
    if adj_path.exists():
        by_id = {r["pair_id"]: r for r in labels}
        for adj in load_labels(adj_path):
            rec = by_id[adj["pair_id"]]
            rec.setdefault(f"{adj['side']}_annotated", rec[adj["side"]])
            rec[adj["side"]] = adj["label"]
            rec["adjudicated"] = adj["why"]
    for name, recs in (("labels.jsonl", labels), ("second_opinions.jsonl", second)):
        with open(out_dir / name, "w", encoding="utf-8") as fh:
            for r in recs:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return labels, second


def disagreement_batches(out_dir: Path, batch_dir: Path, rounds: set[str], prefix: str, n: int,
                         seed: int = 7) -> list[Path]:
    """Third-opinion batches: every pair of the given rounds whose owner and second annotator
    disagree on a side (texts only: the annotator sees neither earlier label)."""
    import random

    labels = load_labels(out_dir / "labels.jsonl")
    owner = {r["pair_id"]: r for r in labels}
    pairs = {p.pair_id: p for p in read_units()}
    todo = []
    for r in load_labels(out_dir / "second_opinions.jsonl"):
        o = owner[r["pair_id"]]
        if annotation_round(o["annotator"]) not in rounds or r["pair_id"] in todo:
            continue
        if any(annotated_label(o, lang) != r[lang] for lang in sides(r)):
            todo.append(r["pair_id"])
    random.Random(seed).shuffle(todo)
    size = max(1, -(-len(todo) // n))
    paths = []
    for i in range(0, len(todo), size):
        path = batch_dir / f"{prefix}_{len(paths)}.jsonl"
        write_batch(path, (pairs[pid] for pid in todo[i:i + size]))
        paths.append(path)
    return paths


def adjudicate(out_dir: Path, batch_dir: Path, prefix: str, why: str) -> list[dict]:
    """Majority of owner, second and third opinions (`prefix`_*.labels.jsonl) ->
    out_dir/adjudications.jsonl (earlier records for the same sides are replaced)."""
    labels = load_labels(out_dir / "labels.jsonl")
    third = read_annotations(sorted(batch_dir.glob(f"{prefix}_*.labels.jsonl")), batch_dir)
    new = majority_adjudications(labels, load_labels(out_dir / "second_opinions.jsonl") + third, why)
    adj_path = out_dir / "adjudications.jsonl"
    old = load_labels(adj_path) if adj_path.exists() else []
    keys = {(a["pair_id"], a["side"]) for a in new}
    with open(adj_path, "w", encoding="utf-8") as fh:
        for a in [a for a in old if (a["pair_id"], a["side"]) not in keys] + new:
            fh.write(json.dumps(a, ensure_ascii=False) + "\n")
    return new


def main(argv: list[str] | None = None) -> None:
    """python -m pipeline.corpora.topics build --topics-only OUT.jsonl | stats | merge BATCH_DIR |
    disagreements BATCH_DIR | adjudicate BATCH_DIR"""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m pipeline.corpora.topics", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="data/topics labels joined with their texts (with --topics-only; the default "
                                     "model's pooled table: python -m pipeline.corpora.topics_pooled OUT.jsonl)")
    b.add_argument("out", type=Path)
    b.add_argument("--topics-only", action="store_true", help="only data/topics/labels.jsonl (the corpus before the "
                                                              "claims corpus was pooled in)")
    st = sub.add_parser("stats", help="label counts, imbalance and annotator agreement of data/topics")
    st.add_argument("--dir", type=Path, default=config.resolve_path("data/topics"))
    m = sub.add_parser("merge", help="annotator outputs -> data/topics/labels.jsonl + second_opinions.jsonl")
    m.add_argument("batch_dir", type=Path)
    d = sub.add_parser("disagreements", help="third-opinion batches for the pairs whose two annotators disagree")
    d.add_argument("batch_dir", type=Path)
    d.add_argument("--rounds", required=True, help="comma-separated rounds of the owners, e.g. 5,6")
    d.add_argument("--prefix", required=True, help="batch name prefix, e.g. adj_r6")
    d.add_argument("--batches", type=int, default=2)
    a = sub.add_parser("adjudicate", help="majority of three annotators -> adjudications.jsonl, then merge")
    a.add_argument("batch_dir", type=Path)
    a.add_argument("--prefix", required=True, help="the third-opinion batches' prefix")
    a.add_argument("--why", required=True, help="the reason recorded with each changed label")
    for sp in (m, d, a):
        sp.add_argument("--out-dir", type=Path, default=config.resolve_path("data/topics"))
    args = ap.parse_args(argv)
    if args.cmd == "stats":
        print(json.dumps(stats(args.dir), ensure_ascii=False, indent=1))
    elif args.cmd == "build" and args.topics_only:
        res = write_training_file(args.out)
        for p in res["problems"]:
            print(f"SKIPPED {p['pair_id']}: {p['reason']}")
        print(f"{res['examples']} labelled texts written to {res['out']}")
    elif args.cmd == "build":
        raise SystemExit("the pooled training table is built by `python -m pipeline.corpora.topics_pooled OUT.jsonl` "
                         "(data/topics and data/claims labels together); `build --topics-only` builds data/topics alone")
    elif args.cmd == "disagreements":
        for path in disagreement_batches(args.out_dir, args.batch_dir, set(args.rounds.split(",")),
                                         args.prefix, args.batches):
            print(f"{path}: {sum(1 for _ in path.open(encoding='utf-8'))} pairs")
    else:
        if args.cmd == "adjudicate":
            changed = adjudicate(args.out_dir, args.batch_dir, args.prefix, args.why)
            print(f"{len(changed)} sides set to the majority label")
        labels, second = merge_into(args.batch_dir, args.out_dir)
        n_pairs = sum(1 for r in labels if len(sides(r)) == 2)
        print(f"{n_pairs} labelled pairs, {len(labels) - n_pairs} single-language sentences, {len(second)} "
              f"second opinions; agreement {agreement(labels, second)}")


if __name__ == "__main__":
    main()
