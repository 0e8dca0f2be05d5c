"""Language pipelines: Russian through spaCy, Kazakh through Stanza; both give spaCy `Doc`s."""
from __future__ import annotations

from functools import lru_cache

LANGS = ("kk", "ru")


@lru_cache(maxsize=None)
def get_pipeline(lang: str):
    """Load (once per process) the pipeline for `lang`; anything with `__call__` and `pipe`."""
    if lang == "kk":
        from .kk import load_kk

        return load_kk()
    if lang == "ru":
        from .ru import load_ru

        return load_ru()
    raise ValueError(f"no NLP pipeline for language {lang!r} (known: {', '.join(LANGS)})")
