"""Score policy-claim extraction against the annotated gold (`polclaims evaluate claims GOLD.jsonl`).

Why this module exists: the claim extractor is a chain of rules and models whose quality can only
be judged against the hand-annotated items in `../shared/data/gold/` (see
`../shared/docs/claims-guideline.md`). The scorer is kept independent of the extractor: it takes
any callable `list[Statement] -> {item_id: [Claim]}`, so rules, models and stand-ins are all scored
the same way.

Definitions (also in the report's header):

* Gold claims carry no offsets, so each gold predicate is located in its item text: exact
  substring, then case-insensitive, then whitespace/soft-hyphen-normalised, then word by word
  (a predicate whose words are not contiguous spans from its first word to its last word).
  An occurrence already taken by an earlier claim of the same item is avoided. Unlocatable
  predicates are listed and can only be missed (false negatives).
* A predicted claim matches a gold claim of the same item when their predicate spans overlap by
  at least one character. Matching is one-to-one, greedy: candidate pairs are taken by overlap
  size (largest first), ties by gold start, then predicted start.
* Detection: precision = matched / predicted, recall = matched / gold, F1 = 2*matched/(gold+pred).
  "Typed" detection counts a match only when the types agree.
  Per type: recall over gold claims of the type, precision over predicted claims of the type.
* Field accuracies are over matched pairs. `actor`/`target` exact: casefolded, ё→е, everything
  but letters and digits removed, empty == null. `target` lenient: Jaccard overlap of the
  casefolded word sets >= 0.5 (null == null only). `predicate_lemma`: casefold equality.
  `quantities`: multiset of values equal after a scale word in the unit is folded into the value
  ("21,6" + "млн. тенге" -> 21600000 "тенге"; the gold is inconsistent about this);
  `quantities+units` also requires the (casefolded, punctuation-free) units to agree.
* Alignment: a gold link joins two gold claims of different items of one `pair_id` that share an
  `align` number; a predicted link joins a predicted claim and the claim its `aligned_to` names
  (a->b and b->a count once). A predicted link is correct when both ends are matched to the two
  ends of one gold link.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
# Annotated (not `= typer.Option(...)`) keeps the command callable as plain Python: defaults are real values
from typing import Annotated, Any, Callable, Iterable, Mapping, Optional, Sequence

import typer

from pipeline.claims.matching import locate_predicate, match_spans, norm_string, word_set
from pipeline.io.records import CLAIM_TYPES, Claim, Statement

Extractor = Callable[[list[Statement]], Mapping[str, Sequence[Claim]]]

FIELDS = (
    "type", "polarity", "tense", "actor_kind", "actor", "target", "target_lenient",
    "predicate_lemma", "quantities", "quantities+units", "topic",
)
TARGET_LENIENT_MIN = 0.5
_REQUIRED_ITEM_KEYS = ("item_id", "lang", "text", "claims")
_REQUIRED_CLAIM_KEYS = ("type", "predicate")


# ---------------------------------------------------------------- gold records


@dataclass
class GoldClaim:
    """One annotated claim, plus where its predicate was found in the item text."""

    index: int
    type: str
    predicate: str
    predicate_lemma: str | None = None
    actor: str | None = None
    actor_kind: str | None = None
    target: str | None = None
    polarity: str | None = None
    tense: str | None = None
    quantities: list[dict] = field(default_factory=list)
    topic: str | None = None
    align: int | None = None
    start: int | None = None  # predicate span in the item text; None = unlocatable
    end: int | None = None
    located_by: str | None = None  # exact, casefold, whitespace, words, words-unordered


@dataclass
class GoldItem:
    """One annotated text item (usually one sentence) of the gold file."""

    item_id: str
    pair_id: str | None
    lang: str
    text: str
    topic: str | None = None
    claims: list[GoldClaim] = field(default_factory=list)
    line: int = 0
    source: str | None = None  # the record's `source`, else the item id before its first colon


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read a gold JSONL file and locate every gold predicate in its item text.

    Raises ValueError (with the line number) on malformed lines or duplicate item ids, because a
    silently skipped gold item would change every score."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        return load_gold_lines(fh, path)


def load_gold_lines(lines: Iterable[str], path: str | Path = "gold") -> list[GoldItem]:
    """`load_gold` for JSONL lines already in memory (e.g. a corpus joined with its texts);
    `path` names them in errors."""
    items: list[GoldItem] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON: {exc}") from None
        missing = [k for k in _REQUIRED_ITEM_KEYS if k not in obj]
        if missing:
            raise ValueError(f"{path}:{n}: missing {', '.join(missing)}")
        if obj["item_id"] in seen:
            raise ValueError(f"{path}:{n}: duplicate item_id {obj['item_id']!r}")
        seen.add(obj["item_id"])
        item = GoldItem(item_id=obj["item_id"], pair_id=obj.get("pair_id"), lang=obj["lang"],
                        text=obj["text"], topic=obj.get("topic"), line=n,
                        source=obj.get("source") or str(obj["item_id"]).split(":")[0])
        taken: list[tuple[int, int]] = []
        for k, c in enumerate(obj["claims"] or []):
            missing = [key for key in _REQUIRED_CLAIM_KEYS if not c.get(key)]
            if missing:
                raise ValueError(f"{path}:{n}: claim {k} missing {', '.join(missing)}")
            gc = GoldClaim(
                index=k, type=c["type"], predicate=c["predicate"],
                predicate_lemma=c.get("predicate_lemma"), actor=c.get("actor"),
                actor_kind=c.get("actor_kind"), target=c.get("target"),
                polarity=c.get("polarity"), tense=c.get("tense"),
                quantities=list(c.get("quantities") or []), topic=c.get("topic"),
                align=c.get("align"))
            loc = locate_predicate(item.text, gc.predicate, taken)
            if loc:
                gc.start, gc.end, gc.located_by = loc
                taken.append((gc.start, gc.end))
            item.claims.append(gc)
        items.append(item)
    return items


def gold_to_statements(items: Sequence[GoldItem]) -> list[Statement]:
    """The gold items as pipeline input: id = item_id, parallel_id = pair_id."""
    return [Statement(id=it.item_id, text=it.text, parallel_id=it.pair_id, origin=f"gold line {it.line}")
            for it in items]


# ---------------------------------------------------------------- field comparison


def target_lenient(gold: str | None, pred: str | None) -> bool:
    """Jaccard overlap of word sets >= 0.5: the annotators' target boundaries vary."""
    g, p = word_set(gold), word_set(pred)
    if not g or not p:
        return not g and not p
    return len(g & p) / len(g | p) >= TARGET_LENIENT_MIN


_SCALE = re.compile(
    r"^\s*(трлн|триллион\w*|млрд|миллиард\w*|млн|миллион\w*|тыс|тысяч\w*|мың)\.?\s*", re.IGNORECASE)
_SCALE_PREFIXES = (("трлн", 1e12), ("триллион", 1e12), ("млрд", 1e9), ("миллиард", 1e9),
                   ("млн", 1e6), ("миллион", 1e6), ("тыс", 1e3), ("мың", 1e3))


def _scale_of(word: str) -> float:
    w = word.casefold()
    return next(v for prefix, v in _SCALE_PREFIXES if w.startswith(prefix))


def quantity_key(q: Any) -> tuple[float | None, str | None]:
    """(value, unit) with a scale word of the unit folded into the value, rounded for comparison."""
    get = q.get if isinstance(q, dict) else (lambda k, d=None: getattr(q, k, d))
    value, unit = get("value"), get("unit")
    try:
        value = float(str(value).replace(",", ".").replace(" ", "")) if value is not None else None
    except ValueError:
        value = None
    if unit:
        m = _SCALE.match(unit)
        if m:
            if value is not None:
                value *= _scale_of(m.group(1))
            unit = unit[m.end():]
    if value is not None and math.isfinite(value):
        value = float(f"{value:.9g}")
    from pipeline.claims.quantities import normalize_unit

    return value, norm_string(normalize_unit(unit))


def _quantities(qs: Sequence[Any] | None) -> tuple[Counter, Counter]:
    keys = [quantity_key(q) for q in qs or []]
    return Counter(v for v, _ in keys), Counter(keys)


def compare_fields(g: GoldClaim, p: Claim) -> dict[str, bool]:
    """Which fields of a matched pair agree (definitions in the module docstring)."""
    gv, gvu = _quantities(g.quantities)
    pv, pvu = _quantities(p.quantities)
    lemma = lambda s: s.strip().casefold().replace("ё", "е") if s else None  # noqa: E731
    return {
        "type": g.type == p.type,
        "polarity": g.polarity == p.polarity,
        "tense": g.tense == p.tense,
        "actor_kind": g.actor_kind == p.actor_kind,
        "actor": norm_string(g.actor) == norm_string(p.actor),
        "target": norm_string(g.target) == norm_string(p.target),
        "target_lenient": target_lenient(g.target, p.target),
        "predicate_lemma": lemma(g.predicate_lemma) == lemma(p.predicate_lemma),
        "quantities": gv == pv,
        "quantities+units": gvu == pvu,
        "topic": g.topic == p.topic,
    }


# ---------------------------------------------------------------- scoring


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _hmean(p: float | None, r: float | None, any_claims: bool) -> float | None:
    """F1 from P and R; 0 when something was expected or predicted but P or R is undefined."""
    if p is None or r is None:
        return 0.0 if any_claims else None
    return 2 * p * r / (p + r) if p + r else 0.0


def _prf(gold: int, pred: int, matched: int) -> dict[str, Any]:
    f1 = 2 * matched / (gold + pred) if gold + pred else None
    return {"gold": gold, "pred": pred, "matched": matched, "precision": _ratio(matched, pred),
            "recall": _ratio(matched, gold), "f1": f1}


class _Counts:
    def __init__(self) -> None:
        self.gold = self.pred = self.matched = self.typed = 0

    def result(self, typed: bool = False) -> dict[str, Any]:
        return _prf(self.gold, self.pred, self.typed if typed else self.matched)


def _pred_span(text: str, c: Claim) -> tuple[tuple[int, int] | None, str]:
    """The predicted predicate span; if offsets are unusable, locate the predicate text instead."""
    s, e = getattr(c, "predicate_start", None), getattr(c, "predicate_end", None)
    if isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(text):
        return (s, e), ("ok" if text[s:e] == c.predicate else "text_mismatch")
    loc = locate_predicate(text, c.predicate or "")
    return ((loc[0], loc[1]), "relocated") if loc else (None, "unlocatable")


def _sentence_at(text: str, span: tuple[int, int] | None) -> str:
    """The sentence holding `span` (for error listings); the whole text if segmentation fails."""
    if span is None:
        return text
    try:
        from pipeline.text.segment import paragraph_spans, sentence_spans

        for ps, pe in paragraph_spans(text):
            for s, e in sentence_spans(text, ps, pe):
                if s <= span[0] < e:
                    return text[s:max(e, span[1])]
    except Exception:  # noqa: BLE001 - only cosmetic
        pass
    return text


def detect_text_langs(items: Sequence[GoldItem]) -> dict[str, str] | None:
    """Language of each item's text by `pipeline.text.langid` (None if unavailable): some dev items
    labelled `ru` hold Kazakh text, and the report says how many."""
    try:
        from pipeline.text.langid import identify
    except Exception:  # noqa: BLE001
        return None
    return {it.item_id: identify(it.text) for it in items}


def score(gold_items: Sequence[GoldItem], predicted: Mapping[str, Sequence[Claim]],
          text_langs: Mapping[str, str] | None | bool = True) -> dict[str, Any]:
    """Compare predicted claims with the gold; return a JSON-serialisable result.

    `text_langs`: item_id -> language of the text, True to detect it with langid, None/False to
    skip the by-text-language breakdown."""
    if text_langs is True:
        text_langs = detect_text_langs(gold_items)
    text_langs = text_langs or None
    by_id = {it.item_id: it for it in gold_items}

    overall, by_lang, by_text_lang = _Counts(), defaultdict(_Counts), defaultdict(_Counts)
    by_source: dict[str, _Counts] = defaultdict(_Counts)
    type_counts = {t: Counter() for t in CLAIM_TYPES}
    fields_all: dict[str, Counter] = {f: Counter() for f in FIELDS}
    fields_lang: dict[str, dict[str, Counter]] = defaultdict(lambda: {f: Counter() for f in FIELDS})
    quantities_nonempty = Counter()
    pred_offsets = Counter()
    errors: list[dict[str, Any]] = []
    # (item_id, index) of a predicted claim -> (item_id, gold index) it matched
    pred_to_gold: dict[tuple[str, int], tuple[str, int]] = {}
    pred_ref: dict[tuple[str, int], Claim] = {}

    for it in gold_items:
        preds = list(predicted.get(it.item_id) or [])
        gspans = [(g.start, g.end) if g.start is not None else None for g in it.claims]
        pspans = []
        for k, c in enumerate(preds):
            sp, how = _pred_span(it.text, c)
            pred_offsets[how] += 1
            pspans.append(sp)
            pred_ref[(it.item_id, k)] = c
        pairs = match_spans(gspans, pspans)
        matched_g = {gi for gi, _ in pairs}
        matched_p = {pi for _, pi in pairs}
        n_typed = sum(1 for gi, pi in pairs if it.claims[gi].type == preds[pi].type)
        groups = [overall, by_lang[it.lang], by_source[it.source or "?"]]
        if text_langs:
            groups.append(by_text_lang[text_langs.get(it.item_id, "?")])
        for cnt in groups:
            cnt.gold += len(it.claims)
            cnt.pred += len(preds)
            cnt.matched += len(pairs)
            cnt.typed += n_typed
        for gi, g in enumerate(it.claims):
            tc = type_counts.setdefault(g.type, Counter())
            tc["gold"] += 1
            tc["matched_gold"] += gi in matched_g
            if gi not in matched_g:
                errors.append({"kind": "fn", "item_id": it.item_id, "lang": it.lang, "type": g.type,
                               "predicate": g.predicate, "located": g.located_by is not None,
                               "sentence": _sentence_at(it.text, gspans[gi])})
        for pi, c in enumerate(preds):
            tc = type_counts.setdefault(c.type, Counter())
            tc["pred"] += 1
            tc["matched_pred"] += pi in matched_p
            if pi not in matched_p:
                errors.append({"kind": "fp", "item_id": it.item_id, "lang": it.lang, "type": c.type,
                               "predicate": c.predicate, "claim_id": c.claim_id,
                               "sentence": c.sentence or _sentence_at(it.text, pspans[pi])})
        for gi, pi in pairs:
            g, c = it.claims[gi], preds[pi]
            pred_to_gold[(it.item_id, pi)] = (it.item_id, gi)
            cmp = compare_fields(g, c)
            for f, ok in cmp.items():
                fields_all[f][ok] += 1
                fields_lang[it.lang][f][ok] += 1
            if g.quantities or c.quantities:
                quantities_nonempty[cmp["quantities"]] += 1
            wrong = {f: {"gold": _field_value(g, f), "pred": _field_value(c, f)}
                     for f, ok in cmp.items() if not ok and f not in ("target_lenient", "topic")}
            if wrong:
                errors.append({"kind": "mismatch", "item_id": it.item_id, "lang": it.lang,
                               "predicate": g.predicate, "pred_predicate": c.predicate,
                               "fields": wrong, "sentence": _sentence_at(it.text, gspans[gi])})

    unknown = sorted(k for k in predicted if k not in by_id)
    alignment = _score_alignment(gold_items, predicted, pred_to_gold, errors)

    by_type = {}
    for t, tc in type_counts.items():
        p, r = _ratio(tc["matched_pred"], tc["pred"]), _ratio(tc["matched_gold"], tc["gold"])
        f1 = _hmean(p, r, bool(tc["gold"] + tc["pred"]))
        by_type[t] = {"gold": tc["gold"], "matched_gold": tc["matched_gold"], "recall": r,
                      "pred": tc["pred"], "matched_pred": tc["matched_pred"], "precision": p, "f1": f1}

    located = Counter(g.located_by or "unlocatable" for it in gold_items for g in it.claims)
    disagree = []
    if text_langs:
        disagree = [{"item_id": it.item_id, "lang": it.lang, "text_lang": text_langs.get(it.item_id)}
                    for it in gold_items if text_langs.get(it.item_id) != it.lang]
    return {
        "gold": {
            "items": len(gold_items),
            "items_by_lang": dict(Counter(it.lang for it in gold_items)),
            "claims": sum(len(it.claims) for it in gold_items),
            "located": dict(located),
            "unlocatable": [{"item_id": it.item_id, "predicate": g.predicate}
                            for it in gold_items for g in it.claims if g.start is None],
        },
        "language_check": {"checked": text_langs is not None, "disagree": len(disagree), "items": disagree},
        "predictions": {"claims": sum(pred_offsets.values()), "offsets": dict(pred_offsets),
                        "unknown_items": unknown},
        "detection": {"all": overall.result(),
                      "by_lang": {k: v.result() for k, v in sorted(by_lang.items())},
                      "by_text_lang": {k: v.result() for k, v in sorted(by_text_lang.items())},
                      "by_source": {k: v.result() for k, v in sorted(by_source.items())}},
        "detection_typed": {"all": overall.result(typed=True),
                            "by_lang": {k: v.result(typed=True) for k, v in sorted(by_lang.items())}},
        "by_type": by_type,
        "fields": {
            "matched": overall.matched,
            "all": _accuracies(fields_all),
            "by_lang": {k: _accuracies(v) for k, v in sorted(fields_lang.items())},
            "quantities_nonempty": {"correct": quantities_nonempty[True],
                                    "total": sum(quantities_nonempty.values()),
                                    "accuracy": _ratio(quantities_nonempty[True],
                                                       sum(quantities_nonempty.values()))},
        },
        "alignment": alignment,
        "errors": errors,
    }


def _field_value(c: Any, f: str) -> Any:
    if f == "quantities+units":
        f = "quantities"
    v = getattr(c, f, None)
    return [dict(q) if isinstance(q, dict) else asdict(q) for q in v] if f == "quantities" else v


def _accuracies(counts: Mapping[str, Counter]) -> dict[str, dict[str, Any]]:
    return {f: {"correct": c[True], "total": c[True] + c[False], "accuracy": _ratio(c[True], c[True] + c[False])}
            for f, c in counts.items()}


def _score_alignment(gold_items: Sequence[GoldItem], predicted: Mapping[str, Sequence[Claim]],
                     pred_to_gold: Mapping[tuple[str, int], tuple[str, int]],
                     errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Alignment precision/recall over links between the two items of a pair (module docstring)."""
    by_id = {it.item_id: it for it in gold_items}
    # gold links
    groups: dict[tuple[Any, Any], list[tuple[str, int]]] = defaultdict(list)
    for it in gold_items:
        if it.pair_id is None:
            continue
        for g in it.claims:
            if g.align is not None:
                groups[(it.pair_id, g.align)].append((it.item_id, g.index))
    gold_links: set[frozenset] = set()
    for ends in groups.values():
        for i, a in enumerate(ends):
            for b in ends[i + 1:]:
                if a[0] != b[0]:
                    gold_links.add(frozenset((a, b)))
    # predicted links: resolve aligned_to, preferring a claim in the other item of the same pair
    where: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for item_id, claims in predicted.items():
        if item_id not in by_id:
            continue
        for k, c in enumerate(claims or []):
            if c.claim_id:
                where[c.claim_id].append((item_id, k))
    pred_links: set[frozenset] = set()
    dangling = 0
    for item_id, claims in predicted.items():
        if item_id not in by_id:
            continue
        pair = by_id[item_id].pair_id
        for k, c in enumerate(claims or []):
            if not c.aligned_to:
                continue
            targets = where.get(c.aligned_to, [])
            targets = sorted(targets, key=lambda t: (t[0] == item_id or by_id[t[0]].pair_id != pair, t))
            if not targets:
                dangling += 1
                errors.append({"kind": "align_fp", "item_id": item_id, "lang": by_id[item_id].lang,
                               "predicate": c.predicate, "aligned_to": c.aligned_to,
                               "reason": "aligned_to names no predicted claim"})
                continue
            pred_links.add(frozenset(((item_id, k), targets[0])))
    found: set[frozenset] = set()
    correct = 0
    for link in pred_links:
        ends = list(link)
        gold_ends = [pred_to_gold.get(e) for e in ends]
        glink = frozenset(gold_ends) if None not in gold_ends and len(ends) == 2 else None
        if glink is not None and glink in gold_links:
            correct += 1
            found.add(glink)
        else:
            a = ends[0]
            c = predicted[a[0]][a[1]]
            errors.append({"kind": "align_fp", "item_id": a[0], "lang": by_id[a[0]].lang,
                           "predicate": c.predicate, "claim_id": c.claim_id, "aligned_to": c.aligned_to,
                           "reason": "not a gold link" if None not in gold_ends else "an end matches no gold claim"})
    for link in sorted(gold_links - found, key=lambda lk: sorted(lk)):
        (ia, ga), (ib, gb) = sorted(link)
        errors.append({"kind": "align_fn", "item_id": ia, "lang": by_id[ia].lang,
                       "predicate": by_id[ia].claims[ga].predicate,
                       "other_item_id": ib, "other_predicate": by_id[ib].claims[gb].predicate})
    n_pred = len(pred_links) + dangling
    p, r = _ratio(correct, n_pred), _ratio(len(found), len(gold_links))
    return {"gold_links": len(gold_links), "pred_links": n_pred, "correct": correct,
            "found": len(found), "dangling": dangling, "precision": p, "recall": r,
            "f1": _hmean(p, r, bool(n_pred or gold_links))}


def evaluate(gold_path: str | Path, extractor: Extractor) -> dict[str, Any]:
    """Load the gold, run `extractor` on its texts, score. The extractor is a parameter so the
    same scoring serves the real pipeline and test stand-ins."""
    items = load_gold(gold_path)
    predicted = extractor(gold_to_statements(items))
    if not isinstance(predicted, Mapping):
        raise TypeError(f"the extractor must return a dict item_id -> claims, not {type(predicted).__name__}")
    result = score(items, predicted)
    result["gold_file"] = str(gold_path)
    return result


# ---------------------------------------------------------------- report


def _pct(x: float | None) -> str:
    return "    -" if x is None else f"{100 * x:5.1f}"


def _prf_row(name: str, r: Mapping[str, Any]) -> str:
    return (f"  {name:<16} {r['gold']:>5} {r['pred']:>5} {r['matched']:>5}  "
            f"{_pct(r['precision'])} {_pct(r['recall'])} {_pct(r['f1'])}")


def format_report(result: Mapping[str, Any], errors: bool = False) -> str:
    """A readable report: detection P/R/F1 per language and type, field accuracies, alignment."""
    g, out = result["gold"], []
    out.append(f"Claims evaluation{(' on ' + result['gold_file']) if result.get('gold_file') else ''}")
    out.append(f"  gold: {g['items']} items {dict(sorted(g['items_by_lang'].items()))}, {g['claims']} claims; "
               f"predicates located: {dict(sorted(g['located'].items()))}")
    for u in g["unlocatable"]:
        out.append(f"    unlocatable: {u['item_id']}: {u['predicate']!r}")
    lc = result["language_check"]
    if lc["checked"]:
        out.append(f"  items whose text language (langid) differs from their `lang`: {lc['disagree']}"
                   + (" (" + ", ".join(f"{d['item_id']}={d['text_lang']}" for d in lc["items"]) + ")"
                      if lc["items"] else ""))
    p = result["predictions"]
    out.append(f"  predicted: {p['claims']} claims; offsets {dict(sorted(p['offsets'].items()))}"
               + (f"; {len(p['unknown_items'])} predicted items not in gold (ignored)" if p["unknown_items"] else ""))
    head = f"  {'':<16} {'gold':>5} {'pred':>5} {'match':>5}  {'P':>5} {'R':>5} {'F1':>5}"
    out += ["", "Detection (predicate spans overlap, one-to-one)", head]
    d = result["detection"]
    out.append(_prf_row("all", d["all"]))
    for k, v in d["by_lang"].items():
        out.append(_prf_row(f"lang={k}", v))
    for k, v in d["by_text_lang"].items():
        out.append(_prf_row(f"text lang={k}", v))
    if len(d.get("by_source", {})) > 1:
        out += ["", "Detection by source (the record's `source`, else its item id before the first colon)", head]
        for k, v in d["by_source"].items():
            out.append(_prf_row(f"{k}"[:16], v))
    out += ["", "Detection with the right type", head]
    dt = result["detection_typed"]
    out.append(_prf_row("all", dt["all"]))
    for k, v in dt["by_lang"].items():
        out.append(_prf_row(f"lang={k}", v))
    out += ["", "Per type (recall over gold of the type, precision over predicted of the type)",
            f"  {'type':<16} {'gold':>5} {'found':>5} {'R':>5}   {'pred':>5} {'right':>5} {'P':>5}   {'F1':>5}"]
    for t, r in result["by_type"].items():
        out.append(f"  {t:<16} {r['gold']:>5} {r['matched_gold']:>5} {_pct(r['recall'])}   "
                   f"{r['pred']:>5} {r['matched_pred']:>5} {_pct(r['precision'])}   {_pct(r['f1'])}")
    f = result["fields"]
    langs = list(f["by_lang"])
    out += ["", f"Field accuracy on the {f['matched']} matched pairs (%, n)",
            f"  {'field':<18} {'all':>12}" + "".join(f" {k:>12}" for k in langs)]

    def cell(a: Mapping[str, Any]) -> str:
        return f"{_pct(a['accuracy'])} ({a['total']:>3})"

    for name in FIELDS:
        out.append(f"  {name:<18} {cell(f['all'][name]):>12}"
                   + "".join(f" {cell(f['by_lang'][k][name]):>12}" for k in langs))
    out.append(f"  {'quantities*':<18} {cell(f['quantities_nonempty']):>12}   "
               "(* pairs where gold or prediction has quantities)")
    a = result["alignment"]
    out += ["", "Alignment (links between claims of the two items of a pair)",
            f"  gold links {a['gold_links']}, predicted {a['pred_links']} ({a['dangling']} dangling), "
            f"correct {a['correct']}: P {_pct(a['precision']).strip()}  R {_pct(a['recall']).strip()}  "
            f"F1 {_pct(a['f1']).strip()}"]
    if errors:
        out += ["", f"Errors ({len(result['errors'])})"]
        for e in result["errors"]:
            out.append(_format_error(e))
    return "\n".join(out)


def _format_error(e: Mapping[str, Any]) -> str:
    k = e["kind"]
    head = f"  [{k}] {e['item_id']} ({e['lang']})"
    if k in ("fp", "fn"):
        note = "" if e.get("located", True) else " (gold predicate not found in text)"
        return f"{head} {e['type']}: {e['predicate']!r}{note}\n      {e['sentence']}"
    if k == "mismatch":
        diffs = "; ".join(f"{f}: {v['gold']!r} vs {v['pred']!r}" for f, v in e["fields"].items())
        return f"{head} {e['predicate']!r}: {diffs}\n      {e['sentence']}"
    if k == "align_fp":
        return f"{head} {e['predicate']!r} -> {e.get('aligned_to')!r}: {e['reason']}"
    return f"{head} {e['predicate']!r} <-> {e['other_item_id']} {e['other_predicate']!r} missed"


def _jsonable(result: Mapping[str, Any], errors: bool) -> str:
    data = dict(result) if errors else {k: v for k, v in result.items() if k != "errors"}
    return json.dumps(data, ensure_ascii=False, indent=1)


# ---------------------------------------------------------------- command


def evaluate_claims_command(
    gold: Annotated[Path, typer.Argument(metavar="GOLD", help="Gold JSONL: one item per line, its text and its gold claims (claim fields as in docs/claim-record.md).",
                                         exists=True, dir_okay=False)],
    format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    errors: Annotated[bool, typer.Option("--errors", help="Also list false positives/negatives, "
                                                          "field mismatches and alignment errors.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the full result "
                                                                    "(with errors) as JSON here.")] = None,
) -> None:
    """Run the claim pipeline on the texts of GOLD and score it: detection P/R/F1 per language and
    type, field accuracies on matched claims, and kk-ru alignment P/R."""
    if format not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    try:
        from pipeline.batch.analyse import extract_for_evaluation
    except ImportError as exc:
        typer.echo(f"the claim extractor is not available: {exc}", err=True)
        raise typer.Exit(2)
    result = evaluate(gold, extract_for_evaluation)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(_jsonable(result, errors=True) + "\n", encoding="utf-8")
    typer.echo(_jsonable(result, errors) if format == "json" else format_report(result, errors=errors))


if __name__ == "__main__":  # `python -m pipeline.evaluation.claims GOLD.jsonl`
    typer.run(evaluate_claims_command)
