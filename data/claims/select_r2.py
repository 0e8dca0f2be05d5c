"""Round 2 selection of the claims corpus (``python data/claims/select_r2.py``; deterministic,
seed 2): round 1 held about 0.17 claims per text (0.3 in its cue-bearing part), too few to learn
the rarer constructions from, so round 2 draws only units with a *strong* claim cue: a modal or
predicative word, an analytic future, a planning word, or an act of deciding, ordering, appointing
or allocating (the regular expression below, either side of a pair). Units of round 1 are never
drawn again; the other usability rules are round 1's (``select_r1.usable_text``, the same gold
exclusions). Per source a quota; small pools are taken whole. Batches ``c2_<k>`` / ``c2_<k>b`` of
about 250 texts, the second copy in another order, for two independent annotators.
Annotators never see which expression chose a unit."""
from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline.corpora import claims as corpus  # noqa: E402
from pipeline.corpora import topics as topic_corpus  # noqa: E402
from select_r1 import BATCH_TEXTS, OUT, usable_text  # noqa: E402

STRONG = re.compile(
    r"(?<!\w)(?:должн\w*|необходимо|нужно|следует|нельзя|обязан\w*|будет|будут|будем|планиру\w*|"
    r"запланирова\w*|намерен\w*|предусмотр\w*|поруч\w*|утвердил\w*|утвержд\w*|подписал\w*|принял\w*|"
    r"принят\w*|назначен\w*|назначил\w*|освобожд\w*|ратифицир\w*|постанов\w*|решил\w*|выделил\w*|"
    r"выделен\w*|одобрил\w*|обеспечить|утвердить|назначить|тиіс\w*|қажет\w*|керек\w*|болмайды|"
    r"жоспарлан\w*|көзделг\w*|көзделу\w*|тапсыр\w*|бекітті|бекітілді|бекіт\w*|қол қой\w*|қабылдады|"
    r"қабылданды|тағайында\w*|босатыл\w*|ратификацияла\w*|бөлінді|бөлді|бөлінеді|шешім\w*)(?!\w)"
    r"|\w+(?:атын|етін|йтын|йтін|итын|итін) болады|\w+(?:амыз|еміз|аймыз|ейміз)(?!\w)", re.I)
QUOTA = {"kaznerd": 1300, "kk_ktb": 150, "ru_lenta": 100, "ru_social": 60, "ru_taiga_social": 300,
         "ru_gsd": 250, "ru_taiga": 200, "ru_jz": 40}
PAIR_QUOTA = 700      # per site: every strong-cue pair left (the biggest site has 683)
# Russian policy text is scarce here (the parallel corpus's Russian side is the only Russian
# government text; 4 % of the Russian social-media sentences hold a strong cue), so round 2 also
# takes parallel passages up to 1,500 characters (round 1: 600)
PAIR_MAX_CHARS = 1500


def previous_units() -> set[str]:
    done = set()
    for f in OUT.glob("selection_r*.jsonl"):
        if f.name == "selection_r2.jsonl":
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                done.add(json.loads(line)["unit_id"])
    return done


def main() -> None:
    gold = topic_corpus.gold_texts()
    done = previous_units()
    pools: dict[str, list[corpus.Unit]] = {}
    for p in topic_corpus.candidate_pairs(min_chars=30, max_chars=PAIR_MAX_CHARS, gold=gold):
        if p.pair_id in done or not all(len(t.split()) >= 5 for t in (p.kk, p.ru)):
            continue
        if STRONG.search(p.kk) or STRONG.search(p.ru):
            u = corpus.Unit.of_pair(p)
            pools.setdefault(u.source, []).append(u)
    keep = lambda u, text: u.unit_id not in done and usable_text(text) and bool(STRONG.search(text))  # noqa: E731
    for u in corpus.sentence_pool(gold, keep):
        pools.setdefault(u.source, []).append(u)
    rng = random.Random(2)
    chosen: list[corpus.Unit] = []
    for source, pool in sorted(pools.items()):
        quota = QUOTA.get(source, PAIR_QUOTA)
        picked = rng.sample(pool, min(quota, len(pool)))
        chosen += picked
        print(f"{source:16} strong-cue pool {len(pool):6}  chosen {len(picked):5}")
    rng.shuffle(chosen)
    print(len(chosen), "units,", sum(len(u.texts) for u in chosen), "texts")
    corpus.write_selection(OUT / "selection_r2.jsonl", ((u, "strong-cue") for u in chosen))
    batches = corpus.cut_batches(chosen, BATCH_TEXTS)
    corpus.write_double_batches(OUT, "c2", batches, rng)
    print(len(batches), "batches x 2 annotators")


if __name__ == "__main__":
    main()
