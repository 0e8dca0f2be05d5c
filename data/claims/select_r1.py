"""Round 1 selection of the claims corpus (run from the project root:
``python data/claims/select_r1.py``; deterministic, seed 1).

Per source a quota of units (a parallel line pair = two texts, a sentence = one): 45 % drawn at
random from every usable unit of the source (the natural-rate part: what a user's archive looks
like), the rest at random from the units with a claim cue word (modal, future, planning, decision
and order verbs in either language: the cue-bearing part that makes claims frequent enough to learn
from). Usable: 30-600 characters per text, at least 5 words, not a duplicate, no dev or reference
statement gold text, and for a pair both sides in their language (pipeline.corpora.topics.candidate_pairs).

The chosen units are shuffled and cut into batches of about 250 texts; each batch is written twice
(``c1_<k>`` and ``c1_<k>b``, the second in another order) for two independent annotators.
``build/claims_label/selection_r1.jsonl`` lists every chosen unit with its stratum.
Annotators never see which stratum or expression chose a unit.
"""
from __future__ import annotations

import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline.corpora import claims as corpus  # noqa: E402
from pipeline.corpora import topics as topic_corpus  # noqa: E402

OUT = Path("build/claims_label")
RANDOM_SHARE = 0.45
BATCH_TEXTS = 250
SMALL_SITES = {"almaty-gov", "conscouncil", "egov", "election", "muftyat500", "prokuror"}
# units per source (pairs for parallel sites, sentences otherwise), or all a source has; small
# sites: all they have. When a source has too few cue-bearing units, the rest is drawn at random.
QUOTA = {"bolashak": 150, "dingov": 250, "enu1": 300, "iak": 60, "inform": 150, "knb": 150,
         "kyzmet": 150, "minplan": 150, "muftyat": 200, "nationalbank": 60, "pravstat": 60,
         "resurs": 50, "supcourt": 60,
         "kaznerd": 1200, "kk_ktb": 350,
         "ru_lenta": 400, "ru_social": 300, "ru_taiga_social": 350, "ru_jz": 200, "ru_gsd": 300,
         "ru_taiga": 300}
CUES = re.compile(
    r"(?<!\w)(?:должн|необходим|нужн|надо|следует|нельзя|обязан|будет|будут|будем|буду|планир|"
    r"запланир|намер|предусм|поруч|утверд|подпис|принят|принял|приня|назнач|освобож|ратифиц|обеспеч|"
    r"выдел|постанов|решени|решил|запрет|одобр|тиіс|қажет|керек|болмайды|жоспар|көзде|тапсыр|бекіт|"
    r"қол қой|қабылда|тағайында|босат|ратификац|қамтамасыз|бөлін|бөлу|шешім|міндетт|тыйым|жүктел|"
    r"арттыр|күшейт|жүзеге асыр)"
    r"|\w+(?:атын|етін|йтын|йтін) бол|\w+(?:амыз|еміз|аймыз|ейміз|ады|еді|йды|йді)(?!\w)", re.I)


def usable_text(text: str) -> bool:
    return 30 <= len(text) <= 600 and len(text.split()) >= 5


def main() -> None:
    gold = topic_corpus.gold_texts()
    units: dict[str, list[corpus.Unit]] = {}
    for p in topic_corpus.candidate_pairs(min_chars=30, max_chars=600, gold=gold):
        if usable_text(p.kk) and usable_text(p.ru):
            u = corpus.Unit.of_pair(p)
            units.setdefault(u.source, []).append(u)
    for u in corpus.sentence_pool(gold, lambda u, text: usable_text(text)):
        units.setdefault(u.source, []).append(u)

    rng = random.Random(1)
    chosen: list[tuple[corpus.Unit, str]] = []
    for source, pool in sorted(units.items()):
        quota = len(pool) if source in SMALL_SITES else min(QUOTA[source], len(pool))
        n_random = round(quota * RANDOM_SHARE) if source not in SMALL_SITES else quota
        picked = rng.sample(pool, n_random)
        ids = {u.unit_id for u in picked}
        cued = [u for u in pool if u.unit_id not in ids and any(CUES.search(t) for t in u.texts.values())]
        more = rng.sample(cued, min(quota - n_random, len(cued)))
        if n_random + len(more) < quota:    # too few cue-bearing units left: the rest at random
            ids |= {u.unit_id for u in more}
            rest = [u for u in pool if u.unit_id not in ids]
            picked += rng.sample(rest, min(quota - n_random - len(more), len(rest)))
        chosen += [(u, "random") for u in picked] + [(u, "cue") for u in more]
        print(f"{source:16} pool {len(pool):6}  random {len(picked):4}  cue {len(more):4}")
    rng.shuffle(chosen)
    n_texts = sum(len(u.texts) for u, _ in chosen)
    print(len(chosen), "units,", n_texts, "texts")

    OUT.mkdir(parents=True, exist_ok=True)
    corpus.write_selection(OUT / "selection_r1.jsonl", chosen)
    batches = corpus.cut_batches([u for u, _ in chosen], BATCH_TEXTS)
    corpus.write_double_batches(OUT, "c1", batches, rng)
    print(len(batches), "batches x 2 annotators")


if __name__ == "__main__":
    main()
