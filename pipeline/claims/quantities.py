"""Numbers with units in claims: "91,7%" -> 91.7 "%", "2 млрд тенге" -> 2000000000 "тенге".

Years, dates, phone numbers, list markers and ordinals are not quantities. What counts as a
multiplier, a unit, a year word or a month lives in `configs/claims/<lang>.toml`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from spacy.tokens import Doc, Token

NUMBER_RE = re.compile(r"(?<![\w.,/-])(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?(?![\w/]|[.,]\d|-\d)")
PHONE_RE = re.compile(r"(?:\+?\d[\d\s()\-]{7,}\d)")
DATE_RE = re.compile(r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b\d{1,2}:\d{2}\b")


@dataclass
class QuantityConfig:
    multipliers: dict[str, float]
    units: list[tuple[re.Pattern, str]]
    year_words: set[str]
    month_words: list[str]
    multiword_units: list[str]

    @classmethod
    def from_dict(cls, d: dict) -> "QuantityConfig":
        return cls(
            multipliers={k.lower(): float(v) for k, v in d.get("multipliers", {}).items()},
            units=[(re.compile(rf"^(?:{k})$", re.IGNORECASE), v) for k, v in d.get("units", {}).items()],
            year_words={w.lower() for w in d.get("year_words", [])},
            month_words=[w.lower() for w in d.get("month_words", [])],
            multiword_units=[w.lower() for w in d.get("multiword_units", [])],
        )


def _value(int_part: str, frac: str | None) -> float | int:
    digits = re.sub(r"\D", "", int_part)
    if frac:
        return float(f"{digits}.{frac}")
    return int(digits)


def _next_words(text: str, pos: int, n: int = 3) -> list[tuple[str, int, int]]:
    """The next `n` words (or symbols) after `pos`, with offsets."""
    out = []
    for m in re.finditer(r"\w+(?:-\w+)*\.?|[%$€₸]", text[pos:]):
        out.append((m.group(), pos + m.start(), pos + m.end()))
        if len(out) >= n:
            break
    return out


@lru_cache(maxsize=64)
def _blocked(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of phone numbers and dates in a text: no quantities there (asked once per claim
    candidate of a sentence, found once per sentence)."""
    blocked = [(m.start(), m.end()) for m in PHONE_RE.finditer(text) if len(re.sub(r"\D", "", m.group())) >= 9]
    blocked += [(m.start(), m.end()) for m in DATE_RE.finditer(text)]
    return tuple(blocked)


def find_quantities(doc: Doc, cfg: QuantityConfig, start: int = 0, end: int | None = None,
                    offset: int = 0, kk_lemmas: bool = False, text: str | None = None) -> list[dict]:
    """Quantities in `doc.text[start:end]`; offsets in the result are shifted by `offset`.
    `text`: `doc.text`, when the caller has it already."""
    text = doc.text if text is None else text
    end = len(text) if end is None else end
    blocked = _blocked(text)
    out: list[dict] = []
    for m in NUMBER_RE.finditer(text, start, end):
        a, b = m.start(), m.end()
        if any(x <= a < y for x, y in blocked):
            continue
        # list markers "1)" and "2." at the start, ordinals "55-ші", "2-й"
        after = text[b:b + 2]
        if after.startswith(")") or re.match(r"-\w", after):
            continue
        if after.startswith(".") and not text[b + 1:b + 2].isdigit() and text[:a].strip() == "":
            continue
        value = _value(m.group(1), m.group(2))
        words = _next_words(text, b, 3)
        low = [w.lower().rstrip(".") for w, _, _ in words]
        # dates and years; a year right after a month name is a date too ("25 мая 2015 В регионах")
        if low and (low[0] in cfg.year_words or any(low[0].startswith(mw) for mw in cfg.month_words)):
            continue
        prev_word = re.findall(r"\w+", text[max(0, a - 20):a])
        if isinstance(value, int) and 1900 <= value <= 2100 and m.group(1).isdigit() and prev_word \
                and any(prev_word[-1].lower().startswith(mw) for mw in cfg.month_words):
            continue
        if isinstance(value, int) and 1900 <= value <= 2100 and m.group(1).isdigit() and (
                not low or low[0] in cfg.year_words or not words or not words[0][0][0].isalpha()
                or text[b:b + 1] in "-–"):
            continue
        q_end = b
        unit = None
        k = 0
        # multiplier: "2 млрд", "5 тысяч"
        if k < len(low) and low[k] in cfg.multipliers:
            value = value * cfg.multipliers[low[k]]
            q_end = words[k][2]
            k += 1
        # symbol or fixed unit: "%", "тенге"
        if k < len(words):
            for pat, norm in cfg.units:
                if pat.match(words[k][0]) or pat.match(low[k]):
                    unit = norm
                    q_end = words[k][2]
                    # a sentence's full stop is no part of the unit ("2 млрд тенге.")
                    if words[k][0].endswith(".") and not pat.match(words[k][0]) and pat.match(words[k][0][:-1]):
                        q_end -= 1
                    break
        if unit is None and text[b:b + 1] == "%":
            unit, q_end = "%", b + 1
        if unit is None:
            unit, q_end = _noun_unit(doc, q_end, q_end, cfg, kk_lemmas)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out.append({"text": text[a:q_end], "value": value, "unit": unit,
                    "start": a + offset, "end": q_end + offset})
    return out


def _feat_part(t: Token) -> bool:
    """Participles ("населенных пунктов") modify the counted noun like adjectives."""
    return "Part" in t.morph.get("VerbForm")


def _token_at(doc: Doc, char: int) -> Token | None:
    for t in doc:
        if t.idx <= char < t.idx + len(t.text):
            return t
    return None


def _noun_unit(doc: Doc, num_end: int, q_end: int, cfg: QuantityConfig, kk: bool) -> tuple[str | None, int]:
    """The counted noun ("50 городов" -> "город"): the next noun after the number, within 3 words."""
    tok = _token_at(doc, num_end - 1)
    if tok is None:
        return None, q_end
    j = tok.i + 1
    seen = 0
    while j < len(doc) and seen < 4:
        t = doc[j]
        if t.is_space:
            j += 1
            continue
        if t.is_punct or t.like_num:
            return None, q_end
        if t.pos_ in ("NOUN", "PROPN"):
            lemma = t.lemma_.lower()
            if kk:
                lemma = t.lemma_.lower()
            # two-word units "рабочее место": adjective + noun
            if j > tok.i + 1:
                prev = doc[j - 1]
                pair = f"{prev.lemma_.lower()} {lemma}"
                for mw in cfg.multiword_units:
                    if pair.startswith(mw.split()[0][:4]) and mw.split()[-1][:4] == lemma[:4]:
                        return mw, t.idx + len(t.text)
            return lemma, t.idx + len(t.text)
        if t.pos_ not in ("ADJ", "DET", "ADV", "NUM") and _feat_part(t) is False:
            return None, q_end
        seen += 1
        j += 1
    return None, q_end


@lru_cache(maxsize=1)
def _unit_table() -> list[tuple[re.Pattern, str]]:
    from pipeline import config

    table = []
    for lang in ("kk", "ru"):
        for k, v in config.load(f"claims/{lang}").get("quantities", {}).get("units", {}).items():
            table.append((re.compile(rf"^(?:{k})$", re.IGNORECASE), v))
    return table


def normalize_unit(unit: str | None) -> str | None:
    """A unit as the extractor writes it ("тенге", "теңге", "₸" -> "KZT"): gold written with the
    word and predictions written with the code compare equal."""
    if not unit:
        return unit
    for pat, norm in _unit_table():
        if pat.match(unit.strip()):
            return norm
    return unit
