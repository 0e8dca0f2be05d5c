"""Small scikit-learn pieces shared by the claim classifier (`learned`) and the role chooser (`roles`)."""
from __future__ import annotations


from sklearn.base import BaseEstimator, TransformerMixin


class MinCount(TransformerMixin, BaseEstimator):
    """Drops feature columns seen in fewer than `min_count` training candidates: a lemma met once
    cannot generalise, and fewer columns make the fits several times faster."""

    def __init__(self, min_count: int = 2):
        self.min_count = min_count

    def fit(self, X, y=None):
        import numpy as np

        counts = np.asarray((X != 0).sum(axis=0)).ravel()
        self.keep_ = np.flatnonzero(counts >= self.min_count)
        return self

    def transform(self, X):
        return X[:, self.keep_]

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)
