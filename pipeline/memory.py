"""Keep long runs' memory flat under glibc malloc.

glibc serves a large block (a tensor, a batch's arrays) with mmap and gives it back on free, but
each such free raises its mmap threshold (up to 32 MB), so later blocks of that size come from the
heap instead, where they fragment it. A worker parsing 50,000 statements grew by ~375 MB that way
(`make bench-memory`). A fixed threshold (mallopt M_MMAP_THRESHOLD) stops the drift: in a 6,000-
statement worker run RSS stayed within 2 % and the run took ~5 % longer. Settings:
`configs/process.toml` [memory]. A no-op where the C library is not glibc (or jemalloc is
preloaded: it ignores glibc's knobs).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging

from . import config

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's malloc.h


def fix_mmap_threshold(nbytes: int | None = None) -> bool:
    """Set glibc's mmap threshold to `nbytes` (default: the config's); True when it was set."""
    if nbytes is None:
        nbytes = int(config.load("process").get("memory", {}).get("mmap_threshold", 0))
    if nbytes <= 0:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, int(nbytes)))
    if not ok:
        log.debug("mallopt(M_MMAP_THRESHOLD, %d) refused", nbytes)
    return ok
