"""Large-archive behaviour of `process`: worker processes, stable order, skip and resume."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from pipeline.batch.runner import run_process
from pipeline.benchmarks.fuzzing import SENTENCES as FUZZ_SENTENCES

# the first eight of the reliability runs' sentences (these tests' counts are written for them)
SENTENCES = FUZZ_SENTENCES[:8]


def corpus(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"s{i:03d}", "text": SENTENCES[i % len(SENTENCES)]}, ensure_ascii=False) + "\n")
    return path


def claim_ids(path: Path) -> list[str]:
    return [json.loads(l)["claim_id"] for l in path.read_text(encoding="utf-8").splitlines()]


def test_workers_give_the_same_output_in_the_same_order(tmp_path):
    src = corpus(tmp_path / "in.jsonl", 12)
    one = run_process([str(src)], str(tmp_path / "one.jsonl"), None, chunk_size=2, progress=False, workers=1)
    two = run_process([str(src)], str(tmp_path / "two.jsonl"), None, chunk_size=2, progress=False, workers=2)
    assert one.claims == two.claims > 0
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    ids = [json.loads(l)["statement_id"] for l in (tmp_path / "two.jsonl").read_text().splitlines()]
    assert ids == sorted(ids)


def test_unchanged_statements_are_skipped_and_still_written(tmp_path):
    src = corpus(tmp_path / "in.jsonl", 8)
    db = tmp_path / "s.db"
    first = run_process([str(src)], str(tmp_path / "a.jsonl"), db, progress=False, workers=1)
    again = run_process([str(src)], str(tmp_path / "b.jsonl"), db, progress=False, workers=1)
    assert first.skipped == 0 and again.skipped == 8
    assert claim_ids(tmp_path / "a.jsonl") == claim_ids(tmp_path / "b.jsonl")
    # a changed statement is processed again, the others are not
    lines = src.read_text(encoding="utf-8").splitlines()
    lines[2] = json.dumps({"id": "s002", "text": "Мы обеспечим выборность всех акимов."}, ensure_ascii=False)
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    third = run_process([str(src)], str(tmp_path / "c.jsonl"), db, progress=False, workers=1)
    assert third.skipped == 7
    forced = run_process([str(src)], str(tmp_path / "d.jsonl"), db, progress=False, workers=1, force=True)
    assert forced.skipped == 0
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM statements").fetchone()[0] == 8
    assert con.execute("SELECT COUNT(DISTINCT claim_id) FROM claims").fetchone()[0] == \
        con.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    con.close()


def test_record_count_for_the_progress_bar(tmp_path):
    from pipeline.io.readers import count_records, read_statements

    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "x"}\n{broken\n\n{"id": "3", "text": "y"}\n', encoding="utf-8")
    (tmp_path / "b.csv").write_text("id,text\n1,a\n2,b\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("hello", encoding="utf-8")
    assert count_records([str(tmp_path)]) == sum(1 for _ in read_statements([str(tmp_path)])) == 6
    assert count_records(["-"]) is None


def test_processing_does_not_keep_the_strings_of_its_texts():
    """A worker that parses a million statements must not keep every word form it met: each
    chunk's strings are freed (spaCy memory zones), and the claims are the same as when they
    are kept, also for words met again in a later chunk."""
    from pipeline.batch.analyse import process_statements
    from pipeline.nlp import get_pipeline
    from pipeline.io.records import Statement

    def run(texts):
        out = []
        for res in process_statements([Statement(id=f"m{i}", text=t) for i, t in enumerate(texts)], chunk_size=4):
            assert res.failure is None
            out.append([(c.type, c.predicate, c.predicate_lemma, c.actor, c.polarity, c.tense) for c in res.claims])
        return out

    first = run(SENTENCES)
    before = {lang: set(get_pipeline(lang).vocab.strings) for lang in ("kk", "ru")}
    fresh = [s.replace("2533", "4177").replace("акиматы", "маслихаты") + " Зангар Уралбекулы Тлеужанов."
             for s in SENTENCES]
    run(fresh)
    for lang in ("kk", "ru"):
        new = set(get_pipeline(lang).vocab.strings) - before[lang]
        # only new morphological analyses (a closed set) stay, never word forms or lemmas
        assert all("=" in s for s in new), new
    assert run(SENTENCES) == first
    for word in ("Тлеужанов", "маслихаты", "4177"):
        assert word not in get_pipeline("ru").vocab.strings


def test_workers_are_replaced_after_their_share_of_chunks_with_the_same_output(tmp_path, monkeypatch):
    """Long runs: fresh workers every `worker_recycle_chunks` chunks each (configs/process.toml),
    so nothing a worker's memory keeps builds up for hours; the output does not change."""
    import multiprocessing as mp

    from pipeline.batch import runner as processing
    from pipeline.io.readers import read_statements

    src = corpus(tmp_path / "in.jsonl", 14)
    run_process([str(src)], str(tmp_path / "one.jsonl"), None, chunk_size=2, progress=False, workers=1)
    monkeypatch.setattr(processing, "worker_recycle_chunks", lambda: 2)  # 4 chunks a pool of 2 workers
    state: dict = {}
    pids: set[int] = set()
    results = []
    for res in processing.analyse(read_statements([str(src)]), workers=2, chunk_size=2, state=state):
        results.append(res)
        pids |= {p.pid for p in mp.active_children() if "Process" in type(p).__name__}
    assert state["worker_recycles"] == 1  # 7 chunks: a second pair of workers took the last 3
    assert len(pids) >= 3
    assert [r.statement.id for r in results] == [f"s{i:03d}" for i in range(14)]
    assert all(r.failure is None for r in results)
    two = run_process([str(src)], str(tmp_path / "two.jsonl"), None, chunk_size=2, progress=False, workers=2)
    assert two.claims > 0
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
