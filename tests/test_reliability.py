"""Short versions of `make reliability` (pipeline/benchmarks/reliability.py; full size: 10,000 fuzzed
records, 20 kills): hostile input, kills, two writers, a full disk, damaged files, queries."""
from __future__ import annotations

import pytest

pytest.importorskip("hypothesis", reason="the [dev] extra (hypothesis) is not installed")

from pipeline.benchmarks import reliability  # noqa: E402


def _ok(result: dict) -> None:
    assert result["ok"], result.get("problems") or result


def test_fuzzed_files_every_record_ends_processed_or_failed(tmp_path):
    r = reliability.fuzz(60, seed=17, work=tmp_path)
    _ok(r)
    assert r["records"] >= 60 and r["records"] == r["processed"] + r["failed"]
    assert r["rules_batches"] and r["learned_batches"]


def test_fuzzed_query_options_give_rows_or_a_message(tmp_path):
    r = reliability.query_safety(150, seed=17, work=tmp_path)
    _ok(r)
    assert r["queries"] == 150 and r["refused"] > 0 and r["rows"] > 0


def test_sigkill_a_worker_and_the_main_process_then_rerun(tmp_path):
    r = reliability.kills(2, n_statements=24, seed=17, work=tmp_path)
    _ok(r)
    assert r["worker_kills"] == 1 and r["main_process_kills"] == 1 and r["orphan_workers"] == 0


def test_two_writers_and_a_reader_on_one_store(tmp_path):
    r = reliability.concurrency(12, work=tmp_path, thread=True)
    _ok(r)
    assert r["reads_during_runs"] > 0 and r["duplicates"] == 0


def test_disk_full_stops_cleanly_and_a_rerun_completes(tmp_path):
    r = reliability.disk_full(20, work=tmp_path)
    _ok(r)
    assert r["exit_status"] == 3


def test_damaged_stores_and_models_are_named_with_the_fix(tmp_path):
    r = reliability.damaged(tmp_path, inprocess=True)
    _ok(r)
    assert r["cases"] >= 9
