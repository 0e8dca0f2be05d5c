"""Russian NLP: a real spaCy pipeline (spacy.blank("ru") + natasha's Slovnet models), offline.

Why this shape: downstream code works on spaCy `Doc`s whatever the language, and the Slovnet
models (morphology, syntax, NER) plus the navec embeddings ship inside the `natasha` wheel, so
the pipeline needs no download. Each job is a small registered component:

    tokenizer                 razdel (or spaCy's own), exact character offsets
    polclaims_razdel_senter   sentence starts from razdel.sentenize (+ blank lines)
    polclaims_slovnet_morph   token.pos_, token.morph (UD)
    lemmatizer                spaCy's RussianLemmatizer, pymorphy3 mode (uses the predicted POS)
    polclaims_lemma_fixes     UD lemma conventions (ё, PROPN case, punctuation)
    polclaims_pron_type       (optional) PronType/Poss/Reflex from a lexicon, Taiga-style
    polclaims_slovnet_syntax  token.head, token.dep_ (one root per sentence, always a tree)
    polclaims_ordinal_agreement  digit ordinals take Case/Gender/Number from their noun
    polclaims_slovnet_ner     doc.ents (PER/LOC/ORG)

Where they live: tokenizer and sentence splitter in `ru_text`, the Slovnet components (morphology,
syntax, NER) in `ru_slovnet`, the UD fixes (lemmas, PronType, ordinals) in `ru_fixes`, settings and
model files in `ru_config`; this module assembles the pipeline.

Root words get dep_ "ROOT" (spaCy's convention, as in ru_core_news_*); pipeline/nlp/conllu.py
writes "root". Accuracy, speed and the choices behind the UD fixes: build/ru_notes.md.

Settings come from `configs/nlp_ru.toml`; `load_ru(cfg)` takes that dict (or reads the file).
"""
from __future__ import annotations

import logging
import warnings
from typing import Any

import spacy
from spacy.language import Language

# The component modules register their factories (spaCy's registry) when imported.
from pipeline.nlp import ru_text  # noqa: F401
from pipeline.nlp.ru_config import CONFIG_NAME, load_config
from pipeline.nlp.ru_fixes import _cache_lemmatizer
from pipeline.nlp.ru_slovnet import _SlovnetComponent

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Building the pipeline
# --------------------------------------------------------------------------------------------

KNOWN_COMPONENTS = ("senter", "morph", "lemmatizer", "syntax", "ner")


def _load_spacy_package(name: str, fallback: bool) -> Language | None:
    try:
        return spacy.load(name)
    except OSError as exc:
        msg = (f"spaCy package {name!r} (configs/{CONFIG_NAME}.toml: spacy_package) is not installed; "
               f"install it with `python -m spacy download {name}` or set spacy_package = \"\"")
        if not fallback:
            raise RuntimeError(msg) from exc
        warnings.warn(msg + "; using the bundled Slovnet pipeline instead", RuntimeWarning, stacklevel=3)
        log.warning("%s; using the bundled Slovnet pipeline instead", msg)
        return None


def load_ru(cfg: dict[str, Any] | None = None) -> Language:
    """Build the Russian spaCy pipeline described by `configs/nlp_ru.toml` (or `cfg`).

    Weights are loaded once per process and shared between pipelines; nothing is downloaded.
    """
    cfg = load_config(cfg)
    if cfg.get("spacy_package"):
        nlp = _load_spacy_package(cfg["spacy_package"], bool(cfg.get("spacy_package_fallback", True)))
        if nlp is not None:
            return nlp

    components = list(cfg["components"])
    unknown = [c for c in components if c not in KNOWN_COMPONENTS]
    if unknown:
        raise ValueError(f"unknown Russian pipeline component(s) {unknown}; known: {list(KNOWN_COMPONENTS)}")
    if "lemmatizer" in components and "morph" not in components:
        raise ValueError("the pymorphy3 lemmatizer needs the 'morph' component (it filters by POS)")

    tokenizer = cfg["tokenizer"]
    if tokenizer == "razdel":
        nlp = spacy.blank("ru", config={"nlp": {"tokenizer": {"@tokenizers": "polclaims_razdel_tokenizer"}}})
    elif tokenizer == "spacy":
        nlp = spacy.blank("ru")
    else:
        raise ValueError(f"tokenizer must be 'razdel' or 'spacy', not {tokenizer!r}")

    models = cfg["models"]
    sbs = int(cfg["slovnet_batch_size"])
    nlp.batch_size = int(cfg["batch_size"])
    for comp in components:
        if comp == "senter":
            nlp.add_pipe("polclaims_razdel_senter", config=dict(cfg["senter"]))
        elif comp == "morph":
            nlp.add_pipe("polclaims_slovnet_morph", config={
                "model_path": models["morph"], "navec_path": models["navec"], "batch_size": sbs,
                "ud_fixes": bool(cfg["morph"].get("ud_fixes", True))})
        elif comp == "lemmatizer":
            lem = nlp.add_pipe("lemmatizer", config={"mode": cfg["lemmatizer"].get("mode", "pymorphy3")})
            _cache_lemmatizer(lem, int(cfg["lemmatizer"].get("cache_size", 20_000)))
            if cfg["lemmatizer"].get("fixes", True):
                nlp.add_pipe("polclaims_lemma_fixes")
            if cfg["morph"].get("pron_type", False):
                nlp.add_pipe("polclaims_pron_type")
        elif comp == "syntax":
            nlp.add_pipe("polclaims_slovnet_syntax", config={
                "model_path": models["syntax"], "navec_path": models["navec"], "batch_size": sbs,
                "decoder": cfg["syntax"].get("decoder", "mst")})
            if "morph" in components and cfg["morph"].get("ordinal_agreement", True):
                nlp.add_pipe("polclaims_ordinal_agreement")
        elif comp == "ner":
            nlp.add_pipe("polclaims_slovnet_ner", config={
                "model_path": models["ner"], "navec_path": models["navec"], "batch_size": sbs})
    adapter = cfg.get("adapter", {})
    if adapter.get("apply", False):
        from pipeline.nlp import ud_adapter  # noqa: F401 - registers the factory

        nlp.add_pipe("polclaims_ud_adapter", config={"model_path": adapter["model"],
                                                     "pymorphy": bool(adapter.get("pymorphy", True))})
    for _, proc in nlp.pipeline:
        if isinstance(proc, _SlovnetComponent):
            proc.blas_threads = int(cfg.get("blas_threads", 1))
    nlp.initialize()
    return nlp
