"""A learned adapter from one tagger's conventions to a treebank's.

The Russian taggers installable offline (Slovnet, trained on automatically annotated news in
SynTagRus style) disagree with UD Russian GSD/Taiga in systematic ways: Animacy on nouns,
Degree on adjectives, Voice on verb forms, NOUN vs. PROPN in names, the relation labels of some
constructions. The treebanks' train files are not available, but their dev files are: the adapter
is a set of linear classifiers trained on those, one per target (UPOS, each morphological feature,
the relation label), that read the pipeline's own analysis of a token and its neighbours and
predict what the treebank would have written. Tokens keep the pipeline's heads; lemmas of tokens
whose UPOS changed are recomputed.

`UDAdapter` follows scikit-learn's estimator API (`fit` / `predict`) and saves as one .npz file;
`polclaims_ud_adapter` is the spaCy component that applies a saved adapter.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from spacy.language import Language
from spacy.tokens import Doc, Token

log = logging.getLogger(__name__)

ABSENT = "_"


def _suffixes(word: str, n: int) -> Iterator[tuple[str, int]]:
    for k in range(1, n + 1):
        if len(word) > k:
            yield word[-k:], k


def token_features(tok: Token, morph_analyzer=None) -> dict[str, float]:
    """What the adapter sees of a token: the pipeline's UPOS, features, relation and lemma, the
    word's shape and endings, its neighbours' tags, its head's tag and (optionally) pymorphy's
    grammemes of the word. Plain strings only, so the features can be built inside a memory zone."""
    low = tok.lower_
    f: dict[str, float] = {"bias": 1.0, f"u={tok.pos_}": 1.0, f"w={low}": 1.0, f"dep={tok.dep_}": 1.0,
                           f"lem={tok.lemma_.lower()}": 1.0, f"hu={tok.head.pos_}": 1.0,
                           f"dep_hu={tok.dep_}|{tok.head.pos_}": 1.0, f"u_dep={tok.pos_}|{tok.dep_}": 1.0}
    morph = str(tok.morph)
    for feat in morph.split("|") if morph else ():
        f[f"f={feat}"] = 1.0
        f[f"uf={tok.pos_}|{feat}"] = 1.0
    for suf, k in _suffixes(low, 4):
        f[f"s{k}={suf}"] = 1.0
    if tok.is_title:
        f["title"] = 1.0
    if tok.is_upper and len(tok.text) > 1:
        f["upper"] = 1.0
    if any(ch.isdigit() for ch in tok.text):
        f["digit"] = 1.0
    if tok.is_sent_start:
        f["first"] = 1.0
    doc = tok.doc
    for off, name in ((-1, "p"), (1, "n")):
        j = tok.i + off
        if 0 <= j < len(doc):
            other = doc[j]
            f[f"{name}u={other.pos_}"] = 1.0
            f[f"{name}w={other.lower_}"] = 1.0
            f[f"{name}u_u={other.pos_}|{tok.pos_}"] = 1.0
        else:
            f[f"{name}u=<edge>"] = 1.0
    if morph_analyzer is not None and tok.is_alpha:
        for name in _dictionary_features(morph_analyzer, tok.text):
            f[name] = 1.0
    return f


_DICT_CACHE: dict[str, tuple[str, ...]] = {}


def _dictionary_features(morph_analyzer, word: str) -> tuple[str, ...]:
    """pymorphy3's grammemes of the best analysis and the parts of speech of the next ones
    (ambiguity matters: "стали" noun or verb); memoised, as running text repeats words."""
    out = _DICT_CACHE.get(word)
    if out is None:
        parses = morph_analyzer.parse(word)
        names = [f"pm={g}" for g in str(parses[0].tag).replace(" ", ",").split(",")] if parses else []
        names += [f"pm2={p.tag.POS}" for p in parses[1:4]]
        out = tuple(names)
        if len(_DICT_CACHE) > 100_000:
            _DICT_CACHE.clear()
        _DICT_CACHE[word] = out
    return out


class UDAdapter:
    """One linear classifier per target; predicts a label for every target of every token.

    Trained with scikit-learn's logistic regression, then kept as plain arrays (one weight
    matrix for all targets): loading and applying it needs only numpy, so the pipeline's cold
    start does not pay for importing scikit-learn and SciPy."""

    def __init__(self, C: float = 0.5, max_iter: int = 300, min_count: int = 2):
        self.C = C
        self.max_iter = max_iter
        self.min_count = min_count

    def fit(self, X: list[dict[str, float]], Y: dict[str, list[str]]) -> "UDAdapter":
        from collections import Counter

        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        counts = Counter(k for x in X for k in x)
        keep = {k for k, c in counts.items() if c >= self.min_count}
        vec = DictVectorizer(dtype=np.float32)
        M = vec.fit_transform([{k: v for k, v in x.items() if k in keep} for x in X])
        blocks, biases = [], []
        self.targets_: dict[str, list[str]] = {}
        for target, y in Y.items():
            classes = sorted(set(y))
            if len(classes) < 2:  # one value in training: always predicted
                coef, bias = np.zeros((M.shape[1], 1), np.float32), np.zeros(1, np.float32)
            else:
                clf = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(M, y)
                classes = [str(c) for c in clf.classes_]
                coef, bias = clf.coef_.T.astype(np.float32), clf.intercept_.astype(np.float32)
                if len(classes) == 2:  # binary: one column scores the second class against the first
                    coef = np.hstack([np.zeros_like(coef), coef])
                    bias = np.array([0.0, bias[0]], np.float32)
            self.targets_[target] = classes
            blocks.append(coef)
            biases.append(bias)
        self.features_: list[str] = list(vec.feature_names_)
        self.W_ = np.hstack(blocks)
        self.b_ = np.concatenate(biases)
        self._index()
        return self

    def _index(self) -> None:
        self.column_ = {f: i for i, f in enumerate(self.features_)}
        self.slices_, pos = {}, 0
        for target, classes in self.targets_.items():
            self.slices_[target] = (pos, pos + len(classes))
            pos += len(classes)

    @property
    def targets(self) -> list[str]:
        return list(self.targets_)

    def predict(self, X: list[dict[str, float]]) -> dict[str, list[str]]:
        scores = np.empty((len(X), self.W_.shape[1]), np.float32)
        for i, x in enumerate(X):
            known = [(self.column_[k], v) for k, v in x.items() if k in self.column_]
            cols = [c for c, _ in known]
            weights = np.array([v for _, v in known], np.float32)
            scores[i] = weights @ self.W_[cols] + self.b_
        out = {}
        for target, (a, b) in self.slices_.items():
            classes = self.targets_[target]
            out[target] = [classes[j] for j in scores[:, a:b].argmax(axis=1)]
        return out

    def save(self, path: str | Path) -> Path:
        """One compressed .npz file: weights, biases, feature names and targets (no pickle)."""
        import json

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"targets": self.targets_, "features": self.features_,
                "settings": {"C": self.C, "max_iter": self.max_iter, "min_count": self.min_count}}
        with open(path, "wb") as fh:
            np.savez_compressed(fh, W=self.W_.astype(np.float16), b=self.b_,
                                meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), np.uint8))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "UDAdapter":
        import json

        with np.load(path) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            self = cls(**meta["settings"])
            self.W_ = z["W"].astype(np.float32)
            self.b_ = z["b"]
        self.targets_ = meta["targets"]
        self.features_ = meta["features"]
        self._index()
        return self


def apply_predictions(tokens: list[Token], pred: dict[str, list[str]], relemmatize=None) -> None:
    """Write predicted UPOS, features and relation labels onto the tokens."""
    feat_targets = [t for t in pred if t.startswith("feat:")]
    for i, tok in enumerate(tokens):
        old_pos = tok.pos_
        if "upos" in pred:
            tok.pos_ = pred["upos"][i]
        if feat_targets:
            feats = {k: v for k, v in tok.morph.to_dict().items() if f"feat:{k}" not in pred}
            for t in feat_targets:
                v = pred[t][i]
                if v != ABSENT:
                    feats[t[5:]] = v
            tok.set_morph("|".join(f"{k}={v}" for k, v in sorted(feats.items())) or None)
        if "dep" in pred and tok.head.i != tok.i:
            dep = pred["dep"][i]
            if dep != "root":
                tok.dep_ = dep
        if relemmatize is not None and tok.pos_ != old_pos:
            relemmatize(tok)


class UDAdapterComponent:
    """spaCy component: runs a saved `UDAdapter` over every token of a doc (after the tagger,
    lemmatizer and parser)."""

    def __init__(self, nlp: Language, name: str, model_path: str, pymorphy: bool):
        from pipeline.config import resolve_path

        self.name = name
        path = resolve_path(model_path)
        if not Path(path).exists():
            raise FileNotFoundError(f"UD adapter model {path} not found (configs/nlp_ru.toml [adapter] model); "
                                    "rebuild it with the command of [adapter] rebuild (make train-ru-adapter-syntagrus or "
                                    "make train-ru-adapter) or set [adapter] apply = false")
        self.adapter = UDAdapter.load(path)
        self.nlp = nlp
        self._pymorphy = pymorphy
        self._morph = None

    @property
    def morph_analyzer(self):
        if self._pymorphy and self._morph is None:
            lem = self.nlp.get_pipe("lemmatizer") if "lemmatizer" in self.nlp.pipe_names else None
            self._morph = getattr(lem, "_morph", None)  # share the lemmatizer's dictionaries
            if self._morph is None:
                import pymorphy3

                self._morph = pymorphy3.MorphAnalyzer(lang="ru")
        return self._morph

    def _relemmatizer(self):
        lem = self.nlp.get_pipe("lemmatizer") if "lemmatizer" in self.nlp.pipe_names else None
        fixes = self.nlp.get_pipe("polclaims_lemma_fixes") if "polclaims_lemma_fixes" in self.nlp.pipe_names else None
        if lem is None:
            return None

        def relemmatize(tok: Token) -> None:
            tok.lemma_ = lem.lemmatize(tok)[0]
            if fixes is not None:
                fixes.fix_token(tok)

        return relemmatize

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        relemmatize = self._relemmatizer()
        for doc in docs:
            toks = [t for t in doc if not t.is_space]
            if toks:
                X = [token_features(t, self.morph_analyzer) for t in toks]
                apply_predictions(toks, self.adapter.predict(X), relemmatize)
            yield doc


@Language.factory("polclaims_ud_adapter", assigns=["token.pos", "token.morph", "token.dep", "token.lemma"],
                  default_config={"model_path": "models/ru_adapter/adapter.npz", "pymorphy": True})
def make_ud_adapter(nlp: Language, name: str, model_path: str, pymorphy: bool) -> UDAdapterComponent:
    return UDAdapterComponent(nlp, name, model_path, pymorphy)
