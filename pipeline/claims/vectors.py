"""Word vectors of a candidate's words as classifier columns.

Why: the claim classifier's lemma columns know only the words of its training sources; on a new
site most predicates and subjects are words it never saw. Static word vectors (navec for Russian,
the project's Kazakh fastText vectors) place an unseen "реконструировать" near "модернизировать",
so the model's weights carry over (leave-one-source-out, Russian: F1 +3 points). The lemmas come
from the candidate's feature dict (``m_lemma=ru:...`` etc.), so records cached without vectors
still work; each language's vector file is named in ``configs/claims/<lang>.toml [vectors]``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline import config


@lru_cache(maxsize=None)
def _table(lang: str) -> "tuple[dict[str, int], Any] | None":
    """(word -> row, lookup) of a language's vectors; None when its config names none."""
    v = config.load(f"claims/{lang}").get("vectors", {})
    kind, path = v.get("kind"), v.get("path")
    if not kind or not path:
        return None
    if kind == "navec":
        from pipeline.nlp.ru_config import _navec, navec_rows, resolve_model_path

        nv = _navec(str(resolve_model_path(path)))

        def rows(ids):
            return navec_rows(nv, ids).astype(np.float32)
        return nv.vocab.word_ids, rows
    if kind == "stanza-pretrain":
        import torch

        d = torch.load(config.resolve_path(path), map_location="cpu", weights_only=False)
        emb = d["emb"].numpy().astype(np.float32)
        unit2id = {w: i for w, i in d["vocab"]["_unit2id"].items() if i >= 4}  # pad/unk/empty/root rows

        def rows(ids):
            return emb[np.asarray(ids)]
        return unit2id, rows
    raise ValueError(f"configs/claims/{lang}.toml [vectors] kind {kind!r}: expected 'navec' or 'stanza-pretrain'")


def _unit(m: np.ndarray) -> np.ndarray:
    return m / (np.linalg.norm(m, axis=-1, keepdims=True) + 1e-9)


@lru_cache(maxsize=None)
def _pca(lang: str, dims: int) -> "tuple[np.ndarray, np.ndarray] | None":
    """(mean, projection) of a language's unit-length vectors; it depends on the table only, so the
    folds of a cross-validation share one SVD (~15 s each) instead of one per fit."""
    t = _table(lang)
    if t is None:
        return None
    ids = np.fromiter(sorted(t[0].values()), dtype=np.int64)[::5]   # every 5th word is plenty for a PCA
    m = _unit(t[1](ids))
    mu = m.mean(0)
    _, _, vt = np.linalg.svd(m - mu, full_matrices=False)
    return mu.astype(np.float32), vt[:dims].T.astype(np.float32)


class LemmaVectors(TransformerMixin, BaseEstimator):
    """Transformer: feature dicts -> dense columns, per language and slot, of the (unit-length,
    PCA-reduced) vectors of the lemmas in `slots` and the mean vector of the sentence's content
    lemmas (``sb=`` keys). The PCA of each language's vector table is fitted in ``fit`` and kept
    in the model (a few hundred kB); the tables are loaded lazily, never pickled."""

    def __init__(self, slots: Sequence[str] = ("m_lemma=", "c_nsubj_lemma=", "h_lemma="), dims: int = 64,
                 sentence: bool = True, langs: Sequence[str] = ("kk", "ru")):
        self.slots, self.dims, self.sentence, self.langs = slots, dims, sentence, langs

    def fit(self, X, y=None):
        self.proj_: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for lang in self.langs:
            pca = _pca(lang, int(self.dims))
            if pca is not None:
                self.proj_[lang] = pca
        return self

    def _block(self) -> int:
        return len(self.slots) + int(self.sentence)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_cache", None)   # looked-up vectors: rebuilt on demand, never saved
        return state

    def _vector(self, lang: str, lemma: str) -> "np.ndarray | None":
        """The unit-length projected vector of a lemma (None: not in the table), cached across
        calls: `process` asks for the same frequent words chunk after chunk."""
        cache = self.__dict__.setdefault("_cache", {})
        key = (lang, lemma)
        if key not in cache:
            word_ids, rows = _table(lang)
            i = word_ids.get(lemma.lower())
            if i is None:
                cache[key] = None
            else:
                mu, w = self.proj_[lang]
                cache[key] = _unit((_unit(rows([i])[0]) - mu) @ w)
        return cache[key]

    def transform(self, X):
        import scipy.sparse as sp

        X = list(X)
        langs = [lg for lg in self.langs if lg in self.proj_]
        width = self.dims * self._block()
        out = np.zeros((len(X), width * len(langs)), dtype=np.float32)
        slot_of = {s: i for i, s in enumerate(self.slots)}
        sentence_means: dict[tuple, "np.ndarray | None"] = {}   # a sentence's candidates share its bag
        for r, x in enumerate(X):
            lang, found, sentence = None, {}, []
            for k in x:   # one pass over the keys (a candidate has a few hundred)
                eq = k.find("=")
                head = k[: eq + 1]
                if head == "lang=":
                    lang = k[eq + 1:]
                elif head == "sb=":
                    sentence.append(k)
                elif head in slot_of and head not in found:
                    found[head] = k
            if lang not in langs:
                continue
            base = langs.index(lang) * width
            for head, key in found.items():
                v = self._vector(lang, key.split(":", 1)[1])
                if v is not None:
                    s = slot_of[head]
                    out[r, base + s * self.dims: base + (s + 1) * self.dims] = v
            if self.sentence and sentence:
                key = (lang, *sentence)
                if key not in sentence_means:
                    vs = [v for v in (self._vector(lang, k.split(":", 1)[1]) for k in sentence) if v is not None]
                    sentence_means[key] = _unit(np.mean(vs, axis=0)) if vs else None
                mean = sentence_means[key]
                if mean is not None:
                    s = len(self.slots)
                    out[r, base + s * self.dims: base + (s + 1) * self.dims] = mean
        return sp.csr_matrix(out)
