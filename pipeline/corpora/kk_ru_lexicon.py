"""A Kazakh -> Russian word translation table induced from the aligned line pairs of the parallel
corpus (``../shared/data/parallel_kk_ru``), so that Kazakh words get Russian (navec) word vectors.

Why: the topic model's mean word vectors come from navec (Russian news, 250,000 words), which
knows few Kazakh words; the project's own Kazakh vectors are far weaker. A Kazakh word whose
vector is the mean of its Russian translations' navec vectors puts Kazakh and Russian texts into
one vector space, so what the model learns from a Russian line carries to Kazakh ones and back.

How: IBM model 1 (expectation maximisation over word alignments, with an empty word on the
source side) in both directions over lower-cased word forms of the line pairs; a pair is kept
when both directions give it enough probability (the geometric mean of p(ru|kk) and p(kk|ru)),
the Kazakh word was seen in `min_count` lines, and the Russian word is one navec knows. No
labels are read: the table is built from text alone.

    python -m pipeline.corpora.kk_ru_lexicon models/kk_ru_lexicon/lexicon.tsv

The table is a TSV, one Kazakh word a line: ``kk_word<TAB>ru_word:weight ru_word:weight ...``
(weights sum to 1), read by `pipeline.topics.estimators.read_lexicon`. Settings are in
configs/topics.toml [lexicon].
"""
from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from pipeline import config
from pipeline.topics.model import normalize_text

WORD = re.compile(r"[^\W\d_]{2,}")


def tokens(text: str) -> list[str]:
    """Lower-cased word forms of two letters or more (numbers and punctuation dropped)."""
    return WORD.findall(normalize_text(text))


def ibm1(pairs: Sequence[tuple[list[int], list[int]]], n_src: int, iterations: int = 5):
    """IBM model 1: p(target word | source word) by EM over the line pairs (source id lists,
    target id lists). Source id `n_src` is the empty word, added to every line. Returns
    (source ids, target ids, probabilities) of every co-occurring pair.

    Vectorised: every (target token, source token) link of every line is one row of flat arrays,
    so an iteration is a few bincounts (seconds on the 8,000 line pairs)."""
    import numpy as np

    tgt_occ, src_of, tgt_of = [], [], []
    occ = 0
    for src, tgt in pairs:
        if not src or not tgt:
            continue
        s = np.asarray(list(src) + [n_src], dtype=np.int64)
        t = np.asarray(tgt, dtype=np.int64)
        tgt_occ.append(np.repeat(np.arange(occ, occ + len(t)), len(s)))
        src_of.append(np.tile(s, len(t)))
        tgt_of.append(np.repeat(t, len(s)))
        occ += len(t)
    if not src_of:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    tgt_occ, src_of, tgt_of = np.concatenate(tgt_occ), np.concatenate(src_of), np.concatenate(tgt_of)
    n_tgt = int(tgt_of.max()) + 1
    key = src_of * n_tgt + tgt_of
    uniq, link = np.unique(key, return_inverse=True)
    pair_src, pair_tgt = uniq // n_tgt, uniq % n_tgt
    prob = np.ones(len(uniq))
    for _ in range(iterations):
        w = prob[link]
        z = np.bincount(tgt_occ, weights=w, minlength=occ)
        counts = np.bincount(link, weights=w / z[tgt_occ], minlength=len(uniq))
        totals = np.bincount(pair_src, weights=counts, minlength=n_src + 1)
        prob = counts / totals[pair_src]
    return pair_src, pair_tgt, prob


def induce(line_pairs: Iterable[tuple[str, str]], iterations: int = 5, min_count: int = 2,
           min_score: float = 0.05, max_translations: int = 3, max_line_tokens: int = 80,
           min_cooc: int = 2, keep_target: Callable[[str], bool] | None = None) -> dict[str, list[tuple[str, float]]]:
    """kk word -> [(ru word, weight)] (weights sum to 1, best first) from aligned (kk, ru) texts.

    A translation is kept when sqrt(p(ru|kk) * p(kk|ru)) >= min_score (both IBM-1 directions
    agree), the kk word occurs in at least `min_count` lines and `keep_target(ru)` holds (the
    Russian word has a vector) and the two words share at least `min_cooc` lines (a word seen
    twice otherwise takes whatever rare word stood beside it once). Lines over `max_line_tokens` words on either side (misaligned or
    whole pages) are left out: they link every word to every other."""
    import numpy as np

    kk_ids: dict[str, int] = {}
    ru_ids: dict[str, int] = {}
    pairs = []
    df: Counter = Counter()
    for kk_text, ru_text in line_pairs:
        kk, ru = tokens(kk_text), tokens(ru_text)
        if not kk or not ru or len(kk) > max_line_tokens or len(ru) > max_line_tokens:
            continue
        df.update(set(kk))
        pairs.append(([kk_ids.setdefault(w, len(kk_ids)) for w in kk],
                      [ru_ids.setdefault(w, len(ru_ids)) for w in ru]))
    if not pairs:
        return {}
    n_kk, n_ru = len(kk_ids), len(ru_ids)
    cooc = _cooccurrence(pairs, n_kk, n_ru)
    s, t, p_ru_kk = ibm1(pairs, n_kk, iterations)
    s2, t2, p_kk_ru = ibm1([(r, k) for k, r in pairs], n_ru, iterations)
    forward = {(int(a), int(b)): float(p) for a, b, p in zip(s, t, p_ru_kk) if a < n_kk}
    kk_words = list(kk_ids)
    ru_words = list(ru_ids)
    best: dict[int, list[tuple[int, float]]] = {}
    for r, k, p_back in zip(s2, t2, p_kk_ru):
        if r >= n_ru:
            continue
        p_fwd = forward.get((int(k), int(r)))
        if p_fwd is None:
            continue
        score = float(np.sqrt(p_fwd * p_back))
        if score >= min_score and cooc[int(k), int(r)] >= min_cooc:
            best.setdefault(int(k), []).append((int(r), score))
    table: dict[str, list[tuple[str, float]]] = {}
    for k, cands in best.items():
        word = kk_words[k]
        if df[word] < min_count:
            continue
        cands = [(ru_words[r], sc) for r, sc in sorted(cands, key=lambda x: -x[1])
                 if keep_target is None or keep_target(ru_words[r])][:max_translations]
        if not cands:
            continue
        total = sum(sc for _, sc in cands)
        table[word] = [(w, round(sc / total, 3)) for w, sc in cands]
    return table


def _cooccurrence(pairs, n_kk: int, n_ru: int):
    """Lines shared by each (kk, ru) word pair: a sparse n_kk x n_ru count matrix."""
    import numpy as np
    import scipy.sparse as sp

    def binary(side: int, n: int):
        rows, cols = [], []
        for i, pair in enumerate(pairs):
            ids = set(pair[side])
            rows.extend([i] * len(ids))
            cols.extend(ids)
        return sp.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)), shape=(len(pairs), n))

    return (binary(0, n_kk).T @ binary(1, n_ru)).tocsr()


def write_table(table: dict[str, list[tuple[str, float]]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for word in sorted(table):
            fh.write(word + "\t" + " ".join(f"{w}:{p:g}" for w, p in table[word]) + "\n")


def settings() -> dict[str, Any]:
    return config.load("topics").get("lexicon", {})


def build(out: Path, directory: Path | None = None) -> dict[str, Any]:
    """Read the parallel corpus, induce the table with the [lexicon] settings, write it."""
    from pipeline.corpora.topics import parallel_dir, read_pairs

    cfg = settings()
    directory = directory or parallel_dir()
    if not directory.exists():
        raise SystemExit(f"no parallel corpus at {directory} (the apertium-kaz-rus CORPUS folder; "
                         "see ../shared/data/README.md)")
    vocab = _vector_vocab(cfg.get("vectors", "natasha:emb/navec_news_v1_1B_250K_300d_100q.tar"))
    line_pairs = [(p.kk, p.ru) for p in read_pairs(directory) if p.kk and p.ru]
    table = induce(line_pairs, iterations=int(cfg.get("iterations", 5)), min_count=int(cfg.get("min_count", 2)),
                   min_score=float(cfg.get("min_score", 0.05)),
                   max_translations=int(cfg.get("max_translations", 3)),
                   max_line_tokens=int(cfg.get("max_line_tokens", 80)), min_cooc=int(cfg.get("min_cooc", 2)),
                   keep_target=vocab.__contains__)
    write_table(table, out)
    shown = out.resolve()
    if shown.is_relative_to(config.PROJECT_ROOT):
        shown = shown.relative_to(config.PROJECT_ROOT)  # the card names no machine's paths
    stats = {"line_pairs": len(line_pairs), "kk_words": len(table),
             "translations": sum(len(v) for v in table.values()), "out": str(shown),
             "bytes": out.stat().st_size}
    (out.parent / "README.md").write_text(card(table, stats, cfg), encoding="utf-8")
    return stats


def card(table: dict[str, list[tuple[str, float]]], stats: dict[str, Any], cfg: dict[str, Any],
         sample: int = 20, seed: int = 7) -> str:
    """The table's README: what it is, the command, its size and a random sample to judge it by."""
    import random

    words = random.Random(seed).sample(sorted(table), min(sample, len(table)))
    rows = "\n".join(f"| {w} | {table[w][0][0]} | " + ", ".join(f"{t} {p:g}" for t, p in table[w]) + " |"
                     for w in words)
    settings = ", ".join(f"{k} = {v}" for k, v in sorted(cfg.items()) if k not in ("path", "vectors"))
    return f"""# Kazakh -> Russian word translations (`{Path(stats['out']).name}`)

Read by the topic model (configs/topics.toml [features.vectors] `lexicon`): a Kazakh word's vector
is the weighted mean of the navec vectors of its Russian translations, so Kazakh and Russian
texts share one vector space. Induced from the {stats['line_pairs']} aligned line pairs of
`../shared/data/parallel_kk_ru` (apertium/apertium-kaz-rus, folder CORPUS, GPL-3.0) by IBM
model 1 in both directions over lower-cased word forms (`pipeline/corpora/kk_ru_lexicon.py`;
settings in configs/topics.toml [lexicon]: {settings}). No labels are read.

```
python -m pipeline.corpora.kk_ru_lexicon {stats['out']}
```

{stats['kk_words']} Kazakh word forms, {stats['translations']} translations, {stats['bytes'] / 1e6:.2f} MB.
One Kazakh word a line: `kk_word<TAB>ru_word:weight ...` (weights sum to 1, best first).

Quality: the corpus is small (about 8,000 lines), so a rare word's translations are often words
of the same topic rather than its translation (e.g. a place name -> the event held there); the
topic model needs the topic more than the exact word. Twenty random entries:

| Kazakh | best | all (weight) |
|---|---|---|
{rows}

Licence: the table is derived from GPL-3.0 text; whether that makes it a derivative work is for
the project to decide before distribution (as for models/langid).
"""


def _vector_vocab(path: str):
    from pipeline.nlp.ru_config import _navec, resolve_model_path

    return _navec(str(resolve_model_path(path))).vocab.word_ids


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, nargs="?", help="TSV to write (default: configs/topics.toml [lexicon] path)")
    args = ap.parse_args(argv)
    out = args.out or config.resolve_path(settings().get("path", "models/kk_ru_lexicon/lexicon.tsv"))
    print(json.dumps(build(out), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
