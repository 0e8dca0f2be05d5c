"""Topic classifiers: one picklable scikit-learn Pipeline (TF-IDF of words and characters into a
linear model with probabilities), for any label set.

Why this shape: Kazakh and Russian share no vocabulary, so one model over both languages simply
learns two sets of features; character n-grams cover the many endings of Kazakh and Russian
stems without a lemmatizer, so prediction stays far below a millisecond per sentence and the
model can be retrained by a user in seconds on their own taxonomy.

A saved model is a folder: ``model.joblib`` (the Pipeline), ``card.json`` (labels, settings,
training data, cross-validation scores, and ``inputs``: the sha1 of every other file the Pipeline
reads when it predicts, e.g. the Kazakh -> Russian word table) and, written by ``train``,
``README.md`` and ``confusion.png``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from pipeline import config

_DIGITS = re.compile(r"\d+")
_CYR_I = re.compile(r"(?<=[\u0400-\u04FF])i|i(?=[\u0400-\u04FF])")


def normalize_text(text: str) -> str:
    """Lowercase, Latin look-alike letters inside Cyrillic words made Kazakh, numbers -> 0."""
    text = text.lower()
    text = _CYR_I.sub("і", text).replace("ə", "ә").replace("ɵ", "ө")
    return _DIGITS.sub("0", text)


def build_pipeline(settings: dict[str, Any] | None = None):
    """An unfitted Pipeline from the [features] and [classifier] settings of configs/topics.toml."""
    from sklearn.pipeline import Pipeline

    settings = settings or config.load("topics")
    feats = settings.get("features", {})
    if feats.get("kind", "tfidf") == "hashing":
        union = _hashed_features(feats)
    else:
        union = _tfidf_features(feats)
    return Pipeline([*union, ("clf", _classifier(settings.get("classifier", {})))])


def _hashed_features(feats: dict[str, Any]) -> list:
    """Hashed word and character n-grams (learn nothing, so cross-validation computes them once),
    then TF-IDF weights learnt on the training rows."""
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    from pipeline.topics.estimators import StatelessUnion

    n = 2 ** int(feats.get("hash_bits", 16))
    word = HashingVectorizer(preprocessor=normalize_text, analyzer="word", token_pattern=r"(?u)\b\w\w+\b",
                             ngram_range=tuple(feats.get("word_ngram", (1, 2))), n_features=n,
                             alternate_sign=False, norm=None, dtype=_float32())
    char = HashingVectorizer(preprocessor=normalize_text, analyzer="char_wb",
                             ngram_range=tuple(feats.get("char_ngram", (3, 6))), n_features=n,
                             alternate_sign=False, norm=None, dtype=_float32())
    vectors = feats.get("vectors") or {}
    if not vectors.get("path"):
        return [("hashed", StatelessUnion([("word", word), ("char", char)])),
                ("tfidf", TfidfTransformer(sublinear_tf=feats.get("sublinear_tf", True)))]
    from pipeline.topics.estimators import HeadTfidf, MeanWordVectors

    return [("hashed", StatelessUnion([("word", word), ("char", char),
                                       ("vectors", MeanWordVectors(vectors["path"], float(vectors.get("weight", 1.0)),
                                                                   float(vectors.get("min_coverage", 0.5)),
                                                                   vectors.get("lexicon", ""), int(vectors.get("prefix", 0)),
                                                                   float(vectors.get("lexicon_min_coverage", 0.5))))])),
            ("tfidf", HeadTfidf(2 * n, sublinear_tf=feats.get("sublinear_tf", True)))]


def _tfidf_features(feats: dict[str, Any]) -> list:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    word = TfidfVectorizer(preprocessor=normalize_text, analyzer="word",
                           token_pattern=r"(?u)\b\w\w+\b",
                           ngram_range=tuple(feats.get("word_ngram", (1, 2))),
                           min_df=feats.get("min_df", 2), max_features=feats.get("max_features_word"),
                           sublinear_tf=feats.get("sublinear_tf", True), dtype=_float32())
    char = TfidfVectorizer(preprocessor=normalize_text, analyzer="char_wb",
                           ngram_range=tuple(feats.get("char_ngram", (2, 5))),
                           min_df=feats.get("min_df", 2), max_features=feats.get("max_features_char"),
                           sublinear_tf=feats.get("sublinear_tf", True), dtype=_float32())
    return [("features", FeatureUnion([("word", word), ("char", char)]))]


def _classifier(clf_cfg: dict[str, Any]):
    from sklearn.linear_model import LogisticRegression

    kind = clf_cfg.get("kind", "logreg")
    class_weight = clf_cfg.get("class_weight") or None
    if class_weight == "sqrt_balanced":
        class_weight = None  # set per fit by SqrtBalanced below
    if kind == "logreg":
        clf = LogisticRegression(C=float(clf_cfg.get("C", 10.0)), class_weight=class_weight,
                                 max_iter=int(clf_cfg.get("max_iter", 2000)))
        if clf_cfg.get("class_weight") == "sqrt_balanced":
            from pipeline.topics.estimators import SqrtBalancedLogReg

            clf = SqrtBalancedLogReg(C=float(clf_cfg.get("C", 10.0)), max_iter=int(clf_cfg.get("max_iter", 2000)))
    elif kind == "sgd":
        from pipeline.topics.estimators import Float32SGD

        clf = Float32SGD(loss="log_loss", alpha=float(clf_cfg.get("alpha", 2e-5)), class_weight=class_weight,
                         max_iter=int(clf_cfg.get("epochs", 10)), tol=None,
                         random_state=int(clf_cfg.get("seed", 0)))
    elif kind == "svm":
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        clf = CalibratedClassifierCV(LinearSVC(C=float(clf_cfg.get("C", 1.0)), class_weight=class_weight),
                                     method="sigmoid", cv=3)
    else:
        raise ValueError(f"configs/topics.toml [classifier] kind must be 'logreg', 'sgd' or 'svm', not {kind!r}")
    return clf


def _float32():
    import numpy as np

    return np.float32


@dataclass
class TopicModel:
    """A fitted topic Pipeline and its card; `predict` gives the label and the top-k with scores."""

    pipeline: Any
    card: dict[str, Any]
    path: Path | None = None

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    @property
    def name(self) -> str:
        return str(self.card.get("name") or (self.path.name if self.path else "topics"))

    def predict_proba(self, texts: Sequence[str]):
        return self.pipeline.predict_proba(list(texts))

    def predict(self, texts: Sequence[str], top_k: int | None = None) -> list[tuple[str, list[dict]]]:
        """[(label, [{"label", "score"}, ...]), ...] with the top-k highest first."""
        if not texts:
            return []
        return self.top_k(self.predict_proba(texts), top_k)

    def top_k(self, proba, top_k: int | None = None) -> list[tuple[str, list[dict]]]:
        """Rows of class probabilities -> [(label, top-k [{"label", "score"}])]."""
        import numpy as np

        top_k = top_k or int(config.load("topics").get("top_k", 3))
        labels = self.labels
        out = []
        for row in proba:
            order = np.argsort(-row)[:top_k]
            tops = [{"label": labels[i], "score": round(float(row[i]), 4)} for i in order]
            out.append((tops[0]["label"], tops))
        return out

    def save(self, path: str | Path) -> Path:
        import joblib

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipeline, path / "model.joblib", compress=3)
        (path / "card.json").write_text(json.dumps(self.card, ensure_ascii=False, indent=2) + "\n",
                                        encoding="utf-8")
        self.path = path
        return path


class TopicModelError(Exception):
    pass


def input_files(settings: dict[str, Any]) -> list[str]:
    """The files of models/ (project-relative, as configured) that a Pipeline built from
    `settings` reads when it predicts, besides model.joblib: today the word translation table."""
    vectors = (settings.get("features") or {}).get("vectors") or {}
    return [vectors["lexicon"]] if vectors.get("lexicon") else []


def file_sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record_inputs(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """card.json's ``inputs``: each input file's sha1 and size when the model was fitted."""
    out = {}
    for name in input_files(settings):
        path = config.resolve_path(name)
        out[name] = {"sha1": file_sha1(path), "bytes": path.stat().st_size}
    return out


def check_inputs(card: dict[str, Any], model_file: Path) -> None:
    """A model reads its input files (the word table) lazily, at its first prediction; a table that
    is missing, cut short or replaced would then fail mid-run or, worse, silently change every
    topic. Check them when the model is loaded: each must be the file the model was fitted with."""
    for name, want in (card.get("inputs") or {}).items():
        path = config.resolve_path(name)
        rebuild = ("rebuild the table and the model with `make train-topics` "
                   "(or restore the file from a copy)")
        if not path.is_file():
            raise TopicModelError(f"{path}, read by the topic model {model_file}, is missing; {rebuild}")
        if path.stat().st_size != want.get("bytes", path.stat().st_size) or file_sha1(path) != want["sha1"]:
            raise TopicModelError(
                f"{path} is not the file the topic model {model_file} was trained with "
                f"({path.stat().st_size} bytes, expected {want.get('bytes')} with sha1 {want['sha1'][:10]}: "
                f"truncated, damaged or rebuilt since); {rebuild}")


def resolve_model_path(model: str | Path | None = None) -> Path:
    """--model, else $POLCLAIMS_TOPIC_MODEL, else configs/topics.toml `model` (project-relative)."""
    raw = model or os.environ.get("POLCLAIMS_TOPIC_MODEL")
    if raw:
        return Path(raw).expanduser().resolve()
    return config.resolve_path(config.load("topics").get("model", "models/topics"))


def load_model(model: str | Path | None = None) -> TopicModel:
    path = resolve_model_path(model)
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(path_str: str) -> TopicModel:
    import joblib

    path = Path(path_str)
    if not (path / "model.joblib").exists():
        raise TopicModelError(f"no topic model at {path} (expected {path / 'model.joblib'}; "
                              "train one with `polclaims train topics`)")
    card = {}
    if (path / "card.json").exists():
        card = json.loads((path / "card.json").read_text(encoding="utf-8"))
    try:
        model = TopicModel(joblib.load(path / "model.joblib"), card, path)
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: name it and the fix
        raise TopicModelError(f"{path / 'model.joblib'} is not a readable topic model ({type(exc).__name__}: "
                              f"{exc}); rebuild it with `make train-topics`") from None
    check_inputs(card, path / "model.joblib")
    return model
