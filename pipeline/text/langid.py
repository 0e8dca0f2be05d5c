"""Language identification for single sentences: "kk", "ru" or "other".

Why not an off-the-shelf identifier: the pages mix Kazakh and Russian, sentences are short, and
the obvious cue (Kazakh-specific letters ә ғ қ ң ө ұ ү һ і) is misleading both ways: Russian
sentences quote Kazakh names ("Қ.Тоқаев", «Нұр Отан»), and short Kazakh sentences often have
none of those letters ("Оған жол беруге болмайды" has one, "Ол келді" none). So evidence is
weighed per word:

* Kazakh-specific letters in an ordinary word count a lot, in a name-like word (capitalised
  inside the sentence, all-caps, after an initial) very little;
* frequent function words and word endings of each language (configs/lang/<lang>.toml,
  section [langid]) count moderately; endings also count on names ("Тоқаевтың" is Kazakh
  grammar, "Тоқаев" is not);
* words inside «...» quotes count less (names of bodies, laws, medals in the other language).

When that evidence is not decisive (margin in configs/segment.toml [langid]), a small character
n-gram Naive Bayes model (models/langid/, trained by `python -m pipeline.evaluation.langid --train`; see
its README) adds its log-odds; without the model the side with more evidence wins.
Rules alone reach 99.6% on 5+ word sentences but only 86% on 1-4 word ones (names, headings),
the combination 99.7% / 95% (see `python -m pipeline.evaluation.langid`).
Text without Cyrillic letters, or with more Latin than Cyrillic letters, is "other".
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline import config

LANGS = ("kk", "ru")

# Letters that scrapers and keyboards substitute for Kazakh ones inside Cyrillic words
# ("бөлiгi" with a Latin i, "ə" for "ә").
# Latin letters typed for Kazakh ones (one to one, so offsets stay): i/І, h/һ, the schwa and
# barred o of Latin-script Kazakh for ә/ө.
_LOOKALIKES = str.maketrans({"i": "і", "I": "І", "h": "һ", "ə": "ә", "Ə": "Ә", "ɵ": "ө", "Ɵ": "Ө"})

_WORD = re.compile(r"[^\W\d_]+(?:[-‐'’][^\W\d_]+)*")
_CYR = re.compile(r"[\u0400-\u04FF]")
_LAT = re.compile(r"[A-Za-z\u00C0-\u024F\u0259\u018F\u0275\u019F]")  # with ə Ə ɵ Ɵ (IPA block) of the map above
# opening/closing quote characters that bracket a quoted name
_OPEN_Q = "«„“"
_CLOSE_Q = "»“”"


@dataclass
class _Lexicon:
    letters: frozenset[str]
    function_words: frozenset[str]
    suffixes: frozenset[str]
    suffix_lengths: tuple[int, ...]  # longest first


@dataclass
class Evidence:
    """Why a sentence got its label: per-language scores and the words that counted."""

    kk: float = 0.0
    ru: float = 0.0
    notes: list[str] = field(default_factory=list)
    model_logodds: float | None = None  # log P(kk|x) - log P(ru|x) from the n-gram model
    label: str = "other"


@lru_cache(maxsize=None)
def _settings() -> dict[str, Any]:
    return config.load("segment")["langid"]


@lru_cache(maxsize=None)
def _lexicon(lang: str) -> _Lexicon:
    cfg = config.load(f"lang/{lang}")["langid"]
    suffixes = frozenset(s.lower() for s in cfg["suffixes"])
    return _Lexicon(
        letters=frozenset(cfg["specific_letters"].lower()),
        function_words=frozenset(w.lower() for w in cfg["function_words"]),
        suffixes=suffixes,
        suffix_lengths=tuple(sorted({len(x) for x in suffixes}, reverse=True)),
    )


def normalize_word(word: str) -> str:
    """Map Latin look-alikes inside a Cyrillic word to the Kazakh letters they stand for."""
    if _CYR.search(word) and _LAT.search(word):
        return word.translate(_LOOKALIKES)
    return word


def normalize_lookalikes(text: str) -> str:
    """The text with Latin look-alikes mapped inside Cyrillic words ("тиiс" -> "тиіс"). Letters
    map one to one, so every character offset of the result is the offset in `text`."""
    if not _LAT.search(text):
        return text
    return _WORD.sub(lambda m: normalize_word(m.group()), text)


def script_counts(text: str) -> tuple[int, int]:
    """(Cyrillic letters, Latin letters) after look-alike normalisation."""
    cyr = lat = 0
    for m in _WORD.finditer(text):
        w = normalize_word(m.group())
        cyr += len(_CYR.findall(w))
        lat += len(_LAT.findall(w))
    return cyr, lat


def _quoted_mask(text: str) -> list[bool]:
    """For each character: is it inside «...» (or typographic double quotes)?"""
    mask = [False] * len(text)
    depth = 0
    for i, ch in enumerate(text):
        if ch in _OPEN_Q and not (ch == "“" and depth > 0):
            depth += 1
        elif ch in _CLOSE_Q and depth > 0:
            depth -= 1
            mask[i] = True
            continue
        mask[i] = depth > 0
    return mask


def _suffix_match(word: str, lex: _Lexicon, min_stem: int) -> str | None:
    """The longest listed ending of `word` that leaves at least `min_stem` letters."""
    for n in lex.suffix_lengths:
        if len(word) - n >= min_stem and word[-n:] in lex.suffixes:
            return word[-n:]
    return None


def rule_evidence(text: str) -> Evidence:
    """Weighted rule evidence for kk and ru (no model)."""
    s = _settings()
    kk_lex, ru_lex = _lexicon("kk"), _lexicon("ru")
    ev = Evidence()
    quoted = _quoted_mask(text)
    min_stem = int(s["suffix_min_stem"])
    first = True
    for m in _WORD.finditer(text):
        raw = normalize_word(m.group())
        if not _CYR.search(raw):
            first = False
            continue
        low = raw.lower()
        prev = text[max(0, m.start() - 2): m.start()]
        after_initial = len(prev) == 2 and prev[1] == "." and prev[0].isupper()
        is_caps = len(raw) > 1 and raw.isupper()
        is_cap = raw[0].isupper() and not is_caps
        name_like = is_caps or after_initial or (is_cap and not first)
        first = False
        factor = s["quoted_factor"] if quoted[m.start()] else 1.0
        has_kk = any(c in kk_lex.letters for c in low)
        # Kazakh-specific letters
        if has_kk:
            w = s["letters_name"] if name_like else s["letters_word"]
            ev.kk += w * factor
            ev.notes.append(f"kk-letters:{raw}")
        elif not name_like and any(c in ru_lex.letters for c in low):
            ev.ru += s["ru_letters_word"] * factor
            ev.notes.append(f"ru-letters:{raw}")
        # function words (only as ordinary words: "Мен" at the start still counts; not
        # abbreviations such as "к." = көшесі or "а." = ауылы)
        abbrev = len(raw) <= 2 and text[m.end(): m.end() + 1] == "."
        if not (is_caps or after_initial or abbrev):
            for lang, lex in (("kk", kk_lex), ("ru", ru_lex)):
                if low in lex.function_words:
                    setattr(ev, lang, getattr(ev, lang) + s["function_word"] * factor)
                    ev.notes.append(f"{lang}-word:{raw}")
        # endings; a Russian ending on a word with Kazakh letters is a coincidence
        for lang, lex in (("kk", kk_lex), ("ru", ru_lex)):
            if lang == "ru" and has_kk:
                continue
            if low in lex.function_words:
                continue
            suf = _suffix_match(low, lex, min_stem)
            if suf:
                w = s["suffix_name"] if name_like else s["suffix"]
                setattr(ev, lang, getattr(ev, lang) + w * factor)
                ev.notes.append(f"{lang}-suffix:{raw}(-{suf})")
    return ev


# ---------------------------------------------------------------- character n-gram model


@dataclass
class NgramModel:
    """Multinomial Naive Bayes over character n-grams, stored as plain JSON (no pickle).

    Only the two-class log-odds are kept: `weights[g] = log P(g|kk) - log P(g|ru)` for each kept
    n-gram and `prior` = log P(kk) - log P(ru); n-grams outside the vocabulary are ignored, as
    scikit-learn's CountVectorizer does. Built by `train_model`.
    """

    ngram_range: tuple[int, int]
    prior: float
    weights: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    FORMAT = "polclaims-langid-nb/1"

    @classmethod
    def load(cls, path: Path) -> "NgramModel":
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != cls.FORMAT:
            raise ValueError(f"{path}: not a {cls.FORMAT} model")
        return cls(tuple(data["ngram_range"]), float(data["prior"]), data["weights"], data.get("meta", {}))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": self.FORMAT, "ngram_range": list(self.ngram_range), "prior": self.prior,
                "meta": self.meta, "weights": self.weights}
        path.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                        encoding="utf-8")

    def logodds(self, text: str) -> float:
        """log P(kk|text) - log P(ru|text) divided by sqrt(#n-grams), so that the model's
        (over-confident) sums stay on the scale of the rule evidence for long texts."""
        grams = char_ngrams(text, self.ngram_range)
        if not grams:
            return 0.0
        total = self.prior + sum(self.weights.get(g, 0.0) for g in grams)
        return total / math.sqrt(len(grams))


def train_model(texts: list[str], labels: list[str], ngram_range: tuple[int, int] = (1, 4),
                max_features: int = 20000, min_df: int = 2, alpha: float = 0.5,
                meta: dict[str, Any] | None = None) -> NgramModel:
    """Fit scikit-learn's MultinomialNB on character n-grams of kk/ru sentences."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB

    vec = CountVectorizer(analyzer=lambda t: char_ngrams(t, ngram_range), min_df=min_df,
                          max_features=max_features)
    x = vec.fit_transform(texts)
    nb = MultinomialNB(alpha=alpha).fit(x, labels)
    k, r = list(nb.classes_).index("kk"), list(nb.classes_).index("ru")
    diff = nb.feature_log_prob_[k] - nb.feature_log_prob_[r]
    weights = {g: round(float(diff[i]), 4) for g, i in vec.vocabulary_.items()}
    prior = float(nb.class_log_prior_[k] - nb.class_log_prior_[r])
    info = {"max_features": max_features, "min_df": min_df, "alpha": alpha,
            "n_train": {str(c): int(n) for c, n in zip(nb.classes_, nb.class_count_)}}
    info.update(meta or {})
    return NgramModel(tuple(ngram_range), round(prior, 4), weights, info)


def model_text(text: str) -> str:
    """What the n-gram model sees: Cyrillic words only (look-alikes normalised), so that numbers
    and URLs do not vote, and without words in «...» quotes when two or more others remain (a
    quoted Kazakh name of a law must not make a Russian sentence Kazakh)."""
    quoted = _quoted_mask(text)
    inside, outside = [], []
    for m in _WORD.finditer(text):
        w = normalize_word(m.group())
        if _CYR.search(w):
            (inside if quoted[m.start()] else outside).append(w)
    return " ".join(outside if len(outside) >= 2 else outside + inside)


def char_ngrams(text: str, ngram_range: tuple[int, int], lowercase: bool = True) -> list[str]:
    """Character n-grams of each word padded with spaces (like sklearn's 'char_wb')."""
    t = model_text(text)
    if lowercase:
        t = t.lower()
    lo, hi = ngram_range
    grams: list[str] = []
    for w in t.split():
        w = f" {w} "
        for n in range(lo, hi + 1):
            if n > len(w):
                break
            grams.extend(w[i: i + n] for i in range(len(w) - n + 1))
    return grams


_MODEL_OVERRIDE: list[NgramModel | None] = []


@lru_cache(maxsize=None)
def _shipped_model() -> NgramModel | None:
    path = config.resolve_path(_settings()["model_path"])
    if not path.exists():
        return None
    return NgramModel.load(path)


def _model() -> NgramModel | None:
    """The model in use: the shipped one, unless `model_override()` swapped in another."""
    if _MODEL_OVERRIDE:
        return _MODEL_OVERRIDE[-1]
    return _shipped_model()


class model_override:
    """Context manager that makes `identify` use `model` (or no model: None) for a while;
    the evaluation uses it for cross-validation."""

    def __init__(self, model: NgramModel | None):
        self.model = model

    def __enter__(self) -> NgramModel | None:
        _MODEL_OVERRIDE.append(self.model)
        return self.model

    def __exit__(self, *exc: object) -> None:
        _MODEL_OVERRIDE.pop()


# ---------------------------------------------------------------- public API


def explain(text: str, use_model: bool = True) -> Evidence:
    """The label of `text` with the evidence behind it (for debugging and evaluation)."""
    cyr, lat = script_counts(text)
    if cyr == 0 or lat > cyr:
        ev = Evidence(label="other")
        ev.notes.append(f"script: cyrillic={cyr} latin={lat}")
        return ev
    s = _settings()
    ev = rule_evidence(text)
    diff = ev.kk - ev.ru
    model = _model() if use_model else None
    if abs(diff) < s["margin"] and model is not None:
        ev.model_logodds = model.logodds(text)
        diff += s["model_weight"] * ev.model_logodds
    if diff > 0:
        ev.label = "kk"
    elif diff < 0:
        ev.label = "ru"
    else:
        ev.label = s["default_cyrillic"]
    return ev


def identify(text: str) -> str:
    """Return "kk", "ru" or "other" (no Cyrillic / mostly Latin / digits only / empty)."""
    return explain(text).label
