"""CPU speed settings for a loaded Stanza pipeline (`[speed]` of configs/nlp_kk.toml).

Each one can be switched off in the config; what each does to speed and accuracy is measured in
models/kk/README.md ("Speed").

- `fast_cycle_check`: the parser's maximum-spanning-tree decoder (Chu-Liu/Edmonds) looks for
  cycles with Tarjan's algorithm, written over numpy arrays element by element with an
  `np.where` per node (quadratic, and slow per element). `tarjan` below is the same algorithm,
  visiting nodes and dependents in the same order, over Python lists: same cycles, same order,
  so the same trees.
- `charlm_output_layer = false`: the character language models compute a next-character
  distribution (a linear layer over the character vocabulary) for every character; the parser
  only reads their hidden states, so the layer is replaced by a no-op.
- `quantize_int8`: dynamic int8 quantisation (`torch.ao.quantization.quantize_dynamic`) of the
  LSTM and linear layers of the named components (weights stored in int8, activations
  quantised on the fly); "charlm" names the parser's character LMs on their own.
- `ner_crf_loss = false`: the NER model computes its CRF training loss on every forward pass,
  the partition function included (a Python loop over the sentence positions); prediction
  throws the loss away and decodes with Viterbi, so at inference the loss is not computed.
- `char_model_dedup = true`: the tagger's and the NER model's word character models (an LSTM
  over the characters of each word, its own weights, not the parser's character LMs) run once
  per distinct word of a batch instead of once per occurrence; the rows are copied back.
- `lemma_seq2seq_cache`: the lemmatizer's seq2seq model (for words its dictionary lacks) runs
  once per distinct (word, UPOS) of a batch, and its lemmas are kept for that many pairs (least
  recently used go first) so a later batch looks them up; 0 = off. Bounded, unlike Stanza's
  `lemma_store_results`, which adds every new form to its dictionary for the rest of the run.
- `optimizer_at_load = false`: Stanza's tokenizer and tagger build Adam optimizers when they load (for
  training), which imports torch._dynamo (about 0.9 s of CPU); the pipeline only predicts.
"""
from __future__ import annotations

import logging
import types
import warnings
from collections import OrderedDict
from contextlib import contextmanager

log = logging.getLogger(__name__)

# components whose LSTM/linear layers can be quantised, and where their torch module lives
QUANTIZABLE = ("tokenize", "mwt", "pos", "lemma", "depparse", "charlm", "ner")

_ORIGINAL_TARJAN = None


def tarjan(tree) -> list:
    """Cycles of a head array (`tree[i]` = head of node i, `tree[0] == 0`), as boolean masks,
    in the order `stanza.models.common.chuliu_edmonds.tarjan` returns them (same algorithm:
    strongly connected components in completion order, nodes and dependents by index)."""
    import numpy as np

    heads = tree.tolist()
    n = len(heads)
    children: list[list[int]] = [[] for _ in range(n)]
    for j, h in enumerate(heads):
        if 0 <= h < n:
            children[h].append(j)
    indices = [-1] * n
    lowlinks = [-1] * n
    onstack = [False] * n
    stack: list[int] = []
    counter = 0
    cycles = []
    for root in range(n):
        if indices[root] != -1:
            continue
        # iterative strong_connect: frames of (node, next child position)
        indices[root] = lowlinks[root] = counter
        counter += 1
        stack.append(root)
        onstack[root] = True
        frames = [[root, 0]]
        while frames:
            frame = frames[-1]
            i, k = frame
            kids = children[i]
            descended = False
            while k < len(kids):
                j = kids[k]
                k += 1
                if indices[j] == -1:
                    frame[1] = k
                    indices[j] = lowlinks[j] = counter
                    counter += 1
                    stack.append(j)
                    onstack[j] = True
                    frames.append([j, 0])
                    descended = True
                    break
                if onstack[j]:
                    lowlinks[i] = min(lowlinks[i], indices[j])
            if descended:
                continue
            frames.pop()
            if lowlinks[i] == indices[i]:
                members = []
                while True:
                    j = stack.pop()
                    onstack[j] = False
                    members.append(j)
                    if j == i:
                        break
                if len(members) > 1:
                    cycle = np.zeros(n, dtype=bool)
                    cycle[members] = True
                    cycles.append(cycle)
            if frames:
                parent = frames[-1][0]
                lowlinks[parent] = min(lowlinks[parent], lowlinks[i])
    return cycles


def use_fast_cycle_check(on: bool = True) -> None:
    """Swap Stanza's `tarjan` for the list-based one (process-wide; `on=False` restores it)."""
    global _ORIGINAL_TARJAN
    from stanza.models.common import chuliu_edmonds

    if _ORIGINAL_TARJAN is None:
        _ORIGINAL_TARJAN = chuliu_edmonds.tarjan
    chuliu_edmonds.tarjan = tarjan if on else _ORIGINAL_TARJAN


def _charlms(pipe) -> list:
    proc = pipe.processors.get("depparse")
    if proc is None:
        return []
    model = proc.trainer.model
    return [m for m in (getattr(model, "charmodel_forward", None), getattr(model, "charmodel_backward", None))
            if m is not None]


def drop_charlm_output_layer(pipe) -> int:
    """Replace the next-character output layer of the parser's character LMs by a no-op (their
    `forward` still returns a third value, now the hidden states, which the parser ignores)."""
    import torch.nn as nn

    done = 0
    for lm in _charlms(pipe):
        if not isinstance(lm.decoder, nn.Identity):
            lm.decoder = nn.Identity()
            done += 1
    return done


def _component_module(pipe, name: str):
    proc = pipe.processors.get(name)
    if proc is None:
        return None
    trainer = getattr(proc, "trainer", None)
    return getattr(trainer, "model", None)


def quantize_int8(pipe, components) -> list[str]:
    """Dynamic int8 quantisation of the LSTM and Linear layers of `components` (in place).
    "depparse" leaves the character LMs alone; "charlm" quantises just them."""
    import torch
    import torch.nn as nn
    from torch.ao.quantization import quantize_dynamic

    unknown = set(components) - set(QUANTIZABLE)
    if unknown:
        raise ValueError(f"quantize_int8: unknown components {sorted(unknown)} (known: {', '.join(QUANTIZABLE)})")
    done = []
    for name in components:
        if name == "charlm":
            targets = _charlms(pipe)
        else:
            model = _component_module(pipe, name)
            targets = [model] if model is not None else []
        if not targets:
            continue
        detached = {}
        if name == "depparse":
            # the character LMs are children of the parser: keep them out unless asked ("charlm")
            for attr in ("charmodel_forward", "charmodel_backward"):
                if attr in targets[0]._modules:
                    detached[attr] = targets[0]._modules.pop(attr)
        try:
            with warnings.catch_warnings():
                # PyTorch 2.13 announces that quantised tensor constructors will go in a later
                # release (the torch pin in the Makefile keeps them); users need not see it on every load
                warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
                for target in targets:
                    quantize_dynamic(target, {nn.LSTM, nn.Linear}, dtype=torch.qint8, inplace=True)
        finally:
            for attr, module in detached.items():
                targets[0]._modules[attr] = module
        done.append(name)
    return done


def _crf_forward_without_loss(self, inputs, masks, tag_indices):
    """`CRFLoss.forward` that skips the loss in eval mode (prediction keeps only the
    transition matrix); in training mode the original."""
    if self.training:
        return type(self).forward(self, inputs, masks, tag_indices)
    return inputs.new_zeros(()), self._transitions


def skip_ner_loss(pipe) -> int:
    """NER prediction without its CRF loss (see the module docstring); returns the CRF layers
    changed."""
    model = _component_module(pipe, "ner")
    done = 0
    for crit in getattr(model, "crits", None) or []:
        crit.forward = types.MethodType(_crf_forward_without_loss, crit)
        done += 1
    return done


def _char_forward_once_per_word(self, chars, chars_mask, word_orig_idx, sentlens, wordlens):
    """`CharacterModel.forward` over the distinct words of the batch only. `chars` holds the
    batch's words sorted by length (longest first), so the first occurrences keep that order;
    the original forward runs on them as one "sentence" and its rows go back to every occurrence."""
    import torch
    from torch.nn.utils.rnn import PackedSequence, pack_sequence, pad_packed_sequence
    from stanza.models.common.utils import tensor_unsort

    lens = list(wordlens)
    rows = chars.tolist()
    first: dict[tuple, int] = {}
    keep: list[int] = []
    inverse: list[int] = []
    for row, n in zip(rows, lens):
        key = tuple(row[:n])
        k = first.get(key)
        if k is None:
            k = first[key] = len(keep)
            keep.append(len(inverse))
        inverse.append(k)
    original = type(self).forward
    if len(keep) == len(inverse):
        return original(self, chars, chars_mask, word_orig_idx, sentlens, wordlens)
    idx = torch.tensor(keep, dtype=torch.long, device=chars.device)
    out = original(self, chars.index_select(0, idx), chars_mask.index_select(0, idx), list(range(len(keep))),
                   [len(keep)], [lens[i] for i in keep])
    res = out.data if isinstance(out, PackedSequence) else out[0]
    res = res.index_select(0, torch.tensor(inverse, dtype=torch.long, device=res.device))
    res = tensor_unsort(res, word_orig_idx)
    res = pack_sequence(res.split(sentlens))
    if self.pad:
        res = pad_packed_sequence(res, batch_first=True)[0]
    return res


def dedup_char_models(pipe, components=("pos", "ner")) -> list[str]:
    """The word character models of `components` run once per distinct word of a batch."""
    done = []
    for name in components:
        model = _component_module(pipe, name)
        charmodel = getattr(model, "charmodel", None) if model is not None else None
        if charmodel is None or type(charmodel).__name__ != "CharacterModel":
            continue
        charmodel.forward = types.MethodType(_char_forward_once_per_word, charmodel)
        done.append(name)
    return done


class Seq2SeqLemmaCache:
    """The lemmatizer's seq2seq model once per distinct (word, UPOS) of a batch, and a bounded
    LRU store of its lemmas across batches (see the module docstring).

    Works through the two trainer methods Stanza's LemmaProcessor calls around the model:
    `skip_seq2seq` (which words the model may skip: those in the dictionary) also skips repeats
    and stored pairs, and `ensemble` (dictionary first, else the model's lemma) fills them in
    before the dictionary pass, from the first occurrence or the store."""

    def __init__(self, trainer, size: int):
        self.trainer = trainer
        self.size = int(size)
        self.store: OrderedDict = OrderedDict()
        self._skip = trainer.skip_seq2seq
        self._ensemble = trainer.ensemble
        self._pending = None
        trainer.skip_seq2seq = self.skip_seq2seq
        trainer.ensemble = self.ensemble

    def skip_seq2seq(self, pairs):
        pairs = [tuple(p) for p in pairs]
        skip = self._skip(pairs)
        first: dict = {}
        copy: dict[int, object] = {}  # word index -> index of its first occurrence, or a stored lemma
        out = []
        for i, (pair, in_dict) in enumerate(zip(pairs, skip)):
            if in_dict:
                out.append(True)
            elif pair in self.store:
                self.store.move_to_end(pair)
                copy[i] = ("stored", self.store[pair])
                out.append(True)
            elif pair in first:
                copy[i] = ("word", first[pair])
                out.append(True)
            else:
                first[pair] = i
                out.append(False)
        self._pending = (pairs, first, copy)
        return out

    def ensemble(self, pairs, other_preds):
        pending, self._pending = self._pending, None
        pairs = [tuple(p) for p in pairs]
        if pending is None or pending[0] != pairs:
            return self._ensemble(pairs, other_preds)
        _, first, copy = pending
        preds = list(other_preds)
        for i, (kind, value) in copy.items():
            preds[i] = value if kind == "stored" else preds[value]
        for pair, i in first.items():
            self.store[pair] = preds[i]
        while len(self.store) > self.size:
            self.store.popitem(last=False)
        return self._ensemble(pairs, preds)


def cache_seq2seq_lemmas(pipe, size: int) -> bool:
    proc = pipe.processors.get("lemma")
    trainer = getattr(proc, "trainer", None)
    if trainer is None or size <= 0 or not getattr(proc, "config", {}).get("ensemble_dict", False):
        return False
    if not isinstance(getattr(trainer.skip_seq2seq, "__self__", None), Seq2SeqLemmaCache):
        Seq2SeqLemmaCache(trainer, size)
    return True


class _PredictOnlyOptimizer:
    """Stands in for the optimizers Stanza's trainers build at load time: holds the learning
    rate their schedulers read, and refuses to train."""

    def __init__(self, lr: float = 0.0):
        self.param_groups = [{"lr": lr, "params": []}]
        self.state: dict = {}

    def zero_grad(self, *args, **kwargs) -> None:
        pass

    def step(self, *args, **kwargs):
        raise RuntimeError("this Stanza pipeline was loaded for prediction only (`optimizer_at_load = false`)")

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


@contextmanager
def no_optimizers():
    """While Stanza loads: its optimizer factory (`dispatch_optimizer`, behind `get_optimizer`
    and `get_split_optimizer`) returns None: the models load for prediction only."""
    from stanza.models.common import utils

    original = utils.dispatch_optimizer
    utils.dispatch_optimizer = lambda *a, lr=0.0, **k: _PredictOnlyOptimizer(lr)
    try:
        yield
    finally:
        utils.dispatch_optimizer = original


def apply(pipe, settings: dict) -> dict:
    """Apply the `[speed]` settings to a loaded pipeline; returns what was applied."""
    applied: dict = {}
    if not settings.get("ner_crf_loss", True):
        applied["ner_crf_loss_skipped"] = skip_ner_loss(pipe)
    if settings.get("char_model_dedup", False):
        applied["char_model_dedup"] = dedup_char_models(pipe)
    if int(settings.get("lemma_seq2seq_cache", 0)) > 0:
        applied["lemma_seq2seq_cache"] = cache_seq2seq_lemmas(pipe, int(settings["lemma_seq2seq_cache"]))
    use_fast_cycle_check(bool(settings.get("fast_cycle_check", False)))
    applied["fast_cycle_check"] = bool(settings.get("fast_cycle_check", False))
    if not settings.get("charlm_output_layer", True):
        applied["charlm_output_layer_dropped"] = drop_charlm_output_layer(pipe)
    comps = list(settings.get("quantize_int8", []))
    if comps:
        applied["quantize_int8"] = quantize_int8(pipe, comps)
    return applied
