"""Language pipelines: Russian through spaCy, Kazakh through Stanza; both give spaCy `Doc`s."""
from __future__ import annotations

from collections import defaultdict
from contextlib import nullcontext
from functools import lru_cache
from typing import Iterable, Iterator, TypeVar

K = TypeVar("K")

LANGS = ("kk", "ru")


def quiet_libraries() -> None:
    """Commands that load the pipelines show their own progress: Stanza's and the data libraries'
    INFO lines would bury it."""
    import logging

    for name in ("stanza", "datasets", "urllib3", "filelock"):
        logging.getLogger(name).setLevel(logging.WARNING)


LOAD_SECONDS: dict[str, float] = {}  # time each pipeline took to load here: a progress ETA leaves it out


@lru_cache(maxsize=None)
def get_pipeline(lang: str):
    """Load (once per process) the pipeline for `lang`; anything with `__call__` and `pipe`."""
    import time

    t0 = time.perf_counter()
    try:
        return _load_pipeline(lang)
    except Exception:
        from pipeline.nlp.model_files import check_language

        check_language(lang)  # a damaged model file: say which, and how to rebuild it
        raise
    finally:
        LOAD_SECONDS[lang] = time.perf_counter() - t0


def _load_pipeline(lang: str):
    if lang == "kk":
        from pipeline.nlp.kk import load_kk

        return load_kk()
    if lang == "ru":
        from pipeline.nlp.ru import load_ru

        return load_ru()
    raise ValueError(f"no NLP pipeline for language {lang!r} (known: {', '.join(LANGS)})")


@lru_cache(maxsize=None)
def input_normalizer(lang: str):
    """What a language's text goes through before its pipeline (configs/nlp_<lang>.toml [input]):
    `lookalikes = true` maps Latin look-alike letters inside Cyrillic words to the Kazakh ones
    ("тиiс" with a Latin i). Letters map one to one, so offsets stay those of the original text,
    and claims quote the original."""
    from pipeline import config

    settings = config.load(f"nlp_{lang}").get("input", {}) if lang in LANGS else {}
    if settings.get("lookalikes", False):
        from pipeline.text.langid import normalize_lookalikes

        return normalize_lookalikes
    return lambda text: text


def pipe_by_language(items: Iterable[tuple[K, str, str]], free_strings: bool = False
                     ) -> Iterator[tuple[K, str, object]]:
    """Parse `(key, lang, text)` items, each language's texts in one `pipe` batch (that is where
    the speed comes from); yields `(key, lang, doc)` grouped by language, in input order within
    a language.

    `free_strings=True` is for long runs that only take plain values out of each doc: the
    strings and lexemes of the texts are freed when each language's group is done (spaCy memory
    zones), so a worker that parses a million statements does not keep every word form and lemma
    it ever met. A doc is then only valid until the next item is asked for."""
    groups: dict[str, list[tuple[K, str]]] = defaultdict(list)
    for key, lang, text in items:
        groups[lang].append((key, input_normalizer(lang)(text)))
    for lang, pairs in groups.items():
        nlp = get_pipeline(lang)
        with nlp.memory_zone() if free_strings else nullcontext():
            for (key, _), doc in zip(pairs, nlp.pipe(t for _, t in pairs)):
                yield key, lang, doc


def pipe_groups_by_language(items: Iterable[tuple[K, str, str]], free_strings: bool = False
                            ) -> Iterator[tuple[str, list[tuple[K, object]]]]:
    """As ``pipe_by_language``, but each language's items come together: `(lang, [(key, doc), ...])`
    in input order, so a caller can work on all docs of a language at once (one model call for all
    their claim candidates). With `free_strings=True` the docs are valid until the next group is
    asked for (the memory zone spans one language's group)."""
    groups: dict[str, list[tuple[K, str]]] = defaultdict(list)
    for key, lang, text in items:
        groups[lang].append((key, input_normalizer(lang)(text)))
    for lang, pairs in groups.items():
        nlp = get_pipeline(lang)
        with nlp.memory_zone() if free_strings else nullcontext():
            yield lang, [(key, doc) for (key, _), doc in zip(pairs, nlp.pipe(t for _, t in pairs))]
