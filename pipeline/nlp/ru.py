"""Russian NLP: a real spaCy pipeline (spacy.blank("ru") + natasha's Slovnet models), offline.

Why this shape: downstream code works on spaCy `Doc`s whatever the language, and the Slovnet
models (morphology, syntax, NER) plus the navec embeddings ship inside the `natasha` wheel, so
the pipeline needs no download. Each job is a small registered component:

    tokenizer                 razdel (or spaCy's own), exact character offsets
    polclaims_razdel_senter   sentence starts from razdel.sentenize (+ blank lines)
    polclaims_slovnet_morph   token.pos_, token.morph (UD)
    lemmatizer                spaCy's RussianLemmatizer, pymorphy3 mode (uses the predicted POS)
    polclaims_lemma_fixes     UD lemma conventions (ё, PROPN case, punctuation)
    polclaims_pron_type       (optional) PronType/Poss/Reflex from a lexicon, Taiga-style
    polclaims_slovnet_syntax  token.head, token.dep_ (one root per sentence, always a tree)
    polclaims_ordinal_agreement  digit ordinals take Case/Gender/Number from their noun
    polclaims_slovnet_ner     doc.ents (PER/LOC/ORG)

Root words get dep_ "ROOT" (spaCy's convention, as in ru_core_news_*); pipeline/nlp/conllu.py
writes "root". Accuracy, speed and the choices behind the UD fixes: build/ru_notes.md.

Settings come from `configs/nlp_ru.toml`; `load_ru(cfg)` takes that dict (or reads the file).
"""
from __future__ import annotations

import importlib.resources
import logging
import re
import unicodedata
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import spacy
from spacy.attrs import DEP, HEAD
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch
from spacy.vocab import Vocab

log = logging.getLogger(__name__)

CONFIG_NAME = "nlp_ru"
NATASHA_PREFIX = "natasha:"
ROOT_LABEL = "ROOT"  # spaCy's convention (ru_core_news_* use it too); CoNLL-U writes "root"
SPACE_DEP = "dep"

DEFAULT_CONFIG: dict[str, Any] = {
    "spacy_package": "",
    "spacy_package_fallback": True,
    "tokenizer": "razdel",
    "components": ["senter", "morph", "lemmatizer", "syntax", "ner"],
    "batch_size": 64,
    "slovnet_batch_size": 64,
    "blas_threads": 1,
    "models": {
        "navec": "natasha:emb/navec_news_v1_1B_250K_300d_100q.tar",
        "morph": "natasha:model/slovnet_morph_news_v1.tar",
        "syntax": "natasha:model/slovnet_syntax_news_v1.tar",
        "ner": "natasha:model/slovnet_ner_news_v1.tar",
    },
    "senter": {"split_on_newline": False, "max_sentence_words": 200},
    "morph": {"ud_fixes": True, "ordinal_agreement": True, "pron_type": False},
    "syntax": {"decoder": "mst"},
    "lemmatizer": {"mode": "pymorphy3", "fixes": True},
}


# --------------------------------------------------------------------------------------------
# Configuration and model files
# --------------------------------------------------------------------------------------------


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """`configs/nlp_ru.toml` (or `cfg`) over the built-in defaults, so partial dicts work."""
    if cfg is None:
        from pipeline import config

        try:
            cfg = config.load(CONFIG_NAME)
        except FileNotFoundError:
            cfg = {}
    return _merge(DEFAULT_CONFIG, cfg)


def natasha_data_dir() -> Path:
    """The `data/` directory inside the installed natasha package (models + embeddings)."""
    try:
        return Path(str(importlib.resources.files("natasha") / "data"))
    except ModuleNotFoundError as exc:  # pragma: no cover - natasha is a hard dependency
        raise RuntimeError("the Russian pipeline needs the `natasha` package (pip install natasha)") from exc


def resolve_model_path(value: str) -> Path:
    """`natasha:<rel>` -> inside natasha's data dir; otherwise a project-relative/absolute path."""
    if value.startswith(NATASHA_PREFIX):
        path = natasha_data_dir() / value[len(NATASHA_PREFIX):]
    else:
        from pipeline.config import resolve_path

        path = resolve_path(value)
    if not path.is_file():
        raise FileNotFoundError(f"Russian pipeline model file not found: {path} (from config value {value!r})")
    return path


@lru_cache(maxsize=None)
def _navec(path: str):
    """Embeddings are shared by all three Slovnet models: load them once per process."""
    from navec import Navec

    return Navec.load(path)


@lru_cache(maxsize=None)
def _slovnet(kind: str, path: str, navec_path: str, batch_size: int):
    """Load a Slovnet model once per process (weights are read-only, safe to share)."""
    import slovnet

    cls = {"morph": slovnet.Morph, "syntax": slovnet.Syntax, "ner": slovnet.NER}[kind]
    return cls.load(path, batch_size=batch_size).navec(_navec(navec_path))


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


# Spans that must be one token although razdel splits them. These follow UD Russian
# tokenization (GSD, Taiga, SynTagRus agree): abbreviations and initials keep their period,
# web text keeps URLs, e-mails, hashtags, @mentions and ")))"-smileys whole.
_ABBREVIATIONS = (
    "т|д|п|е|к|н|э|г|гг|в|вв|с|ст|см|ср|др|пр|им|ул|пл|пер|просп|обл|р|пос|дер|оз|о|кв|корп|"
    "тыс|млн|млрд|трлн|руб|коп|долл|чел|мин|сек|ч|кг|км|тел|гос|пол|гр|рис|стр|гл|напр|ок|"
    "сокр|букв|реж|ум|род|англ|нем|фр|лат|греч|итал|исп|кит|япон|араб|акад|проф|доц|ред|изд|"
    "примеч|прим|т\\.е|т\\.к|т\\.п|т\\.д"
)
_PROTECTED = re.compile(
    r"(?:https?://|www\.)[^\s<>\"«»]*[^\s<>\"«».,;:!?)\]]"                      # URL
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"                                            # e-mail
    r"|(?<![\w@#])[#@]\w[\w-]*"                                                   # #tag, @user
    r"|(?:&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);)+"                                   # HTML entities
    r"|`{2,}|'{2,}|\){2,}|\({2,}"                                                   # `` '' ))) ((
    r"|(?<!\w)[А-ЯЁA-Z]\.(?=[^\S\n]?[А-ЯЁA-Z])"                                    # initials
    rf"|(?<![\w-])(?:{_ABBREVIATIONS})\.(?![\w-])",                                  # abbreviations
    re.IGNORECASE,
)
_NUMBER_RANGE = re.compile(r"\d+[-‐–—]\d+")  # "1904-1905" -> three tokens, as in UD


def razdel_spans(text: str) -> list[tuple[int, int]]:
    """Token character spans: razdel.tokenize, then the UD Russian conventions above."""
    from razdel import tokenize

    toks = [(t.start, t.stop) for t in tokenize(text)]
    out: list[tuple[int, int]] = []
    j = 0
    for m in _PROTECTED.finditer(text):
        a, b = m.span()
        while j < len(toks) and toks[j][1] <= a:
            out.append(toks[j])
            j += 1
        if j < len(toks) and toks[j][0] < a < toks[j][1] and _can_cut_before(text, a):
            out.append((toks[j][0], a))
        elif j < len(toks) and toks[j][0] < a:
            continue  # the match starts inside a token we must not cut: leave razdel's tokens
        while j < len(toks) and toks[j][0] < b:
            if toks[j][1] > b:
                toks[j] = (b, toks[j][1])
                break
            j += 1
        out.append((a, b))
    out.extend(toks[j:])
    spans = []
    for s, e in out:
        if _NUMBER_RANGE.fullmatch(text, s, e):
            cut = next(i for i in range(s, e) if not text[i].isdigit())
            spans.extend([(s, cut), (cut, cut + 1), (cut + 1, e)])
        else:
            spans.append((s, e))
    return spans


def _can_cut_before(text: str, a: int) -> bool:
    """A protected span may start inside a razdel token only after punctuation ("(#tag")."""
    return not text[a - 1].isalnum()


class RazdelTokenizer:
    """razdel.tokenize turned into a spaCy Doc that keeps the text exactly.

    Why: razdel (+ the UD rules in `razdel_spans`) matches UD Russian tokenization better than
    spaCy's Russian rules, and it is what the Slovnet models were trained on. spaCy stores at
    most one space after a token, so other whitespace becomes whitespace tokens, as spaCy's
    own tokenizer does; `doc.text == text` and every `token.idx` is exact.
    """

    def __init__(self, vocab: Vocab):
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        pos = 0
        for start, stop in razdel_spans(text):
            if start > pos:
                self._gap(text[pos:start], words, spaces)
            words.append(text[start:stop])
            spaces.append(False)
            pos = stop
        if pos < len(text):
            self._gap(text[pos:], words, spaces)
        return Doc(self.vocab, words=words, spaces=spaces)

    @staticmethod
    def _gap(gap: str, words: list[str], spaces: list[bool]) -> None:
        if words and not spaces[-1] and gap[0] == " " and not words[-1].isspace():
            spaces[-1] = True
            gap = gap[1:]
        if gap:
            words.append(gap)
            spaces.append(False)

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for text in texts:
            yield self(text)

    # spaCy calls these when saving/loading a pipeline; the tokenizer has no state.
    def to_bytes(self, **kwargs) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> "RazdelTokenizer":
        return self

    def to_disk(self, path, **kwargs) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)

    def from_disk(self, path, **kwargs) -> "RazdelTokenizer":
        return self


@spacy.registry.tokenizers("polclaims_razdel_tokenizer")
def create_razdel_tokenizer():
    def make(nlp: Language) -> RazdelTokenizer:
        return RazdelTokenizer(nlp.vocab)

    return make


# --------------------------------------------------------------------------------------------
# Helpers shared by the Slovnet components
# --------------------------------------------------------------------------------------------


def _sentences(doc: Doc) -> list[tuple[int, int]]:
    """(start, end) token ranges of the sentences; the whole doc when nothing split it."""
    if len(doc) == 0:
        return []
    if doc.has_annotation("SENT_START") or doc.has_annotation("DEP"):
        return [(s.start, s.end) for s in doc.sents]
    return [(0, len(doc))]


def _word_units(docs: list[Doc]) -> list[tuple[int, list[int]]]:
    """Per sentence: (doc index, token indices of its non-whitespace tokens) - Slovnet's input."""
    units = []
    for d, doc in enumerate(docs):
        for start, end in _sentences(doc):
            idx = [i for i in range(start, end) if not doc[i].is_space]
            if idx:
                units.append((d, idx))
    return units


_ABBREVIATION_TOKEN = re.compile(r"\w+\.")


def _model_text(text: str) -> str:
    """What Slovnet sees for a token: it was trained on razdel tokens, where "г." is "г" + ".",
    so abbreviations and initials we keep whole are shown without their period."""
    if len(text) > 1 and text[-1] == "." and _ABBREVIATION_TOKEN.fullmatch(text):
        return text[:-1]
    return text


def _length_sorted(units: list[tuple[int, list[int]]]) -> list[int]:
    """Order to feed sentences in: similar lengths share a batch, so little padding."""
    return sorted(range(len(units)), key=lambda k: len(units[k][1]))


@contextmanager
def _blas_threads(n: int):
    """Run Slovnet's numpy maths with at most `n` BLAS threads (0 = leave as is). Its matrices
    are small, so OpenBLAS threads cost more than they give: one thread was 3x faster here on
    a busy 2-core machine."""
    if n <= 0:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


class _SlovnetComponent:
    """Common `__call__`/`pipe`: gather every sentence of a batch of docs, run Slovnet once."""

    kind = ""
    blas_threads = 1

    def __init__(self, nlp: Language, name: str, model_path: str, navec_path: str, batch_size: int):
        self.name = name
        self.vocab = nlp.vocab
        self.model = _slovnet(self.kind, str(resolve_model_path(model_path)),
                              str(resolve_model_path(navec_path)), int(batch_size))
        self._tags_in: list[list[str]] = []

    def __call__(self, doc: Doc) -> Doc:
        self._process([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            self._process(batch)
            yield from batch

    def _process(self, docs: list[Doc]) -> None:
        units = _word_units(docs)
        if not units:
            return
        order = _length_sorted(units)
        items = [[_model_text(docs[units[k][0]][i].text) for i in units[k][1]] for k in order]
        self._tags_in = [[docs[units[k][0]][i].pos_ for i in units[k][1]] for k in order]
        with _blas_threads(self.blas_threads):
            for k, result in zip(order, self._predict(items)):
                d, idx = units[k]
                self._assign(docs[d], idx, result)
        self._tags_in = []

    def _predict(self, items: list[list[str]]) -> Iterable[Any]:
        """Slovnet output per item, in order; `self._tags_in` holds the items' UPOS (if any)."""
        raise NotImplementedError

    def _assign(self, doc: Doc, idx: list[int], result: Any) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# Sentence splitter
# --------------------------------------------------------------------------------------------


_ENTITY_END = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);\s*$")


class RazdelSenter:
    """Sentence starts from razdel.sentenize, which handles Russian abbreviations and quotes.

    razdel ignores line breaks, so text is first cut at blank lines (paragraphs) or, with
    `split_on_newline`, at every line break. A sentence starts at the first non-whitespace
    token at or after the start offset razdel reports.
    """

    def __init__(self, name: str, split_on_newline: bool, max_sentence_words: int = 200):
        self.name = name
        self.breaks = re.compile(r"\n" if split_on_newline else r"\n[^\S\n]*\n")
        self.max_words = max(int(max_sentence_words), 10)

    def sentence_starts(self, text: str) -> list[int]:
        from razdel import sentenize

        starts = []
        pos = 0
        for m in list(self.breaks.finditer(text)) + [None]:
            end = m.start() if m else len(text)
            chunk = text[pos:end]
            for k, sent in enumerate(sentenize(chunk)):
                # razdel reads the ";" of an HTML entity ("&#39;") as a sentence end
                if sent.text.strip() and (k == 0 or not _ENTITY_END.search(chunk, max(0, sent.start - 16), sent.start)):
                    starts.append(pos + sent.start)
            pos = m.end() if m else end
        return starts

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        starts = self.sentence_starts(doc.text)
        flags = [False] * len(doc)
        t = 0
        for offset in starts:
            while t < len(doc) and (doc[t].idx < offset or doc[t].is_space):
                t += 1
            if t < len(doc):
                flags[t] = True
        flags[0] = True
        self._cap_length(doc, flags)
        for token, flag in zip(doc, flags):
            token.is_sent_start = flag
        return doc

    def _cap_length(self, doc: Doc, flags: list[bool]) -> None:
        """Cut runaway "sentences" (unpunctuated verse, lists, chat logs) into pieces of at most
        `max_words` words, preferring a capitalised word after a lower-case one: the parser
        is quadratic in sentence length and useless on such spans anyway."""
        words = [t.i for t in doc if not t.is_space]
        count, last_cut, best = 0, 0, None
        for k, i in enumerate(words):
            if flags[i]:
                count, last_cut, best = 0, k, None
            count += 1
            if k > last_cut and doc[i].text[:1].isupper() and doc[words[k - 1]].text[:1].islower():
                best = k
            if count > self.max_words:
                cut = best if best is not None and best > last_cut else k
                flags[words[cut]] = True
                count, last_cut, best = k - cut + 1, cut, None

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("polclaims_razdel_senter", assigns=["token.is_sent_start"],
                  default_config={"split_on_newline": False, "max_sentence_words": 200})
def make_razdel_senter(nlp: Language, name: str, split_on_newline: bool,
                       max_sentence_words: int) -> RazdelSenter:
    return RazdelSenter(name, split_on_newline, max_sentence_words)


# --------------------------------------------------------------------------------------------
# Morphology
# --------------------------------------------------------------------------------------------

# Slovnet features outside UD Russian GSD/Taiga usage (Hyph) or with other spellings.
_DROP_FEATS = {"Hyph"}


def _ud_tag(pos: str, feats: dict[str, str], ud_fixes: bool) -> tuple[str, str]:
    """Slovnet (SynTagRus-style) tag -> (UPOS, FEATS string) following UD Russian conventions."""
    feats = dict(feats)
    if ud_fixes:
        for key in _DROP_FEATS:
            feats.pop(key, None)
        if pos == "NUM":
            feats.setdefault("NumType", "Card")  # UD Russian marks cardinals; Slovnet never does
    return pos, "|".join(f"{k}={v}" for k, v in sorted(feats.items()))


_URL_OR_TAG = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|#\w[\w-]*")
_MENTION = re.compile(r"@\w[\w-]*")
_SMILEY = re.compile(r"\){2,}|\({2,}|[:;=8][-^o]?[()DPpЗз3*]+")
_SYMBOL_CATEGORIES = {"So", "Sm", "Sc", "Sk", "Mn", "Me", "Cf"}


def _shape_tag(text: str) -> tuple[str, str] | None:
    """UPOS fixed by the token's shape, for web text Slovnet never saw (it tags these PUNCT):
    URLs, e-mails and #hashtags are X, @mentions PROPN, smileys, emoji and % are SYM (as in
    UD Russian Taiga/GSD)."""
    if len(text) > 1:
        if _URL_OR_TAG.fullmatch(text):
            return "X", ""
        if _MENTION.fullmatch(text):
            return "PROPN", ""
        if _SMILEY.fullmatch(text):
            return "SYM", ""
    cats = [unicodedata.category(c) for c in text]
    if text in ("%", "‰") or (all(c in _SYMBOL_CATEGORIES for c in cats)
                              and any(c in ("So", "Sc", "Sm") for c in cats)):
        return "SYM", ""
    return None


class SlovnetMorph(_SlovnetComponent):
    """UPOS + UD features from Slovnet's morphology tagger (one tag per word, whole sentence)."""

    kind = "morph"

    def __init__(self, nlp, name, model_path, navec_path, batch_size, ud_fixes):
        super().__init__(nlp, name, model_path, navec_path, batch_size)
        self.ud_fixes = ud_fixes
        self._tags: dict[str, tuple[str, str]] = {}

    def _predict(self, items):
        return self.model.map(items)

    def _convert(self, pos: str, feats: dict[str, str]) -> tuple[str, str]:
        key = pos + "|" + "|".join(f"{k}={v}" for k, v in feats.items())
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = _ud_tag(pos, feats, self.ud_fixes)
        return tag

    def _assign(self, doc, idx, markup):
        for i, mt in zip(idx, markup.tokens):
            token = doc[i]
            shape_tag = _shape_tag(token.text) if self.ud_fixes else None
            upos, feats = shape_tag or self._convert(mt.pos, mt.feats)
            token.pos_ = upos
            token.set_morph(feats or None)

    def _process(self, docs):
        super()._process(docs)
        for doc in docs:
            for token in doc:
                if token.is_space:
                    token.pos_ = "SPACE"


@Language.factory("polclaims_slovnet_morph", assigns=["token.pos", "token.morph"],
                  default_config={"model_path": DEFAULT_CONFIG["models"]["morph"],
                                  "navec_path": DEFAULT_CONFIG["models"]["navec"],
                                  "batch_size": 64, "ud_fixes": True})
def make_slovnet_morph(nlp: Language, name: str, model_path: str, navec_path: str,
                       batch_size: int, ud_fixes: bool) -> SlovnetMorph:
    return SlovnetMorph(nlp, name, model_path, navec_path, batch_size, ud_fixes)


# --------------------------------------------------------------------------------------------
# Lemmas
# --------------------------------------------------------------------------------------------


def _cache_lemmatizer(lemmatizer, max_entries: int) -> None:
    """Memoise spaCy's pymorphy3 lemmatizer on (form, POS, features): pymorphy parsing is the
    slowest step and running text repeats forms a lot. The cache is emptied when it holds
    `max_entries`: a long batch run meets ever new forms, and an unbounded (or very large) cache
    is memory that grows with the corpus."""
    inner = lemmatizer.lemmatize
    cache: dict[tuple[int, int, int], list[str]] = {}

    def lemmatize(token):
        key = (token.orth, token.pos, token.morph.key)
        out = cache.get(key)
        if out is None:
            if len(cache) >= max_entries:
                cache.clear()
            try:
                out = inner(token)
            except ValueError:  # pymorphy3 asks unicodedata.name() of letters that have none
                out = [token.text.lower()]
            cache[key] = out
        return out

    lemmatizer.lemmatize = lemmatize


# Lemmas of standard abbreviations (UD Russian lemmatises them as the full word).
_ABBREVIATION_LEMMAS = {
    "г": "год", "гг": "год", "в": "век", "вв": "век", "т": "так", "д": "далее", "п": "подобный",
    "тыс": "тысяча", "млн": "миллион", "млрд": "миллиард", "трлн": "триллион", "руб": "рубль",
    "коп": "копейка", "долл": "доллар", "чел": "человек", "др": "другой", "пр": "прочий",
    "ул": "улица", "обл": "область", "сокр": "сокращенно", "букв": "буквально", "напр": "например",
    "ок": "около", "англ": "английский", "нем": "немецкий", "лат": "латинский", "греч": "греческий",
    "км": "километр", "кг": "килограмм", "мин": "минута", "сек": "секунда", "ч": "час",
    "тел": "телефон", "гос": "государственный", "рис": "рисунок", "стр": "страница", "гл": "глава",
    "проф": "профессор", "акад": "академик", "изд": "издательство", "н": "наш", "э": "эра",
}
_ABBREVIATION_LEMMAS_BY_POS = {("см", "VERB"): "смотреть", ("см", "NOUN"): "сантиметр",
                               ("т", "PRON"): "то", ("е", "VERB"): "быть", ("е", "AUX"): "быть"}
_KEEP_FORM_POS = {"PUNCT", "SYM"}
_INVARIABLE_POS = {"ADP", "CCONJ", "SCONJ", "PART", "INTJ"}
_POSSESSIVE_DET = {"его", "ее", "их"}  # UD: the possessive determiner is its own lemma
_INFLECTING_POS = {"NOUN", "PROPN", "ADJ", "DET", "PRON", "NUM", "VERB", "AUX"}
# which pymorphy (OpenCorpora) parts of speech may stand for a UD UPOS
_OC_FOR_UPOS = {
    "NOUN": {"NOUN"}, "PROPN": {"NOUN"}, "ADJ": {"ADJF", "ADJS", "COMP", "PRTF", "PRTS", "NUMR"},
    "DET": {"ADJF", "NPRO"}, "PRON": {"NPRO", "ADJF", "NOUN"}, "NUM": {"NUMR", "ADJF"},
    "VERB": {"VERB", "INFN", "PRTF", "PRTS", "GRND"}, "AUX": {"VERB", "INFN", "PRTF", "PRTS", "GRND"},
}
_OC_FEATS = {"Case": {"nomn": "Nom", "gent": "Gen", "gen2": "Gen", "datv": "Dat", "accs": "Acc",
                      "ablt": "Ins", "loct": "Loc", "loc2": "Loc", "voct": "Voc"},
             "Number": {"sing": "Sing", "plur": "Plur"},
             "Gender": {"masc": "Masc", "femn": "Fem", "neut": "Neut"}}


class LemmaFixes:
    """UD Russian lemma conventions pymorphy/spaCy do not follow.

    - no ё in lemmas (GSD/Taiga write е);
    - proper nouns capitalised (acronyms upper-case); other lemmas lower-case;
    - punctuation, symbols, digits keep their form; prepositions, conjunctions, particles and
      interjections are their own (lower-cased) lemma ("во" stays "во");
    - possessive его/её/их are their own lemma;
    - where spaCy's lemmatizer gave up (no pymorphy analysis with exactly the predicted POS,
      so it returned the form, e.g. "которой", "было", "гнёзда"), take the known pymorphy
      analysis that best matches the predicted POS and Case/Number/Gender.
    """

    def __init__(self, name: str, morph_analyzer=None):
        self.name = name
        self._morph = morph_analyzer
        self._cache: dict[tuple[int, int, int], str | None] = {}

    @property
    def morph(self):
        if self._morph is None:
            from pymorphy3 import MorphAnalyzer

            self._morph = MorphAnalyzer(lang="ru")
        return self._morph

    def _fallback(self, token) -> str | None:
        key = (token.orth, token.pos, token.morph.key)
        if key in self._cache:
            return self._cache[key]
        allowed = _OC_FOR_UPOS.get(token.pos_, set())
        feats = token.morph.to_dict()
        best, best_score = None, 0
        for p in self.morph.parse(token.text):
            if not p.is_known or p.tag.POS not in allowed:
                continue
            score = 10
            for feat, table in _OC_FEATS.items():
                if feat in feats:
                    score += 1 if table.get(getattr(p.tag, feat.lower()) or "") == feats[feat] else 0
            if score > best_score:
                best, best_score = p.normal_form, score
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[key] = best
        return best

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            if not token.is_space:
                self.fix_token(token)
        return doc

    def fix_token(self, token) -> None:
        pos = token.pos_
        text = token.text
        lemma = token.lemma_
        lower = text.lower()
        if pos in _KEEP_FORM_POS or (pos == "NUM" and any(c.isdigit() for c in text)):
            new = text
        elif len(text) > 1 and text[-1] == "." and _ABBREVIATION_TOKEN.fullmatch(text):
            stem = text[:-1]
            if pos == "PROPN" and len(stem) == 1:
                new = stem  # initial: "А." -> "А"
            else:
                key = stem.lower()
                new = _ABBREVIATION_LEMMAS_BY_POS.get((key, pos)) or _ABBREVIATION_LEMMAS.get(key, text)
        elif pos in _INVARIABLE_POS:
            new = lower
        elif pos == "DET" and lower.replace("ё", "е") in _POSSESSIVE_DET:
            new = lower
        else:
            new = lemma.lower() if lemma else lower
            if new == lower and pos in _INFLECTING_POS and any("а" <= c <= "я" or c == "ё" for c in lower):
                new = self._fallback(token) or new
        if pos == "PROPN" and text[:1].isupper():
            # acronyms keep their case ("ООН"), names get a capital ("Москвы" -> "Москва")
            new = new.upper() if len(text) > 1 and text.isupper() else new[:1].upper() + new[1:]
        elif pos not in _KEEP_FORM_POS and text.isupper() and len(text) > 1 and text.isascii():
            new = text  # Latin acronyms and Roman numerals: "II", "SATA"
        new = new.replace("ё", "е").replace("Ё", "Е")
        if new != lemma:
            token.lemma_ = new

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("polclaims_lemma_fixes", assigns=["token.lemma"], requires=["token.lemma"])
def make_lemma_fixes(nlp: Language, name: str) -> LemmaFixes:
    lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
    return LemmaFixes(name, getattr(lemmatizer, "_morph", None))


# --------------------------------------------------------------------------------------------
# Syntax
# --------------------------------------------------------------------------------------------


def _find_cycle(heads: np.ndarray) -> list[int] | None:
    """One cycle of a head array (index 0 = artificial root), or None."""
    n = len(heads)
    state = np.zeros(n, dtype=np.int8)  # 0 new, 1 on the current path, 2 done
    state[0] = 2
    for start in range(1, n):
        if state[start]:
            continue
        path = []
        v = start
        while state[v] == 0:
            state[v] = 1
            path.append(v)
            v = heads[v]
        if state[v] == 1:
            return path[path.index(v):]
        for u in path:
            state[u] = 2
    return None


def _chu_liu_edmonds(scores: np.ndarray) -> np.ndarray:
    """Maximum spanning arborescence rooted at 0; scores[d, h] = score of head h for dependent d."""
    n = scores.shape[0]
    scores = scores.copy()
    np.fill_diagonal(scores, -np.inf)
    scores[0] = -np.inf
    scores[0, 0] = 0
    heads = scores.argmax(axis=1)
    cycle = _find_cycle(heads)
    if cycle is None:
        return heads
    in_cycle = np.zeros(n, dtype=bool)
    in_cycle[cycle] = True
    cyc = np.flatnonzero(in_cycle)
    rest = np.flatnonzero(~in_cycle)  # includes 0
    cycle_arc = scores[cyc, heads[cyc]]
    cycle_total = cycle_arc.sum()
    # contracted node c = len(rest): entering arcs (dep in cycle, head outside) and leaving arcs
    enter = scores[np.ix_(cyc, rest)] - cycle_arc[:, None] + cycle_total  # |cyc| x |rest|
    enter_best = enter.argmax(axis=0)                                      # per outside head
    leave = scores[np.ix_(rest, cyc)]                                      # |rest| x |cyc|
    leave_best = leave.argmax(axis=1)                                      # per outside dep
    m = len(rest)
    sub = np.full((m + 1, m + 1), -np.inf)
    sub[:m, :m] = scores[np.ix_(rest, rest)]
    sub[m, :m] = enter[enter_best, np.arange(m)]
    sub[:m, m] = leave[np.arange(m), leave_best]
    sub_heads = _chu_liu_edmonds(sub)
    new = heads.copy()
    for a in range(1, m):
        h = sub_heads[a]
        new[rest[a]] = cyc[leave_best[a]] if h == m else rest[h]
    h = sub_heads[m]  # head of the contracted node, an outside node
    entering_dep = cyc[enter_best[h]]
    new[entering_dep] = rest[h]
    return new


def mst_heads(log_probs: np.ndarray, max_root_tries: int = 5) -> np.ndarray:
    """Best tree with exactly one word attached to the root (Dozat & Manning's fix-up).

    log_probs: (n, n+1) head log-probabilities, column 0 = root. Returns heads[1..n] in 0..n.
    """
    n = log_probs.shape[0]
    scores = np.full((n + 1, n + 1), -np.inf)
    scores[1:, :] = log_probs
    heads = _chu_liu_edmonds(scores)
    roots = np.flatnonzero(heads[1:] == 0) + 1
    if len(roots) == 1:
        return heads[1:]
    # try the likeliest root words only (each try is a full decode; long texts would crawl)
    candidates = roots if len(roots) else np.arange(1, n + 1)
    keep = max_root_tries if n <= 100 else 1
    candidates = candidates[np.argsort(-scores[candidates, 0], kind="stable")[:keep]]
    best, best_score = heads, -np.inf
    for r in candidates:
        s = scores.copy()
        s[1:, 0] = -np.inf
        s[r, :] = -np.inf
        s[r, 0] = scores[r, 0]
        cand = _chu_liu_edmonds(s)
        total = s[np.arange(1, n + 1), cand[1:]].sum()
        if total > best_score:
            best, best_score = cand, total
    return best[1:]


def repair_tree(heads: list[int]) -> list[int]:
    """Make greedy heads (1-based, 0 = root) a tree: one root, no cycles (for decoder="greedy")."""
    heads = list(heads)
    roots = [i for i, h in enumerate(heads, 1) if h == 0]
    root = roots[0] if roots else 1
    for r in roots[1:]:
        heads[r - 1] = root
    heads[root - 1] = 0
    arr = np.array([0] + heads)
    while (cycle := _find_cycle(arr)) is not None:
        arr[cycle[0]] = root
    return arr[1:].tolist()


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


class SlovnetSyntax(_SlovnetComponent):
    """Heads and UD relations from Slovnet's biaffine parser.

    Slovnet decodes heads by per-word argmax, which can leave several roots or cycles (then
    spaCy would cut sentences apart and CoNLL-U would be invalid). With decoder="mst" we take
    its head scores and decode the best single-rooted tree, then label arcs with its relation
    classifier ("root" only for the root). Whitespace tokens hang off a neighbouring word.
    """

    kind = "syntax"

    def __init__(self, nlp, name, model_path, navec_path, batch_size, decoder):
        super().__init__(nlp, name, model_path, navec_path, batch_size)
        if decoder not in ("mst", "greedy"):
            raise ValueError(f"syntax decoder must be 'mst' or 'greedy', not {decoder!r}")
        self.decoder = decoder
        infer = self.model.infer
        self.rels = list(infer.decoder.rels_vocab.items)
        self.root_id = self.rels.index("root")
        self.punct_id = self.rels.index("punct")
        self.pad_id = infer.decoder.rels_vocab.pad_id if hasattr(infer.decoder.rels_vocab, "pad_id") else 0

    def _predict(self, items):
        infer = self.model.infer
        model = infer.model
        seen = 0
        for inp in infer.encoder(items):
            x = model.emb(inp.word_id, inp.shape_id)
            x = model.encoder(x, inp.pad_mask)
            head_scores = model.head(x)  # batch x seq x (seq + 1)
            lengths = (~inp.pad_mask).sum(-1)
            heads = np.zeros(inp.word_id.shape, dtype=np.int64)
            for b, n in enumerate(lengths):
                s = head_scores[b, :n, :n + 1].astype(np.float64)
                if self.decoder == "mst":
                    heads[b, :n] = mst_heads(_log_softmax(s))
                else:
                    heads[b, :n] = repair_tree(s.argmax(-1).tolist())
            rel_scores = model.rel(x, heads)  # batch x seq x rels
            rel_scores[..., self.pad_id] = -np.inf
            for b, n in enumerate(lengths):
                h = heads[b, :n]
                rs = rel_scores[b, :n].copy()
                is_root = h == 0
                rs[:, self.root_id] = -np.inf
                # UD: PUNCT words are always `punct`, other words never (hashtags, smileys...)
                upos = np.array(self._tags_in[seen + b]) if seen + b < len(self._tags_in) else None
                if upos is not None and len(upos) == n and upos[0]:
                    is_punct = upos == "PUNCT"
                    rs[np.ix_(is_punct, np.arange(rs.shape[1]) != self.punct_id)] = -np.inf
                    rs[~is_punct, self.punct_id] = -np.inf
                labels = rs.argmax(-1)
                labels[is_root] = self.root_id
                yield h, labels
            seen += len(lengths)

    def _assign(self, doc, idx, result):
        heads, rels = result
        doc_heads, labels = self._pending.setdefault(id(doc), ([-1] * len(doc), [""] * len(doc)))
        for k, i in enumerate(idx):
            h = int(heads[k])
            doc_heads[i] = i if h == 0 else idx[h - 1]
            labels[i] = ROOT_LABEL if h == 0 else self.rels[int(rels[k])]

    def _process(self, docs):
        self._pending: dict[int, tuple[list[int], list[str]]] = {}
        super()._process(docs)
        for doc in docs:
            if len(doc) == 0:
                continue
            heads, labels = self._pending.get(id(doc), ([-1] * len(doc), [""] * len(doc)))
            self._attach_spaces(doc, heads, labels)
            arr = np.zeros((len(doc), 2), dtype="uint64")
            arr[:, 0] = (np.array(heads, dtype="int64") - np.arange(len(doc))).astype("uint64")
            arr[:, 1] = [self.vocab.strings.add(lab) for lab in labels]
            doc.from_array([HEAD, DEP], arr)
        self._pending = {}

    @staticmethod
    def _attach_spaces(doc: Doc, heads: list[int], labels: list[str]) -> None:
        """Whitespace tokens (and anything Slovnet did not see) attach to the previous word of
        their sentence, or the next one at a sentence start, so sentences stay contiguous trees."""
        for start, end in _sentences(doc):
            words = [i for i in range(start, end) if heads[i] >= 0]
            for i in range(start, end):
                if heads[i] >= 0:
                    continue
                if not words:  # whitespace-only sentence: chain to its first token
                    heads[i] = start
                    labels[i] = ROOT_LABEL if i == start else SPACE_DEP
                    continue
                prev = [w for w in words if w < i]
                heads[i] = prev[-1] if prev else words[0]
                labels[i] = SPACE_DEP


@Language.factory("polclaims_slovnet_syntax", assigns=["token.head", "token.dep", "token.is_sent_start"],
                  default_config={"model_path": DEFAULT_CONFIG["models"]["syntax"],
                                  "navec_path": DEFAULT_CONFIG["models"]["navec"],
                                  "batch_size": 64, "decoder": "mst"})
def make_slovnet_syntax(nlp: Language, name: str, model_path: str, navec_path: str,
                        batch_size: int, decoder: str) -> SlovnetSyntax:
    return SlovnetSyntax(nlp, name, model_path, navec_path, batch_size, decoder)


def _lexicon(spec: str) -> dict[str, str]:
    return {w: value for value, words in (part.split(":") for part in spec.split(";")) for w in words.split()}


# PronType of Russian pronouns, pronominal determiners and adverbs by lemma (closed classes;
# UD guidelines, as annotated in UD Russian Taiga; GSD and Slovnet have no PronType).
# Ambiguous interrogative/relative words get the more frequent value, Rel.
_PRONTYPE = {
    "PRON": _lexicon("Prs:я ты он она оно мы вы они себя;Dem:это то;Tot:всё все многие;"
                     "Rel:что кто;Neg:никто ничто некого нечего;Rcp:друг;"
                     "Ind:что-то кто-то что-нибудь кто-нибудь что-либо кто-либо кое-что кое-кто нечто некто"),
    "DET": _lexicon("Dem:этот тот такой сей оный таков;Tot:весь каждый любой всякий другой многий прочий остальной;"
                    "Rel:который какой чей каков;Neg:никакой ничей;Emp:сам самый;"
                    "Ind:один какой-то какой-нибудь какой-либо некоторый некий кое-какой;"
                    "Prs:мой твой наш ваш свой его ее их"),
    "ADV": _lexicon("Dem:так там тут здесь поэтому теперь сейчас тогда потом потому тоже затем туда сюда "
                    "оттуда отсюда вон настолько также ныне;Rel:как где куда откуда когда почему зачем сколько;"
                    "Tot:всегда везде всюду иногда всячески более больше менее меньше наиболее;"
                    "Neg:никогда нигде никуда ниоткуда никак;Ind:когда-то как-то где-то куда-то когда-нибудь"),
}


class PronType:
    """Adds PronType (and Poss/Reflex on possessives) from a closed-class lexicon keyed on the
    predicted UPOS and lemma. Off by default: GSD-style data and Slovnet do not use it, Taiga
    and the UD guidelines do (`morph.pron_type` in configs/nlp_ru.toml)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            table = _PRONTYPE.get(token.pos_)
            value = table.get(token.lemma_.lower()) if table else None
            if value is None:
                continue
            feats = token.morph.to_dict()
            feats["PronType"] = value
            if token.pos_ == "DET" and value == "Prs":
                feats["Poss"] = "Yes"
            if token.lemma_ in ("себя", "свой"):
                feats["Reflex"] = "Yes"
            token.set_morph(feats)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("polclaims_pron_type", assigns=["token.morph"], requires=["token.pos", "token.lemma"])
def make_pron_type(nlp: Language, name: str) -> PronType:
    return PronType(name)


class OrdinalAgreement:
    """Ordinals written as digits ("в 2006 году", "XIX века") agree with their noun in Russian;
    UD Russian (GSD) gives them the noun's Case/Gender/Number, Slovnet gives them none. After
    parsing, copy them from the head noun (one job, needs both morph and syntax)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        if not doc.has_annotation("DEP"):
            return doc
        for token in doc:
            if token.pos_ != "ADJ" or not _ORDINAL_SHAPE.fullmatch(token.text) or token.morph.get("Case"):
                continue
            head = token.head
            if head.i == token.i or head.pos_ not in ("NOUN", "PROPN") or token.dep_ != "amod":
                continue
            hf = head.morph.to_dict()
            feats = {k: hf[k] for k in ("Case", "Number") if k in hf}
            if hf.get("Number") != "Plur" and "Gender" in hf:
                feats["Gender"] = hf["Gender"]
            if feats:
                feats.update(token.morph.to_dict())
                feats.setdefault("Degree", "Pos")
                token.set_morph(feats)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


_ORDINAL_SHAPE = re.compile(r"\d+(?:-\w{1,3})?|[IVXLCDM]+")


@Language.factory("polclaims_ordinal_agreement", assigns=["token.morph"], requires=["token.dep", "token.pos"])
def make_ordinal_agreement(nlp: Language, name: str) -> OrdinalAgreement:
    return OrdinalAgreement(name)


# --------------------------------------------------------------------------------------------
# Named entities
# --------------------------------------------------------------------------------------------


class SlovnetNER(_SlovnetComponent):
    """PER/LOC/ORG from Slovnet's CNN-CRF tagger, run on our own tokens (so entity spans
    align with the Doc) rather than on raw text as `slovnet.NER` does."""

    kind = "ner"

    def _predict(self, items):
        infer = self.model.infer
        return infer.decoder(infer.process(infer.encoder(items)))

    def _assign(self, doc, idx, tags):
        spans = self._pending.setdefault(id(doc), [])
        label, begin = None, 0
        for k, tag in enumerate(list(tags) + ["O"]):
            prefix, _, typ = tag.partition("-")
            if label is not None and (prefix != "I" or typ != label):
                spans.append(Span(doc, idx[begin], idx[k - 1] + 1, label=label))
                label = None
            if prefix in ("B", "I") and label is None:
                label, begin = typ, k

    def _process(self, docs):
        self._pending: dict[int, list[Span]] = {}
        super()._process(docs)
        for doc in docs:
            doc.set_ents(sorted(self._pending.get(id(doc), []), key=lambda s: s.start), default="outside")
        self._pending = {}


@Language.factory("polclaims_slovnet_ner", assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
                  default_config={"model_path": DEFAULT_CONFIG["models"]["ner"],
                                  "navec_path": DEFAULT_CONFIG["models"]["navec"],
                                  "batch_size": 64})
def make_slovnet_ner(nlp: Language, name: str, model_path: str, navec_path: str, batch_size: int) -> SlovnetNER:
    return SlovnetNER(nlp, name, model_path, navec_path, batch_size)


# --------------------------------------------------------------------------------------------
# Building the pipeline
# --------------------------------------------------------------------------------------------

KNOWN_COMPONENTS = ("senter", "morph", "lemmatizer", "syntax", "ner")


def _load_spacy_package(name: str, fallback: bool) -> Language | None:
    try:
        return spacy.load(name)
    except OSError as exc:
        msg = (f"spaCy package {name!r} (configs/{CONFIG_NAME}.toml: spacy_package) is not installed; "
               f"install it with `python -m spacy download {name}` or set spacy_package = \"\"")
        if not fallback:
            raise RuntimeError(msg) from exc
        warnings.warn(msg + "; using the bundled Slovnet pipeline instead", RuntimeWarning, stacklevel=3)
        log.warning("%s; using the bundled Slovnet pipeline instead", msg)
        return None


def load_ru(cfg: dict[str, Any] | None = None) -> Language:
    """Build the Russian spaCy pipeline described by `configs/nlp_ru.toml` (or `cfg`).

    Weights are loaded once per process and shared between pipelines; nothing is downloaded.
    """
    cfg = load_config(cfg)
    if cfg.get("spacy_package"):
        nlp = _load_spacy_package(cfg["spacy_package"], bool(cfg.get("spacy_package_fallback", True)))
        if nlp is not None:
            return nlp

    components = list(cfg["components"])
    unknown = [c for c in components if c not in KNOWN_COMPONENTS]
    if unknown:
        raise ValueError(f"unknown Russian pipeline component(s) {unknown}; known: {list(KNOWN_COMPONENTS)}")
    if "lemmatizer" in components and "morph" not in components:
        raise ValueError("the pymorphy3 lemmatizer needs the 'morph' component (it filters by POS)")

    tokenizer = cfg["tokenizer"]
    if tokenizer == "razdel":
        nlp = spacy.blank("ru", config={"nlp": {"tokenizer": {"@tokenizers": "polclaims_razdel_tokenizer"}}})
    elif tokenizer == "spacy":
        nlp = spacy.blank("ru")
    else:
        raise ValueError(f"tokenizer must be 'razdel' or 'spacy', not {tokenizer!r}")

    models = cfg["models"]
    sbs = int(cfg["slovnet_batch_size"])
    nlp.batch_size = int(cfg["batch_size"])
    for comp in components:
        if comp == "senter":
            nlp.add_pipe("polclaims_razdel_senter", config=dict(cfg["senter"]))
        elif comp == "morph":
            nlp.add_pipe("polclaims_slovnet_morph", config={
                "model_path": models["morph"], "navec_path": models["navec"], "batch_size": sbs,
                "ud_fixes": bool(cfg["morph"].get("ud_fixes", True))})
        elif comp == "lemmatizer":
            lem = nlp.add_pipe("lemmatizer", config={"mode": cfg["lemmatizer"].get("mode", "pymorphy3")})
            _cache_lemmatizer(lem, int(cfg["lemmatizer"].get("cache_size", 20_000)))
            if cfg["lemmatizer"].get("fixes", True):
                nlp.add_pipe("polclaims_lemma_fixes")
            if cfg["morph"].get("pron_type", False):
                nlp.add_pipe("polclaims_pron_type")
        elif comp == "syntax":
            nlp.add_pipe("polclaims_slovnet_syntax", config={
                "model_path": models["syntax"], "navec_path": models["navec"], "batch_size": sbs,
                "decoder": cfg["syntax"].get("decoder", "mst")})
            if "morph" in components and cfg["morph"].get("ordinal_agreement", True):
                nlp.add_pipe("polclaims_ordinal_agreement")
        elif comp == "ner":
            nlp.add_pipe("polclaims_slovnet_ner", config={
                "model_path": models["ner"], "navec_path": models["navec"], "batch_size": sbs})
    adapter = cfg.get("adapter", {})
    if adapter.get("apply", False):
        from pipeline.nlp import ud_adapter  # noqa: F401 - registers the factory

        nlp.add_pipe("polclaims_ud_adapter", config={"model_path": adapter["model"],
                                                     "pymorphy": bool(adapter.get("pymorphy", True))})
    for _, proc in nlp.pipeline:
        if isinstance(proc, _SlovnetComponent):
            proc.blas_threads = int(cfg.get("blas_threads", 1))
    nlp.initialize()
    return nlp
