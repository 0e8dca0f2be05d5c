"""The default topic codes (../shared/docs/topics.md is the reference; the list lives in configs/)."""
from __future__ import annotations

from pipeline import config


def valid_codes() -> set[str]:
    return set(config.load("topics")["codes"])
