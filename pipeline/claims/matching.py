"""Finding a claim's predicate in a text and pairing predicted with gold spans.

Why here, under claims: the evaluator, the corpus tools (adjudication, the annotators' checker)
and the learned role chooser all compare claim spans and phrases the same way, and the run path
must not import evaluation code to do it.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Sequence

_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"  # soft hyphen, zero-width characters


def _flex(s: str) -> str:
    """Regex for `s` that tolerates invisible characters inside words and any whitespace run."""
    parts = []
    for ch in s:
        if ch.isspace():
            if parts and parts[-1] == r"[\s%s]+" % _INVISIBLE:
                continue
            parts.append(r"[\s%s]+" % _INVISIBLE)
        else:
            parts.append(re.escape(ch) + "[%s]*" % _INVISIBLE)
    return "".join(parts)


def _word_re(word: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + _flex(word).removesuffix("[%s]*" % _INVISIBLE) + r"(?!\w)", re.IGNORECASE)


def _candidates(text: str, predicate: str) -> Iterable[tuple[int, int, str]]:
    """Occurrences of `predicate` in `text`, strictest method first."""
    p = predicate.strip()
    if not p:
        return
    i = text.find(p)
    while i >= 0:
        yield i, i + len(p), "exact"
        i = text.find(p, i + 1)
    for m in re.finditer(re.escape(p), text, re.IGNORECASE):
        yield m.start(), m.end(), "casefold"
    for m in re.finditer(_flex(p).removesuffix("[%s]*" % _INVISIBLE), text, re.IGNORECASE):
        yield m.start(), m.end(), "whitespace"
    words = p.split()
    if len(words) < 2:
        return
    occ = [[(m.start(), m.end()) for m in _word_re(w).finditer(text)] for w in words]
    if not all(occ):
        return
    # in order: for every occurrence of the first word, the nearest following occurrence of each next word
    ordered = []
    for s0, e0 in occ[0]:
        end, ok = e0, True
        for later in occ[1:]:
            nxt = next(((s, e) for s, e in later if s >= end), None)
            if nxt is None:
                ok = False
                break
            end = nxt[1]
        if ok:
            ordered.append((s0, end))
    for s, e in sorted(ordered, key=lambda se: (se[1] - se[0], se[0])):
        yield s, e, "words"
    if not ordered:  # the words occur, but in another order
        starts = [o[0] for o in occ]
        yield min(s for s, _ in starts), max(e for _, e in starts), "words-unordered"


def locate_predicate(text: str, predicate: str,
                     taken: Iterable[tuple[int, int]] = ()) -> tuple[int, int, str] | None:
    """(start, end, method) of `predicate` in `text`, or None.

    Why `taken`: two claims of one item may share a predicate word ("қажет" twice); an occurrence
    already given to an earlier claim is used again only when there is no other."""
    taken = set(taken)
    first = None
    for cand in _candidates(text, predicate):
        if (cand[0], cand[1]) not in taken:
            return cand
        first = first or cand
    return first


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Characters shared by two half-open spans."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def match_spans(gold: Sequence[tuple[int, int] | None],
                pred: Sequence[tuple[int, int] | None]) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs of overlapping spans.

    Greedy by overlap size, ties by gold start then pred start: simple, deterministic, and on
    claim predicates (short, rarely overlapping each other) as good as an optimal assignment."""
    cands = []
    for gi, g in enumerate(gold):
        if g is None:
            continue
        for pi, p in enumerate(pred):
            if p is None:
                continue
            ov = overlap(g, p)
            if ov > 0:
                cands.append((-ov, g[0], p[0], gi, pi))
    cands.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs = []
    for _, _, _, gi, pi in cands:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        pairs.append((gi, pi))
    return sorted(pairs)


def norm_string(s: str | None) -> str | None:
    """Casefold, ё→е, keep only letters and digits; "" becomes None (so null == empty)."""
    if s is None:
        return None
    s = unicodedata.normalize("NFC", str(s)).casefold().replace("ё", "е")
    out = "".join(ch for ch in s if ch.isalnum())
    return out or None


def word_set(s: str | None) -> set[str]:
    """The words of `s`, casefolded, ё as е: for overlap measures of actor and target phrases."""
    if not s:
        return set()
    s = unicodedata.normalize("NFC", s).casefold().replace("ё", "е")
    return set(re.findall(r"\w+", s))
