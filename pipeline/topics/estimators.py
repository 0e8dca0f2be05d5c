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
    vectors are loaded once per process and never pickled with the model.

    With `lexicon` (a word translation table, `read_lexicon`: Kazakh -> Russian words induced from
    the parallel corpus), a text with more words of the table's language than of navec's
    (`_reads_through_lexicon`) is read through the table: a word's vector is
    the weighted mean of its translations' vectors (a word the table lacks takes the mean of the
    table's words sharing its longest prefix of at least `prefix` letters, 0 = none; then navec's
    own vector, for names and loans), and the text gets a vector when `lexicon_min_coverage` of
    its words have one. Both languages then share one vector space."""

    polclaims_stateless = True

    def __init__(self, path: str = "natasha:emb/navec_news_v1_1B_250K_300d_100q.tar", weight: float = 1.0,
                 min_coverage: float = 0.5, lexicon: str = "", prefix: int = 0, lexicon_min_coverage: float = 0.5):
        self.path = path
        self.weight = weight
        self.min_coverage = min_coverage
        self.lexicon = lexicon
        self.prefix = prefix
        self.lexicon_min_coverage = lexicon_min_coverage

    # scikit-learn estimator protocol (clone, get_params) without importing BaseEstimator here
    def get_params(self, deep: bool = True) -> dict:
        return {"path": self.path, "weight": self.weight, "min_coverage": self.min_coverage,
                "lexicon": self.lexicon, "prefix": self.prefix, "lexicon_min_coverage": self.lexicon_min_coverage}

    def __setstate__(self, state):
        # models pickled before the lexicon settings existed
        self.__dict__.update({"lexicon": "", "prefix": 0, "lexicon_min_coverage": 0.5, **state})

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

        from pipeline.nlp.ru_config import navec_rows

        nv = self._navec()
        word_ids, pq = nv.vocab.word_ids, nv.pq
        lex = _lexicon_vectors(self.lexicon, self.path, int(self.prefix)) if self.lexicon else None
        words = re.compile(r"\w+")
        ids, owner, lex_rows, lex_owner = [], [], [], []
        keep = np.zeros(len(texts), dtype=bool)
        for i, text in enumerate(texts):
            tokens = words.findall(text.lower())
            if lex is not None and tokens and _reads_through_lexicon(tokens, word_ids, lex):
                rows, direct = [], []
                for w in tokens:
                    r = lex.row(w)
                    if r is not None:
                        rows.append(r)
                    elif w in word_ids:
                        direct.append(word_ids[w])
                if rows and len(rows) + len(direct) >= self.lexicon_min_coverage * len(tokens):
                    keep[i] = True
                    lex_rows.extend(rows)
                    lex_owner.extend([i] * len(rows))
                    ids.extend(direct)
                    owner.extend([i] * len(direct))
                continue
            found = [word_ids[w] for w in tokens if w in word_ids]
            # a text the vectors hardly know (another language: Kazakh words are 11 % of the
            # median Kazakh text's words in navec, Russian ones 90 %) gets no navec mean:
            # a mean over its few known words (names, loans) only adds noise
            if found and len(found) >= self.min_coverage * len(tokens):
                keep[i] = True
                ids.extend(found)
                owner.extend([i] * len(found))
        out = np.zeros((len(texts), pq.dim), dtype=np.float32)
        counts = np.zeros(len(texts))
        if ids:
            vecs = navec_rows(nv, ids)
            np.add.at(out, np.array(owner), vecs)
            counts += np.bincount(np.array(owner), minlength=len(texts))
        if lex_rows:
            np.add.at(out, np.array(lex_owner), lex.vectors(np.array(lex_rows)))
            counts += np.bincount(np.array(lex_owner), minlength=len(texts))
        if keep.any():
            means = out[keep] / counts[keep][:, None]
            out[keep] = self.weight * means / (np.linalg.norm(means, axis=1, keepdims=True) + 1e-9)
        return sp.csr_matrix(out)


def _reads_through_lexicon(tokens, word_ids, lex) -> bool:
    """A text is read through the translation table when more of its words are the table's
    language (not in navec, found in the table, by prefix too) than navec's (in navec, not in
    the table). Words both know (loans, names, a Kazakh form spelt like a Russian word) decide
    nothing."""
    votes = 0
    for w in tokens:
        in_vectors = w in word_ids
        if in_vectors and w not in lex.index:
            votes -= 1
        elif not in_vectors and lex.row(w) is not None:
            votes += 1
    return votes > 0


def read_lexicon(path) -> dict[str, list[tuple[str, float]]]:
    """A word translation table (`python -m pipeline.corpora.kk_ru_lexicon`): one source word a
    line, ``word<TAB>translation:weight translation:weight ...``."""
    table = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.rstrip("\n")
            if not line:
                continue
            try:
                word, rest = line.split("\t")
                table[word] = [(t, float(p)) for t, p in (x.rsplit(":", 1) for x in rest.split())]
            except ValueError:
                raise ValueError(f"{path}:{n}: not 'word<TAB>translation:weight ...': {line[:80]!r}") from None
    return table


class _LexiconVectors:
    """Vectors of a translation table's source words (weighted means of their translations'
    vectors), with longest-prefix look-up for words the table lacks."""

    def __init__(self, table: dict[str, list[tuple[str, float]]], navec, prefix: int = 0):
        import numpy as np

        from pipeline.nlp.ru_config import navec_rows

        word_ids, pq = navec.vocab.word_ids, navec.pq
        self.index: dict[str, int] = {}
        vecs = []
        for word, trans in table.items():
            known = [(word_ids[t], p) for t, p in trans if t in word_ids]
            if not known:
                continue
            ids = np.array([i for i, _ in known])
            w = np.array([p for _, p in known], dtype=np.float32)
            v = navec_rows(navec, ids)
            self.index[word] = len(vecs)
            vecs.append((w[:, None] * v).sum(0) / w.sum())
        self.matrix = np.array(vecs, dtype=np.float32).reshape(len(vecs), pq.dim)
        self.prefix = prefix
        self._by_prefix: dict[str, list[int]] = {}
        if prefix:
            for word, row in self.index.items():
                for n in range(prefix, len(word)):
                    self._by_prefix.setdefault(word[:n], []).append(row)
        self._memo: dict[str, int | None] = {}
        self._base = self.matrix
        self._extra: list = []  # vectors of words found by prefix, rows after the table's

    def row(self, word: str) -> int | None:
        hit = self.index.get(word)
        if hit is not None or not self.prefix:
            return hit
        if word in self._memo:
            return self._memo[word]
        if len(self._memo) >= 200_000:  # a long-running process: no more new words remembered
            return None
        row = None
        for n in range(len(word) - 1, self.prefix - 1, -1):
            rows = self._by_prefix.get(word[:n])
            if rows:
                row = len(self._base) + len(self._extra)
                self._extra.append(self._base[rows].mean(0))
                break
        self._memo[word] = row
        return row

    def vectors(self, rows):
        """The vectors of `row()` results."""
        import numpy as np

        if len(self.matrix) < len(self._base) + len(self._extra):
            self.matrix = np.vstack([self._base, np.array(self._extra, dtype=np.float32)])
        return self.matrix[rows]


_LEXICONS: dict[tuple, _LexiconVectors] = {}


def _lexicon_vectors(lexicon: str, navec_path: str, prefix: int) -> _LexiconVectors:
    key = (lexicon, navec_path, prefix)
    if key not in _LEXICONS:
        from pipeline import config
        from pipeline.nlp.ru_config import _navec, resolve_model_path

        path = config.resolve_path(lexicon)
        if not path.exists():
            raise FileNotFoundError(f"word translation table {path} is missing (configs/topics.toml "
                                    "[features.vectors] lexicon); rebuild it with "
                                    "`python -m pipeline.corpora.kk_ru_lexicon`")
        _LEXICONS[key] = _LexiconVectors(read_lexicon(path), _navec(str(resolve_model_path(navec_path))), prefix)
    return _LEXICONS[key]


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
