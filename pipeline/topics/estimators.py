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
