"""Settings and model files of the Russian pipeline: configs/nlp_ru.toml over the defaults, and the
navec / Slovnet files that ship inside the `natasha` wheel (no download)."""
from __future__ import annotations

import importlib.resources
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any


log = logging.getLogger(__name__)

CONFIG_NAME = "nlp_ru"
NATASHA_PREFIX = "natasha:"
ROOT_LABEL = "ROOT"  # spaCy's convention (ru_core_news_* use it too); CoNLL-U writes "root"
SPACE_DEP = "dep"

DEFAULT_CONFIG: dict[str, Any] = {
    "spacy_package": "",
    "spacy_package_fallback": True,
    "tokenizer": "razdel",
    "components": ["senter", "morph", "lemmatizer", "syntax", "ner"],
    "batch_size": 64,
    "slovnet_batch_size": 64,
    "blas_threads": 1,
    "models": {
        "navec": "natasha:emb/navec_news_v1_1B_250K_300d_100q.tar",
        "morph": "natasha:model/slovnet_morph_news_v1.tar",
        "syntax": "natasha:model/slovnet_syntax_news_v1.tar",
        "ner": "natasha:model/slovnet_ner_news_v1.tar",
    },
    "senter": {"split_on_newline": False, "max_sentence_words": 200},
    "morph": {"ud_fixes": True, "ordinal_agreement": True, "pron_type": False},
    "syntax": {"decoder": "mst"},
    "lemmatizer": {"mode": "pymorphy3", "fixes": True},
}


# --------------------------------------------------------------------------------------------
# Configuration and model files
# --------------------------------------------------------------------------------------------


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """`configs/nlp_ru.toml` (or `cfg`) over the built-in defaults, so partial dicts work."""
    if cfg is None:
        from pipeline import config

        try:
            cfg = config.load(CONFIG_NAME)
        except FileNotFoundError:
            cfg = {}
    return _merge(DEFAULT_CONFIG, cfg)


def natasha_data_dir() -> Path:
    """The `data/` directory inside the installed natasha package (models + embeddings)."""
    try:
        return Path(str(importlib.resources.files("natasha") / "data"))
    except ModuleNotFoundError as exc:  # pragma: no cover - natasha is a hard dependency
        raise RuntimeError("the Russian pipeline needs the `natasha` package (pip install natasha)") from exc


def resolve_model_path(value: str) -> Path:
    """`natasha:<rel>` -> inside natasha's data dir; otherwise a project-relative/absolute path."""
    if value.startswith(NATASHA_PREFIX):
        path = natasha_data_dir() / value[len(NATASHA_PREFIX):]
    else:
        from pipeline.config import resolve_path

        path = resolve_path(value)
    if not path.is_file():
        raise FileNotFoundError(f"Russian pipeline model file not found: {path} (from config value {value!r})")
    return path


@lru_cache(maxsize=None)
def _navec(path: str):
    """Embeddings are shared by all three Slovnet models: load them once per process."""
    from navec import Navec

    return Navec.load(path)


def navec_rows(navec, ids):
    """The vectors of navec rows `ids` (an array of word ids), decoded from its product quantiser."""
    import numpy as np

    pq = navec.pq
    ids = np.asarray(ids)
    return pq.codes[pq.qdims, pq.indexes[ids]].reshape(len(ids), pq.dim)


@lru_cache(maxsize=None)
def _slovnet(kind: str, path: str, navec_path: str, batch_size: int):
    """Load a Slovnet model once per process (weights are read-only, safe to share)."""
    import slovnet

    cls = {"morph": slovnet.Morph, "syntax": slovnet.Syntax, "ner": slovnet.NER}[kind]
    return cls.load(path, batch_size=batch_size).navec(_navec(navec_path))
