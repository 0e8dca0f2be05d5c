"""Topics on processed statements: each statement gets the topic of its analysed
(non-boilerplate) text, each claim a mix of its sentence's and its statement's probabilities
(`claim_sentence_weight`); top-k with probabilities on both.

The model is the one `resolve_model_path` names (--model, $POLCLAIMS_TOPIC_MODEL, or
configs/topics.toml); worker processes and Ray actors find it the same way, so all engines
label alike. One batched `predict_proba` per chunk keeps the cost far below a millisecond per
sentence.
"""
from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from pipeline.topics.model import TopicModel, TopicModelError, file_sha1, load_model, resolve_model_path

if TYPE_CHECKING:
    from pipeline.claims import StatementResult
    from pipeline.io.records import Sentence

log = logging.getLogger(__name__)


def statement_text(sentences: Iterable["Sentence"], fallback: str = "") -> str:
    """What a statement is about: its sentences minus page boilerplate."""
    text = " ".join(s.text for s in sentences if not s.boilerplate)
    return text or fallback


@lru_cache(maxsize=8)
def _active(path_str: str, explicit: bool) -> TopicModel | None:
    try:
        return load_model(path_str)
    except TopicModelError:
        if explicit:
            raise
        log.warning("no topic model at %s: claims and statements get no topics", path_str)
        return None


def active_model() -> TopicModel | None:
    """The model `process` uses; None (with one warning) when the configured default is missing.
    A model named by --model or $POLCLAIMS_TOPIC_MODEL that is missing is an error."""
    explicit = bool(os.environ.get("POLCLAIMS_TOPIC_MODEL"))
    return _active(str(resolve_model_path()), explicit)


def check_model() -> None:
    """Fail early (before any work) when --model names no model; warn once when the configured
    default is missing. Cheap: the model is loaded only when a statement needs it."""
    path = resolve_model_path()
    if (path / "model.joblib").exists():
        return
    if os.environ.get("POLCLAIMS_TOPIC_MODEL"):
        raise TopicModelError(f"no topic model at {path} (expected {path / 'model.joblib'})")
    active_model()


@lru_cache(maxsize=8)
def _file_digest(path_str: str, mtime: float, size: int) -> str:
    return file_sha1(Path(path_str))[:10]


def fingerprint() -> str:
    """Names the topic model in the store's pipeline version, so switching models (or
    retraining) re-labels stored statements on the next run instead of skipping them."""
    path = resolve_model_path() / "model.joblib"
    if not path.exists():
        return "topics:none"
    st = path.stat()
    return f"topics:{path.parent.name}:{_file_digest(str(path), st.st_mtime, st.st_size)}"


def assign_topics(results: list["StatementResult"], model: TopicModel | None = None) -> None:
    model = model if model is not None else active_model()
    if model is None:
        return
    texts: list[str] = []
    index: dict[str, int] = {}

    def slot(text: str) -> int:
        if text not in index:
            index[text] = len(texts)
            texts.append(text)
        return index[text]

    todo = []
    for res in results:
        if res.failure is not None:
            continue
        st_slot = slot(statement_text(res.sentences, res.statement.text))
        todo.append((res, st_slot, [slot(c.sentence or "") for c in res.claims]))
    if not texts:
        return
    from pipeline import config

    w = float(config.load("topics").get("claim_sentence_weight", 1.0))
    proba = model.predict_proba(texts)
    for res, st_slot, claim_slots in todo:
        st_p = proba[st_slot]
        res.topic, res.topics = model.top_k([st_p])[0]
        if claim_slots:
            # a claim's sentence often says little by itself ("It must not be allowed"): its topic
            # mixes the sentence's probabilities with its statement's
            rows = [w * proba[i] + (1.0 - w) * st_p for i in claim_slots]
            for c, (label, tops) in zip(res.claims, model.top_k(rows)):
                c.topic, c.topics = label, tops
