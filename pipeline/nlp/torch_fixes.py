"""Speed fixes for PyTorch on CPU that Stanza's models need.

`torch.nn.Bilinear` runs a naive kernel on CPU: one forward+backward of a 500x300x300x400
bilinear took 156 s here, against ~1 s as a matrix product. Stanza's tagger scores XPOS and
UFeats with it, so training and tagging crawl. The replacement computes the same function
(same parameters, same state dict) as one outer product and one matrix multiplication.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_PATCHED = False


def _fast_bilinear(self, input1: torch.Tensor, input2: torch.Tensor) -> torch.Tensor:
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    out_f, in1, in2 = self.weight.shape
    n = x1.shape[0]
    if out_f < in1:
        # small label sets (one UFeats feature): contract x1 with W first, intermediate N*O*J
        tmp = x1 @ self.weight.permute(1, 0, 2).reshape(in1, out_f * in2)
        y = torch.bmm(tmp.reshape(n, out_f, in2), x2.unsqueeze(2)).squeeze(2)
        if self.bias is not None:
            y = y + self.bias
    else:
        outer = (x1.unsqueeze(2) * x2.unsqueeze(1)).reshape(n, in1 * in2)
        y = F.linear(outer, self.weight.reshape(out_f, in1 * in2), self.bias)
    return y.reshape(*lead, out_f)


def patch_bilinear() -> None:
    """Replace `nn.Bilinear.forward` process-wide (idempotent)."""
    global _PATCHED
    if not _PATCHED:
        torch.nn.Bilinear.forward = _fast_bilinear
        _PATCHED = True
