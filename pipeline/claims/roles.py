"""Learned actor and target of a claim: pick one phrase of the sentence (or none) per role.

Why: the rule extractor's field filling (``ClaimExtractor.fill``) takes the subject as actor and the
object as target. On the claims corpus that misses most of what annotators mark (held-out actor
0.72 kk / 0.64 ru, target 0.30 / 0.42): agents of passives ("утверждены Правительством"), authors
of decrees ("Указом Президента ..."), speakers of reported obligations, subjects the rules think
cannot act, targets that are passive subjects, datives or longer phrases than the object's head.

Here every nominal word near the predicate in the dependency tree is an *option*, in a few span
variants, plus a "none" option; a logistic regression scores each option from its dependency path
to the predicate, case, animacy, entity type, the actor lexicons of ``configs/claims/<lang>.toml``
and whether the rules chose it, and the best-scoring option wins. Options are plain dicts (no spaCy
objects) so they are cached with the candidate records and cross-validated without parsing again.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Iterable, Sequence

from spacy.tokens import Doc

from pipeline.claims.matching import word_set
from pipeline.claims.extract import Candidate, ClaimExtractor, _feat, _lem, trimmed_span

ROLES = ("actor", "target")
NOMINAL = {"NOUN", "PROPN", "PRON", "NUM", "ADJ", "DET"}
MAX_PATH = 3
# a gold phrase is "found" by the option whose word set overlaps it most, if by at least this much
MIN_GOLD_OVERLAP = 0.3


def jaccard(a: str | None, b: str | None) -> float:
    wa, wb = word_set(a), word_set(b)
    if not wa or not wb:
        return 1.0 if not wa and not wb else 0.0
    return len(wa & wb) / len(wa | wb)


def _paths(doc: Doc, start: Iterable[int]) -> dict[int, str]:
    """Shortest dependency path (at most MAX_PATH steps) from the predicate's words to each token:
    "v<dep>" goes down to a child, "^<dep>" up from a word attached by <dep>."""
    seen: dict[int, str] = {}
    queue: deque[tuple[int, str, int]] = deque()
    for i in start:
        seen[i] = ""
        queue.append((i, "", 0))
    while queue:
        i, path, n = queue.popleft()
        if n >= MAX_PATH:
            continue
        t = doc[i]
        steps = [(c.i, f"v{c.dep_}") for c in t.children]
        if t.head.i != t.i:
            steps.append((t.head.i, f"^{t.dep_}"))
        for j, step in steps:
            if j not in seen:
                seen[j] = f"{path}/{step}" if path else step
                queue.append((j, seen[j], n + 1))
    return seen


def _bin(n: int) -> str:
    return str(n) if n <= 3 else "4-6" if n <= 6 else "7-12" if n <= 12 else "13+"


def role_options(ex: ClaimExtractor, cand: Candidate, doc: Doc, claim: Any, offset: int) -> dict[str, list[dict]]:
    """Options per role for one candidate: the "none" option first, then phrases. Each option has
    `text`, `start`/`end` (statement offsets; None for "none"), `kind` (the actor kind of its head
    word) and `f` (features). Also `first_person`: the predicate is in the first person (the actor
    kind of a claim without an actor phrase is then "speaker")."""
    pred = {w.i for w in cand.words} | {cand.main.i} | ({cand.anchor.i} if cand.anchor is not None else set())
    paths = _paths(doc, pred)
    lang = ex.lang
    main = cand.main
    first = min(pred)
    pctx = {"voice": _feat(main, "Voice") or "-", "vform": _feat(main, "VerbForm") or "-",
            "mood": _feat(main, "Mood") or "-", "person": next(
                (p for p in (_feat(w, "Person") for w in cand.words) if p), "-"),
            "modal": str(any(ex.is_modal(w) for w in cand.words)), "rule": cand.rule != "none"}
    out: dict[str, list[dict]] = {}
    for role in ROLES:
        rule_value = getattr(claim, role)
        opts = [{"text": None, "start": None, "end": None, "kind": None,
                 "f": {f"{lang}:none": 1.0, "none": 1.0, f"none&rule_null={rule_value is None}": 1.0,
                       **{f"none&{k}={v}": 1.0 for k, v in pctx.items()},
                       **{f"{lang}:none&{k}={v}": 1.0 for k, v in pctx.items()}}}]
        seen_spans = set()
        for i, path in paths.items():
            t = doc[i]
            if i in pred or t.pos_ not in NOMINAL or t.is_punct:
                continue
            if t.pos_ in ("ADJ", "DET") and t.dep_ in ("amod", "det"):
                continue
            variants = [("phrase", ex.span_text(t, cut_comma=(role == "target"))), ("subtree", trimmed_span(list(t.subtree)))]
            if role == "target":
                variants.append(("phrase_nc", ex.span_text(t, cut_comma=False)))
            kind = ex.actor_kind(t)
            steps = path.split("/")
            base = {
                "path": path, "first": steps[0], "last": steps[-1], "len": str(len(steps)),
                "pos": t.pos_, "dep": t.dep_, "case": _feat(t, "Case") or "-",
                "anim": _feat(t, "Animacy") or "-", "ent": t.ent_type_ or "-", "kind": kind,
                "agent": str(ex.is_agent(t)), "side": "before" if t.i < first else "after",
                "dist": _bin(abs(t.i - first)),
                "path&case": f"{path}&{_feat(t, 'Case') or '-'}",
                "path&voice": f"{path}&{pctx['voice']}", "path&modal": f"{path}&{pctx['modal']}",
                "first&vform": f"{steps[0]}&{pctx['vform']}", "first&person": f"{steps[0]}&{pctx['person']}",
                "kind&first": f"{kind}&{steps[0]}",
            }
            for variant, span in variants:
                if span is None or span in seen_spans:
                    continue
                seen_spans.add(span)
                text = doc.text[span[0]:span[1]]
                is_rule = rule_value is not None and text == rule_value
                f = {f"{k}={v}": 1.0 for k, v in base.items()}
                f.update({f"{lang}:{k}={v}": 1.0 for k, v in base.items() if k in ("path", "first", "case", "pos")})
                f[f"variant={variant}"] = 1.0
                f[f"variant&dep={variant}&{t.dep_}"] = 1.0
                f[f"rule_choice={is_rule}"] = 1.0
                f[f"rule_choice&variant={is_rule}&{variant}"] = 1.0
                f[f"{lang}:lemma={_lem(t)}"] = 1.0
                f["words"] = min(len(text.split()), 12) / 12.0
                opts.append({"text": text, "start": offset + span[0], "end": offset + span[1], "kind": kind, "f": f})
        out[role] = opts
    out["first_person"] = pctx["person"] == "1"
    return out


def gold_choice(options: Sequence[dict], gold: str | None) -> int | None:
    """Index of the option that matches the gold phrase (0, "none", for a null gold value); None
    when no option reaches it (the claim then teaches nothing about this role)."""
    if not gold:
        return 0
    exact = word_set(gold)
    for i, o in enumerate(options[1:], start=1):  # the same words: the annotators' phrase itself
        if word_set(o["text"]) == exact:
            return i
    best, best_i = 0.0, None
    for i, o in enumerate(options[1:], start=1):
        j = jaccard(o["text"], gold)
        if j > best:
            best, best_i = j, i
    return best_i if best >= MIN_GOLD_OVERLAP else None


class RoleModel:
    """One scorer per role: a logistic regression says how likely each option is the annotators'
    phrase; the option with the highest probability wins ("none" is an option like the others).
    (Training it as a conditional choice, gold option against each other option, scored the same
    on the leave-one-source-out folds and trained three times slower.)"""

    def __init__(self, C: float = 0.5, min_count: int = 2, max_iter: int = 2000):
        self.C, self.min_count, self.max_iter = C, min_count, max_iter

    def _pipe(self):
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        from pipeline.claims.estimators import MinCount

        return make_pipeline(DictVectorizer(), MinCount(self.min_count),
                             LogisticRegression(C=self.C, max_iter=self.max_iter, tol=1e-3))

    def fit(self, option_sets: Sequence[dict[str, list[dict]]], gold: Sequence[dict[str, str | None]]) -> "RoleModel":
        """`option_sets[k]` (role -> options) of a candidate matched to a gold claim whose values
        are `gold[k]` (role -> phrase or None)."""
        self.models_ = {}
        for role in ROLES:
            X, y = [], []
            for opts, g in zip(option_sets, gold):
                choice = gold_choice(opts[role], g.get(role))
                if choice is None:
                    continue
                for i, o in enumerate(opts[role]):
                    X.append(o["f"])
                    y.append(int(i == choice))
            self.models_[role] = self._pipe().fit(X, y) if len(set(y)) > 1 else None
        return self

    def choose(self, option_sets: Sequence[dict[str, list[dict]]], role: str) -> list[dict]:
        """The chosen option of each candidate for `role` (one model call for all)."""
        m = self.models_.get(role)
        flat = [o["f"] for opts in option_sets for o in opts[role]]
        if m is None or not flat:
            return [opts[role][0] for opts in option_sets]
        p = m.predict_proba(flat)[:, 1]
        out, k = [], 0
        for opts in option_sets:
            n = len(opts[role])
            out.append(opts[role][int(p[k:k + n].argmax())])
            k += n
        return out


def apply_roles(model: RoleModel, claims: Sequence[Any], option_sets: Sequence[dict],
                langs: Sequence[str] | None = None) -> None:
    """Set actor, actor_kind and target of each claim from the chosen options (in place)."""
    if not claims:
        return
    for role in ROLES:
        for c, o in zip(claims, model.choose(option_sets, role)):
            setattr(c, role, o["text"])
            if role == "actor" and o["text"] != None:  # noqa: E711
                c.actor_kind = o["kind"]
    for c, opts in zip(claims, option_sets):
        if c.actor is None:
            c.actor_kind = "speaker" if opts.get("first_person") else "unspecified"
