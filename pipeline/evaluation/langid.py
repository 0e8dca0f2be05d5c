"""Measure pipeline.text.langid on the Kazakh–Russian parallel corpus (`python -m pipeline.evaluation.langid`).

Why this corpus: it is the same kind of text the pipeline reads (Kazakhstani government sites,
both languages), and each file says which language it is meant to be in. But it is noisy: the
"ru" side holds untranslated Kazakh lines (most of knb-ru), and both sides hold Latin-script
junk. So the gold label is corrected by a transparent rule that uses only letters and a tiny
closed word list, never the identifier itself:

  1. a sentence with no Cyrillic letters, or more Latin than Cyrillic letters, is "other";
  2. a sentence of a ru-side file whose ordinary words (lower-case, outside «» quotes) contain
     >= 2 Kazakh-specific letters (ә ғ қ ң ө ұ ү һ і) is "kk";
  3. a sentence of a kk-side file with no Kazakh-specific letter at all and at least one of the
     Russian words и, в, на, не, что, по, для, от, из, за, при, это, как, или, также, который,
     которые, является (outside quotes) is "ru";
  4. otherwise the side of the file.

Both the raw (file side) and the corrected accuracy are printed, per language, on sentences with
5+ words (words = runs of letters); shorter sentences are reported separately for information.
Sentences are deduplicated per side (the corpus repeats page headers hundreds of times); the
count with repeats is shown too. The annotated texts of ../shared/data/gold (which carry a
checked `lang`) are scored as a second, independent check.
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import Counter, defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from pipeline import config
from pipeline.text import langid
from pipeline.text.langid import _WORD, normalize_word, script_counts
from pipeline.text.segment import sentence_spans

KK_LETTERS = set("әғқңөұүһі")
RU_MARKERS = {
    "и", "в", "на", "не", "что", "по", "для", "от", "из", "за", "при", "это", "как", "или",
    "также", "который", "которые", "является",
}
_LANG_TOKEN = {"kaz": "kk", "kk": "kk", "ru": "ru", "rus": "ru"}


@dataclass
class Item:
    text: str
    side: str  # language of the file it came from
    gold: str  # corrected label
    source: str
    count: int = 1


def _side_and_key(name: str) -> tuple[str | None, str]:
    """("kk"|"ru"|None, name without language token, numbers and extension)."""
    stem = name[:-4] if name.endswith(".tmx") else name
    parts = [p for p in re.split(r"[-+_.]", stem) if p]
    side = None
    rest = []
    for p in parts:
        if p.lower() in _LANG_TOKEN and side is None:
            side = _LANG_TOKEN[p.lower()]
        elif not p.isdigit():
            rest.append(p.lower())
    return side, "".join(rest)


def _count_lines(path: Path) -> int:
    with path.open(encoding="utf-8", errors="replace") as fh:
        return sum(1 for _ in fh)


def pair_files(folder: Path) -> list[tuple[Path, Path]]:
    """Pair kk and ru files by name: same name without language/numbers, else the most similar
    name among ru files with the same number of lines (the files are line-aligned), so that
    `muftyat+kaz+500` finds `muuftyat+ru` and `conscouncil-kaz-250` finds `constcouncil-ru`."""
    kk, ru = [], []
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        side, key = _side_and_key(p.name)
        if side == "kk":
            kk.append((p, key))
        elif side == "ru":
            ru.append((p, key))
    lines = {p: _count_lines(p) for p, _ in kk + ru}
    pairs, used = [], set()
    for p, key in kk:
        cands = [(q, k) for q, k in ru if q not in used and lines[q] == lines[p]]
        cands = cands or [(q, k) for q, k in ru if q not in used]
        if not cands:
            continue
        best = max(cands, key=lambda c: (c[1] == key, difflib.SequenceMatcher(None, key, c[1]).ratio()))
        used.add(best[0])
        pairs.append((p, best[0]))
    return pairs


def _outside_quotes_words(text: str) -> list[tuple[str, bool]]:
    """(word, capitalised?) for words outside «...» quotes, look-alikes normalised."""
    out, depth = [], 0
    pos = 0
    for m in _WORD.finditer(text):
        seg = text[pos:m.start()]
        depth += seg.count("«") - seg.count("»")
        depth = max(depth, 0)
        pos = m.start()
        if depth == 0:
            w = normalize_word(m.group())
            out.append((w, w[:1].isupper()))
    return out


def gold_label(text: str, side: str) -> str:
    """The corrected gold label (rules 1-4 of the module docstring)."""
    cyr, lat = script_counts(text)
    if cyr == 0 or lat > cyr:
        return "other"
    words = _outside_quotes_words(text)
    if side == "ru":
        n = sum(sum(c in KK_LETTERS for c in w.lower()) for w, cap in words if not cap)
        if n >= 2:
            return "kk"
    if side == "kk":
        has_kk = any(c in KK_LETTERS for c in normalize_word(text).lower())
        if not has_kk and any(w.lower() in RU_MARKERS for w, _ in words):
            return "ru"
    return side


def n_words(text: str) -> int:
    return len(_WORD.findall(text))


def corpus_items(folder: Path) -> list[Item]:
    """Unique sentences of each side of every file pair (with their repeat counts)."""
    seen: dict[tuple[str, str], Item] = {}
    for kk_path, ru_path in pair_files(folder):
        for path, side in ((kk_path, "kk"), (ru_path, "ru")):
            with path.open(encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    line = line.rstrip("\n")
                    for a, b in sentence_spans(line):
                        s = line[a:b]
                        key = (side, s)
                        if key in seen:
                            seen[key].count += 1
                        else:
                            seen[key] = Item(s, side, gold_label(s, side), path.name)
    return list(seen.values())


def _acc(rows: list[tuple[str, str]]) -> tuple[int, int]:
    return sum(g == p for g, p in rows), len(rows)


def _fmt(ok: int, n: int) -> str:
    return f"{ok}/{n} = {100.0 * ok / n:.2f}%" if n else "n/a"


def pair_groups(folder: Path) -> dict[str, int]:
    """File name -> index of its pair (the unit of cross-validation)."""
    groups = {}
    for i, (a, b) in enumerate(pair_files(folder)):
        groups[a.name] = groups[b.name] = i
    return groups


def training_data(items: list[Item]) -> tuple[list[str], list[str]]:
    """Sentences (any length) with a kk/ru corrected label: what the n-gram model learns."""
    sel = [it for it in items if it.gold in ("kk", "ru")]
    return [it.text for it in sel], [it.gold for it in sel]


def train_shipped(items: list[Item], path: Path, **params) -> langid.NgramModel:
    """Train on the whole corpus and write the model (the `--train` command)."""
    texts, labels = training_data(items)
    meta = {"data": "../shared/data/parallel_kk_ru (apertium/apertium-kaz-rus CORPUS), unique "
                    "sentences of all file pairs, labels corrected by rules 1-4 of "
                    "pipeline/evaluation/langid.py, 'other' left out",
            "command": "python -m pipeline.evaluation.langid --train"}
    model = langid.train_model(texts, labels, meta=meta, **params)
    model.save(path)
    return model


def predict(items: list[Item], mode: str, folds: int, groups: dict[str, int]) -> list[str]:
    """Labels for `items`. mode "cv": the n-gram model of each item is trained on the other
    folds of file pairs (so no sentence is scored by a model that saw its page); "shipped": the
    model in models/langid/ (optimistic: it was trained on this corpus); "none": rules only."""
    if mode == "none":
        with langid.model_override(None):
            return [langid.identify(it.text) for it in items]
    if mode == "shipped":
        return [langid.identify(it.text) for it in items]
    preds: list[str] = [""] * len(items)
    for f in range(folds):
        train = [it for it in items if groups[it.source] % folds != f]
        test = [i for i, it in enumerate(items) if groups[it.source] % folds == f]
        model = langid.train_model(*training_data(train))
        with langid.model_override(model):
            for i in test:
                preds[i] = langid.identify(items[i].text)
    return preds


def report(items: list[Item], preds: list[str], n_errors: int, out=sys.stdout) -> dict:
    """Print raw and corrected accuracy; return the numbers."""
    results: dict = {}
    for label, cond in (("5+ words", lambda it: n_words(it.text) >= 5),
                        ("1-4 words", lambda it: 1 <= n_words(it.text) < 5)):
        idx = [i for i, it in enumerate(items) if cond(it)]
        sel = [items[i] for i in idx]
        pr = [preds[i] for i in idx]
        raw = _acc([(it.side, p) for it, p in zip(sel, pr)])
        cor = _acc([(it.gold, p) for it, p in zip(sel, pr)])
        weighted = (sum(it.count for it, p in zip(sel, pr) if p == it.gold), sum(it.count for it in sel))
        print(f"\n== sentences with {label}: {len(sel)} unique ({weighted[1]} with repeats)", file=out)
        print(f"raw accuracy (gold = file side):       {_fmt(*raw)}", file=out)
        print(f"corrected accuracy (gold = rules 1-4): {_fmt(*cor)}   with repeats: {_fmt(*weighted)}", file=out)
        relabeled = Counter((it.side, it.gold) for it in sel if it.side != it.gold)
        print("relabelled by the rules: " + ", ".join(f"{s}->{g}: {n}" for (s, g), n in sorted(relabeled.items())), file=out)
        per: dict[str, list] = defaultdict(list)
        for it, p in zip(sel, pr):
            per[it.gold].append((it.gold, p))
        for lang in ("kk", "ru", "other"):
            if per[lang]:
                confusions = Counter(p for g, p in per[lang] if p != g)
                extra = ", ".join(f"as {k}: {v}" for k, v in confusions.most_common())
                print(f"  gold {lang:5s} {_fmt(*_acc(per[lang]))}  {extra}", file=out)
        results[label] = {"raw": raw, "corrected": cor, "with_repeats": weighted,
                          "per_lang": {k: _acc(v) for k, v in per.items()}}
        errs = [(it, p) for it, p in zip(sel, pr) if p != it.gold]
        if errs and n_errors:
            print(f"  errors ({min(n_errors, len(errs))} of {len(errs)}; kk/ru = rule evidence):", file=out)
            for it, p in errs[:n_errors]:
                ev = langid.rule_evidence(it.text)
                t = it.text if len(it.text) <= 150 else it.text[:147] + "..."
                print(f"   [{it.source}] gold={it.gold} pred={p} kk={ev.kk:.1f} ru={ev.ru:.1f}: {t}", file=out)
    return results


def gold_items(folder: Path) -> list[Item]:
    """Annotated texts (seed and dev gold) with the `lang` the annotators gave them."""
    items = []
    for name in ("seed.gold.jsonl", "dev.gold.jsonl"):
        path = folder / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    d = json.loads(line)
                    items.append(Item(d["text"], d["lang"], d["lang"], name))
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="parallel corpus folder "
                    "(default: <shared data>/parallel_kk_ru)")
    ap.add_argument("--model", choices=("cv", "shipped", "none"), default="cv",
                    help="cv (default): n-gram model cross-validated over file pairs; "
                         "shipped: models/langid as is (trained on this corpus, optimistic); "
                         "none: rules only")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--train", action="store_true",
                    help="first (re)train the shipped model on the whole corpus and write it")
    ap.add_argument("--errors", type=int, default=8, help="error examples to print per group")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    shared = config.shared_data_dir()
    folder = args.data or shared / "parallel_kk_ru"
    if not folder.is_dir():
        print(f"no corpus at {folder} (set POLCLAIMS_SHARED_DATA)", file=sys.stderr)
        return 2
    print(__doc__.split("\n\n", 1)[1].split("Both the raw")[0].rstrip())
    pairs = pair_files(folder)
    print("\nfile pairs: " + "; ".join(f"{a.name} <-> {b.name}" for a, b in pairs))
    items = corpus_items(folder)
    if args.train:
        path = config.resolve_path(config.load("segment")["langid"]["model_path"])
        model = train_shipped(items, path)
        langid._shipped_model.cache_clear()
        print(f"\ntrained {path} ({path.stat().st_size / 1024:.0f} KiB, {len(model.weights)} n-grams, "
              f"{model.meta['n_train']})")
    desc = {"cv": f"n-gram model cross-validated over {args.folds} folds of file pairs, used where rules are not decisive",
            "shipped": "shipped n-gram model (trained on this corpus: optimistic)", "none": "rules only"}
    print(f"\nmode: {desc[args.model]}")
    preds = predict(items, args.model, args.folds, pair_groups(folder))
    res = {"mode": args.model, "parallel": report(items, preds, args.errors)}
    gold = gold_items(shared / "gold")
    if gold:
        with langid.model_override(None) if args.model == "none" else nullcontext():
            gpreds = [langid.identify(it.text) for it in gold]
        ok = _acc([(it.gold, p) for it, p in zip(gold, gpreds)])
        print(f"\n== annotated gold texts (seed + dev; `lang` as given by the annotators, "
              f"{'rules only' if args.model == 'none' else 'shipped model'}): {_fmt(*ok)}")
        for it, p in zip(gold, gpreds):
            if p != it.gold:
                print(f"   gold={it.gold} pred={p}: {it.text[:150]}")
        res["gold_texts"] = ok
    if args.json:
        args.json.write_text(json.dumps(res, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
