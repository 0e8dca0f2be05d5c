"""A small torch model that scores claim candidates from their sentence context.

Why: the logistic regression over hand-made candidate features (``learned.py``) plateaued at
leave-one-source-out F1 ~65 while annotators agree at 0.935; each new feature group moved it by
about one point. This model reads the whole sentence instead: a BiLSTM over its tokens (static
word vectors of the language's table in ``configs/claims/<lang>.toml [vectors]``, hashed suffix
and prefix embeddings, UPOS, dependency relation and morphology embeddings, and markers of the
candidate's words, its main word, the main word's head chain and children, and each token's
distance to the main word), pooled at the candidate, gives P(none / commitment / obligation /
decision) for the same candidates the linear model scores.

``ContextClaimNet`` follows the estimator API (``fit`` / ``predict_proba``, picklable: the torch
weights are kept as a state dict, the word-vector tables are looked up lazily and never saved).
Its inputs are ``CandidateInput`` rows: a sentence's token table (``sentence_tokens``, shared by
the sentence's candidates) and the candidate's token indices.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

LABELS = ("none", "commitment", "obligation", "decision")
MORPH_KEYS = ("Tense", "Aspect", "Mood", "VerbForm", "Person", "Number", "Voice", "Polarity", "Case", "Variant")
ROLE_OTHER, ROLE_WORD, ROLE_MAIN, ROLE_HEAD, ROLE_CHILD = 1, 2, 3, 4, 5   # 0: padding
MAX_DIST = 8


@dataclass
class SentenceTokens:
    """What the model needs of a parsed sentence (no spaCy objects, so it can be cached)."""
    lang: str
    forms: list[str]      # lowercased word forms
    lemmas: list[str]
    upos: list[str]
    deps: list[str]
    heads: list[int]      # token index of each token's head (itself at the root)
    morph: list[list[str]]


@lru_cache(maxsize=1 << 14)
def _morph_keys(morph: str) -> tuple[str, ...]:
    """"Key=first value" of the MORPH_KEYS features of a morph string, in MORPH_KEYS order (what
    `Token.morph.get(key)[0]` gives for each)."""
    from pipeline.claims.extract import _parse_morph

    feats = _parse_morph(morph)
    return tuple(f"{k}={feats[k]}" for k in MORPH_KEYS if k in feats)


def sentence_tokens(lang: str, doc: Any) -> SentenceTokens:
    forms, lemmas, upos, deps, heads, morph = [], [], [], [], [], []
    for t in doc:
        text = t.text
        forms.append(text.lower())
        lemmas.append((t.lemma_ or text).lower())
        upos.append(t.pos_)
        deps.append(t.dep_)
        heads.append(t.head.i)
        morph.append(list(_morph_keys(str(t.morph))))
    return SentenceTokens(lang, forms, lemmas, upos, deps, heads, morph)


@dataclass
class CandidateInput:
    sentence: SentenceTokens
    words: tuple[int, ...]
    main: int
    rule: str = "none"
    rule_conf: float = 0.0


def _hash(s: str, buckets: int) -> int:
    return zlib.crc32(s.encode("utf-8")) % buckets + 1   # 0: padding


class _Vocab:
    def __init__(self, values: Sequence[str], min_count: int = 1):
        from collections import Counter

        c = Counter(values)
        self.ids = {v: i + 2 for i, v in enumerate(sorted(k for k, n in c.items() if n >= min_count))}  # 0 pad, 1 unknown

    def __len__(self) -> int:
        return len(self.ids) + 2

    def get(self, v: str) -> int:
        return self.ids.get(v, 1)


def _unit(m: np.ndarray) -> np.ndarray:
    return m / (np.linalg.norm(m, axis=-1, keepdims=True) + 1e-9)


class _Encoded:
    """A set of candidates as arrays: per candidate, a window of its sentence's tokens."""

    def __init__(self, n: int):
        self.lang: list[str] = [""] * n
        self.vec: list[np.ndarray] = [None] * n      # (T, D_lang) float32
        self.ints: list[np.ndarray] = [None] * n     # (T, K) int64: affix hashes, upos, dep, role, dist, morph...
        self.cand: np.ndarray = np.zeros((n, 3), dtype=np.int64)   # rule id, main position in window, lang id
        self.conf: np.ndarray = np.zeros(n, dtype=np.float32)


class ContextClaimNet:
    """BiLSTM over the candidate's sentence -> P(LABELS). Settings: configs/claims/model.toml [context]."""

    def __init__(self, dim_vec: int = 64, dim_affix: int = 32, affix_buckets: int = 1 << 13, dim_tag: int = 16,
                 hidden: int = 64, epochs: int = 4, batch_size: int = 64, lr: float = 3e-3, dropout: float = 0.3,
                 window: int = 32, seed: int = 13, threads: int = 1, langs: Sequence[str] = ("kk", "ru")):
        self.dim_vec, self.dim_affix, self.affix_buckets, self.dim_tag = dim_vec, dim_affix, affix_buckets, dim_tag
        self.hidden, self.epochs, self.batch_size, self.lr, self.dropout = hidden, epochs, batch_size, lr, dropout
        self.window, self.seed, self.threads, self.langs = window, seed, threads, tuple(langs)
        self.classes_ = np.array(LABELS)

    # ------------------------------------------------------------ encoding

    def _vectors(self, lang: str, words: Sequence[str], lemmas: Sequence[str]) -> np.ndarray:
        from pipeline.claims.vectors import _table

        dim = self.vec_dims_[lang]
        cache = self.__dict__.setdefault("_vcache", {})
        out = np.zeros((len(words), dim), dtype=np.float32)
        t = _table(lang)
        if t is None:
            return out
        word_ids, rows = t
        for k, (w, lem) in enumerate(zip(words, lemmas)):
            key = (lang, w, lem)   # the lemma stands in for a form the table lacks
            if key not in cache:
                i = word_ids.get(w)
                if i is None:
                    i = word_ids.get(lem)
                cache[key] = None if i is None else _unit(rows([i])[0]).astype(np.float32)
            v = cache[key]
            if v is not None:
                out[k] = v
        return out

    def _affixes(self, lang: str, w: str) -> list[int]:
        B = self.affix_buckets
        return [_hash(f"{lang}|s2|{w[-2:]}", B), _hash(f"{lang}|s3|{w[-3:]}", B), _hash(f"{lang}|s4|{w[-4:]}", B),
                _hash(f"{lang}|p4|{w[:4]}", B), _hash(f"{lang}|w|{w}", B)]

    def _encode(self, X: Sequence[CandidateInput]) -> _Encoded:
        enc = _Encoded(len(X))
        sent_cache: dict[int, tuple] = {}
        n_morph = 4
        for n, x in enumerate(X):
            s = x.sentence
            key = id(s)
            if key not in sent_cache:
                base = np.zeros((len(s.forms), 5 + 2 + n_morph), dtype=np.int64)
                for i, w in enumerate(s.forms):
                    base[i, :5] = self._affixes(s.lang, w)
                    base[i, 5] = self.upos_.get(s.upos[i])
                    base[i, 6] = self.dep_.get(s.deps[i])
                    ms = [self.morph_.get(m) for m in s.morph[i]][:n_morph]
                    base[i, 7:7 + len(ms)] = ms
                sent_cache[key] = (base, self._vectors(s.lang, s.forms, s.lemmas) if s.lang in self.vec_dims_ else None,
                                   np.asarray(s.heads, dtype=np.int64), np.arange(len(s.forms), dtype=np.int64))
            base, vec, heads, positions = sent_cache[key]
            T = len(s.forms)
            lo = max(0, min(x.main - self.window // 2, T - self.window))
            hi = min(T, lo + self.window)
            role = np.full(T, ROLE_OTHER, dtype=np.int64)
            t, steps = x.main, 0
            while s.heads[t] != t and steps < 6:
                t, steps = s.heads[t], steps + 1
                role[t] = ROLE_HEAD
            role[heads == x.main] = ROLE_CHILD   # the main word's children (itself too if it is the root: reset below)
            role[list(x.words)] = ROLE_WORD
            role[x.main] = ROLE_MAIN
            dist = np.minimum(np.maximum(positions - x.main, -MAX_DIST), MAX_DIST) + MAX_DIST + 1
            ints = np.concatenate([base, role[:, None], dist[:, None]], axis=1)[lo:hi]
            enc.ints[n] = ints
            enc.vec[n] = vec[lo:hi] if vec is not None else np.zeros((hi - lo, 1), dtype=np.float32)
            enc.lang[n] = s.lang
            enc.cand[n] = (self.rule_.get(x.rule), x.main - lo, self.langs.index(s.lang) if s.lang in self.langs else 0)
            enc.conf[n] = x.rule_conf
        return enc

    # ------------------------------------------------------------ the network

    def _net(self):
        import torch
        from torch import nn

        owner = self

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                o = owner
                self.proj = nn.ModuleDict({lg: nn.Linear(d, o.dim_vec) for lg, d in o.vec_dims_.items()})
                self.affix = nn.EmbeddingBag(o.affix_buckets + 1, o.dim_affix, mode="sum", padding_idx=0)
                self.upos = nn.Embedding(len(o.upos_), o.dim_tag, padding_idx=0)
                self.dep = nn.Embedding(len(o.dep_), o.dim_tag, padding_idx=0)
                self.morph = nn.EmbeddingBag(len(o.morph_), o.dim_tag, mode="sum", padding_idx=0)
                self.role = nn.Embedding(ROLE_CHILD + 1, 8, padding_idx=0)
                self.dist = nn.Embedding(2 * MAX_DIST + 2, 8, padding_idx=0)
                self.lang = nn.Embedding(len(o.langs), 4)
                self.rule = nn.Embedding(len(o.rule_), 8, padding_idx=0)
                d_in = o.dim_vec + o.dim_affix + 3 * o.dim_tag + 16 + 4
                self.drop = nn.Dropout(o.dropout)
                self.lstm = nn.LSTM(d_in, o.hidden, batch_first=True, bidirectional=True)
                d_pool = 2 * o.hidden * 3 + 8 + 1 + 4
                self.out = nn.Sequential(nn.Linear(d_pool, o.hidden), nn.ReLU(), nn.Dropout(o.dropout),
                                         nn.Linear(o.hidden, len(LABELS)))

            def forward(self, lang: str, vec, ints, lengths, cand, conf):
                B, T, _ = ints.shape
                mask = (torch.arange(T)[None, :] < lengths[:, None])
                v = self.proj[lang](vec) if lang in self.proj else torch.zeros(B, T, owner.dim_vec)
                aff = self.affix(ints[:, :, :5].reshape(B * T, -1)).reshape(B, T, -1)
                morph = self.morph(ints[:, :, 7:11].reshape(B * T, -1)).reshape(B, T, -1)
                lg = self.lang(cand[:, 2])[:, None, :].expand(B, T, -1)
                x = torch.cat([v, aff, self.upos(ints[:, :, 5]), self.dep(ints[:, :, 6]), morph,
                               self.role(ints[:, :, 11]), self.dist(ints[:, :, 12]), lg], dim=-1)
                x = self.drop(x)
                packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
                h, _ = self.lstm(packed)
                h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=T)
                at_main = h[torch.arange(B), cand[:, 1]]
                is_word = (ints[:, :, 11] == ROLE_WORD) | (ints[:, :, 11] == ROLE_MAIN)
                neg = torch.finfo(h.dtype).min
                words_max = h.masked_fill(~is_word[:, :, None], neg).max(1).values
                sent_max = h.masked_fill(~mask[:, :, None], neg).max(1).values
                z = torch.cat([at_main, words_max, sent_max, self.rule(cand[:, 0]), conf[:, None], self.lang(cand[:, 2])], -1)
                return self.out(self.drop(z))

        return Net()

    def _batches(self, enc: _Encoded, idx: np.ndarray, shuffle: bool, rng=None):
        """Batches of one language each, of similar lengths."""
        import torch

        for lang in sorted(set(enc.lang[i] for i in idx)):
            part = np.array([i for i in idx if enc.lang[i] == lang])
            if shuffle:
                part = part[rng.permutation(len(part))]
                # sort within chunks of 50 batches by length (less padding, still random)
                chunk = self.batch_size * 50
                part = np.concatenate([sorted(part[k:k + chunk], key=lambda i: len(enc.ints[i]))
                                       for k in range(0, len(part), chunk)])
                starts = list(range(0, len(part), self.batch_size))
                rng.shuffle(starts)
            else:
                part = np.array(sorted(part, key=lambda i: len(enc.ints[i])))
                starts = list(range(0, len(part), self.batch_size))
            for s0 in starts:
                b = part[s0:s0 + self.batch_size]
                T = max(len(enc.ints[i]) for i in b)
                D = enc.vec[b[0]].shape[1]
                ints = np.zeros((len(b), T, enc.ints[b[0]].shape[1]), dtype=np.int64)
                vec = np.zeros((len(b), T, D), dtype=np.float32)
                for k, i in enumerate(b):
                    L = len(enc.ints[i])
                    ints[k, :L] = enc.ints[i]
                    vec[k, :L] = enc.vec[i]
                yield b, lang, (torch.from_numpy(vec), torch.from_numpy(ints),
                                torch.tensor([len(enc.ints[i]) for i in b]),
                                torch.from_numpy(enc.cand[b]), torch.from_numpy(enc.conf[b]))

    # ------------------------------------------------------------ estimator API

    def fit(self, X: Sequence[CandidateInput], y: Sequence[str]) -> "ContextClaimNet":
        import torch
        from torch import nn

        from pipeline.claims.vectors import _table

        torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        X = list(X)
        sents = {id(x.sentence): x.sentence for x in X}.values()
        self.upos_ = _Vocab([u for s in sents for u in s.upos])
        self.dep_ = _Vocab([d for s in sents for d in s.deps])
        self.morph_ = _Vocab([m for s in sents for ms in s.morph for m in ms])
        self.rule_ = _Vocab([x.rule for x in X])
        self.vec_dims_ = {}
        for lang in self.langs:
            t = _table(lang)
            if t is not None and t[0]:
                self.vec_dims_[lang] = int(t[1]([next(iter(t[0].values()))]).shape[1])
        enc = self._encode(X)
        target = torch.tensor([LABELS.index(v) for v in y])
        net = self._net()
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        steps = self.epochs * (len(X) // self.batch_size + 2)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=steps, pct_start=0.1)
        loss_fn = nn.CrossEntropyLoss()
        net.train()
        done = 0
        for _ in range(self.epochs):
            for b, lang, batch in self._batches(enc, np.arange(len(X)), True, rng):
                opt.zero_grad()
                loss = loss_fn(net(lang, *batch), target[b])
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), 5.0)
                opt.step()
                if done < steps - 1:
                    sched.step()
                done += 1
        self.state_ = {k: v.detach().clone() for k, v in net.state_dict().items()}
        self.__dict__.pop("_net_obj", None)
        return self

    def _module(self):
        net = self.__dict__.get("_net_obj")
        if net is None:
            net = self._net()
            net.load_state_dict(self.state_)
            net.eval()
            self.__dict__["_net_obj"] = net
        return net

    def predict_proba(self, X: Sequence[CandidateInput]) -> np.ndarray:
        import torch

        X = list(X)
        out = np.zeros((len(X), len(LABELS)), dtype=np.float64)
        if not X:
            return out
        torch.set_num_threads(self.threads)
        enc = self._encode(X)
        net = self._module()
        with torch.inference_mode():
            for b, lang, batch in self._batches(enc, np.arange(len(X)), False):
                out[b] = torch.softmax(net(lang, *batch), -1).double().numpy()
        return out

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_net_obj", None)
        state.pop("_vcache", None)
        return state
