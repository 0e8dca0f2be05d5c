"""Link claims about the same policy commitment: blocking, pair scores, and grouping into threads.

Why this shape: comparing all pairs of 100,000 claims is 5·10⁹ comparisons; comparing only claims
whose action lemmas are the same or related (``configs/threads/<lang>.toml``) *and* that share a
rare word or number keeps it near-linear. A pair's score weighs the lemma, the target words, the
sentence words and the numbers (``configs/threads/link.toml``); groups are then merged by average
linkage, so one strong but wrong link cannot chain two unrelated promises into one thread
(precision first). kk↔ru twins (``aligned_to``) and claims of one statement or its parallel page
form one *unit* and are never linked to each other: they count once.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Sequence

import numpy as np

from pipeline import config

WORD = re.compile(r"[^\W\d_]+", re.U)
QUOTED = re.compile(r"[«\"“]([^»\"”]{3,80})[»\"”]")
YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


@dataclass
class ThreadClaim:
    """What linking needs of a claim (a row of the store's claims joined with its statement)."""

    claim_id: str
    statement_id: str
    lang: str
    type: str
    predicate_lemma: str | None = None
    actor: str | None = None
    target: str | None = None
    sentence: str = ""
    topic: str | None = None
    polarity: str = "affirmative"
    quantities: list = field(default_factory=list)
    aligned_to: str | None = None
    group: str | None = None     # the statement's parallel group (parallel_id), if any
    source: str | None = None


@lru_cache(maxsize=None)
def lang_config(lang: str) -> dict:
    """Related-verb groups, stopwords and word settings of one language (empty when not configured)."""
    try:
        cfg = config.load(f"threads/{lang}")
    except FileNotFoundError:
        cfg = {}
    groups: dict[str, frozenset[str]] = {}
    members = defaultdict(set)
    for name, verbs in cfg.get("related", {}).items():
        for v in verbs:
            members[v.casefold()].add(name)
    groups = {k: frozenset(v) for k, v in members.items()}
    words = cfg.get("words", {})
    return {"groups": groups, "stop": frozenset(w.casefold() for w in cfg.get("stopwords", {}).get("words", [])),
            "stem": int(words.get("stem_length", 5)), "min": int(words.get("min_length", 4)),
            "light": frozenset(w.casefold() for w in words.get("light_verbs", [])),
            "self_reference": tuple(w.casefold() for w in words.get("self_reference", [])),
            "numbers": cfg.get("numbers", {}),
            "document_clause": tuple(re.compile(x, re.I | re.S) for x in cfg.get("document", {}).get("clauses", [])),
            "document_target": tuple(re.compile(x, re.I | re.S) for x in cfg.get("document", {}).get("targets", []))}


# -- near duplicates: one sentence reprinted, numbers once in digits and once in words -----------
TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+|%", re.U)


def _number_value(words: list[str], nums: dict) -> int:
    """The value of a run of number words ("жүз миллиард", "бес мың", "пятидесяти")."""
    units, hundreds, scales = nums.get("units", {}), set(nums.get("hundreds", [])), nums.get("scales", {})
    total = current = 0
    for w in words:
        if w in scales:
            total += max(current, 1) * int(scales[w])
            current = 0
        elif w in hundreds:
            current = max(current, 1) * 100
        else:
            current += int(units[w])
    return total + current


@lru_cache(maxsize=65536)
def normalised_text(text: str | None, lang: str) -> str:
    """`text` casefolded with its number words read as numbers (`[numbers]` of
    configs/threads/<lang>.toml: "алпыс пайыздан" -> "60 %", "бес мың" -> "5000", "600 млрд" ->
    "600000000000") and per-cent words as "%": two prints of one sentence then read alike."""
    if not text:
        return ""
    lc = lang_config(lang)
    nums = lc["numbers"]
    units, hundreds, scales = nums.get("units", {}), set(nums.get("hundreds", [])), nums.get("scales", {})
    percent = tuple(nums.get("percent", []))
    out: list[str] = []
    run: list[str] = []
    digits: float | None = None

    def flush() -> None:
        nonlocal run, digits
        if run:
            out.append(str(_number_value(run, nums)))
        run = []

    for tok in TOKEN.findall(text.casefold()):
        t = tok.rstrip(".")
        if t in units or t in hundreds or (t in scales and run):
            run.append(t)
            continue
        flush()
        if t in scales and out and out[-1][:1].isdigit():      # "600 млрд", "5 мың": digits times the scale
            try:
                v = float(out[-1].replace(",", ".")) * int(scales[t])
                out[-1] = str(int(v)) if v == int(v) else str(v)
                continue
            except ValueError:
                pass
        out.append("%" if percent and t.startswith(percent) else t)
    flush()
    return " ".join(out)


@lru_cache(maxsize=8192)
def _grams(norm: str, n: int = 4) -> frozenset:
    s = norm.replace(" ", "")
    return frozenset(s[k:k + n] for k in range(max(1, len(s) - n + 1)))


def near_duplicate(a: "_Prepared", b: "_Prepared") -> float:
    """Jaccard of the character 4-grams of the two claims' normalised sentences (spaces dropped):
    1 for one sentence printed twice, whether its numbers are in digits or words."""
    ga, gb = _grams(a.norm), _grams(b.norm)
    if not ga or not gb:
        return 0.0
    inter = len(ga & gb)
    return inter / (len(ga) + len(gb) - inter)


def document_clause(text: str | None, target: str | None, lang: str) -> bool:
    """"Осы қаулының орындалуын бақылау … жүктелсін", "Настоящее постановление вводится в действие …",
    "… акимат ПОСТАНОВЛЯЕТ", "обеспечить государственную регистрацию настоящего постановления": a clause
    about its own document ([document] of the language: `clauses` in the text, `targets` in the target)."""
    lc = lang_config(lang)
    return bool((text and any(p.search(text) for p in lc["document_clause"]))
                or (target and any(p.search(target) for p in lc["document_target"])))


@lru_cache(maxsize=1)
def _document_number() -> re.Pattern | None:
    pat = settings().get("features", {}).get("document_number")
    return re.compile(pat) if pat else None


def document_numbers(target: str | None) -> set[str]:
    """The document numbers a target names ("№ 18/2 қаулысына" -> {"18/2"})."""
    pat = _document_number()
    return {m.rstrip(".") for m in pat.findall(target)} if target and pat else set()


def self_referring(target: str | None, lang: str) -> bool:
    """"настоящее постановление", "осы қаулы": a target naming the text it stands in."""
    prefixes = lang_config(lang)["self_reference"]
    return bool(target and prefixes and any(w.startswith(prefixes) for w in WORD.findall(target.casefold())))


def individual_act(lemma: str | None, lang: str) -> bool:
    """An appointment, award or dismissal (`[acts]` of configs/threads/link.toml)."""
    groups = lang_config(lang)["groups"].get((lemma or "").casefold(), frozenset())
    return bool(groups & set(settings().get("acts", {}).get("individual_groups", [])))


def settings() -> dict:
    return config.load("threads/link")


@contextmanager
def overridden(values: dict[str, Any]):
    """Settings of configs/threads/link.toml replaced for a while: {"blocking.numbered_apart": True}
    (the held-out evaluation links the corpus once per candidate setting)."""
    s, old = settings(), {}
    try:
        for path, value in values.items():
            table, key = path.split(".", 1)
            old[path] = s.setdefault(table, {}).get(key, _MISSING)
            s[table][key] = value
        yield
    finally:
        for path, value in old.items():
            table, key = path.split(".", 1)
            if value is _MISSING:
                s[table].pop(key, None)
            else:
                s[table][key] = value


_MISSING = object()


def stems(text: str | None, lang: str) -> set[str]:
    """Content words of `text` cut to the language's stem length (a crude, cheap stemmer that meets
    "школ", "школы", "школами"; "мектеп", "мектептер")."""
    if not text:
        return set()
    lc = lang_config(lang)
    n, mn, stop = lc["stem"], lc["min"], lc["stop"]
    return {w[:n] for w in WORD.findall(text.casefold()) if len(w) >= mn and w not in stop}


def lemma_keys(lemma: str | None, lang: str) -> set[str]:
    """Blocking keys of a lemma: itself, every related-verbs group it belongs to, and the groups
    whose promises those groups enact (`[enacts]` of configs/threads/link.toml)."""
    if not lemma or lemma.casefold() in lang_config(lang)["light"]:
        return set()
    lemma = lemma.casefold()
    groups = lang_config(lang)["groups"].get(lemma, frozenset())
    enacts = settings().get("enacts", {})
    return {"=" + lemma} | {"~" + g for g in groups} | {"~" + e for g in groups for e in enacts.get(g, ())}


def _numbers(c: ThreadClaim) -> tuple[set[str], dict[str, set[str]]]:
    """Years in the sentence and amounts (by unit) of the claim."""
    years = set(YEAR.findall(c.sentence or ""))
    amounts: dict[str, set[str]] = defaultdict(set)
    for q in c.quantities or []:
        if isinstance(q, dict) and q.get("value") not in (None, ""):
            amounts[str(q.get("unit") or "").casefold()].add(str(q.get("value")))
    return years, amounts


@dataclass
class _Prepared:
    claim: ThreadClaim
    unit: int
    keys: set[str]
    obj: set[str]
    sent: set[str]
    years: set[str]
    amounts: dict[str, set[str]]
    index: set[str] = field(default_factory=set)
    individual: bool = False
    groups: frozenset = frozenset()        # related-verbs groups of the lemma
    names: set[str] = field(default_factory=set)   # stems of capitalised words past the first
    actor: set[str] = field(default_factory=set)
    numbered: bool = False                 # a numbered clause ("1. Утвердить …", "2. … бекітілсін")
    light: bool = False                    # no lemma, or a light verb ("болу", "быть")
    twin: int | None = None                # index of the kk↔ru twin among the prepared claims
    vec_target: "np.ndarray | None" = None     # unit mean word vector of the target («names» when none)
    vec_predicate: "np.ndarray | None" = None  # unit mean word vector of the predicate lemma
    vec_sentence: "np.ndarray | None" = None   # unit idf-weighted mean word vector of the sentence's content words
    norm: str = ""                         # the sentence with number words read as numbers (normalised_text)
    doc_clause: bool = False               # a clause about its own document's execution (document_clause)
    doc_numbers: set[str] = field(default_factory=set)   # document numbers its target names


def prepare(claims: Sequence[ThreadClaim], predicate_cosine: float | None = None
            ) -> tuple[list[_Prepared], dict[str, dict[str, float]]]:
    """Features of every claim and the idf of every stem per language. `predicate_cosine`: the
    cut of near_predicate_keys (None: `[vectors] related_predicate_cosine`)."""
    units = _units(claims)
    prepared = []
    df: dict[str, Counter] = defaultdict(Counter)
    for c in claims:
        obj = stems(c.target, c.lang)
        for q in QUOTED.findall(c.sentence or ""):
            obj |= stems(q, c.lang)
        sent = stems(c.sentence, c.lang) | obj
        years, amounts = _numbers(c)
        keys = set() if self_referring(c.target, c.lang) else lemma_keys(c.predicate_lemma, c.lang)
        lemma = (c.predicate_lemma or "").casefold()
        lc = lang_config(c.lang)
        prepared.append(_Prepared(c, units[c.claim_id], keys, obj, sent, years, amounts,
                                  individual=c.type == "decision" and individual_act(c.predicate_lemma, c.lang),
                                  groups=lc["groups"].get(lemma, frozenset()), names=name_stems(c.sentence, c.lang),
                                  actor=stems(c.actor, c.lang), numbered=bool(_numbered().match(c.sentence or "")),
                                  light=not lemma or lemma in lc["light"], norm=normalised_text(c.sentence, c.lang),
                                  doc_clause=document_clause(c.sentence, c.target, c.lang),
                                  doc_numbers=document_numbers(c.target)))
        df[c.lang].update(sent | prepared[-1].names | prepared[-1].actor)
    idf = {}
    for lang, counts in df.items():
        n = sum(1 for p in prepared if p.claim.lang == lang)
        idf[lang] = {w: math.log((n + 1) / (k + 0.5)) for w, k in counts.items()}
        idf[lang][UNIQUE] = math.log((n + 1) / 1.5)   # the weight of a word only one claim holds
    at = {p.claim.claim_id: i for i, p in enumerate(prepared)}
    for p in prepared:
        p.twin = at.get(p.claim.aligned_to) if p.claim.aligned_to else None
    rare = int(settings()["blocking"].get("rare_sentence_words", 3))
    for p in prepared:  # words that propose pairs: the target's, and the sentence's rarest few
        counts = df[p.claim.lang]
        p.index = p.obj | set(sorted(p.sent - p.obj, key=lambda w: (counts[w], w))[:rare])
    if vector_settings().get("use", False):
        add_vectors(prepared, idf)
        cut = vector_settings().get("related_predicate_cosine", 0.0) if predicate_cosine is None else predicate_cosine
        near_predicate_keys(prepared, float(cut))
    return prepared, idf


# -- word vectors -------------------------------------------------------------------------------
def vector_settings() -> dict:
    return settings().get("vectors", {})


def _words(text: str | None, lang: str) -> list[str]:
    """The content words of `text` (casefolded; not stopwords, at least the language's min length)."""
    if not text:
        return []
    lc = lang_config(lang)
    return [w for w in WORD.findall(text.casefold()) if len(w) >= lc["min"] and w not in lc["stop"]]


def add_vectors(prepared: Sequence[_Prepared], idf: dict[str, dict[str, float]]) -> None:
    """Mean word vectors of each claim's target, predicate lemma and sentence, from the language's
    vectors (``configs/claims/<lang>.toml [vectors]``, via ``pipeline.claims.vectors``): they meet
    "реконструкция школ" and "ремонт учебных заведений", which share no word. Each language's
    vectors live in their own space: only claims of one language (or their twins) are compared.
    A language without vectors leaves its claims' vectors None (the features read 0)."""
    from pipeline.claims.vectors import _table

    by_lang: dict[str, list[_Prepared]] = defaultdict(list)
    for p in prepared:
        by_lang[p.claim.lang].append(p)
    for lang, ps in by_lang.items():
        table = _table(lang)
        if table is None:
            continue
        word_ids, rows = table
        texts = []
        for p in ps:
            c = p.claim
            target = _words(c.target, lang) or [w for q in QUOTED.findall(c.sentence or "") for w in _words(q, lang)]
            texts.append((target, WORD.findall((c.predicate_lemma or "").casefold()), _words(c.sentence, lang)))
        vocab = sorted({w for t in texts for part in t for w in part if w in word_ids})
        if not vocab:
            continue
        at = {w: k for k, w in enumerate(vocab)}
        m = rows([word_ids[w] for w in vocab]).astype(np.float32)
        m /= np.linalg.norm(m, axis=1, keepdims=True) + 1e-9
        w_idf = idf.get(lang, {})
        n = lang_config(lang)["stem"]

        def mean(words: list[str], weighted: bool) -> "np.ndarray | None":
            ks = [at[w] for w in words if w in at]
            if not ks:
                return None
            wt = np.asarray([w_idf.get(vocab[k][:n], 1.0) if weighted else 1.0 for k in ks], dtype=np.float32)
            v = (m[ks] * wt[:, None]).sum(0)
            norm = float(np.linalg.norm(v))
            return v / norm if norm > 0 else None

        for p, (target, pred, sent) in zip(ps, texts):
            p.vec_target = mean(target, True)
            p.vec_predicate = mean(pred, False)
            p.vec_sentence = mean(sent, True)


def near_predicate_keys(prepared: Sequence[_Prepared], cut: float) -> None:
    """Two different action lemmas of one language whose word vectors have at least cosine `cut`
    ("қарау" / "қарастыру", "қол жеткізу" / "жеткізу") are related as lemmas of one related-verbs
    group are: both claims get the key "≈a|b", so blocking proposes them and the rule score counts
    `related_lemma`. Only each lemma's `[vectors] near_lemmas` nearest count (a vector space where
    many verbs sit near one common verb must not make that verb related to all of them). Claims
    without keys (no lemma, a light verb, a self-reference) get none. `cut` <= 0: off."""
    if cut <= 0:
        return
    k = int(vector_settings().get("near_lemmas", 3))
    by_lang: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for p in prepared:
        lemma = (p.claim.predicate_lemma or "").casefold()
        if p.keys and p.vec_predicate is not None:
            by_lang[p.claim.lang].setdefault(lemma, p.vec_predicate)
    near: dict[tuple[str, str], set[str]] = defaultdict(set)
    for lang, vecs in by_lang.items():
        lemmas = sorted(vecs)
        if len(lemmas) < 2:
            continue
        m = np.stack([vecs[x] for x in lemmas])
        for start in range(0, len(lemmas), 1024):   # blocks of rows: memory stays small for any vocabulary
            sims = m[start:start + 1024] @ m.T
            for r in range(sims.shape[0]):
                sims[r, start + r] = -1.0                 # not itself
                top = np.argsort(-sims[r])[:k]
                for c in top[sims[r, top] >= cut]:       # its k nearest lemmas, those at the cut or above
                    a, b = sorted((lemmas[start + r], lemmas[c]))
                    key = f"≈{a}|{b}"
                    near[(lang, a)].add(key)
                    near[(lang, b)].add(key)
    for p in prepared:
        if p.keys:
            p.keys |= near.get((p.claim.lang, (p.claim.predicate_lemma or "").casefold()), set())


def cosine(u: "np.ndarray | None", v: "np.ndarray | None") -> float:
    """Cosine of two unit vectors; 0 when either is missing."""
    if u is None or v is None:
        return 0.0
    return float(np.dot(u, v))


@lru_cache(maxsize=1)
def _numbered() -> re.Pattern:
    return re.compile(settings().get("features", {}).get("numbered_clause", r"^\s*\d{1,2}[.)]\s"))


def name_stems(text: str | None, lang: str) -> set[str]:
    """Stems of the capitalised words of `text` after its first word ("Павлодарской", "Аккольского",
    "Өрсариевке"): the places, bodies and people that tell two template decrees apart."""
    if not text:
        return set()
    lc = lang_config(lang)
    out = set()
    for k, m in enumerate(WORD.finditer(text)):
        w = m.group()
        if k and w[0].isupper() and len(w) >= lc["min"] and w.casefold() not in lc["stop"]:
            out.add(w.casefold()[:lc["stem"]])
    return out


def _units(claims: Sequence[ThreadClaim]) -> dict[str, int]:
    """Claims that are one claim said twice (kk↔ru twins): one unit id each."""
    parent = {c.claim_id: c.claim_id for c in claims}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in claims:
        if c.aligned_to and c.aligned_to in parent:
            a, b = find(c.claim_id), find(c.aligned_to)
            if a != b:
                parent[a] = b
    ids: dict[str, int] = {}
    return {c.claim_id: ids.setdefault(find(c.claim_id), len(ids)) for c in claims}


UNIQUE = "\0unique"


def _weighted(a: set[str], b: set[str], idf: dict[str, float], mode: str) -> float:
    if not a or not b:
        return 0.0
    shared = sum(idf.get(w, 1.0) for w in a & b)
    if not shared:
        return 0.0
    wa, wb = sum(idf.get(w, 1.0) for w in a), sum(idf.get(w, 1.0) for w in b)
    if mode == "overlap":
        # scaled down when what is shared weighs less than `min_shared_target` unique words
        need = float(settings()["score"].get("min_shared_target", 0.0)) * idf.get(UNIQUE, 1.0)
        return shared / min(wa, wb) * (min(1.0, shared / need) if need > 0 else 1.0)
    return shared / (wa + wb - shared)


def pair_features(a: _Prepared, b: _Prepared, idf: dict[str, float]) -> dict[str, float]:
    """The evidence that two claims are one commitment, each in [0, 1]."""
    s = settings()["score"]
    ka, kb = a.keys, b.keys
    same = bool({k for k in ka if k[0] == "="} & {k for k in kb if k[0] == "="})
    related = bool(ka & kb)
    shared_amount = any(a.amounts[u] & b.amounts.get(u, set()) for u in a.amounts)
    conflict = any(a.amounts[u] and b.amounts.get(u) and not (a.amounts[u] & b.amounts[u]) for u in a.amounts)
    return {
        "lemma": 1.0 if same else (float(s["related_lemma"]) if related else 0.0),
        "target": _weighted(a.obj, b.obj, idf, "overlap"),
        "sentence": _weighted(a.sent, b.sent, idf, "jaccard"),
        "numbers": 1.0 if (shared_amount or (a.years & b.years)) else 0.0,
        "conflict": 1.0 if conflict else 0.0,
    }


def score(f: dict[str, float]) -> float:
    s = settings()["score"]
    return (s["w_lemma"] * f["lemma"] + s["w_target"] * f["target"] + s["w_sentence"] * f["sentence"]
            + s["w_numbers"] * f["numbers"] - s["w_conflict"] * f["conflict"])


def compatible(a: _Prepared, b: _Prepared, need_keys: bool = True) -> bool:
    """Hard rules before any score: two units, two statements, one language, one polarity, one
    topic (where both are known), not two individual acts, and (for the rule score, `need_keys`)
    a related action; the learned linker weighs the action itself."""
    ca, cb = a.claim, b.claim
    if a.unit == b.unit or ca.statement_id == cb.statement_id or ca.lang != cb.lang:
        return False
    if ca.group and ca.group == cb.group:
        return False
    if (ca.polarity or "affirmative") != (cb.polarity or "affirmative"):
        return False
    if settings()["blocking"].get("same_topic", True) and ca.topic and cb.topic and ca.topic != cb.topic:
        return False
    if a.individual and b.individual:  # two appointments (awards, dismissals) are two events
        return False
    if a.numbered and b.numbered and ca.type == cb.type and settings()["blocking"].get("numbered_apart", False):
        return False   # operative items of two documents ("1. Утвердить …" of two akimats): two acts
    return bool(a.keys & b.keys) or not need_keys or reprint(a, b)


def reprint(a: _Prepared, b: _Prepared) -> bool:
    """One sentence printed twice (`[blocking] near_duplicate`, near_duplicate), both with a target
    (a claim naming no object, such as a decree's enacting formula "… акимат ПОСТАНОВЛЯЕТ", is in every
    template) and neither a clause about its own document (a control clause is in every decree):
    compared whatever their verbs (a light verb, a self-reference)."""
    cut = float(settings()["blocking"].get("near_duplicate", 0.0))
    return (cut > 0 and bool(a.claim.target and b.claim.target) and not (a.doc_clause or b.doc_clause)
            and near_duplicate(a, b) >= cut)


def linked(f: dict[str, float]) -> bool:
    s = settings()["score"]
    if f["lemma"] <= 0:
        return False
    if f["target"] <= 0 and f["sentence"] < s["min_sentence"]:
        return False
    return score(f) >= s["threshold"]


def candidate_pairs(prepared: Sequence[_Prepared], text: bool = False) -> Iterable[tuple[int, int]]:
    """Pairs of claims (indexes) sharing a lemma key and a rare word, year or amount: the only ones
    scored. A word held by more than `blocking.max_postings` claims of a block proposes nothing.
    With `text` (the learned linker), also pairs sharing rare words whatever their verbs."""
    cap = int(settings()["blocking"]["max_postings"])
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        for k in p.keys:
            blocks[(p.claim.lang, k)].append(i)
    seen: set[tuple[int, int]] = set()
    yield from _lemma_pairs(prepared, blocks, cap, seen)
    yield from _reprint_pairs(prepared, seen)
    if text:
        yield from _text_pairs(prepared, seen)


def _text_pairs(prepared: Sequence[_Prepared], seen: set[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    """The second channel of the learned linker: claims of one language sharing at least
    `blocking.text_min_shared` rare words (each held by at most `blocking.text_max_postings`
    claims), whatever their verbs ("қаралуы тиіс" / "қарастырылуы тиіс" of one rule), or sharing
    one such word when their targets' word vectors are near (`vectors.block_target_cosine`)."""
    b = settings()["blocking"]
    cap, need = int(b.get("text_max_postings", 30)), int(b.get("text_min_shared", 2))
    postings: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        for w in p.index:
            postings[(p.claim.lang, w)].append(i)
    counts: Counter = Counter()
    for ids in postings.values():
        if 2 <= len(ids) <= cap:
            for x in range(len(ids)):
                i = ids[x]
                for j in ids[x + 1:]:
                    counts[(i, j) if i < j else (j, i)] += 1
    near = float(vector_settings().get("block_target_cosine", 0.0)) if vector_settings().get("use", False) else 0.0
    for key, n in sorted(counts.items()):
        if key in seen:
            continue
        # fewer shared words than `need`: still a pair when the targets mean the same (word vectors)
        if n >= need or (near > 0 and cosine(prepared[key[0]].vec_target, prepared[key[1]].vec_target) >= near):
            seen.add(key)
            yield key


def _reprint_pairs(prepared: Sequence[_Prepared], seen: set[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    """Near duplicates (`reprint`): claims of one language sharing at least two of their
    `blocking.reprint_words` rarest normalised words (numbers included), each held by at most
    `blocking.reprint_max_postings` claims, whose sentences are near duplicates."""
    b = settings()["blocking"]
    if float(b.get("near_duplicate", 0.0)) <= 0:
        return
    cap, k = int(b.get("reprint_max_postings", 30)), int(b.get("reprint_words", 6))
    df: dict[str, Counter] = defaultdict(Counter)
    for p in prepared:
        df[p.claim.lang].update({w for w in p.norm.split() if len(w) >= 2})
    postings: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        counts = df[p.claim.lang]
        for w in sorted({w for w in p.norm.split() if len(w) >= 2}, key=lambda w: (counts[w], w))[:k]:
            postings[(p.claim.lang, w)].append(i)
    del df
    counts: Counter = Counter()
    for ids in postings.values():
        if 2 <= len(ids) <= cap:
            for x in range(len(ids)):
                for j in ids[x + 1:]:
                    i = ids[x]
                    counts[(i, j) if i < j else (j, i)] += 1
    for key, n in sorted(counts.items()):
        if n >= 2 and key not in seen and reprint(prepared[key[0]], prepared[key[1]]):
            seen.add(key)
            yield key


def _lemma_pairs(prepared, blocks, cap, seen) -> Iterable[tuple[int, int]]:
    for members in blocks.values():
        if len(members) < 2:
            continue
        postings: dict[str, list[int]] = defaultdict(list)
        for i in members:
            p = prepared[i]
            for w in p.index:
                postings[w].append(i)
            for y in p.years:
                postings["#" + y].append(i)
            for unit, vals in p.amounts.items():
                for v in vals:
                    postings[f"${unit}:{v}"].append(i)
        for ids in postings.values():
            if len(ids) < 2 or len(ids) > cap:
                continue
            for x in range(len(ids)):
                i = ids[x]
                for j in ids[x + 1:]:
                    key = (i, j) if i < j else (j, i)
                    if key not in seen:
                        seen.add(key)
                        yield key
