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

from pipeline.claims.matching import norm_string, word_set
from pipeline.claims.extract import Candidate, ClaimExtractor, _feat, _lem, doc_text, trimmed_span

ROLES = ("actor", "target")
NOMINAL = {"NOUN", "PROPN", "PRON", "NUM", "ADJ", "DET"}
MAX_PATH = 3
# a gold phrase is "found" by the option whose word set overlaps it most, if by at least this much
MIN_GOLD_OVERLAP = 0.3
# a target is right when its words overlap the gold's this much (as `polclaims evaluate claims` scores it)
TARGET_LENIENT = 0.5


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


def span_variant(t: Any, variant: str) -> tuple[int, int] | None:
    """Extra phrase boundaries of a head word: "head" (the word alone), "left" (its subtree up to the
    word: the head-final noun phrase without what a parse error hangs after it), "right" (from the
    word to the end of its subtree)."""
    if variant == "head":
        return trimmed_span([t])
    idxs = sorted(x.i for x in t.subtree)
    if variant == "left":
        run = [t.i]
        for i in reversed([i for i in idxs if i < t.i]):
            if i != run[-1] - 1:
                break
            run.append(i)
        return trimmed_span([t.doc[i] for i in sorted(run)])
    if variant == "right":
        run = [t.i]
        for i in [i for i in idxs if i > t.i]:
            if i != run[-1] + 1:
                break
            run.append(i)
        return trimmed_span([t.doc[i] for i in run])
    raise ValueError(f"unknown span variant {variant!r} (head, left, right)")


def role_options(ex: ClaimExtractor, cand: Candidate, doc: Doc, claim: Any, offset: int,
                 variants: Sequence[str] | None = None, none_context: "bool | Sequence[str]" = False,
                 parent: bool = False) -> dict[str, Any]:
    """Options per role for one candidate: the "none" option first, then phrases. Each option has
    `text`, `start`/`end` (statement offsets; None for "none"), `kind` (the actor kind of its head
    word) and `f` (features). Also `first_person`: the predicate is in the first person (the actor
    kind of a claim without an actor phrase is then "speaker"), and `rule` (the rules' actor,
    actor_kind and target). `variants`: extra span variants of each phrase (``span_variant``);
    `none_context`: the "none" option also sees which relations the phrases near the predicate
    have (and their kind), so that "no actor" is weighed against what is there (True: for both
    roles; or a list of roles). `parent`: an option also names its head word's lemma and relation
    (the decree or protocol whose author the phrase is)."""
    pred = {w.i for w in cand.words} | {cand.main.i} | ({cand.anchor.i} if cand.anchor is not None else set())
    paths = _paths(doc, pred)
    lang = ex.lang
    main = cand.main
    first = min(pred)
    pctx = {"voice": _feat(main, "Voice") or "-", "vform": _feat(main, "VerbForm") or "-",
            "mood": _feat(main, "Mood") or "-", "person": next(
                (p for p in (_feat(w, "Person") for w in cand.words) if p), "-"),
            "modal": str(any(ex.is_modal(w) for w in cand.words)), "rule": cand.rule != "none"}
    extra_variants = tuple(variants or ())
    out: dict[str, Any] = {"rule": {"actor": claim.actor, "actor_kind": claim.actor_kind, "target": claim.target}}
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
            variants += [(v, span_variant(t, v)) for v in extra_variants]
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
                text = doc_text(doc)[span[0]:span[1]]
                is_rule = rule_value is not None and text == rule_value
                f = {f"{k}={v}": 1.0 for k, v in base.items()}
                f.update({f"{lang}:{k}={v}": 1.0 for k, v in base.items() if k in ("path", "first", "case", "pos")})
                f[f"variant={variant}"] = 1.0
                f[f"variant&dep={variant}&{t.dep_}"] = 1.0
                f[f"rule_choice={is_rule}"] = 1.0
                f[f"rule_choice&variant={is_rule}&{variant}"] = 1.0
                f[f"{lang}:lemma={_lem(t)}"] = 1.0
                if parent:   # whose word it is: "Президентінің Жарлығымен", "протоколу Комиссии"
                    f[f"{lang}:parent_lemma={_lem(t.head)}"] = 1.0
                    f[f"parent={t.dep_}&{t.head.dep_}&{_feat(t.head, 'Case') or '-'}"] = 1.0
                f["words"] = min(len(text.split()), 12) / 12.0
                opts.append({"text": text, "start": offset + span[0], "end": offset + span[1], "kind": kind, "f": f})
            if len(steps) <= 2 and (none_context is True or (
                    not isinstance(none_context, bool) and role in none_context)):
                nf = opts[0]["f"]
                nf[f"none&has={path}"] = 1.0
                nf[f"none&has={path}&kind={kind}"] = 1.0
                nf[f"none&has={path}&agent={base['agent']}"] = 1.0
                nf[f"none&has={path}&case={base['case']}"] = 1.0
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


def gold_choices(options: Sequence[dict], gold: str | None, how: str = "best") -> list[int]:
    """The options that count as the annotators' phrase when training: "best" (``gold_choice``),
    "exact" (only options with the gold's words, as the actor is scored; none when no option has
    them), "lenient" (every option whose word overlap with the gold reaches TARGET_LENIENT, as the
    target is scored; else the best)."""
    if how == "best" or not gold:
        k = gold_choice(options, gold)
        return [] if k is None else [k]
    if how == "exact":
        return [i for i, o in enumerate(options[1:], start=1) if norm_string(o["text"]) == norm_string(gold)]
    if how == "lenient":
        ok = [i for i, o in enumerate(options[1:], start=1) if jaccard(o["text"], gold) >= TARGET_LENIENT]
        k = gold_choice(options, gold)
        return ok or ([] if k is None else [k])
    raise ValueError(f"unknown gold option rule {how!r} (best, exact, lenient)")


def role_correct(role: str, gold: str | None, pred: str | None) -> bool:
    """As `polclaims evaluate claims` scores it: the actor exactly (normalised), the target leniently."""
    if role == "target":
        return jaccard(gold, pred) >= TARGET_LENIENT if gold and pred else not gold and not pred
    return norm_string(gold) == norm_string(pred)


class ChoiceLogit:
    """A conditional logit: one linear score per option, softmax over the options of one claim,
    trained to put the probability on the gold options (L2-regularised, L-BFGS). Unlike a per-option
    classifier it compares the options of a claim with each other ("none" against the phrases there)."""

    def __init__(self, C: float = 0.5, max_iter: int = 300):
        self.C, self.max_iter = C, max_iter

    def fit(self, X, sizes: Sequence[int], positive: Sequence[int]) -> "ChoiceLogit":
        """`X`: the options' rows, claim after claim (`sizes[k]` rows each); `positive`: 0/1 per row."""
        import numpy as np
        from scipy.optimize import minimize

        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
        seg = np.repeat(np.arange(len(sizes)), sizes)
        pos = np.asarray(positive, dtype=bool)
        Xt = X.T.tocsr()
        lam = 1.0 / self.C

        def f(w):
            s = X @ w
            m = np.maximum.reduceat(s, starts)
            e = np.exp(s - m[seg])
            z_all = np.add.reduceat(e, starts)
            e_pos = np.where(pos, e, 0.0)
            z_pos = np.add.reduceat(e_pos, starts)
            loss = float(np.sum(np.log(z_all) - np.log(z_pos))) + 0.5 * lam * float(w @ w)
            g = Xt @ (e / z_all[seg] - e_pos / z_pos[seg]) + lam * w
            return loss, g

        res = minimize(f, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": self.max_iter})
        self.coef_ = res.x
        return self

    def decision_function(self, X):
        return X @ self.coef_


class RoleModel:
    """One scorer per role: a logistic regression says how likely each option is the annotators'
    phrase; the option with the highest probability wins ("none" is an option like the others).
    (Training it as a conditional choice, gold option against each other option, scored the same
    on the leave-one-source-out folds and trained three times slower.)

    `use`: per role, "learned", "rules" or "auto", or a table of these per language: where the rules'
    field stays. "auto" decides per language on out-of-fold choices of source-grouped folds inside
    the training data (`inner_folds`), by the evaluator's measure (``role_correct``); a tie keeps
    the rules. `gold`: which options are positive when training (``gold_choices``), per role."""

    def __init__(self, C: float = 0.5, min_count: int = 2, max_iter: int = 2000, use: dict | None = None,
                 gold: dict | None = None, inner_folds: int = 3, form: "str | dict" = "option",
                 decode: dict | None = None, by_language: bool = False):
        self.C, self.min_count, self.max_iter = C, min_count, max_iter
        self.use, self.gold, self.inner_folds = dict(use or {}), dict(gold or {}), inner_folds
        self.form, self.by_language = form, by_language
        for role in ROLES:
            if self._form(role) not in ("option", "choice"):
                raise ValueError(f"roles form {form!r}: option (a classifier per option) or choice (a conditional "
                                 "logit), or a table of these per role")
        # per role: "argmax" (the most probable option) or "lenient" (the option with the highest
        # expected lenient score over the options' probabilities: the way targets are scored)
        self.decode = dict(decode or {})

    def _pipe(self):
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        from pipeline.claims.estimators import MinCount

        return make_pipeline(DictVectorizer(), MinCount(self.min_count),
                             LogisticRegression(C=self.C, max_iter=self.max_iter, tol=1e-3))

    def _use_of(self, role: str, lang: str | None) -> str:
        u = self.use.get(role, "learned")
        if isinstance(u, dict):
            u = u.get(lang or "", u.get("default", "learned"))
        if u not in ("learned", "rules", "auto"):
            raise ValueError(f"roles use of {role}/{lang}: {u!r} (learned, rules or auto)")
        return u

    def fit(self, option_sets: Sequence[dict[str, list[dict]]], gold: Sequence[dict[str, str | None]],
            langs: Sequence[str] | None = None, groups: Sequence[str] | None = None) -> "RoleModel":
        """`option_sets[k]` (role -> options) of a candidate matched to a gold claim whose values
        are `gold[k]` (role -> phrase or None); `langs`, `groups`: its language and source."""
        self.models_ = {}
        langs = list(langs) if langs is not None else [None] * len(option_sets)
        parts = sorted(set(langs), key=str) if getattr(self, "by_language", False) else [None]
        for role, part in [(r, p) for r in ROLES for p in parts]:
            X, y, sizes = [], [], []
            for opts, g, lg in zip(option_sets, gold, langs):
                if part is not None and lg != part:
                    continue
                pos = gold_choices(opts[role], g.get(role), self.gold.get(role, "best"))
                if not pos:
                    continue
                sizes.append(len(opts[role]))
                for i, o in enumerate(opts[role]):
                    X.append(o["f"])
                    y.append(int(i in pos))
            key = role if part is None else f"{role}/{part}"
            if len(set(y)) < 2:
                self.models_[key] = None
            elif self._form(role) == "choice":
                from sklearn.feature_extraction import DictVectorizer

                from pipeline.claims.estimators import MinCount

                from sklearn.pipeline import make_pipeline

                make_columns = make_pipeline(DictVectorizer(), MinCount(self.min_count))
                Xm = make_columns.fit_transform(X, y).tocsr()
                self.models_[key] = (make_columns, ChoiceLogit(self.C).fit(Xm, sizes, y))
            else:
                self.models_[key] = self._pipe().fit(X, y)
        self.use_ = {f"{role}/{lg}": self._use_of(role, lg) for role in ROLES for lg in sorted(set(langs), key=str)}
        if "auto" in self.use_.values():
            self._decide(option_sets, gold, langs, groups)
        return self

    def _decide(self, option_sets, gold, langs, groups) -> None:
        """Replace "auto" by rules or learned: out-of-fold choices on source-grouped inner folds."""
        from collections import Counter

        n_groups = len(set(groups)) if groups is not None else 0
        if n_groups < 2:   # nothing to decide on honestly: the learned chooser
            self.use_ = {k: ("learned" if v == "auto" else v) for k, v in self.use_.items()}
            return
        from sklearn.model_selection import GroupKFold

        wins: dict[str, Counter] = {k: Counter() for k, v in self.use_.items() if v == "auto"}
        idx = list(range(len(option_sets)))
        for tr, te in GroupKFold(n_splits=min(self.inner_folds, n_groups)).split(idx, groups=list(groups)):
            inner = RoleModel(self.C, self.min_count, self.max_iter, gold=self.gold, form=self.form, decode=self.decode,
                              by_language=self.by_language).fit(
                [option_sets[i] for i in tr], [gold[i] for i in tr], langs=[langs[i] for i in tr])
            for role in ROLES:
                chosen = inner.choose([option_sets[i] for i in te], role, [langs[i] for i in te])
                for i, o in zip(te, chosen):
                    key = f"{role}/{langs[i]}"
                    if key in wins:
                        g = gold[i].get(role)
                        wins[key]["learned"] += role_correct(role, g, o["text"])
                        wins[key]["rules"] += role_correct(role, g, option_sets[i].get("rule", {}).get(role))
        self.decided_ = {k: dict(v) for k, v in wins.items()}
        for k, v in wins.items():
            self.use_[k] = "learned" if v["learned"] > v["rules"] else "rules"

    def uses(self, role: str, lang: str | None) -> str:
        """"learned" or "rules" for this role and language (as fitted; a model from before this
        choice existed learns every role; a model fitted per language keeps the rules' fields of
        a language it was not trained on)."""
        if getattr(self, "by_language", False) and self.models_.get(f"{role}/{lang}") is None:
            return "rules"   # a language the chooser has not seen (a model trained with --lang)
        use = getattr(self, "use_", None)
        if use is None:
            return "learned"
        return use.get(f"{role}/{lang}", "learned" if self._use_of(role, lang) == "auto" else self._use_of(role, lang))

    def _form(self, role: str) -> str:
        form = getattr(self, "form", "option")
        return form.get(role, "option") if isinstance(form, dict) else form

    def choose(self, option_sets: Sequence[dict[str, list[dict]]], role: str,
               langs: Sequence[str | None] | None = None) -> list[dict]:
        """The chosen option of each candidate for `role` (`langs`: each candidate's language, for
        a model fitted per language)."""
        if not getattr(self, "by_language", False):
            return self._choose(option_sets, self.models_.get(role), role)
        if langs is None:
            raise ValueError("this role model was fitted per language: pass each candidate's language")
        out: list[Any] = [None] * len(option_sets)
        for lg in set(langs):
            idx = [k for k, x in enumerate(langs) if x == lg]
            for k, o in zip(idx, self._choose([option_sets[k] for k in idx], self.models_.get(f"{role}/{lg}"), role)):
                out[k] = o
        return out

    def _choose(self, option_sets: Sequence[dict[str, list[dict]]], m: Any, role: str) -> list[dict]:
        flat = [o["f"] for opts in option_sets for o in opts[role]]
        if m is None or not flat:
            return [opts[role][0] for opts in option_sets]
        import numpy as np

        if isinstance(m, tuple):
            p = m[1].decision_function(m[0].transform(flat))
        else:
            p = m.predict_proba(flat)[:, 1]
        lenient = getattr(self, "decode", {}).get(role) == "lenient"
        out, k = [], 0
        for opts in option_sets:
            n = len(opts[role])
            s = p[k:k + n]
            if lenient and n > 1:
                # the option with the highest expected lenient score: an option counts for every
                # other option it overlaps enough, weighted by that option's probability
                w = np.exp(s - s.max()) if isinstance(m, tuple) else s
                w = w / w.sum()
                texts = [o["text"] for o in opts[role]]
                agree = np.array([[role_correct("target", a, b) for b in texts] for a in texts], dtype=float)
                s = agree @ w
            out.append(opts[role][int(s.argmax())])
            k += n
        return out


def apply_roles(model: RoleModel, claims: Sequence[Any], option_sets: Sequence[dict],
                langs: Sequence[str] | None = None) -> None:
    """Set actor, actor_kind and target of each claim from the chosen options (in place), where the
    model learns the role for the claim's language (``RoleModel.uses``); elsewhere the rules' field stays."""
    if not claims:
        return
    langs = list(langs) if langs is not None else [getattr(c, "lang", None) for c in claims]
    for role in ROLES:
        sel = [k for k, lg in enumerate(langs) if model.uses(role, lg) == "learned"]
        if not sel:
            continue
        for k, o in zip(sel, model.choose([option_sets[k] for k in sel], role, [langs[k] for k in sel])):
            c = claims[k]
            setattr(c, role, o["text"])
            if role == "actor":
                if o["text"] is not None:
                    c.actor_kind = o["kind"]
                else:
                    c.actor_kind = "speaker" if option_sets[k].get("first_person") else "unspecified"
