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
