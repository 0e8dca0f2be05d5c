"""Dates written in Kazakh and Russian text: datelines and deadlines.

Why: a thread is ordered by statement date, and many statements come without a ``date`` field but
with a dateline in their text ("28 августа 2015", "2015 жылдың 29 тамызы", "29.08.2015"). A
commitment that names a year ("до 2020 года", "2025 жылға дейін") is overdue once the store holds
statements from after it. Month names, year words and deadline phrases come from
``configs/threads/dates.toml``; both languages' names are tried on every text (Kazakh pages quote
Russian dates and the other way round), so no language branch is needed.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline import config


@dataclass(frozen=True)
class FoundDate:
    """A full calendar date found in a text, with its span."""

    date: _dt.date
    start: int
    end: int
    text: str

    @property
    def iso(self) -> str:
        return self.date.isoformat()


@dataclass(frozen=True)
class Deadline:
    """A year (or a full date) a commitment names as its time: due by the end of it."""

    due: _dt.date
    text: str
    year: int


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=None)
def _patterns() -> dict:
    cfg = config.load("threads/dates")
    month_of: dict[str, int] = {}
    for lang_months in cfg["months"].values():
        for num, stems in lang_months.items():
            for s in stems:
                month_of[s.casefold()] = int(num)
    month = rf"(?P<month>(?:{_alt(month_of)})[^\W\d_]*)"
    day = r"[«\"']?(?P<day>\d{1,2})[»\"']?"
    day2 = rf"(?:\s*(?:{_alt(cfg['words']['day_joiners'])})\s*(?P<day2>\d{{1,2}}))?"
    year = r"(?P<year>(?:1[89]|20)\d\d)"
    yw = _alt(cfg["words"]["year_words"])
    # "28 августа 2015", "1 и 2 июля 2015", "29 тамыз 2015 ж."
    dmy = re.compile(rf"(?<![\w.]){day}{day2}\s*{month}\s*,?\s*{year}(?!\d)", re.I)
    # "2015 жылдың 29 тамызы", "2015 ж. 1 қаңтардағы", "2015 жылғы 1-15 маусым"
    ymd = re.compile(rf"(?<!\d){year}\s*(?:{yw})?\s*{day}{day2}\s*{month}", re.I)
    # "29.08.2015", "29/08/2015"; "2015-08-29"
    num = re.compile(r"(?<![\d.])(?P<day>\d{1,2})[./](?P<month>\d{1,2})[./](?P<year>(?:1[89]|20)\d\d)(?![\d])")
    iso = re.compile(r"(?<![\d.])(?P<year>(?:1[89]|20)\d\d)-(?P<month>\d{2})-(?P<day>\d{2})(?!\d)")
    deadlines = []
    for phrases in cfg.get("deadlines", {}).values():
        for p in phrases:
            parts = [re.escape(x) for x in p.split("{year}")]
            deadlines.append(parts[0].replace(r"\ ", r"\s+") + r"20\d\d" + parts[1].replace(r"\ ", r"\s+"))
    deadline = re.compile(rf"(?<![\w-])(?:{'|'.join(sorted(deadlines, key=len, reverse=True))})", re.I) if deadlines else None
    dl = cfg.get("dateline", {})
    before = dl.get("reject_before", [])
    reject_before = re.compile(rf"(?:^|\W)(?:{_alt(before)})\s*$", re.I) if before else None
    reject_after = re.compile(rf"^\s*(?:года|г\.|ж\.|жылы)?\s*(?:{_alt(dl.get('reject_after', []))})(?!\w)", re.I) \
        if dl.get("reject_after") else None
    endings = tuple(e.casefold() for e in dl.get("reject_month_endings", []))
    return {"month_of": month_of, "dmy": dmy, "ymd": ymd, "num": num, "iso": iso, "deadline": deadline,
            "window": int(dl.get("window", 400)), "reject_before": reject_before, "reject_after": reject_after,
            "reject_endings": endings, "month_rx": re.compile(month, re.I)}


def _month(word: str, month_of: dict[str, int]) -> int | None:
    w = word.casefold()
    best = None
    for stem, n in month_of.items():
        if w.startswith(stem) and (best is None or len(stem) > best[0]):
            best = (len(stem), n)
    return best[1] if best else None


def _make(y: int, m: int | None, d: int) -> _dt.date | None:
    if m is None:
        return None
    try:
        return _dt.date(y, m, d)
    except ValueError:
        return None


def find_dates(text: str) -> list[FoundDate]:
    """Every full calendar date (day, month, year) in `text`, in order; "1 и 2 июля 2015" gives two.
    Dates that do not exist (31 June) are left out."""
    p = _patterns()
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, dates: list[_dt.date | None]) -> None:
        if any(a < end and start < b for a, b in taken):
            return
        taken.append((start, end))
        for d in dates:
            if d is not None:
                found.append(FoundDate(d, start, end, text[start:end]))

    for name in ("ymd", "dmy"):
        for m in p[name].finditer(text):
            mo = _month(m.group("month"), p["month_of"])
            y = int(m.group("year"))
            days = [int(m.group("day"))] + ([int(m.group("day2"))] if m.group("day2") else [])
            add(m.start(), m.end(), [_make(y, mo, d) for d in days])
    for name in ("num", "iso"):
        for m in p[name].finditer(text):
            add(m.start(), m.end(), [_make(int(m.group("year")), int(m.group("month")), int(m.group("day")))])
    found.sort(key=lambda f: (f.start, f.date))
    return found


def dateline(text: str | None) -> FoundDate | None:
    """The statement's date read from its text: the first full date near the start (a dateline)
    that is not the date of a cited document ("от 18 сентября 2013 года № 983", "2001 жылғы 23
    қаңтардағы Заңы"), or None. Window and rejection cues: `[dateline]` of configs/threads/dates.toml."""
    if not text:
        return None
    p = _patterns()
    head = text[: p["window"]]
    for f in find_dates(head):
        if p["reject_before"] is not None and p["reject_before"].search(head[max(0, f.start - 12):f.start]):
            continue
        if p["reject_after"] is not None and p["reject_after"].match(head[f.end:f.end + 16]):
            continue
        month = p["month_rx"].search(f.text)
        if month and p["reject_endings"] and f.text.endswith(month.group(0)) and \
                month.group(0).casefold().endswith(p["reject_endings"]):
            continue  # "2001 жылғы 23 қаңтардағы (Заңы)": the date of a cited document
        return f
    return None


def deadline(sentence: str | None, not_before: _dt.date | None = None) -> Deadline | None:
    """The latest year a commitment's sentence names as its time ("до 2020 года" -> 2020-12-31).

    Years before `not_before` (the statement's own year) are history, not a deadline. A full date
    in the sentence after a deadline phrase is not needed: a year is due at its end."""
    if not sentence:
        return None
    rx = _patterns()["deadline"]
    if rx is None:
        return None
    best: Deadline | None = None
    for m in rx.finditer(sentence):
        y = int(re.search(r"20\d\d", m.group(0)).group(0))
        if not_before is not None and y < not_before.year:
            continue
        if best is None or y > best.year:
            best = Deadline(_dt.date(y, 12, 31), m.group(0), y)
    return best
