"""Long runs keep memory flat: the glibc knobs of pipeline.batch.memory really take effect."""
from __future__ import annotations

import platform

import pytest

from pipeline.batch import memory

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or memory._libc_function("malloc_trim") is None,
                           reason="glibc malloc only")


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


@glibc
def test_freed_heap_memory_goes_back_to_the_os_after_a_chunk():
    """What a large chunk needed in the middle of the heap does not stay resident."""
    assert memory.fix_mmap_threshold()  # 1 MiB: blocks below it come from the heap
    blocks = [bytearray(b"x" * 200_000) for _ in range(400)]  # ~80 MB of heap blocks
    keep = blocks[-1]  # the top of the heap stays in use: plain free() cannot shrink it
    del blocks
    before = _rss_mb()
    assert memory.release_free_memory()
    assert _rss_mb() < before - 40
    assert len(keep) == 200_000


def test_trim_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(memory, "_settings", lambda: {"trim_after_chunk": False, "mmap_threshold": 0})
    memory._trim_enabled.cache_clear()
    try:
        assert memory.release_free_memory() is False
        assert memory.fix_mmap_threshold() is False
    finally:
        memory._trim_enabled.cache_clear()


def test_memory_bench_sizes_can_be_measured_in_separate_runs(monkeypatch, tmp_path):
    """`make bench-memory` at 100,000 statements takes hours: each size is saved as soon as it is
    measured, and a later run of the other size alone completes the comparison."""
    import pipeline.benchmarks.run as run

    peaks = {10: 100, 20: 108}
    monkeypatch.setattr(run, "sentence_corpus", lambda data, work, n: tmp_path / f"memory_{n}.jsonl")
    monkeypatch.setattr(run, "memory_run", lambda stmts, workers, tmp: {
        "statements": int(stmts.stem.split("_")[1]), "workers": workers, "seconds": 1.0, "peak_main_mb": 1,
        "peak_worker_mb": peaks[int(stmts.stem.split("_")[1])] // 2, "peak_tree_mb": peaks[int(stmts.stem.split("_")[1])]})
    saved = []
    first = run.bench_memory(tmp_path, (10,), save=lambda out: saved.append(dict(out)))
    assert saved and "10" in saved[-1] and "peak_tree_change" not in first   # kept at once; nothing to compare yet
    both = run.bench_memory(tmp_path, (20,), previous=first)
    assert both["10"] == first["10"] and both["peak_tree_change"] == 0.08
    old_format = {"10": {k: v for k, v in first["10"].items() if k != "measured_at"}}
    assert "peak_tree_change" not in run.bench_memory(tmp_path, (20,), previous=old_format)  # undated: dropped
