"""Correct the Kazakh tagger's UPOS / XPOS / features (and lemmas) with what its treebank says.

Why: the Stanza tagger, trained on ~740 KTB sentences, gets words wrong that its training data
holds unambiguously (on the dev fold the training words' single analysis was right 431 times
where the tagger was right 417), and it hardly ever predicts some suffix-marked features of
unseen words (Voice=Pass "-ыл/-іл/-н", Polarity=Neg "-ма/-ме", Case). Two trained parts:

- a **lexicon** of the training words: a form with one analysis (UPOS + features) gets it, a
  form with several keeps the tagger's only if the treebank has it, and a form with one lemma
  gets that lemma (exact form first, then lower-cased);
- **suffix classifiers** (scikit-learn, one per configured feature): for words the lexicon does
  not know, re-predict that feature from the word's endings, UPOS and the part left after its
  lemma ("бөлінді" − "бөл" = "інді").

It runs inside the Stanza pipeline in two stages: the tags right after the tagger (the
lemmatizer then reads the corrected UPOS), lemmas and classifier features after the lemmatizer;
the parser reads the result. Settings: `[tag_corrector]` of `configs/train_kk.toml`; the file is
named in `configs/nlp_kk.toml`; built by `polclaims train kk --steps tag_corrector`.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

from pipeline.nlp.conllu import format_feats, parse_feats, word_rows

NONE = "None"  # class of "feature absent" in the suffix classifiers


class TaggedWord(NamedTuple):
    form: str
    lemma: str
    upos: str
    xpos: str
    feats: str  # "Case=Nom|Number=Sing" or "_"


def treebank_words(path: Path) -> list[TaggedWord]:
    """The syntactic words of a CoNLL-U file, all sentences in a row."""
    return [TaggedWord(*cols[1:6]) for sent in word_rows(path) for cols in sent]


def _remainder(form: str, lemma: str) -> str:
    """What the suffixes add to the lemma: "бөлінді"/"бөл" -> "інді"; "=" when form is the lemma."""
    f, lem = form.lower(), (lemma or "").lower()
    if f == lem:
        return "="
    if lem and f.startswith(lem):
        return f[len(lem):]
    return "?" + f[-4:]


class TagCorrector:
    """scikit-learn style: `fit(words)` on gold treebank words, `correct(words)` on predictions."""

    def __init__(self, features: Sequence[str] = ("Case", "Voice", "Polarity"), min_count: int = 1,
                 C: float = 1.0, max_suffix: int = 6):
        self.features = list(features)
        self.min_count = min_count
        self.C = C
        self.max_suffix = max_suffix

    # -- features of one word ---------------------------------------------------------------
    def _x(self, form: str, lemma: str, upos: str) -> dict[str, int]:
        f = form.lower()
        rem = _remainder(form, lemma)
        x = {"upos=" + upos: 1, "rem=" + rem: 1, "upos_rem=" + upos + "_" + rem: 1}
        for n in range(1, self.max_suffix + 1):
            x[f"suf{n}=" + f[-n:]] = 1
        for n in range(1, 5):
            x[f"rem{n}=" + rem[:n]] = 1
        return x

    def fit(self, words: Iterable[TaggedWord]) -> "TagCorrector":
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        words = list(words)
        self.lexicon_: dict[str, tuple[str, str, str]] = {}  # form -> its one analysis
        self.analyses_: dict[str, list[tuple[str, str, str]]] = {}  # form -> its analyses, most frequent first
        self.lemmas_: dict[str, str] = {}  # form -> its one lemma
        for key in (lambda w: w.form, lambda w: w.form.lower()):
            seen: dict[str, Counter] = defaultdict(Counter)
            xpos: dict[tuple, Counter] = defaultdict(Counter)
            lemmas: dict[str, Counter] = defaultdict(Counter)
            for w in words:
                seen[key(w)][(w.upos, w.feats)] += 1
                xpos[(key(w), w.upos, w.feats)][w.xpos] += 1
                lemmas[key(w)][w.lemma] += 1
            for form, counts in lemmas.items():
                if form not in self.lemmas_ and len(counts) == 1 and sum(counts.values()) >= self.min_count:
                    self.lemmas_[form] = next(iter(counts))
            for form, analyses in seen.items():
                if form in self.lexicon_ or form in self.analyses_:
                    continue
                ranked = [(u, xpos[(form, u, f)].most_common(1)[0][0], f) for (u, f), _ in analyses.most_common()]
                if len(ranked) > 1:
                    self.analyses_[form] = ranked
                elif analyses[(ranked[0][0], ranked[0][2])] >= self.min_count:
                    self.lexicon_[form] = ranked[0]
        X = [self._x(w.form, w.lemma, w.upos) for w in words]
        self.models_ = {}
        for name in self.features:
            y = [parse_feats(w.feats).get(name, NONE) for w in words]
            if len(set(y)) < 2:
                continue  # nothing to learn (the feature never or always occurs)
            self.models_[name] = make_pipeline(DictVectorizer(), LogisticRegression(C=self.C, max_iter=2000)).fit(X, y)
        return self

    def lookup(self, form: str) -> tuple[str, str, str] | None:
        """(UPOS, XPOS, feats) of a form the training data holds with one analysis."""
        entry = self._entry(form)
        return entry if isinstance(entry, tuple) else None

    def _entry(self, form: str) -> tuple[str, str, str] | list[tuple[str, str, str]] | None:
        """The form's one analysis (a tuple), its several analyses (a list), or None if unseen;
        the exact form first, then lower-cased."""
        for f in (form, form.lower()):
            if f in self.lexicon_:
                return self.lexicon_[f]
            if f in self.analyses_:
                return self.analyses_[f]
        return None

    def predict_features(self, words: Sequence[tuple[str, str, str]]) -> list[dict[str, str]]:
        """For (form, lemma, UPOS) triples: the configured features' predicted values (NONE = absent)."""
        if not words:
            return []
        X = [self._x(f, lem, u) for f, lem, u in words]
        out: list[dict[str, str]] = [{} for _ in words]
        for name, model in self.models_.items():
            for i, value in enumerate(model.predict(X)):
                out[i][name] = value
        return out

    def correct(self, words: Sequence, lexicon: bool = True, features: bool = True) -> int:
        """Correct objects with `.text`, `.lemma`, `.upos`, `.xpos`, `.feats` in place (Stanza
        words); returns how many changed. `lexicon`: the tags of known forms (the stage after the
        tagger); `features`: the lemma of known forms with one lemma and the classifiers'
        features of unseen ones (the stage after the lemmatizer)."""
        changed = 0
        unseen = []
        for w in words:
            entry = self._entry(w.text)
            if entry is None:
                unseen.append(w)
                continue
            if features:
                lemma = self.lemmas_.get(w.text, self.lemmas_.get(w.text.lower()))
                if lemma is not None and lemma != w.lemma:
                    w.lemma = lemma
                    changed += 1
            if not lexicon:
                continue
            if isinstance(entry, list):
                # a form with several analyses keeps the tagger's if the treebank has it, else
                # gets the treebank's most frequent one (of the tagger's UPOS if there is one)
                if (w.upos, w.feats or "_") in {(u, f) for u, _, f in entry}:
                    continue
                entry = next((a for a in entry if a[0] == w.upos), entry[0])
            upos, xpos, feats = entry
            feats = None if feats == "_" else feats
            if (w.upos, w.xpos, w.feats) != (upos, xpos, feats):
                w.upos, w.xpos, w.feats = upos, xpos, feats
                changed += 1
        if not features:
            return changed
        predicted = self.predict_features([(w.text, w.lemma or w.text, w.upos or "X") for w in unseen])
        for w, values in zip(unseen, predicted):
            feats = parse_feats(w.feats)
            for name, value in values.items():
                if value == NONE:
                    feats.pop(name, None)
                else:
                    feats[name] = value
            new = format_feats(feats)
            new = None if new == "_" else new
            if new != w.feats:
                w.feats = new
                changed += 1
        return changed

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        import joblib

        joblib.dump(self, path, compress=3)

    @staticmethod
    def load(path: Path) -> "TagCorrector":
        import joblib

        obj = joblib.load(path)
        if not isinstance(obj, TagCorrector):
            raise TypeError(f"{path} does not hold a TagCorrector")
        return obj


def _after(pipeline, name: str, fix) -> None:
    proc = pipeline.processors[name]
    inner = proc.process

    def process(doc):
        doc = inner(doc)
        fix([w for sent in doc.sentences for w in sent.words])  # one batch for the classifiers
        return doc

    proc.process = process  # Stanza's bulk_process calls self.process too


def attach(pipeline, corrector: TagCorrector) -> None:
    """Wire `corrector` into a Stanza pipeline: the lexicon right after the tagger (the
    lemmatizer then reads the corrected UPOS), the feature classifiers after the lemmatizer
    (they read the lemma); the parser, after both, reads the corrected tags."""
    if "lemma" in pipeline.processors:
        _after(pipeline, "pos", lambda words: corrector.correct(words, features=False))
        _after(pipeline, "lemma", lambda words: corrector.correct(words, lexicon=False))
    else:
        _after(pipeline, "pos", corrector.correct)
