"""The Slovnet models as spaCy components: morphology (UPOS + UD features), syntax (heads and labels,
always a tree: maximum spanning tree decoding) and named entities."""
from __future__ import annotations

import logging
import re
import unicodedata
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

import numpy as np
from spacy.attrs import DEP, HEAD
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from pipeline.nlp.ru_config import DEFAULT_CONFIG, ROOT_LABEL, SPACE_DEP, _slovnet, resolve_model_path

log = logging.getLogger(__name__)

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
