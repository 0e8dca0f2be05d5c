"""A large synthetic store for the `track` benchmark (``make bench``: 100,000 claims, target < 2 min).

Why synthetic: no store of 100,000 real claims exists here, and processing that many statements
takes hours. What matters for `track`'s speed is the shape of the data, so the store copies it:
the real action lemmas of configs/threads (and a long tail of others), Zipf-distributed words,
topics, dates over ten years, a third of statements in kk↔ru parallel pairs with aligned twins,
and one claim in ten a restatement of an earlier "promise" (so threads do form). Rows go in with
bulk inserts (one transaction), not statement by statement: generating must not dominate the run.
"""
from __future__ import annotations

import datetime as _dt
import json
import random
from pathlib import Path

from pipeline.store.database import ClaimStore
from pipeline.threads.link import lang_config

TOPICS = ("education", "health", "agriculture", "transportation", "energy", "housing", "labor",
          "social_welfare", "macroeconomics", "government_operations", "defense", "law_and_crime",
          "environment", "technology", "foreign_trade", "domestic_commerce", "civil_rights",
          "culture", "immigration", "public_lands")
LETTERS = {"kk": "абвгдеєжзийклмнопрстуфхцчшыіәғқңөұүһ", "ru": "абвгдежзийклмнопрстуфхцчшщыэюя"}
TYPES = ("commitment", "obligation", "decision")


def _vocab(rng: random.Random, lang: str, n: int) -> list[str]:
    letters = LETTERS[lang]
    return ["".join(rng.choice(letters) for _ in range(rng.randint(5, 11))) for _ in range(n)]


def make_store(path: str | Path, n_claims: int = 100_000, seed: int = 20, vocab: int = 20_000) -> dict:
    """Write a store of `n_claims` synthetic claims at `path` (replaced)."""
    rng = random.Random(seed)
    path = Path(path)
    if path.exists():
        path.unlink()
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if extra.exists():
            extra.unlink()
    words = {lang: _vocab(rng, lang, vocab) for lang in ("kk", "ru")}
    cum, total = [], 0.0
    for k in range(vocab):  # Zipf: cumulative weights once, not per draw
        total += 1 / (k + 1)
        cum.append(total)
    lemmas = {}
    for lang in ("kk", "ru"):
        real = sorted(lang_config(lang)["groups"])
        lemmas[lang] = real + [w + ("у" if lang == "kk" else "ть") for w in words[lang][:400]]
    start = _dt.date(2010, 1, 1)
    statements, claims = [], []
    promises: list[dict] = []
    sid = 0
    while len(claims) < n_claims:
        sid += 1
        parallel = rng.random() < 1 / 3
        date = (start + _dt.timedelta(days=rng.randint(0, 3650))).isoformat() if rng.random() < 0.8 else None
        langs = ("kk", "ru") if parallel else (rng.choice(("kk", "ru")),)
        k = rng.randint(1, 4)
        drafts = []
        for _ in range(k):
            if promises and rng.random() < 0.1:
                base = rng.choice(promises)
            else:
                base = {"topic": rng.choice(TOPICS), "type": rng.choice(TYPES),
                        "lemma_i": rng.randrange(10_000), "target_i": rng.choices(range(vocab), cum_weights=cum, k=3),
                        "year": rng.choice([None, None, rng.randint(2012, 2025)])}
                if rng.random() < 0.05:
                    promises.append(base)
            drafts.append(base)
        for lang in langs:
            st_id = f"s{sid}:{lang}" if parallel else f"s{sid}"
            texts = []
            for j, d in enumerate(drafts):
                lem = lemmas[lang][d["lemma_i"] % len(lemmas[lang])]
                target = " ".join(words[lang][i] for i in d["target_i"])
                filler = " ".join(rng.choices(words[lang], cum_weights=cum, k=rng.randint(6, 14)))
                sentence = f"{filler} {lem} {target}" + (f" {d['year']}" if d["year"] else "") + "."
                texts.append(sentence)
                cid = f"{st_id}#{j}"
                twin = (f"s{sid}:{'ru' if lang == 'kk' else 'kk'}#{j}") if parallel else None
                claims.append((cid, st_id, lang, sentence, 0, len(sentence), d["type"], lem, 0, len(lem), lem, None,
                               "government", target, "affirmative", "future", "[]", "[]", d["topic"], "[]", twin,
                               1.0, j, "synthetic", "{}", 0))
            statements.append((st_id, " ".join(texts), None, date, "synthetic", None, None,
                               f"s{sid}" if parallel else None, None, None, "synthetic", None, date, None, None))
    from pipeline.store.database import CLAIM_COLUMNS, STATEMENT_COLUMNS

    with ClaimStore(path) as store:
        with store.transaction() as conn:
            conn.execute("PRAGMA defer_foreign_keys = ON")
            conn.executemany(f"INSERT INTO statements ({', '.join(STATEMENT_COLUMNS)}) VALUES "
                             f"({', '.join('?' * len(STATEMENT_COLUMNS))})", statements)
            cols = CLAIM_COLUMNS + ("has_quantity",)
            conn.executemany(f"INSERT INTO claims ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", claims)
    return {"statements": len(statements), "claims": len(claims)}


if __name__ == "__main__":
    import sys
    import time

    t0 = time.perf_counter()
    print(json.dumps({**make_store(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000),
                      "seconds": round(time.perf_counter() - t0, 1)}))
