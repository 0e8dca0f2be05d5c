"""Rule-based claim extraction over Universal Dependencies `Doc`s, for Kazakh and Russian alike.

The rules are written once against UD attributes (UPOS, features, lemmas, relations); what is
particular to a language — modal words, planning verbs, decision verbs, Kazakh suffixes,
actor lexicons — comes from `configs/claims/<lang>.toml`. Each rule says which claim type it
makes and how sure it is (`confidence`), so a learned model can re-score candidates later.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

from spacy.tokens import Doc, Token

from pipeline import config
from pipeline.io.records import Claim, Sentence
from pipeline.claims.quantities import QuantityConfig, find_quantities

PUNCT_EDGE = re.compile(r"^[\s,.;:!?«»\"'()\-–—]+|[\s,.;:!?«»\"'()\-–—]+$")


def trimmed_span(toks: Sequence[Token]) -> tuple[int, int] | None:
    """Character span of consecutive tokens without spaces and without punctuation at either end."""
    toks = [x for x in toks if not x.is_space]
    while toks and toks[-1].is_punct:
        toks.pop()
    while toks and toks[0].is_punct:
        toks.pop(0)
    if not toks:
        return None
    return toks[0].idx, toks[-1].idx + len(toks[-1].text)


@dataclass
class Candidate:
    type: str
    words: list[Token]
    main: Token  # the action verb: its lemma is the claim's lemma, its clause the claim's scope
    tense: str
    rule: str
    confidence: float
    polarity: str = "affirmative"
    anchor: Token | None = None  # the word whose subject/dative names the actor (modal, aux)
    extra_actor_heads: list[Token] = field(default_factory=list)
    other_actor: bool = False  # set by fill: the actor is a company, an author, an NGO


class _TokenMemo:
    """What the rules ask of a token again and again (its lowercased form, lemma and morphological
    features, whether it is a modal word), remembered for one doc: a spaCy token is a new Python object at each access, and
    `t._.form` and `t.morph` build further objects each time (candidates and features asked them
    tens of times per token: a fifth of the extraction time of `process`)."""
    __slots__ = ("doc", "text", "low", "lem", "feat", "modal")

    def __init__(self, doc: Doc):
        self.doc = doc          # held: identity checks below cannot meet a recycled id
        self.text: str | None = None   # doc.text (spaCy joins the tokens' texts at each access)
        self.low: dict[int, str] = {}
        self.lem: dict[int, str] = {}
        self.feat: dict[int, dict[str, str]] = {}
        self.modal: dict[tuple[str, int], bool] = {}   # ClaimExtractor.is_modal, per language's rules


_MEMO: _TokenMemo | None = None


class token_memo:
    """`with token_memo(doc):` within the block, `_low`, `_lem` and `_feat` of `doc`'s tokens are
    computed once each (the values are the same; tokens of other docs are not remembered)."""
    __slots__ = ("memo", "prev")

    def __init__(self, doc: Doc):
        self.memo = _TokenMemo(doc)
        self.prev = None

    def __enter__(self) -> None:
        global _MEMO
        self.prev = _MEMO
        if self.prev is None or self.prev.doc is not self.memo.doc:
            _MEMO = self.memo

    def __exit__(self, *exc) -> None:
        global _MEMO
        _MEMO = self.prev


def doc_text(doc: Doc) -> str:
    """`doc.text`, joined once per doc inside `token_memo(doc)`."""
    m = _MEMO
    if m is None or doc is not m.doc:
        return doc.text
    if m.text is None:
        m.text = doc.text
    return m.text


def _low_of(t: Token) -> str:
    return (t._.form or t.text).lower() if Token.has_extension("form") else t.text.lower()


def _low(t: Token) -> str:
    m = _MEMO
    if m is None or t.doc is not m.doc:
        return _low_of(t)
    v = m.low.get(t.i)
    if v is None:
        v = m.low[t.i] = _low_of(t)
    return v


def _lem(t: Token) -> str:
    m = _MEMO
    if m is None or t.doc is not m.doc:
        return t.lemma_.lower()
    v = m.lem.get(t.i)
    if v is None:
        v = m.lem[t.i] = t.lemma_.lower()
    return v


_HARMONY = str.maketrans("әеіүөгк", "ааыұоғқ")


def _harmonic_ending(word: str, n: int = 2) -> str:
    """Last letters with Kazakh vowel/consonant harmony folded: "жүруге" ~ "ұстауға"."""
    return word[-n:].translate(_HARMONY)


@lru_cache(maxsize=1 << 16)
def _parse_morph(morph: str) -> dict[str, str]:
    """{field: first value} of a morph string ("Animacy=Anim|Case=Gen,Nom" -> Case "Gen"): what
    `Token.morph.get(field)[0]` gives, for all fields at once (a parse has a few hundred distinct strings)."""
    out: dict[str, str] = {}
    if morph:
        for kv in morph.split("|"):
            k, _, v = kv.partition("=")
            out[k] = v.split(",", 1)[0]
    return out


def _feats(t: Token) -> dict[str, str]:
    """The token's morphological features, {field: first value} (not to be modified)."""
    m = _MEMO
    if m is None or t.doc is not m.doc:
        return _parse_morph(str(t.morph))
    v = m.feat.get(t.i)
    if v is None:
        v = m.feat[t.i] = _parse_morph(str(t.morph))
    return v


def _feat(t: Token, name: str) -> str | None:
    return _feats(t).get(name)


class LangRules:
    """The configuration of one language, compiled."""

    def __init__(self, lang: str, cfg: dict):
        self.lang = lang
        ob, cm, de = cfg.get("obligation", {}), cfg.get("commitment", {}), cfg.get("decision", {})
        low = lambda xs: {x.lower() for x in xs}  # noqa: E731
        self.modal_lemmas = low(ob.get("modal_lemmas", []))
        self.modal_forms = low(ob.get("modal_forms", []))
        self.negative_modals = low(ob.get("negative_modals", []))
        self.prohibitive_forms = low(ob.get("prohibitive_forms", []))
        self.appeal_lemmas = low(ob.get("appeal_lemmas", []))
        self.coordinators = low(ob.get("coordinators", ["и", ","]))
        self.remark_lemmas = low(ob.get("remark_lemmas", []))
        self.future_aux_forms = low(cm.get("future_aux_forms", []))
        self.future_participle = re.compile(cm["future_participle_regex"]) if cm.get("future_participle_regex") else None
        self.first_pl = re.compile(cm["first_person_plural_regex"]) if cm.get("first_person_plural_regex") else None
        self.first_pl_not = re.compile(cm["first_person_plural_not_regex"]) if cm.get("first_person_plural_not_regex") else None
        self.planning_lemmas = low(cm.get("planning_lemmas", []))
        self.planning_forms = low(cm.get("planning_forms", []))
        self.complementizers = low(cm.get("complementizers", []))
        self.enabling_lemmas = low(cm.get("enabling_lemmas", []))
        self.enabling_forms = low(cm.get("enabling_forms", []))
        self.first_pl_present = bool(cm.get("first_person_plural_present", False))
        self.perfective_future = bool(cm.get("perfective_future", False))
        self.aorist_commitment = bool(cm.get("aorist_commitment", False))
        self.aorist = re.compile(cm["aorist_regex"]) if cm.get("aorist_regex") else None
        self.passive_form = re.compile(cm["passive_regex"]) if cm.get("passive_regex") else None
        self.passive_aorist_commitment = bool(cm.get("passive_aorist_commitment", False))
        self.present_passive = low(cm.get("present_passive_lemmas", []))
        self.drop_other_actors = bool(cm.get("drop_other_actors", False))
        self.non_state = low(cm.get("non_state_actors", []))
        self.forecast = low(cm.get("forecast_lemmas", []))
        self.decision_lemmas = low(de.get("lemmas", []))
        self.past_form = re.compile(de["past_regex"]) if de.get("past_regex") else None
        self.performative = low(de.get("performative_lemmas", []))
        self.not_with_objects = low(de.get("not_with_objects", []))
        ex = cfg.get("exclude", {})
        self.exclude_lemmas = low(ex.get("lemmas", []))
        self.exclude_deprels = set(ex.get("deprels", []))
        self.reflexive_lemmas = low(ex.get("reflexive_lemmas", []))
        neg = cfg.get("negation", {})
        self.negation_words = low(neg.get("words", []))
        self.negative_verb = re.compile(neg["verb_regex"]) if neg.get("verb_regex") else None
        self.negation_before = low(neg.get("in_predicate_before", []))
        self.negation_after = low(neg.get("in_predicate_after", []))
        te = cfg.get("tense", {})
        self.present_as = te.get("present_as", "present")
        self.progressive = re.compile(te["progressive_regex"]) if te.get("progressive_regex") else None
        ac = cfg.get("actors", {})
        self.speaker = low(ac.get("speaker", []))
        self.government = low(ac.get("government", []))
        self.government_modifiers = low(ac.get("government_modifiers", []))
        self.society = low(ac.get("society", []))
        self.other_pronouns = low(ac.get("other_pronouns", []))
        self.quantities = QuantityConfig.from_dict(cfg.get("quantities", {}))
        self.quantity_attach = cfg.get("quantities", {}).get("attach", "left")
        lm = cfg.get("lemma", {})
        self.verbal_noun_re = re.compile(lm["verbal_noun_regex"]) if lm.get("verbal_noun_regex") else None
        self.passive_rewrites = [(re.compile(a), b) for a, b in lm.get("passive_rewrites", [])]
        self.participle = re.compile(lm["participle_regex"]) if lm.get("participle_regex") else None
        self.causative_suffixes = [x.lower() for x in lm.get("causative_suffixes", [])]


@lru_cache(maxsize=None)
def rules_for(lang: str) -> LangRules:
    return LangRules(lang, config.load(f"claims/{lang}"))


def kazakh_verbal_noun(stem: str, rules: "LangRules | None" = None) -> str:
    """KTB lemmas are verb stems ("бер", "ойла", "оқы"); claims cite the verbal noun ("беру").
    A lemma that is already a verbal noun with endings ("қабылдауымыз") is cut back to "-у";
    passive stems are rewritten to the active verb by the config's rules."""
    stem = stem.lower()
    m = rules.verbal_noun_re.match(stem) if rules is not None and rules.verbal_noun_re else None
    if m:
        noun = m.group(1)
    elif not stem or stem.endswith("у"):
        noun = stem
    elif stem[-1] in "ыі":
        noun = stem[:-1] + "у"
    elif stem.endswith("и"):
        noun = stem + "ю"
    else:
        noun = stem + "у"
    for pat, repl in (rules.passive_rewrites if rules is not None else []):
        noun = pat.sub(repl, noun)
    return noun


class ClaimExtractor:
    """Finds claim candidates in a parsed sentence and fills every field of the guideline."""

    def __init__(self, lang: str):
        self.lang = lang
        self.r = rules_for(lang)

    # ---- predicates -------------------------------------------------------------------
    def is_modal(self, t: Token) -> bool:
        m = _MEMO
        if m is None or t.doc is not m.doc:
            return self._is_modal(t)
        key = (self.lang, t.i)
        v = m.modal.get(key)
        if v is None:
            v = m.modal[key] = self._is_modal(t)
        return v

    def _is_modal(self, t: Token) -> bool:
        low, lem = _low(t), _lem(t)
        if t.dep_ in ("amod", "acl") and t.pos_ == "ADJ" and low not in self.r.modal_forms:
            return False  # "необходимые меры" describes, it does not oblige
        if lem in self.r.modal_lemmas and (lem not in ("следовать",) or low in self.r.modal_forms):
            return t.pos_ in ("ADJ", "ADV", "VERB", "AUX", "NOUN", "PRON", "PART") or low in self.r.modal_forms
        return low in self.r.modal_forms

    def kk_stem(self, t: Token) -> str:
        """A two-word lemma with the previous word ("атап өт") for multiword exclusions."""
        prev = t.doc[t.i - 1] if t.i > 0 else None
        return f"{_low(prev)} {_lem(t)}" if prev is not None else _lem(t)

    def verb_like(self, t: Token) -> bool:
        if t.pos_ in ("VERB", "AUX"):
            return True
        # Kazakh verbal nouns ("енгізу", "қабылдауымыз", "ұстауға") are often tagged NOUN
        return self.lang == "kk" and t.pos_ == "NOUN" and bool(re.search(r"(у|уы|уі|уға|уге|уын|уін|уымыз|уіміз|уда|уде)$", _low(t)))

    def complement(self, t: Token) -> Token | None:
        """The action verb of a modal/planning word: its clausal child, else its head, else nearby.
        In Kazakh the verbal noun stands right before the modal ("енгізу қажет",
        "соқтырмауы тиіс"); that adjacency beats a parse that makes a noun-like subject the head."""
        if self.lang == "kk" and t.i > t.sent.start:
            prev = t.doc[t.i - 1]
            if self.verb_like(prev) and not self.is_modal(prev) and prev.pos_ != "AUX":
                return prev
        for c in t.children:
            if c.dep_ in ("xcomp", "csubj", "ccomp", "nsubj", "obj", "obl") and self.verb_like(c) and not self.is_modal(c) \
                    and _lem(c) not in ("быть", "бол", "е"):
                return c
        if t.dep_ in ("aux", "aux:pass", "advmod", "cop", "parataxis") and self.verb_like(t.head) and t.head.i != t.i:
            return t.head
        # nearby fallback: Kazakh puts the verb before the modal, Russian after
        rng = range(t.i - 1, max(t.sent.start, t.i - 4) - 1, -1) if self.lang == "kk" else range(t.i + 1, min(t.sent.end, t.i + 5))
        for j in rng:
            c = t.doc[j]
            if c.is_punct:
                break
            if self.verb_like(c) and not self.is_modal(c) and c.pos_ != "AUX":
                return c
        return None

    def negated(self, *tokens: Token) -> bool:
        for t in tokens:
            if t is None:
                continue
            for c in t.children:
                # a negated particle or auxiliary ("не", "емес") negates t; a negated verb of its
                # own ("жол бермеу үшін ... керек": in order not to allow) does not
                if _low(c) in self.r.negation_words or (
                        _feat(c, "Polarity") == "Neg" and c.pos_ not in ("VERB", "NOUN", "ADJ", "PROPN")):
                    return True
            prev = t.doc[t.i - 1] if t.i > t.sent.start else None
            if prev is not None and _low(prev) in self.r.negation_words and _low(prev) != "нет":
                return True
            if _feat(t, "Polarity") == "Neg" and t.pos_ in ("VERB", "AUX"):
                return True
            if self.r.negative_verb and self.r.negative_verb.search(_low(t)) and self.lang == "kk":
                return True
        return False

    def excluded(self, t: Token) -> bool:
        return _lem(t) in self.r.exclude_lemmas or t.dep_ in self.r.exclude_deprels

    def candidates(self, doc: Doc) -> list[Candidate]:
        r = self.r
        used: set[int] = set()
        out: list[Candidate] = []
        toks = [t for t in doc if not t.is_space]

        def add(c: Candidate) -> None:
            if any(w.i in used for w in c.words):
                return
            out.append(c)
            used.update(w.i for w in c.words)

        # 1. obligations: modal + action verb ("необходимо принять", "қабылдауымыз қажет")
        for t in toks:
            if self.is_modal(t):
                comp = self.complement(t)
                if comp is None or _lem(comp) in r.remark_lemmas or self.kk_stem(comp) in r.remark_lemmas:
                    continue  # "следует отметить", "атап өтуіміз керек": remarks, not obligations
                neg = _lem(t) in r.negative_modals or _low(t) in r.negative_modals or self.negated(t, comp)
                tense = "past" if any(_lem(c) == "быть" and _feat(c, "Tense") == "Past" for c in t.children) else "present"
                add(Candidate("obligation", [t, comp], comp, tense, "modal", 0.9,
                              "negative" if neg else "affirmative", anchor=t))
                # coordinated actions under the same modal are claims of their own; Kazakh
                # parses often hang the first conjunct on the modal (advcl) in the same case
                siblings = [c for c in t.children if c.i < comp.i and c.dep_ in ("conj", "advcl")
                            and self.verb_like(c) and _feat(c, "Case") is not None
                            and _feat(c, "Case") == _feat(comp, "Case")
                            and any(_low(x) in r.coordinators for x in doc[c.i + 1:comp.i])
                            and _harmonic_ending(_low(c)) == _harmonic_ending(_low(comp))]
                sib_ids = {c.i for c in siblings}
                for c in list(comp.children) + siblings:
                    if (c.dep_ == "conj" or c.i in sib_ids) and self.verb_like(c) and c.i not in used:
                        add(Candidate("obligation", [c], c, tense, "modal-conj", 0.8,
                                      "negative" if self.negated(c) else "affirmative", anchor=t))
            elif _low(t) in r.prohibitive_forms:
                comp = self.complement(t)
                if comp is not None:
                    add(Candidate("obligation", [comp, t], comp, "present", "prohibitive", 0.85, "negative", anchor=t))
            elif _lem(t) in r.appeal_lemmas and _feat(t, "Person") == "1":
                comp = self.complement(t)
                if comp is not None:
                    add(Candidate("obligation", [comp, t], comp, "present", "appeal", 0.7, anchor=t))

        # 2. analytic future: "будет избрано", "сайланатын болады"
        for t in toks:
            low = _low(t)
            if low not in r.future_aux_forms or t.i in used:
                continue
            if r.future_participle is not None:  # Kazakh: participle + болады
                prev = [p for p in toks if p.i < t.i and not p.is_punct][-1:] if t.i > 0 else []
                if prev and r.future_participle.search(_low(prev[0])) and prev[0].pos_ in ("VERB", "AUX", "ADJ", "NOUN"):
                    add(Candidate("commitment", [prev[0], t], prev[0], "future", "future-participle", 0.9,
                                  "negative" if self.negated(prev[0], t) else "affirmative", anchor=t))
                continue
            if t.dep_ == "cop":
                continue
            main = t.head if t.dep_ in ("aux", "aux:pass") and t.head.i != t.i else self.complement(t)
            if main is None or not self.verb_like(main) or main.dep_ in r.exclude_deprels \
                    or _lem(main) in r.exclude_lemmas:
                continue
            if _lem(main) in r.forecast:
                continue
            add(Candidate("commitment", [t, main], main, "future", "future-aux", 0.9,
                          "negative" if self.negated(t, main) else "affirmative", anchor=t))

        # 3. planning words: "планируется строительство", "жоспарлануда"
        for t in toks:
            if t.i in used:
                continue
            if (_lem(t) in r.planning_lemmas or _low(t) in r.planning_forms) and t.dep_ not in r.exclude_deprels \
                    and not (_feat(t, "VerbForm") == "Part" and _feat(t, "Variant") != "Short" and self.lang == "ru"):
                comp = self.complement(t)
                if comp is not None and comp.dep_ == "ccomp" and comp.head.i == t.i:
                    continue  # "Предполагается, что Совет будет регулировать": the clause carries the claim
                if t.i > 0 and _low(doc[t.i - 1]) in r.complementizers:
                    continue  # "... реттейтін болады деп көзделуде": likewise
                words = [t] + ([comp] if comp is not None and comp.i not in used else [])
                main = comp if comp is not None and comp.pos_ == "VERB" else t
                add(Candidate("commitment", words, main, "present", "planning", 0.85,
                              "negative" if self.negated(t) else "affirmative", anchor=t))
                if comp is not None:
                    for c in comp.children:
                        if c.dep_ == "conj" and c.pos_ == "VERB" and c.i not in used:
                            add(Candidate("commitment", [c], c, "present", "planning-conj", 0.75, anchor=t))

        # 4. decisions: past tense of a decision verb, or a performative ("поручаю")
        for t in toks:
            if t.i in used or t.pos_ not in ("VERB", "AUX", "ADJ") or t.dep_ in ("amod", "acl", "acl:relcl"):
                continue
            lem = _lem(t)
            prev = doc[t.i - 1] if t.i > 0 else None
            pair = f"{_lem(prev)} {lem}" if prev is not None else lem
            in_lex = lem in r.decision_lemmas or pair in r.decision_lemmas
            if " " not in lem and lem in {x.split()[-1] for x in r.decision_lemmas if " " in x} and lem not in r.decision_lemmas:
                in_lex = pair in r.decision_lemmas
            if not in_lex and lem not in r.performative:
                continue
            tense_f = _feat(t, "Tense")
            past = tense_f == "Past" or (r.past_form is not None and bool(r.past_form.search(_low(t)))
                                         and not (r.aorist is not None and r.aorist.search(_low(t))))
            if self.lang == "kk" and r.participle is not None and r.participle.search(_low(t)) and t.dep_.lower() != "root":
                continue  # "университеті бекіткен сыйлық": a participle describes, it does not decide
            if t.pos_ == "ADJ" and not (_feat(t, "Variant") == "Short" or _feat(t, "VerbForm") == "Part"):
                continue
            if any(_lem(c) in r.not_with_objects for c in t.children if c.dep_ in ("obj", "nsubj:pass", "nsubj")):
                continue
            if in_lex and past and _feat(t, "VerbForm") not in ("Inf", "Conv", "Ger"):
                words = [prev, t] if pair in r.decision_lemmas and prev is not None and " " in pair else [t]
                add(Candidate("decision", words, t, "past", "decision", 0.8,
                              "negative" if self.negated(t) else "affirmative"))
            elif lem in r.performative and _feat(t, "Person") == "1" and _feat(t, "Number") == "Sing" \
                    and _feat(t, "Tense") in ("Pres", None) and _feat(t, "VerbForm") == "Fin":
                add(Candidate("decision", [t], t, "present", "performative", 0.8))

        # 5a. Kazakh enabling: dative verbal noun + "мүмкіндік" + aorist ("арттыруға мүмкіндік жасайды")
        for t in toks:
            if t.i in used or _low(t) not in r.enabling_forms or t.i == 0 or t.i + 1 >= len(doc):
                continue
            prev, nxt = doc[t.i - 1], doc[t.i + 1]
            if self.verb_like(prev) and nxt.pos_ in ("VERB", "AUX") and r.aorist is not None and r.aorist.search(_low(nxt)):
                add(Candidate("commitment", [prev, t, nxt], prev, "future", "enabling", 0.7,
                              "negative" if self.negated(nxt) else "affirmative", anchor=nxt))

        # 5. enabling verbs with an action: "позволит повысить"
        for t in toks:
            if t.i in used or _lem(t) not in r.enabling_lemmas or t.pos_ != "VERB":
                continue
            comp = next((c for c in t.children if c.dep_ == "xcomp" and c.pos_ == "VERB"), None)
            if comp is not None and _feat(t, "Tense") != "Past":
                add(Candidate("commitment", [t, comp], comp, "future", "enabling", 0.75,
                              "negative" if self.negated(t) else "affirmative", anchor=t))

        # 6a. present passive of policy actions: "выделяется 5,5 млрд тенге"
        for t in toks:
            if t.i in used or _lem(t) not in r.present_passive or t.dep_ in ("amod", "acl", "acl:relcl"):
                continue
            if _feat(t, "Tense") == "Pres" and _feat(t, "Person") in ("3", None):
                add(Candidate("commitment", [t], t, "present", "present-passive", 0.7,
                              "negative" if self.negated(t) else "affirmative"))

        # 6. finite verbs that promise by their form
        for t in toks:
            # Kazakh progressive + 1st plural ("қамтудамыз") is a verb even when tagged NOUN
            kk_progressive = (self.lang == "kk" and r.progressive is not None and r.first_pl is not None
                              and bool(r.progressive.search(_low(t))) and bool(r.first_pl.search(_low(t))))
            if t.i in used or (t.pos_ != "VERB" and not kk_progressive) or self.excluded(t) or t.is_punct:
                continue
            if _feat(t, "VerbForm") not in ("Fin", None) or _feat(t, "Mood") in ("Imp", "Cnd"):
                continue
            person, number, tense, aspect = (_feat(t, k) for k in ("Person", "Number", "Tense", "Aspect"))
            low = _low(t)
            kk_first_pl = self.lang == "kk" and r.first_pl is not None and bool(r.first_pl.search(low)) \
                and not (r.first_pl_not is not None and r.first_pl_not.search(low))
            if tense == "Past" or (person == "2" and not kk_first_pl):
                continue  # past facts; addresses to the reader ("звоните") are no commitments
            neg = "negative" if self.negated(t) else "affirmative"
            if r.first_pl_present and ((person == "1" and number == "Plur" and tense in ("Pres", "Fut", None))
                                       or kk_first_pl):
                if self.lang == "ru" and aspect == "Perf":
                    add(Candidate("commitment", [t], t, "future", "perfective-future", 0.85, neg))
                else:
                    tns = r.present_as
                    if r.progressive is not None and r.progressive.search(low):
                        tns = "present"
                    add(Candidate("commitment", [t], t, tns, "first-plural", 0.8, neg))
                continue
            if r.perfective_future and aspect == "Perf" and tense in ("Fut", "Pres") and person in ("1", "3"):
                add(Candidate("commitment", [t], t, "future", "perfective-future", 0.65, neg))
                continue
            if r.aorist_commitment and r.aorist is not None and r.aorist.search(low) and person in ("3", None) \
                    and t.dep_.lower() in ("root", "conj", "parataxis"):
                if _feat(t, "Voice") == "Pass" or (r.passive_form is not None and r.passive_form.search(low)):
                    if r.passive_aorist_commitment:
                        add(Candidate("commitment", [t], t, "future", "aorist-passive", 0.6, neg))
                    continue
                heads_ = [t] + ([t.head] if t.dep_ == "conj" else [])
                subj = next((c for h in heads_ for c in h.children if c.dep_ == "nsubj"), None)
                if subj is not None and (subj.pos_ == "PRON" or self.actor_kind(subj) in ("government", "speaker")):
                    add(Candidate("commitment", [t], t, "future", "aorist", 0.5, neg))
        return out

    # ---- fields ---------------------------------------------------------------------------
    def lemma(self, t: Token, has_agent: bool = True) -> str:
        """The action verb's dictionary form; a reflexive used as a passive cites the active
        verb ("планируется" -> "планировать", "будут вестись" -> "вести")."""
        lem = (t.lemma_ or t.text).lower()
        if self.lang == "kk":
            form = _low(t)
            if self.r.participle is not None and self.r.participle.search(form) and t.pos_ in ("VERB", "AUX", "ADJ", "NOUN"):
                lem = self.r.participle.sub("", form)  # the lemmatizer often keeps participle endings
            elif self.r.verbal_noun_re is not None and self.r.verbal_noun_re.match(form) and self.verb_like(t):
                lem = form  # a verbal noun cites itself ("арттыруға" -> "арттыру"), not the bare root
            else:
                lem = self.causative_stem(form, lem)
            return kazakh_verbal_noun(lem, self.r)
        if lem.endswith(("ся", "сь")) and lem not in self.r.reflexive_lemmas and (
                not has_agent or _feat(t, "Voice") == "Pass"):
            lem = lem[:-2]
        return lem

    def causative_stem(self, form: str, lem: str) -> str:
        """"арттырамыз" with lemma "арт"/"арту" -> "арттыр": the lemmatizer drops causative suffixes."""
        stem = lem[:-1] if lem.endswith("у") and not form.startswith(lem) else lem
        if stem and form.startswith(stem):
            rest = form[len(stem):]
            for suf in self.r.causative_suffixes:
                if rest.startswith(suf) and len(rest) > len(suf):
                    return stem + suf
        return lem

    def span_text(self, t: Token, cut_comma: bool = True) -> tuple[int, int] | None:
        """Character span of a phrase: the subtree of `t` without relative clauses, stopping
        at a comma that opens a new conjunct or an aside."""
        skip = {"acl:relcl", "acl", "parataxis", "advcl", "punct", "appos"}
        idxs = {t.i}
        stack = [t]
        while stack:
            cur = stack.pop()
            for c in cur.children:
                if c.dep_ in skip and c.i != t.i:
                    continue
                idxs.add(c.i)
                stack.append(c)
        ordered = sorted(idxs)
        # contiguous run around t, cut at a comma
        lo = hi = ordered.index(t.i)
        doc = t.doc
        while lo > 0 and ordered[lo - 1] == ordered[lo] - 1:
            lo -= 1
        while hi + 1 < len(ordered) and ordered[hi + 1] == ordered[hi] + 1:
            hi += 1
        toks = [doc[i] for i in ordered[lo:hi + 1]]
        if cut_comma:
            kept = []
            for x in toks:
                if x.i > t.i and x.text == ",":
                    break
                kept.append(x)
            toks = kept
        return trimmed_span(toks)

    def with_negation(self, words: list[Token]) -> list[Token]:
        """A negation word right before or after the predicate belongs to it ("не будут
        поддерживать", "тиіс емес")."""
        doc = words[0].doc
        first, last = words[0].i, words[-1].i
        out = list(words)
        if first > 0 and _low(doc[first - 1]) in self.r.negation_before:
            out.insert(0, doc[first - 1])
        if last + 1 < len(doc) and _low(doc[last + 1]) in self.r.negation_after:
            out.append(doc[last + 1])
        return out

    def actor_kind(self, head: Token) -> str:
        words = [head] + [c for c in head.children if c.dep_ in ("conj", "amod", "nmod", "compound", "flat", "det")]
        lemmas = {_lem(w) for w in words} | {_low(w) for w in words}
        if lemmas & self.r.speaker:
            return "speaker"
        if any(l in self.r.government for l in lemmas) or any(
                _lem(c) in self.r.government_modifiers or _low(c) in self.r.government_modifiers
                for c in head.children if c.dep_ in ("amod", "nmod", "compound")):
            return "government"
        if lemmas & self.r.society:
            return "society"
        return "other"

    def is_agent(self, head: Token) -> bool:
        """Subjects that can act: pronouns, people, institutions (else they are what is affected)."""
        if head.pos_ in ("PRON",) or head.ent_type_ in ("PER", "PERSON", "ORG", "ORGANISATION", "GPE"):
            return True
        if _feat(head, "Animacy") == "Anim":
            return True
        kind = self.actor_kind(head)
        return kind in ("speaker", "government", "society")

    def _target(self, main: Token, heads: list[Token], words: list[Token], actor_tok: Token | None) -> Token | None:
        """The main object: recipient (iobj), else object, else passive subject; in Kazakh a
        dative noun of the verb ("селолық әкімдіктерге ... береміз") when nothing else is there."""
        taken = {w.i for w in words} | ({actor_tok.i} if actor_tok is not None else set())
        for dep in ("iobj", "obj", "nsubj:pass"):
            for h in [main] + heads:
                found = next((c for c in h.children if c.dep_ == dep and c.i not in taken), None)
                if found is not None:
                    return found
        if self.lang == "kk":
            return next((c for c in main.children if c.dep_ in ("obl", "iobj") and _feat(c, "Case") == "Dat"
                         and c.pos_ in ("NOUN", "PROPN", "PRON")), None)
        return None

    def fill(self, cand: Candidate, doc: Doc, sent: Sentence, statement_text: str,
             drop_other_actors: bool | None = None) -> Claim | None:
        """The claim record of a candidate. `drop_other_actors` (default: the config's) returns None
        for a commitment or decision whose actor is a company, an author, an NGO."""
        off = sent.start
        words = self.with_negation(sorted(cand.words, key=lambda w: w.i))
        p_start = off + words[0].idx
        p_end = off + words[-1].idx + len(words[-1].text)
        main = cand.main
        heads = [main] + ([cand.anchor] if cand.anchor is not None else []) + [
            w for w in words if w.i != main.i and (cand.anchor is None or w.i != cand.anchor.i)]
        actor = None
        actor_tok: Token | None = None
        actor_kind = "unspecified"
        target_tok: Token | None = None
        subj = None
        for h in heads + [h.head for h in heads if h.dep_ == "conj" and h.head.i != h.i]:
            subj = next((c for c in h.children if c.dep_ in ("nsubj",) and c.i not in {w.i for w in words}), None)
            if subj is not None:
                break
        passive = _feat(main, "Voice") == "Pass"
        pass_subj = None
        for h in ([] if passive and subj is not None else heads):
            pass_subj = next((c for c in h.children if c.dep_ == "nsubj:pass"), None)
            if pass_subj is not None:
                break
        if subj is not None and passive:
            pass_subj, subj = subj, None
        if subj is not None and self.is_agent(subj):
            span = self.span_text(subj, cut_comma=False)
            actor_tok = subj
            if span:
                actor = doc_text(doc)[span[0]:span[1]]
            actor_kind = self.actor_kind(subj)
            if actor_kind == "other" and (_lem(subj) in self.r.other_pronouns or _low(subj) in self.r.other_pronouns):
                actor_kind = "other"
        else:
            if subj is not None:
                target_tok = subj
            # dative experiencer of a modal: "нам необходимо", "бізге ... керек"
            for h in heads:
                for c in h.children:
                    if (_low(c) in self.r.speaker or _lem(c) in self.r.speaker) and c.dep_ in ("obl", "iobj", "nmod", "nsubj", "obj"):
                        actor, actor_kind, actor_tok = c.text, "speaker", c
                        break
                if actor:
                    break
            if actor is None and any(_feat(w, "Person") == "1" for w in words + [main]):
                actor_kind = "speaker"
        # target: recipient, else object, else passive subject, else a non-agent subject
        found = self._target(main, heads, words, actor_tok)
        if found is not None:
            target_tok = found
        elif pass_subj is not None:
            target_tok = pass_subj
        target = None
        if target_tok is not None:
            span = self.span_text(target_tok)
            if span:
                target = doc_text(doc)[span[0]:span[1]]
        # scope of the claim: the clause of the main verb (for quantities and entities)
        if doc.has_annotation("DEP"):
            scope_root = main if cand.rule.endswith("conj") else (
                cand.anchor if cand.anchor is not None and cand.anchor.dep_.lower() == "root" else main)
            # coordinated or subordinate verbs carry claims (and numbers) of their own
            own = {x.i for x in words}
            cut = set()
            subtree = list(scope_root.subtree)
            in_subtree = None
            for c in subtree:
                if c.i not in own and c.pos_ in ("VERB", "AUX") and c.dep_ in ("conj", "advcl", "parataxis"):
                    if in_subtree is None:
                        in_subtree = {w.i for w in subtree}
                    if c.head.i in in_subtree:
                        cut.update(x.i for x in c.subtree)
            scope = [t for t in subtree if not t.is_space and t.i not in cut] or [scope_root]
        else:  # no parser: the whole sentence is the claim's scope
            scope = [t for t in doc if not t.is_space]
        s_lo, s_hi = scope[0].idx, max(t.idx + len(t.text) for t in scope)
        qs = find_quantities(doc, self.r.quantities, s_lo, s_hi, offset=off, kk_lemmas=self.lang == "kk",
                             text=doc_text(doc))
        ents = [{"text": e.text, "label": e.label_, "start": off + e.start_char, "end": off + e.end_char}
                for e in doc.ents if e.start_char >= s_lo and e.end_char <= s_hi]
        claim = Claim(
            statement_id=sent.statement_id, lang=sent.lang, sentence=sent.text,
            char_start=sent.start, char_end=sent.end, type=cand.type,
            predicate=statement_text[p_start:p_end], predicate_start=p_start, predicate_end=p_end,
            predicate_lemma=self.lemma(main, has_agent=actor_tok is not None), actor=actor, actor_kind=actor_kind, target=target,
            polarity=cand.polarity, tense=cand.tense, quantities=qs, entities=ents,
            confidence=cand.confidence, sentence_index=sent.index,
        )
        claim.claim_id = claim_id(claim)
        cand.other_actor = self.other_actor(actor_kind, actor_tok, subj, passive, heads)
        if (self.r.drop_other_actors if drop_other_actors is None else drop_other_actors) \
                and cand.type in ("commitment", "decision") and cand.other_actor:
            return None
        return claim

    def other_actor(self, actor_kind: str, actor_tok: Token | None, subj: Token | None,
                    passive: bool, heads: list[Token]) -> bool:
        """The actor is neither the state nor society (a company, an author, an NGO)."""
        if actor_kind == "other" and actor_tok is not None and actor_tok.pos_ == "NOUN":
            return True
        agents = [c for h in heads for c in h.children
                  if c.dep_ in ("obl:agent", "obl", "nsubj", "nmod") and (_lem(c) in self.r.non_state or _low(c) in self.r.non_state)]
        return bool(agents and (subj is None or subj in agents or passive))

    def extract(self, doc: Doc, sent: Sentence, statement_text: str) -> list[Claim]:
        """Claims of one sentence; `doc` is the parse of `sent.text` (offsets relative to it)."""
        if sent.boilerplate or sent.text.rstrip().endswith("?"):
            return []
        with token_memo(doc):
            claims = [c for c in (self.fill(c, doc, sent, statement_text) for c in self.candidates(doc)) if c is not None]
        claims.sort(key=lambda c: c.predicate_start)
        if len(claims) > 1:
            self._share_quantities(claims)
        return claims

    def _share_quantities(self, claims: list[Claim]) -> None:
        """Several claims in one sentence: each number goes to one claim, by word order, since
        parses of coordinated clauses often hang one clause's object on the other's verb.
        Russian objects follow their verb (the nearest predicate on the left takes the number);
        Kazakh ones precede it (the nearest on the right)."""
        pool = {q["start"]: q for c in claims for q in c.quantities}
        for c in claims:
            c.quantities = []
        for start, q in sorted(pool.items()):
            if self.r.quantity_attach == "right":
                owner = next((c for c in claims if c.predicate_end >= q["end"]), claims[-1])
            else:
                left = [c for c in claims if c.predicate_start <= start]
                owner = left[-1] if left else claims[0]
            owner.quantities.append(q)


def claim_id(c: Claim) -> str:
    """Stable across runs: the same statement, span and type give the same id."""
    key = f"{c.statement_id}\x1f{c.lang}\x1f{c.predicate_start}\x1f{c.predicate_end}\x1f{c.type}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=None)
def extractor_for(lang: str) -> ClaimExtractor:
    return ClaimExtractor(lang)

