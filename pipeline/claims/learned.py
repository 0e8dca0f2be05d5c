"""The learned claim extractor: high-recall candidates from the parse, a classifier decides.

Why: rules and cue lists tuned on a small dev set stopped predicting on new sites (dev F1 0.84,
unseen sources 0.48). Here the rules only *propose*; every finite verb, modal or predicative word,
verbal noun and participle of a sentence is a candidate too (``candidate_groups``), and a
scikit-learn model trained on the claims corpus (``data/claims/``) decides for each candidate:
no claim, commitment, obligation or decision. Its features are UD attributes of the candidate and
its dependency context (lemma, morphology, relations, negation, person, mood), the rules' verdict
and the cue lexicons of ``configs/claims/<lang>.toml`` as flags, and the words around. The fields
of a kept claim (quantities, lemma, polarity) come from the rule extractor's ``fill``; tense from
a second classifier, actor and target from a third (``roles.py``) where the corpus shows they beat
the rules.

``ClaimModel`` follows the estimator API (``fit`` / ``predict`` / ``predict_proba``) and is saved
with joblib together with a format tag, so a file that is not a claim model is refused by name.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from spacy.tokens import Doc, Token

from pipeline import config
from pipeline.io.records import Claim, Sentence
from pipeline.claims.estimators import MinCount  # noqa: F401  (shipped models pickled it under this module)
from pipeline.claims.extract import (Candidate, ClaimExtractor, _feat, _lem, _low, claim_id, doc_text,
                                     extractor_for, token_memo)

FORMAT = "polclaims-claim-model/1"
LABELS = ("none", "commitment", "obligation", "decision")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-–—•*]|[а-яәіңғүұқөһa-z][)])\s*", re.I)
MORPH_FEATS = ("Tense", "Aspect", "Mood", "VerbForm", "Person", "Number", "Voice", "Polarity", "Case", "Variant")


def settings() -> dict[str, Any]:
    return config.load("claims/model")


# ---------------------------------------------------------------- candidates


def _potential_predicate(ex: ClaimExtractor, t: Token) -> bool:
    if t.is_punct or t.is_space:
        return False
    if ex.is_modal(t):
        return True
    if t.pos_ == "VERB":
        return True
    if t.pos_ == "AUX":
        return t.dep_ not in ("aux", "aux:pass", "cop")
    if t.pos_ == "ADJ":  # "утвержден", "назначена": short passive participles
        return _feat(t, "VerbForm") == "Part" or _feat(t, "Variant") == "Short"
    if t.pos_ == "NOUN":  # Kazakh verbal nouns ("енгізу", "жөндеу қажеттігін")
        return ex.verb_like(t)
    return False


def candidate_groups(ex: ClaimExtractor, doc: Doc) -> list[Candidate]:
    """Every construction that could anchor a claim: the rules' candidates first (each with its
    rule), then each remaining potential predicate with its auxiliaries, negation and, for a modal
    word, its complement (rule "none"). A word belongs to one group at most."""
    out = list(ex.candidates(doc))
    used = {w.i for c in out for w in c.words}
    for c in out:   # an instruction and what it instructs are one claim ("поручил разработать")
        for x in _instructed(c.main, used):
            c.words.append(x)
            used.add(x.i)
    for t in doc:
        if t.i in used or not _potential_predicate(ex, t):
            continue
        words = [t]
        main, anchor = t, None
        if ex.is_modal(t):
            comp = ex.complement(t)
            if comp is not None and comp.i not in used:
                words.append(comp)
                main, anchor = comp, t
        for c in main.children:
            if c.i not in used and c.dep_ in ("aux", "aux:pass") and c.i not in {w.i for w in words}:
                words.append(c)
        words += [x for x in _instructed(main, used) if x.i not in {w.i for w in words}]
        tense = _morph_tense(ex, words, main)
        neg = "negative" if ex.negated(*words) else "affirmative"
        out.append(Candidate("commitment", words, main, tense, "none", 0.0, neg, anchor=anchor))
        used.update(w.i for w in words)
    return out


def _instructed(main: Token, used: set[int]) -> list[Token]:
    """The verb an instruction or plan governs, when it follows closely ("поручил разработать")."""
    return [c for c in main.children if c.i not in used and c.dep_ == "xcomp" and c.pos_ == "VERB"
            and 0 < c.i - main.i <= 3]


def _morph_tense(ex: ClaimExtractor, words: Sequence[Token], main: Token) -> str:
    tenses = {_feat(w, "Tense") for w in words}
    if "Fut" in tenses or any(_low(w) in ex.r.future_aux_forms for w in words):
        return "future"
    if "Past" in tenses:
        return "past"
    if _feat(main, "Aspect") == "Perf" and "Pres" in tenses and ex.lang == "ru":
        return "future"
    return "present"


# ---------------------------------------------------------------- features


def _lex_flags(ex: ClaimExtractor, t: Token, prefix: str) -> dict[str, float]:
    r = ex.r
    lem, low = _lem(t), _low(t)
    flags = {
        "modal": ex.is_modal(t), "decision": lem in r.decision_lemmas, "planning": lem in r.planning_lemmas or low in r.planning_forms,
        "performative": lem in r.performative, "exclude": lem in r.exclude_lemmas, "remark": lem in r.remark_lemmas,
        "forecast": lem in r.forecast, "enabling": lem in r.enabling_lemmas or low in r.enabling_forms,
        "present_passive": lem in r.present_passive, "future_aux": low in r.future_aux_forms,
        "appeal": lem in r.appeal_lemmas, "non_state": lem in r.non_state or low in r.non_state,
        "speaker": lem in r.speaker or low in r.speaker, "government": lem in r.government,
        "society": lem in r.society, "negation": low in r.negation_words,
        "future_participle": bool(r.future_participle and r.future_participle.search(low)),
        "first_pl": bool(r.first_pl and r.first_pl.search(low)),
        "aorist": bool(r.aorist and r.aorist.search(low)),
        "passive_form": bool(r.passive_form and r.passive_form.search(low)),
        "past_form": bool(r.past_form and r.past_form.search(low)),
        "participle": bool(r.participle and r.participle.search(low)),
    }
    return {f"{prefix}lex={k}": 1.0 for k, v in flags.items() if v}


def _token_feats(ex: ClaimExtractor, t: Token, prefix: str, lang: str, lexical: bool = True) -> dict[str, float]:
    f: dict[str, float] = {f"{prefix}pos={t.pos_}": 1.0, f"{prefix}dep={t.dep_}": 1.0}
    for name in MORPH_FEATS:
        v = _feat(t, name)
        if v:
            f[f"{prefix}{name}={v}"] = 1.0
    if lexical:
        low = _low(t)
        f[f"{prefix}lemma={lang}:{_lem(t)}"] = 1.0
        for n in (2, 3, 4, 5, 6):
            if len(low) > n:
                f[f"{prefix}suf{n}={lang}:{low[-n:]}"] = 1.0
    f.update(_lex_flags(ex, t, prefix))
    return f


def sentence_features(ex: ClaimExtractor, doc: Doc) -> dict[str, float]:
    """What every candidate of a sentence shares (computed once per sentence)."""
    toks = [t for t in doc if not t.is_space]
    text = doc_text(doc).strip()
    content = [t for t in toks if t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ")]
    bag = {f"sb={ex.lang}:{_lem(t)}": 1.0 / max(1.0, len(content)) ** 0.5 for t in content}
    return {**bag, "s_question": float(text.endswith("?")), "s_exclaim": float(text.endswith("!")),
            "s_quote": float(any(q in text for q in "«»\"“”")), f"s_len={min(len(toks) // 8, 6)}": 1.0,
            "s_verbs": min(sum(1 for t in toks if t.pos_ in ("VERB", "AUX")), 8) / 8,
            "s_has_modal": float(any(ex.is_modal(t) for t in toks)),
            "s_first_person": float(any(_feat(t, "Person") == "1" for t in toks)),
            "s_upper_ratio": sum(1 for ch in text if ch.isupper()) / max(1, sum(1 for ch in text if ch.isalpha())),
            "s_list_item": float(bool(_LIST_ITEM.match(text)))}


def group_features(ex: ClaimExtractor, cand: Candidate, doc: Doc, claim: Claim | None,
                   sent_f: dict[str, float] | None = None) -> dict[str, float]:
    """What the classifier sees of one candidate (a sparse dict; DictVectorizer turns it into columns).
    `sent_f`: the sentence's shared features, when the caller has them already."""
    lang = ex.lang
    main = cand.main
    words = sorted(cand.words, key=lambda w: w.i)
    f: dict[str, float] = {f"lang={lang}": 1.0, f"rule={cand.rule}": 1.0, f"rule_lang={lang}:{cand.rule}": 1.0,
                           "rule_conf": float(cand.confidence), f"n_words={min(len(words), 4)}": 1.0,
                           f"tense_rule={cand.tense}": 1.0, f"polarity={cand.polarity}": 1.0}
    if cand.rule != "none":
        f[f"rule_type={cand.type}"] = 1.0
    f.update(_token_feats(ex, main, "m_", lang))
    for w in words:
        if w.i != main.i:
            f.update(_token_feats(ex, w, "w_", lang))
    if cand.anchor is not None:
        f.update(_token_feats(ex, cand.anchor, "a_", lang))
    head = main.head
    if head.i != main.i:
        f.update(_token_feats(ex, head, "h_", lang))
        f[f"h_dep_m={main.dep_}>{head.pos_}"] = 1.0
        gp = head.head
        if gp.i != head.i:
            f.update(_token_feats(ex, gp, "g_", lang, lexical=False))
            f[f"g_lemma={lang}:{_lem(gp)}"] = 1.0
    else:
        f["m_is_root"] = 1.0
    # the chain of relations up to the root ("advcl>conj>root"): main or subordinate clause
    chain, t, steps = [], main, 0
    while t.head.i != t.i and steps < 4:
        chain.append(t.dep_)
        t, steps = t.head, steps + 1
    f["path=" + ">".join(chain[:3] + ["root" if t.head.i == t.i else "…"])] = 1.0
    own = {w.i for w in words}
    for c in main.children:
        if c.i in own:
            continue
        f[f"c_dep={c.dep_}"] = 1.0
        if c.dep_ in ("nsubj", "nsubj:pass", "aux", "aux:pass", "mark", "advmod", "cop", "obl:agent", "expl", "obj", "iobj"):
            f[f"c_{c.dep_}_pos={c.pos_}"] = 1.0
            f[f"c_{c.dep_}_lemma={lang}:{_lem(c)}"] = 1.0
            for name in ("Person", "Number", "Case", "Animacy", "PronType"):
                v = _feat(c, name)
                if v:
                    f[f"c_{c.dep_}_{name}={v}"] = 1.0
            f.update(_lex_flags(ex, c, f"c_{c.dep_}_"))
        if c.ent_type_:
            f[f"c_{c.dep_}_ent={c.ent_type_}"] = 1.0
    # the words around (lemmas), and the sentence
    first, last = words[0].i, words[-1].i
    for k in (1, 2):
        if first - k >= 0:
            f[f"L{k}={lang}:{_lem(doc[first - k])}"] = 1.0
            f[f"L{k}pos={doc[first - k].pos_}"] = 1.0
        if last + k < len(doc):
            f[f"R{k}={lang}:{_lem(doc[last + k])}"] = 1.0
            f[f"R{k}pos={doc[last + k].pos_}"] = 1.0
    f.update(sentence_features(ex, doc) if sent_f is None else sent_f)
    f["s_rel_pos"] = main.i / max(1, len(doc))
    prev = [t for t in doc[:first] if not t.is_punct and not t.is_space and not t.like_num]
    f["s_starts_with_predicate"] = float(not prev)
    # conjunctions the linear model cannot form itself
    morph = "|".join(_feat(main, k) or "-" for k in ("VerbForm", "Tense", "Person", "Mood", "Voice"))
    f[f"x_morph={main.pos_}|{morph}"] = 1.0
    f[f"x_morph_lang={lang}|{main.pos_}|{morph}"] = 1.0
    subj = next((c for c in main.children if c.dep_ in ("nsubj", "nsubj:pass")), None)
    f[f"x_subj={subj.dep_ if subj is not None else 'none'}|{subj.pos_ if subj is not None else '-'}|{cand.rule}"] = 1.0
    # what the rule extractor's fill made of it
    if claim is not None:
        f[f"x_rule_actor={cand.rule}|{claim.actor_kind}"] = 1.0
        f[f"x_tense_actor={cand.tense}|{claim.actor_kind}"] = 1.0
        f[f"fill_actor_kind={claim.actor_kind}"] = 1.0
        f["fill_has_actor"] = float(claim.actor is not None)
        f["fill_has_target"] = float(claim.target is not None)
        f["fill_quantities"] = float(min(len(claim.quantities), 3))
        f[f"fill_lemma={lang}:{claim.predicate_lemma}"] = 1.0
    f["fill_other_actor"] = float(cand.other_actor)
    return f


# ---------------------------------------------------------------- analysed candidates


@dataclass
class CandidateRecord:
    """One candidate with everything training and prediction need; no spaCy objects, so a corpus's
    records can be cached and cross-validated without parsing again."""
    statement_id: str
    lang: str
    sentence_index: int
    start: int
    end: int
    rule: str
    rule_type: str | None
    features: dict[str, float]
    claim: Claim
    label: str = "none"
    gold_tense: str | None = None
    gold_polarity: str | None = None
    roles: dict | None = None          # actor/target options (roles.role_options), when computed
    gold_actor: str | None = None
    gold_target: str | None = None
    words: tuple[int, ...] = ()       # the candidate's token indices in its sentence's parse
    main: int = -1                     # its main word's token index
    context: Any = None                # its context.CandidateInput (the sentence's tokens, shared)


def analyse_sentence(ex: ClaimExtractor, doc: Doc, sent: Sentence, statement_text: str,
                     roles: "bool | Callable[[int, int], bool] | ClaimModel" = False,
                     context: bool | None = None, features: bool = True,
                     options: dict | None = None) -> list[CandidateRecord]:
    """The candidate records of a sentence; with `roles` (True, a test of the predicate's start
    and end offsets, or a claim model: the candidates it keeps), a record gets its actor/target
    options (``roles.role_options``). Options cost time: `process` asks only for those of the
    candidates its model keeps. `context`: give each record its ``CandidateInput`` for the context
    net (None: when `roles` is a model that uses one). `features=False`: records without the claim
    classifier's features (for role-only experiments). `options`: how the actor/target options are
    made (default: ``option_settings(roles)``).

    One sentence at a time; `process` does the same in two steps over all sentences of a chunk's
    language (``sentence_candidates``, one model call, ``add_role_options``: ``decide_parsed``)."""
    if context is None:
        context = isinstance(roles, ClaimModel) and roles.uses_context
    recs, cands = sentence_candidates(ex, doc, sent, statement_text, context=bool(context), features=features)
    if isinstance(roles, ClaimModel):
        want = keeps(roles, roles.proba_records(recs)) if recs else []
    else:
        want = [roles(r.start, r.end) if callable(roles) else bool(roles) for r in recs]
    add_role_options(ex, doc, sent, recs, cands, want, option_settings(roles) if options is None else options)
    return recs


def sentence_candidates(ex: ClaimExtractor, doc: Doc, sent: Sentence, statement_text: str,
                        context: bool = False, features: bool = True) -> tuple[list[CandidateRecord], list[Candidate]]:
    """The candidate records of a sentence (no actor/target options yet) and, beside each, its
    ``Candidate`` (spaCy tokens: valid while `doc` is), which ``add_role_options`` needs.
    `context`: give each record its ``CandidateInput`` for the context net; `features=False`: no
    claim-classifier features (role-only experiments)."""
    from pipeline.claims.context import CandidateInput, sentence_tokens

    recs, cands = [], []
    with token_memo(doc):
        tokens = sentence_tokens(ex.lang, doc) if context else None
        sent_f = sentence_features(ex, doc)
        groups = candidate_groups(ex, doc)
        sent_f = {**sent_f, f"s_ncand={min(len(groups), 6)}": 1.0,
                  "s_nrule": min(sum(1 for c in groups if c.rule != "none"), 4) / 4}
        for cand in groups:
            claim = ex.fill(cand, doc, sent, statement_text, drop_other_actors=False)
            if claim is None:
                continue
            recs.append(CandidateRecord(
                sent.statement_id, sent.lang, sent.index, claim.predicate_start, claim.predicate_end,
                cand.rule, cand.type if cand.rule != "none" else None,
                group_features(ex, cand, doc, claim, sent_f) if features else {}, claim,
                words=tuple(sorted(w.i for w in cand.words)), main=cand.main.i))
            if tokens is not None:
                recs[-1].context = CandidateInput(tokens, recs[-1].words, cand.main.i, cand.rule, float(cand.confidence))
            cands.append(cand)
    return recs, cands


def add_role_options(ex: ClaimExtractor, doc: Doc, sent: Sentence, recs: Sequence[CandidateRecord],
                     cands: Sequence[Candidate], want: Sequence[bool], options: dict | None = None) -> None:
    """Give the records marked in `want` their actor/target options (``roles.role_options``, made
    as `options` says: ``option_settings``); `doc` must still be valid (its candidates hold its tokens)."""
    from pipeline.claims.roles import role_options

    if not any(want):
        return
    opt = option_settings() if options is None else options
    with token_memo(doc):
        for r, cand, w in zip(recs, cands, want):
            if w:
                r.roles = role_options(ex, cand, doc, r.claim, sent.start, variants=opt.get("variants"),
                                       none_context=opt.get("none_context", False),
                                       parent=bool(opt.get("parent", False)))


def keeps(model: "ClaimModel", proba) -> list[bool]:
    """Which candidates the model keeps as claims, from its probabilities (``ClaimModel.proba_records``)."""
    return [lab != "none" for lab in model.labels_from_proba(proba)]


def option_settings(model: Any = None) -> dict:
    """How actor/target options are made: a trained model's own settings (so `process` offers the
    options it was trained on; a model from before these settings: none), else the configured ones."""
    if isinstance(model, ClaimModel):
        return getattr(model, "roles", None) or {}
    return settings().get("model", {}).get("roles", {})


def label_records(records: Sequence[CandidateRecord], gold_items: Sequence) -> None:
    """Give each candidate the type of the gold claim its predicate overlaps (one gold claim per
    candidate, the largest overlap first), else "none"."""
    from collections import defaultdict

    by_item = defaultdict(list)
    for r in records:
        by_item[r.statement_id].append(r)
    for it in gold_items:
        recs = by_item.get(it.item_id, [])
        for r in recs:
            r.label, r.gold_tense, r.gold_polarity, r.gold_actor, r.gold_target = "none", None, None, None, None
        pairs = []
        for gi, g in enumerate(it.claims):
            if g.start is None:
                continue
            for ri, r in enumerate(recs):
                ov = min(g.end, r.end) - max(g.start, r.start)
                if ov > 0:
                    pairs.append((ov, gi, ri))
        used_g, used_r = set(), set()
        for ov, gi, ri in sorted(pairs, key=lambda x: -x[0]):
            if gi in used_g or ri in used_r:
                continue
            used_g.add(gi)
            used_r.add(ri)
            g = it.claims[gi]
            recs[ri].label, recs[ri].gold_tense, recs[ri].gold_polarity = g.type, g.tense, g.polarity
            recs[ri].gold_actor, recs[ri].gold_target = g.actor, g.target


# ---------------------------------------------------------------- the model


class ClaimModel:
    """Claim-or-not and type of a candidate (one multinomial classifier over LABELS), and the
    tense of a claim (a second classifier, used when `use_tense_model`)."""

    def __init__(self, C: float = 1.0, class_weight: str | None = None, max_iter: int = 3000,
                 tense_C: float = 1.0, use_tense_model: bool = True, none_threshold: "float | str" = "auto",
                 min_count: int = 2, role_C: float = 0.5, learn_roles: bool = True, vectors: dict | None = None,
                 context: dict | None = None, roles: dict | None = None):
        self.C, self.class_weight, self.max_iter, self.min_count = C, class_weight, max_iter, min_count
        self.vectors = vectors  # LemmaVectors settings (configs/claims/model.toml [model.vectors]); None: off
        # the sentence-context net (pipeline/claims/context.py) averaged with the linear model's
        # probabilities: its settings (configs/claims/model.toml [model.context]); None: off
        self.context = context
        self.role_C, self.learn_roles = role_C, learn_roles
        # the role chooser's settings (configs/claims/model.toml [model.roles]): its options' span
        # variants, which options count as gold, rules or learned per role and language
        self.roles = dict(roles or {})
        self.tense_C, self.use_tense_model, self.none_threshold = tense_C, use_tense_model, none_threshold
        self.format = FORMAT
        self.info: dict[str, Any] = {}

    def _pipe(self, C: float):
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        columns = make_pipeline(DictVectorizer(), MinCount(getattr(self, "min_count", 2)))
        vectors = getattr(self, "vectors", None)
        if vectors:
            from sklearn.pipeline import FeatureUnion

            from pipeline.claims.vectors import LemmaVectors

            columns = FeatureUnion([("columns", columns), ("vectors", LemmaVectors(
                slots=tuple(vectors.get("slots", ("m_lemma=", "c_nsubj_lemma=", "h_lemma="))),
                dims=int(vectors.get("dims", 64)), sentence=bool(vectors.get("sentence", True))))])
        return make_pipeline(columns, LogisticRegression(
            C=C, class_weight=self.class_weight or None, max_iter=self.max_iter, tol=1e-3))

    def fit(self, X: Sequence[dict], y: Sequence[str], tense: Sequence[str | None] | None = None,
            groups: Sequence[str] | None = None, roles: Sequence[dict | None] | None = None,
            role_gold: Sequence[dict] | None = None, context: "Sequence[Any] | None" = None,
            langs: Sequence[str] | None = None) -> "ClaimModel":
        """`groups` (the source of each candidate): when given and `none_threshold` is "auto", the
        threshold is chosen on out-of-fold probabilities of folds grouped by source, inside the
        training data (so a cross-validation that calls fit stays nested and honest).
        `roles`/`role_gold`: actor/target options and gold values of candidates that are gold
        claims (None elsewhere); they train the role chooser (``roles.RoleModel``).
        `context`: each candidate's ``context.CandidateInput`` (``CandidateRecord.context``); with
        context settings, a ``ContextClaimNet`` is fitted too and P = w * P(net) + (1 - w) * P(linear),
        w and the threshold chosen on the same inner source-grouped out-of-fold probabilities."""
        self.role_model_ = None
        self.context_model_, self.context_weight_ = None, 0.0
        use_context = bool(getattr(self, "context", None)) and context is not None
        if use_context and any(c is None for c in context):
            raise ValueError("the claim model's context net needs every candidate's CandidateRecord.context "
                             "(analyse the texts with context=True)")
        if roles is not None:
            self.fit_roles(roles, y, role_gold, langs=langs, groups=groups)
        if use_context:
            self._fit_context(list(X), list(y), list(context), None if groups is None else list(groups))
        elif groups is not None and self.none_threshold == "auto":
            self.threshold_ = self._tune_threshold(list(X), list(y), list(groups))
        elif self.none_threshold == "auto":
            self.threshold_ = 0.5
        else:
            self.threshold_ = float(self.none_threshold)
        self.type_model_ = self._pipe(self.C).fit(list(X), list(y))
        self.tense_model_ = None
        if tense is not None:
            rows = [(x, t) for x, lab, t in zip(X, y, tense) if lab != "none" and t]
            if len({t for _, t in rows}) > 1:
                self.tense_model_ = self._pipe(self.tense_C).fit([x for x, _ in rows], [t for _, t in rows])
        return self

    def fit_roles(self, roles: Sequence[dict | None], y: Sequence[str], role_gold: Sequence[dict],
                  langs: Sequence[str] | None = None, groups: Sequence[str] | None = None) -> "ClaimModel":
        """The role chooser (``roles.RoleModel``) from the candidates that are gold claims (label not
        "none", options computed) and their gold actor/target. `langs`/`groups`: each candidate's
        language and source (for the per-language choice between rules and learned)."""
        self.role_model_ = None
        if not getattr(self, "learn_roles", True):
            return self
        from pipeline.claims.roles import RoleModel

        keep = [k for k, (o, lab) in enumerate(zip(roles, y)) if o is not None and lab != "none"]
        if keep:
            s = getattr(self, "roles", {}) or {}
            self.role_model_ = RoleModel(C=self.role_C, min_count=self.min_count, use=s.get("use"), gold=s.get("gold"),
                                         inner_folds=int(s.get("inner_folds", 3)), form=s.get("form", "option"),
                                         decode=s.get("decode"), by_language=bool(s.get("by_language", False))).fit(
                [roles[k] for k in keep], [role_gold[k] for k in keep],
                langs=None if langs is None else [langs[k] for k in keep],
                groups=None if groups is None else [groups[k] for k in keep])
        return self

    def _tune_threshold(self, X: list, y: list, groups: list, folds: int = 4) -> float:
        import numpy as np

        if len(set(groups)) < 2:
            return 0.5
        oof = self._oof_linear(X, y, groups, folds)
        return best_threshold(oof[:, 0], np.array([lab != "none" for lab in y]))[0]

    def _oof_linear(self, X: list, y: list, groups: list, folds: int = 4):
        """Out-of-fold probabilities (columns in LABELS order) of the linear model, folds grouped by source."""
        import numpy as np
        from sklearn.model_selection import GroupKFold

        oof = np.zeros((len(y), len(LABELS)))
        for tr, te in GroupKFold(n_splits=min(folds, len(set(groups)))).split(X, y, groups):
            m = self._pipe(self.C).fit([X[i] for i in tr], [y[i] for i in tr])
            oof[te] = in_label_order(m.classes_, m.predict_proba([X[i] for i in te]))
        return oof

    def _fit_context(self, X: list, y: list, context: list, groups: list | None) -> None:
        """The context net, its averaging weight and the threshold (inner folds, never held-out data)."""
        import numpy as np
        from sklearn.model_selection import GroupKFold

        from pipeline.claims.context import ContextClaimNet

        s = dict(self.context)
        inner, weight = int(s.pop("inner_folds", 2)), s.pop("weight", "auto")
        s.pop("use", None)
        fixed_t = None if self.none_threshold == "auto" else float(self.none_threshold)
        if groups is not None and len(set(groups)) >= 2 and (weight == "auto" or fixed_t is None):
            is_claim = np.array([lab != "none" for lab in y])
            oof_lin = self._oof_linear(X, y, groups)
            oof_ctx = np.zeros_like(oof_lin)
            for tr, te in GroupKFold(n_splits=min(inner, len(set(groups)))).split(X, y, groups):
                net = ContextClaimNet(**s).fit([context[i] for i in tr], [y[i] for i in tr])
                oof_ctx[te] = net.predict_proba([context[i] for i in te])
            weights = np.round(np.arange(0.0, 1.01, 0.1), 2) if weight == "auto" else [float(weight)]
            best = (-1.0, 0.0, 0.5)
            for w in weights:
                p_none = w * oof_ctx[:, 0] + (1 - w) * oof_lin[:, 0]
                t, f1 = best_threshold(p_none, is_claim, None if fixed_t is None else [fixed_t])
                if f1 > best[0]:
                    best = (f1, float(w), t)
            self.context_weight_, self.threshold_ = best[1], best[2]
        else:
            self.context_weight_ = 0.5 if weight == "auto" else float(weight)
            self.threshold_ = 0.5 if fixed_t is None else fixed_t
        self.context_model_ = ContextClaimNet(**s).fit(context, y)

    @property
    def classes_(self):
        return self.type_model_.classes_

    @property
    def uses_context(self) -> bool:
        return getattr(self, "context_model_", None) is not None

    def predict_proba(self, X: Sequence[dict], context: "Sequence[Any] | None" = None, settled: bool = False):
        """Class probabilities (columns: ``classes_``); a model with a context net needs each
        candidate's ``CandidateInput`` too (``CandidateRecord.context``).

        `settled=True` (for deciding only): a candidate whose linear part alone keeps P(none) at or
        above the threshold, whatever the net says, is "none" without running the net (the net
        costs far more than the linear model, and most candidates are clear non-claims); its row
        then takes the net's part as "none" (a bound, not the net's value). Every other row is the
        same as without it."""
        import numpy as np

        proba = self.type_model_.predict_proba(list(X))
        if not self.uses_context:
            return proba
        if context is None:
            raise ValueError("this claim model also reads the sentence context: pass each candidate's "
                             "CandidateRecord.context (apply_model and analyse_sentence do)")
        w = self.context_weight_
        if w > 0 and len(X):
            classes = [str(c) for c in self.classes_]
            lin = (1 - w) * proba
            todo = np.arange(len(X))
            net = np.zeros((len(X), len(LABELS)))
            if settled and "none" in classes:
                # w * P(net) >= 0, so a row whose linear part reaches the threshold stays "none"
                ruled_out = lin[:, classes.index("none")] >= getattr(self, "threshold_", 0.5)
                net[ruled_out, LABELS.index("none")] = 1.0
                todo = np.flatnonzero(~ruled_out)
            if len(todo):
                net[todo] = in_label_order(self.context_model_.classes_,
                                           self.context_model_.predict_proba([context[i] for i in todo]))
            proba = lin + w * net[:, [LABELS.index(c) for c in classes]]
        return proba

    def proba_records(self, records: Sequence["CandidateRecord"], settled: bool = False):
        """``predict_proba`` of the records' features (and context inputs); `settled`: see there."""
        return self.predict_proba([r.features for r in records],
                                  [r.context for r in records] if self.uses_context else None, settled)

    def predict(self, X: Sequence[dict], context: "Sequence[Any] | None" = None) -> list[str]:
        """"none" unless P(none) < none_threshold; then the most probable claim type."""
        if not X:
            return []
        return self.labels_from_proba(self.predict_proba(X, context))

    def labels_from_proba(self, proba) -> list[str]:
        classes = list(self.classes_)
        ni = classes.index("none") if "none" in classes else None
        out = []
        for row in proba:
            if ni is not None and row[ni] >= getattr(self, "threshold_", 0.5):
                out.append("none")
                continue
            best = max((p, c) for c, p in zip(classes, row) if c != "none")
            out.append(best[1])
        return out

    def predict_tense(self, X: Sequence[dict]) -> list[str] | None:
        if not self.use_tense_model or self.tense_model_ is None or not X:
            return None
        return list(self.tense_model_.predict(list(X)))

    def save(self, path: str | Path) -> Path:
        import joblib

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path, compress=3)
        return path

    @staticmethod
    def load(path: str | Path) -> "ClaimModel":
        """Load a saved model; a missing file or one that is not a claim model is refused with the
        file's name and the command that rebuilds it."""
        import joblib

        path = Path(path)
        rebuild = "rebuild it with `make train-claims` (polclaims train claims)"
        if not path.exists():
            raise FileNotFoundError(f"claim model {path} not found: {rebuild}, or set extractor = \"rules\" "
                                    f"in configs/claims/model.toml")
        try:
            obj = joblib.load(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
            raise ValueError(f"{path} is not a readable claim model ({type(exc).__name__}: {exc}); {rebuild}") from None
        if not isinstance(obj, ClaimModel) or getattr(obj, "format", None) != FORMAT:
            raise ValueError(f"{path} is not a polclaims claim model (format {FORMAT}); {rebuild}")
        return obj


def in_label_order(classes, proba):
    """Probability columns reordered to LABELS (a class the model never saw gets 0)."""
    import numpy as np

    out = np.zeros((len(proba), len(LABELS)))
    for j, c in enumerate(classes):
        out[:, LABELS.index(str(c))] = proba[:, j]
    return out


def best_threshold(p_none, is_claim, grid=None) -> tuple[float, float]:
    """The P(none) threshold with the best claim/no-claim F1 over candidates, and that F1."""
    import numpy as np

    best, best_t = -1.0, 0.5
    for t in (np.arange(0.2, 0.81, 0.025) if grid is None else grid):
        pred = p_none < t
        tp = float((pred & is_claim).sum())
        f1 = 2 * tp / (pred.sum() + is_claim.sum()) if pred.sum() + is_claim.sum() else 0.0
        if f1 > best:
            best, best_t = f1, float(t)
    return round(best_t, 3), best


def apply_model(model: ClaimModel, records: Sequence[CandidateRecord], proba=None) -> list[Claim]:
    """The claims the model keeps, typed, with its probability as confidence. `proba`: the
    records' ``model.proba_records(records)`` when the caller has it already."""
    if not records:
        return []
    if proba is None:
        proba = model.proba_records(records)
    labels = model.labels_from_proba(proba)
    classes = list(model.classes_)
    kept = [(r, lab, row) for r, lab, row in zip(records, labels, proba) if lab != "none"]
    tenses = model.predict_tense([r.features for r, _, _ in kept]) if kept else None
    out = []
    for k, (r, lab, row) in enumerate(kept):
        c = copy.copy(r.claim)
        c.type = str(lab)
        c.confidence = round(float(row[classes.index(lab)]), 4)
        if tenses is not None:
            c.tense = str(tenses[k])
        out.append(c)
    role_model = getattr(model, "role_model_", None)
    with_roles = [(c, r.roles) for c, (r, _, _) in zip(out, kept) if r.roles is not None]
    if role_model is not None and with_roles:
        from pipeline.claims.roles import apply_roles

        apply_roles(role_model, [c for c, _ in with_roles], [o for _, o in with_roles], [c.lang for c, _ in with_roles])
    for c in out:
        c.claim_id = claim_id(c)
    return out


_ACTIVE: dict[str, ClaimModel | None] = {}


def _model_path() -> Path | None:
    """$POLCLAIMS_CLAIMS_MODEL (a model folder; `process --claims-model` sets it), else the
    configured `path`; None with `extractor = "rules"`."""
    import os

    s = settings()
    if os.environ.get("POLCLAIMS_CLAIMS_MODEL"):
        return Path(os.environ["POLCLAIMS_CLAIMS_MODEL"]) / "model.joblib"
    if s.get("extractor", "learned") != "learned":
        return None
    return config.resolve_path(s.get("path", "models/claims")) / "model.joblib"


def model_fingerprint() -> str | None:
    """"learned-<12 hex>" of the active model file (None with the rule extractor): stored with
    every claim, and part of what makes the store re-process a statement."""
    import hashlib

    path = _model_path()
    if path is None or not path.exists():
        return None
    return "learned-" + hashlib.sha1(path.read_bytes()).hexdigest()[:12]


def active_model() -> ClaimModel | None:
    """The model `process` uses: configs/claims/model.toml `extractor = "learned"` and its `path`
    (relative to the project root); None with `extractor = "rules"`."""
    path = _model_path()
    if path is None:
        return None
    key = str(path)
    if key not in _ACTIVE:
        _ACTIVE[key] = ClaimModel.load(path)
    return _ACTIVE[key]


def decide(model: ClaimModel, per_sentence: Sequence[Sequence[CandidateRecord]], proba=None) -> list[list[Claim]]:
    """The claims of many sentences' candidates in one model call (vectorising many sentences at
    once is much faster than sentence by sentence). `proba`: the probabilities of all their
    records, in order, when the caller has them already (``decide_parsed``)."""
    flat = [r for recs in per_sentence for r in recs]
    kept = apply_model(model, flat, proba)
    by_key: dict[tuple[str, int, int], Claim] = {(c.statement_id, c.predicate_start, c.predicate_end): c for c in kept}
    out = []
    for recs in per_sentence:
        claims = [by_key[k] for k in dict.fromkeys((r.statement_id, r.start, r.end) for r in recs) if k in by_key]
        claims.sort(key=lambda c: c.predicate_start)
        if len(claims) > 1:
            extractor_for(recs[0].lang)._share_quantities(claims)
        out.append(claims)
    return out
