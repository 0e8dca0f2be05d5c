"""Texts for the dateline gold sample (``python data/threads/select_dates.py OUT_DIR``; seed 20).

Why: a statement without a ``date`` field gets its date from a dateline in its text ("28 августа
2015", "2015 жылдың 29 тамызы"); the parser (pipeline/threads/dates.py) must read such dates right
(target: 95 %). The sample is drawn from the parallel corpus of government web text
(``../shared/data/parallel_kk_ru``), both languages, so that the parser is measured on text it was
not written from: lines holding a year (19xx/20xx), half of them with a digit right next to a
letter-word near the year (where dates are likely), half any line with a year (dates written
other ways, years alone: the parser must then find nothing). Long lines are cut to a window of
about 300 characters around the first year, on word boundaries. Annotators write every full
calendar date (day, month and year) of each text as ISO ``YYYY-MM-DD``.
"""
from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipeline.corpora import claims as corpus  # noqa: E402
from pipeline.evaluation.threads import window  # noqa: E402
from pipeline.corpora.topics import text_hash  # noqa: E402

SEED = 20
PER_LANG = 110
BATCH = 110
YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
NEAR_DATE = re.compile(r"(?<!\d)\d{1,2}\s*[^\W\d_]{3,}[^\d]{0,12}(?:19|20)\d\d|(?:19|20)\d\d\D{1,16}\d{1,2}\s*[^\W\d_]{3,}|\d{1,2}\.\d{1,2}\.(?:19|20)?\d\d")


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    pools: dict[tuple[str, bool], list[tuple[str, str]]] = {}
    seen: set[str] = set()
    for u in corpus.read_pairs():
        for item_id, lang, text in u.items():
            if not YEAR.search(text):
                continue
            snippet = window(text)
            if snippet in seen or len(snippet) < 20:
                continue
            seen.add(snippet)
            pools.setdefault((lang, bool(NEAR_DATE.search(snippet))), []).append((item_id, snippet))
    chosen = []
    for lang in ("kk", "ru"):
        for near in (True, False):
            pool = sorted(pools.get((lang, near), []))
            rng.shuffle(pool)
            chosen += [(i, lang, t, near) for i, t in pool[:PER_LANG // 2]]
    rng.shuffle(chosen)
    with open(ROOT / "data" / "threads" / "dates_selection.jsonl", "w", encoding="utf-8") as fh:
        for item_id, lang, text, near in chosen:
            fh.write(json.dumps({"item_id": item_id, "lang": lang, "stratum": "near-date" if near else "year",
                                 "sha1": text_hash(text)}, ensure_ascii=False) + "\n")
    for n, start in enumerate(range(0, len(chosen), BATCH), start=1):
        with open(out / f"dates-{n:02d}.jsonl", "w", encoding="utf-8") as fh:
            for item_id, lang, text, _ in chosen[start:start + BATCH]:
                fh.write(json.dumps({"item_id": item_id, "lang": lang, "text": text}, ensure_ascii=False) + "\n")
    print(json.dumps({"texts": len(chosen), "batches": n}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/threads_batches")
