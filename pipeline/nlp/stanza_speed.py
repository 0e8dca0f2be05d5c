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
"""
from __future__ import annotations

import logging
import warnings

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


def apply(pipe, settings: dict) -> dict:
    """Apply the `[speed]` settings to a loaded pipeline; returns what was applied."""
    applied: dict = {}
    use_fast_cycle_check(bool(settings.get("fast_cycle_check", False)))
    applied["fast_cycle_check"] = bool(settings.get("fast_cycle_check", False))
    if not settings.get("charlm_output_layer", True):
        applied["charlm_output_layer_dropped"] = drop_charlm_output_layer(pipe)
    comps = list(settings.get("quantize_int8", []))
    if comps:
        applied["quantize_int8"] = quantize_int8(pipe, comps)
    return applied
