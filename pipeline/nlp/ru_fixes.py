"""UD conventions the Slovnet and pymorphy output misses: lemma fixes, PronType from a lexicon, and
case, gender and number of digit ordinals from their noun."""
from __future__ import annotations

import logging
import re
from typing import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.nlp.ru_slovnet import _ABBREVIATION_TOKEN

log = logging.getLogger(__name__)

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
