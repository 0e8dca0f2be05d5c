"""Speed of `polclaims serve` on a large generated store (the `serve` row of `make bench`).

The store is generated with bulk SQL inserts into a store that `ClaimStore` created (its own
schema, indexes and FTS triggers), not by the NLP pipeline: a million claims in a minute or two
instead of days. Sentences are random word sequences drawn (Zipf-like) from the words of the
bundled reference statement, so Kazakh and Russian searches hit realistic shares of the rows.
Pages are timed through Datasette's in-process client: the full HTML or JSON answer, without
the network.
"""
from __future__ import annotations

import asyncio
import json
import random
import re
import sqlite3
import statistics
import time
import urllib.parse
from pathlib import Path
from typing import Any

from pipeline.config import PROJECT_ROOT
from pipeline.store.database import ClaimStore, normalize_date

SAMPLE = PROJECT_ROOT / "data" / "samples" / "decentralization-statement.txt"
GENERATOR_VERSION = 1  # bump when the generated store changes, so a cached one is rebuilt
KAZAKH = re.compile(r"[әғқңөұүһі]", re.I)
TOPICS = ("government_operations", "macroeconomics", "education", "health", "culture", "technology",
          "domestic_commerce", "law_crime", "civil_rights", "energy", "housing", "agriculture",
          "immigration", "transportation", "environment", "public_lands", "labor", "social_welfare",
          "defense", "foreign_trade")
SPEAKERS = tuple(f"Speaker {i:02d}" for i in range(40))
SOURCES = ("akorda.kz", "primeminister.kz", "gov.kz", "egemen.kz", "kazpravda.kz", "inform.kz",
           "tengrinews.kz", "almaty.gov.kz", "astana.gov.kz", "parlam.kz", "senate.kz", "mfa.gov.kz")


def _vocab() -> dict[str, list[str]]:
    text = SAMPLE.read_text(encoding="utf-8")
    words: dict[str, dict[str, int]] = {"kk": {}, "ru": {}}
    for sent in re.split(r"(?<=[.!?])\s+", text):
        lang = "kk" if KAZAKH.search(sent) else "ru"
        for w in re.findall(r"\w+", sent):
            if not w.isdigit():
                words[lang][w] = words[lang].get(w, 0) + 1
    return {lang: sorted(ws, key=lambda w: (-ws[w], w)) for lang, ws in words.items()}


def generate_store(path: Path, n_claims: int = 1_000_000, *, claims_per_statement: int = 10,
                   seed: int = 16) -> dict[str, Any]:
    """A store of `n_claims` claims (one per sentence), half Kazakh, half Russian, every Kazakh
    claim aligned with the Russian claim of the same position; returns what was made."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    path = Path(path)
    for p in (path, Path(str(path) + "-wal"), Path(str(path) + "-shm")):
        p.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    ClaimStore(path).close()  # the store's own schema, indexes and FTS triggers
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -400000")
    rng = random.Random(seed)
    vocab = _vocab()
    weights = {lang: [1 / (r + 1) for r in range(len(ws))] for lang, ws in vocab.items()}
    n_statements = max(1, n_claims // claims_per_statement)
    conn.execute("BEGIN")
    made = 0
    sid_n = 0
    while made < n_claims:
        sid = f"s{sid_n:07d}"
        sid_n += 1
        k = min(claims_per_statement, n_claims - made)
        langs = ["kk" if i < (k + 1) // 2 else "ru" for i in range(k)]
        parts, spans, preds = [], [], []
        pos = 0
        for lang in langs:
            words = rng.choices(vocab[lang], weights[lang], k=rng.randint(7, 14))
            sent = " ".join(words).capitalize() + "."
            i = rng.randrange(len(words))
            p_start = pos + len(" ".join(words[:i])) + (1 if i else 0)
            preds.append((p_start, p_start + len(words[i]), words[i].lower() if i == 0 else words[i]))
            spans.append((pos, pos + len(sent), sent))
            parts.append(sent)
            pos += len(sent) + 1
        text = " ".join(parts)
        year = rng.randint(2015, 2024)
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        conn.execute("INSERT INTO statements (id, text, speaker, date, source, title, content_hash, "
                     "pipeline_version, processed_at, date_iso, topic) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     (sid, text, rng.choice(SPEAKERS), date, rng.choice(SOURCES), f"Statement {sid}",
                      "generated", "bench", "2026-01-01T00:00:00+00:00", normalize_date(date), rng.choice(TOPICS)))
        conn.executemany("INSERT INTO sentences (statement_id, idx, char_start, char_end, text, lang, paragraph) "
                         "VALUES (?,?,?,?,?,?,0)",
                         [(sid, i, a, b, s, langs[i]) for i, (a, b, s) in enumerate(spans)])
        half = (k + 1) // 2
        rows = []
        for i, ((a, b, s), (ps, pe, _), lang) in enumerate(zip(spans, preds, langs)):
            twin = i + half if i < half else i - half
            aligned = f"{sid}:{twin}" if 0 <= twin < k and langs[twin] != lang else None
            topic = rng.choice(TOPICS)
            quantities = ([{"text": str(rng.randint(2, 5000)), "value": rng.randint(2, 5000), "unit": None}]
                          if rng.random() < 0.2 else [])
            rows.append((
                f"{sid}:{i}", sid, lang, s, a, b, rng.choices(("commitment", "obligation", "decision"), (5, 3, 2))[0],
                text[ps:pe], ps, pe, text[ps:pe].lower(), None,
                rng.choices(("speaker", "government", "society", "other", "unspecified"), (3, 3, 1, 1, 4))[0],
                None, "negative" if rng.random() < 0.1 else "affirmative", rng.choice(("past", "present", "future")),
                json.dumps(quantities), "[]", topic, json.dumps([{"label": topic, "score": 0.6}]), aligned,
                round(rng.uniform(0.5, 1.0), 4), i, "bench", "{}", int(bool(quantities))))
        conn.executemany(
            "INSERT INTO claims (claim_id, statement_id, lang, sentence, char_start, char_end, type, predicate, "
            "predicate_start, predicate_end, predicate_lemma, actor, actor_kind, target, polarity, tense, quantities, "
            "entities, topic, topics, aligned_to, confidence, sentence_index, pipeline_version, model_versions, "
            "has_quantity) VALUES (" + ",".join("?" * 26) + ")", rows)
        made += k
        if sid_n % 10_000 == 0:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return {"claims": made, "statements": sid_n, "target_statements": n_statements,
            "generator_version": GENERATOR_VERSION, "seconds": round(time.perf_counter() - t0, 1),
            "cpu_seconds": round(time.process_time() - cpu0, 1),
            "size_mb": round(path.stat().st_size / 2**20)}


def cached_store(path: Path, n_claims: int) -> dict[str, Any]:
    """The generated store at `path`, rebuilt only when missing or made by another generator."""
    info_path = Path(str(path) + ".json")
    if path.exists() and info_path.exists():
        info = json.loads(info_path.read_text())
        if info.get("claims") == n_claims and info.get("generator_version") == GENERATOR_VERSION:
            return dict(info, reused=True)
    info = generate_store(path, n_claims)
    info_path.write_text(json.dumps(info))
    return dict(info, reused=False)


def measure(path: Path, *, repeat: int = 5) -> tuple[dict[str, Any], float]:
    """Time the pages an analyst opens: the first answer (search not yet cached) and the
    median/max of `repeat` more, wall clock and CPU time of this process (all its threads; on a
    shared machine wall time includes waiting for a core); and how long counting the whole
    table's facets took (the warm-up `polclaims serve` runs in the background)."""
    from pipeline.web import make_datasette

    ds = make_datasette(path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    middle = conn.execute("SELECT claim_id FROM claims WHERE rowid = (SELECT max(rowid) / 2 FROM claims)").fetchone()[0]
    conn.close()
    loop = asyncio.new_event_loop()
    q = urllib.parse.quote
    # Search terms by the share of sentences they match in the generated store: қаржы* ~0.5 %,
    # өкілеттік* ~1.2 %, әкім* ~2.6 % (the generated vocabulary is small, so words are common).
    pages = {
        "claims_facet_search": f"/polclaims/claims?type=commitment&_search={q('қаржы*')}",
        "claims_facet_search_json": f"/polclaims/claims.json?type=commitment&_search={q('қаржы*')}",
        "claims_facet_search_1pct": f"/polclaims/claims?type=commitment&_search={q('өкілеттік*')}",
        "claims_facet_search_2pct": f"/polclaims/claims?type=commitment&_search={q('әкім*')}",
        "claims_statement_facet_search": f"/polclaims/claims?_year=2020&_search={q('өкілеттік*')}",
        "claims_ru_phrase_search": "/polclaims/claims?lang=ru&_search=" + q('"местного самоуправления"'),
        "claims_facet_only": "/polclaims/claims?type=commitment",
        "claims_unfiltered": "/polclaims/claims",
        "claim_page": "/polclaims/claims/" + middle.replace(":", "~3A"),
        "aligned_pairs_first_page": "/polclaims/aligned_pairs",
    }
    def get(url):
        t, cpu = time.perf_counter(), time.process_time()
        r = loop.run_until_complete(ds.client.get(url))
        return r, (time.perf_counter() - t) * 1000, (time.process_time() - cpu) * 1000

    out: dict[str, Any] = {}
    loop.run_until_complete(ds.invoke_startup())
    from pipeline.web.metadata import CLAIM_FACETS
    from pipeline.web.plugin import warm_up

    t = time.perf_counter()  # what `polclaims serve` does in the background at start-up
    warm_up(str(Path(path).resolve()), [next(iter(f.values())) for f in CLAIM_FACETS])
    warm_s = round(time.perf_counter() - t, 1)
    for name, url in pages.items():
        r, first, first_cpu = get(url)
        if r.status_code != 200:
            out[name] = {"url": url, "error": f"HTTP {r.status_code}"}
            continue
        runs = [get(url) for _ in range(repeat)]
        wall, cpu = [w for _, w, _ in runs], [c for _, _, c in runs]
        row = {"url": url, "first_ms": round(first), "first_cpu_ms": round(first_cpu),
               "median_ms": round(statistics.median(wall)), "max_ms": round(max(wall)),
               "median_cpu_ms": round(statistics.median(cpu))}
        if name.startswith("claims_"):
            js = url if ".json" in url else (url.replace("/claims?", "/claims.json?", 1) if "?" in url
                                             else url + ".json")
            payload = get(js)[0].json()
            row["rows_matched"] = payload.get("filtered_table_rows_count")
            row["facets_timed_out"] = payload.get("facets_timed_out", [])
        out[name] = row
    loop.close()
    return out, warm_s


def bench_serve(work: Path, n_claims: int = 1_000_000) -> dict[str, Any]:
    """The `serve` row of `make bench`: the generated store (reused when current) and the page
    times. Target: the claims page with a facet and a search under 500 ms."""
    import os

    path = work / f"serve-{n_claims}.db"
    store = cached_store(path, n_claims)
    load_before = os.getloadavg()[0]
    pages, warm_s = measure(path)
    main = [pages[k] for k in ("claims_facet_search", "claims_facet_search_json")]
    return {"store": store, "warm_up_whole_table_facets_s": warm_s, "pages": pages, "target_ms": 500,
            "target_met_wall": all("error" not in p and p["max_ms"] < 500 for p in main),
            "target_met_cpu": all("error" not in p and p["median_cpu_ms"] < 500 for p in main),
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "cpus": os.cpu_count()}
