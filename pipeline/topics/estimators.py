"""Estimators of our own (a module of its own so that importing pipeline.topics stays cheap:
scikit-learn takes over a second to import and a re-run that skips every statement needs none of it)."""
from __future__ import annotations

from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import FeatureUnion


class SqrtBalancedLogReg(LogisticRegression):
    """Logistic regression whose class weights are the square root of "balanced" ones: rare
    topics count more than their share, but not so much that common ones lose accuracy."""

    def fit(self, X, y, sample_weight=None):
        import numpy as np

        classes, counts = np.unique(y, return_counts=True)
        w = np.sqrt(len(y) / (len(classes) * counts))
        self.class_weight = dict(zip(classes, w))
        return super().fit(X, y, sample_weight=sample_weight)


class StatelessUnion(FeatureUnion):
    """A FeatureUnion of steps that learn nothing from the data (hashed n-grams): cross-validation
    computes it once for all rows instead of once per fold (`polclaims_stateless`)."""

    polclaims_stateless = True


class Float32SGD(SGDClassifier):
    """Logistic-loss linear model fitted by SGD. Why: on 10,000 texts with 130,000 hashed
    features it fits in seconds where lbfgs logistic regression takes minutes on 2 cores, and
    leave-one-source-out fits it once per source. Coefficients are stored as float32 (half the
    size on disk)."""

    def fit(self, X, y, **kw):
        import numpy as np

        super().fit(X, y, **kw)
        self.coef_ = self.coef_.astype(np.float32)
        self.intercept_ = self.intercept_.astype(np.float32)
        return self


class MeanWordVectors:
    """Mean of pre-trained word vectors over a text's words (L2-normalised, times `weight`), as
    extra columns beside the n-grams, for texts of which at least `min_coverage` of the words
    have a vector. Why: n-grams only know the words of the training sites;
    vectors trained on a large news corpus (navec, inside the `natasha` wheel) place words the
    training data never had near the ones it had. Learns nothing (`polclaims_stateless`); the
    vectors are loaded once per process and never pickled with the model."""

    polclaims_stateless = True

    def __init__(self, path: str = "natasha:emb/navec_news_v1_1B_250K_300d_100q.tar", weight: float = 1.0,
                 min_coverage: float = 0.5):
        self.path = path
        self.weight = weight
        self.min_coverage = min_coverage

    # scikit-learn estimator protocol (clone, get_params) without importing BaseEstimator here
    def get_params(self, deep: bool = True) -> dict:
        return {"path": self.path, "weight": self.weight, "min_coverage": self.min_coverage}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y=None):
        return self

    def fit_transform(self, X, y=None):
        return self.transform(X)

    def _navec(self):
        # the Russian pipeline's loader: `process` holds one copy for the parser and the topics
        from pipeline.nlp.ru_config import _navec, resolve_model_path

        return _navec(str(resolve_model_path(self.path)))

    def transform(self, texts):
        """One gather of all the batch's word vectors (a per-word lookup costs more than the
        n-grams), then the mean per text."""
        import re

        import numpy as np
        import scipy.sparse as sp

        nv = self._navec()
        word_ids, pq = nv.vocab.word_ids, nv.pq
        words = re.compile(r"\w+")
        ids, owner = [], []
        keep = np.zeros(len(texts), dtype=bool)
        for i, text in enumerate(texts):
            tokens = words.findall(text.lower())
            found = [word_ids[w] for w in tokens if w in word_ids]
            # a text the vectors hardly know (another language: Kazakh words are 11 % of the
            # median Kazakh text's words in navec, Russian ones 90 %) gets no vector at all:
            # a mean over its few known words (names, loans) only adds noise
            if found and len(found) >= self.min_coverage * len(tokens):
                keep[i] = True
                ids.extend(found)
                owner.extend([i] * len(found))
        out = np.zeros((len(texts), pq.dim), dtype=np.float32)
        if ids:
            vecs = pq.codes[pq.qdims, pq.indexes[np.array(ids)]].reshape(len(ids), pq.dim)
            np.add.at(out, np.array(owner), vecs)
            counts = np.bincount(np.array(owner), minlength=len(texts))[keep]
            means = out[keep] / counts[:, None]
            out[keep] = self.weight * means / (np.linalg.norm(means, axis=1, keepdims=True) + 1e-9)
        return sp.csr_matrix(out)


class HeadTfidf:
    """TF-IDF weights (learnt in `fit`) on the first `columns` columns (the hashed n-gram counts);
    the columns after them (word vectors) pass through unchanged."""

    def __init__(self, columns: int, sublinear_tf: bool = True):
        self.columns = columns
        self.sublinear_tf = sublinear_tf

    def get_params(self, deep: bool = True) -> dict:
        return {"columns": self.columns, "sublinear_tf": self.sublinear_tf}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y=None):
        from sklearn.feature_extraction.text import TfidfTransformer

        self.tfidf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(X[:, :self.columns])
        return self

    def transform(self, X):
        import scipy.sparse as sp

        head = self.tfidf_.transform(X[:, :self.columns])
        if X.shape[1] == self.columns:
            return head
        return sp.hstack([head, X[:, self.columns:]]).tocsr()

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)
