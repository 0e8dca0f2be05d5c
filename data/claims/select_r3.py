"""Round 3 selection of the claims corpus (``python data/claims/select_r3.py``; deterministic,
seed 4): every unit of ``../shared/data`` still left with a claim cue after rounds 1 and 2.

- Kazakh news sentences (KazNERD) with round 2's *strong* cue (``select_r2.STRONG``): round 2 took a
  quota of 1,300 of them; the rest are taken here.
- Russian texts with a first-person plural verb in the present or future ("наделяем",
  "усилим", "продолжим"; pymorphy3's analysis, past forms left out): first-person
  announcements ("Мы наделяем сельские акиматы ...") are commitments under the guideline, yet no
  round drew them on purpose (round 2's expression has the Kazakh first-person future, not the
  Russian one). Single sentences and parallel pairs whose Russian side has one.

Units of earlier rounds (every ``unit_id`` of ``data/claims/labels.jsonl``) are never drawn again;
the usability rules are round 2's (pairs up to 1,500 characters). Batches ``c3_<k>`` /
``c3_<k>b`` of about 240 texts in ``build/claims_label_r3``, the second copy in another order, for two
independent annotators who never see which rule chose a unit. Merged into the corpus with
``python -m pipeline.corpora.claims merge build/claims_label_r3 --add``."""
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
from select_r1 import usable_text  # noqa: E402
from select_r2 import PAIR_MAX_CHARS, STRONG  # noqa: E402

OUT = Path("build/claims_label_r3")
BATCH_TEXTS = 240
STRONG_SOURCES = {"kaznerd"}           # sentence sources whose strong-cue rest is taken whole
_WORD = re.compile(r"\w+")


def first_plural_verb(text: str, morph) -> bool:
    """A Russian verb in the first person plural, not past ("делаем", "сделаем")."""
    for w in _WORD.findall(text.lower()):
        if not w.endswith(("ем", "ём", "им")):
            continue
        tag = morph.parse(w)[0].tag
        if "VERB" in tag and "1per" in tag and "plur" in tag and "past" not in tag:
            return True
    return False


def done_units(labels: Path = Path("data/claims/labels.jsonl")) -> set[str]:
    return {json.loads(line)["unit_id"] for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()}


def main() -> None:
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer()
    gold = topic_corpus.gold_texts()
    done = done_units()
    chosen: list[tuple[corpus.Unit, str]] = []
    for p in topic_corpus.candidate_pairs(min_chars=30, max_chars=PAIR_MAX_CHARS, gold=gold):
        if p.pair_id in done or not all(len(t.split()) >= 5 for t in (p.kk, p.ru)):
            continue
        if first_plural_verb(p.ru, morph):
            chosen.append((corpus.Unit.of_pair(p), "first-plural"))

    def keep(u: corpus.Unit, text: str) -> bool:
        return u.unit_id not in done and usable_text(text)

    for u in corpus.sentence_pool(gold, keep):
        (lang, text), = u.texts.items()
        if lang == "ru" and first_plural_verb(text, morph):
            chosen.append((u, "first-plural"))
        elif u.source in STRONG_SOURCES and STRONG.search(text):
            chosen.append((u, "strong-cue"))
    rng = random.Random(4)
    rng.shuffle(chosen)
    counts: dict[tuple[str, str], int] = {}
    for u, stratum in chosen:
        counts[(u.source, stratum)] = counts.get((u.source, stratum), 0) + 1
    for (source, stratum), n in sorted(counts.items()):
        print(f"{source:16} {stratum:13} {n:5}")
    OUT.mkdir(parents=True, exist_ok=True)
    corpus.write_selection(OUT / "selection_r3.jsonl", chosen)
    batches = corpus.cut_batches([u for u, _ in chosen], BATCH_TEXTS)
    corpus.write_double_batches(OUT, "c3", batches, rng)
    print(len(chosen), "units,", sum(len(u.texts) for u, _ in chosen), "texts,", len(batches), "batches x 2 annotators")


if __name__ == "__main__":
    main()
