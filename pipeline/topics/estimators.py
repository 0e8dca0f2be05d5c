"""Estimators of our own (a module of its own so that importing pipeline.topics stays cheap:
scikit-learn takes over a second to import and a re-run that skips every statement needs none of it)."""
from __future__ import annotations

from sklearn.linear_model import LogisticRegression


class SqrtBalancedLogReg(LogisticRegression):
    """Logistic regression whose class weights are the square root of "balanced" ones: rare
    topics count more than their share, but not so much that common ones lose accuracy."""

    def fit(self, X, y, sample_weight=None):
        import numpy as np

        classes, counts = np.unique(y, return_counts=True)
        w = np.sqrt(len(y) / (len(classes) * counts))
        self.class_weight = dict(zip(classes, w))
        return super().fit(X, y, sample_weight=sample_weight)
