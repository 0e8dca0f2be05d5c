"""Round 4 selection of the claims corpus (``python data/claims/select_r4.py``; deterministic,
seed 5): texts drawn at random (stratum ``random``, the *natural-rate* part), so that the corpus
keeps at least 40 % of randomly drawn texts after round 3 added only cue-bearing ones (39.1 %
after it). No cue decides anything here: usable units of ``../shared/data`` never annotated
before (round 1's usability rules), drawn uniformly within three pools so that Russian is not
drowned by the 15,000 KazNERD sentences: parallel line pairs (both sides annotated), Russian
sentences, Kazakh sentences. Batches ``c4_<k>`` / ``c4_<k>b`` in ``build/claims_label_r4``, the
second copy in another order; merged with ``python -m pipeline.corpora.claims merge
build/claims_label_r4 --add``."""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline.corpora import claims as corpus  # noqa: E402
from pipeline.corpora import topics as topic_corpus  # noqa: E402
from select_r1 import usable_text  # noqa: E402
from select_r3 import done_units  # noqa: E402

OUT = Path("build/claims_label_r4")
DRAW = {"pair": 70, "ru": 70, "kk": 60}   # units per pool: 140 + 70 + 60 = 270 texts
BATCH_TEXTS = 70


def main() -> None:
    gold = topic_corpus.gold_texts()
    done = done_units()
    pools: dict[str, list[corpus.Unit]] = {"pair": [], "ru": [], "kk": []}
    for p in topic_corpus.candidate_pairs(min_chars=30, max_chars=600, gold=gold):
        if p.pair_id not in done and usable_text(p.kk) and usable_text(p.ru):
            pools["pair"].append(corpus.Unit.of_pair(p))
    for u in corpus.sentence_pool(gold, lambda u, text: u.unit_id not in done and usable_text(text)):
        pools[next(iter(u.texts))].append(u)
    rng = random.Random(5)
    chosen: list[corpus.Unit] = []
    for name, pool in pools.items():
        picked = rng.sample(pool, min(DRAW[name], len(pool)))
        print(f"{name:5} pool {len(pool):6}  drawn {len(picked):4}")
        chosen += picked
    rng.shuffle(chosen)
    OUT.mkdir(parents=True, exist_ok=True)
    corpus.write_selection(OUT / "selection_r4.jsonl", ((u, "random") for u in chosen))
    batches = corpus.cut_batches(chosen, BATCH_TEXTS)
    corpus.write_double_batches(OUT, "c4", batches, rng)
    print(len(chosen), "units,", sum(len(u.texts) for u in chosen), "texts,", len(batches), "batches x 2 annotators")


if __name__ == "__main__":
    main()
