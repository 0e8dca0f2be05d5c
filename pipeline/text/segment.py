"""Split a statement into paragraphs and sentences with exact character offsets.

Why offsets matter: every later stage (claims, evidence spans, the report) points back into the
original text, so `text[s.start:s.end] == s.text` must hold for every sentence, and sentences
never start or end with whitespace.

Paragraphs are blocks between blank lines; inside a block each line is its own paragraph
(scraped pages put one paragraph per line) unless it is a hard-wrapped line. Sentences come from
razdel, which handles Russian initials, quotes and numbers well and, as Kazakh uses the same
script and punctuation, Kazakh text too; `configs/segment.toml` lists the few repairs it needs
(abbreviations such as "ж." before a digit, "Ак. Сәтбаев", numbered lists).

Every sentence gets a language (pipeline.text.langid) and a boilerplate flag: page furniture such as
"Медиаон ақпарат", "281 сөз", "Добавить комментарий" is marked, not dropped, so that a reader
can still see it and offsets stay meaningful. `boilerplate_rule` names the rule that matched
("ru:comment_add", "common:date_time", "nav_short_line").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from razdel import sentenize

from pipeline import config
from pipeline.text.langid import identify
from pipeline.io.records import Paragraph, Sentence

_WS = " \t\r\f\v\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u205f\u3000\ufeff"
_WORD = re.compile(r"[^\W\d_]+(?:[-‐][^\W\d_]+)*")
_ENUM_HEAD = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)[.)]\s")
_ENUM_TAIL = re.compile(r"\s(\d{1,3}(?:\.\d{1,3})*)\.$")


@dataclass(frozen=True)
class _Rules:
    join_wrapped: bool
    wrap_end_chars: str
    no_break_after: frozenset[str]
    no_break_before_digit: frozenset[str]
    fix_enumerations: bool
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    nav_max_words: int
    pattern_max_words: int
    nav_final_punct: str
    finite_endings: dict[str, tuple[str, ...]]  # per language
    finite_words: dict[str, frozenset[str]]
    max_words: int
    long_break_after: tuple[str, ...]


@lru_cache(maxsize=None)
def _rules() -> _Rules:
    cfg: dict[str, Any] = config.load("segment")
    patterns: list[tuple[str, re.Pattern[str]]] = []
    for name, rx in cfg["boilerplate"].get("patterns", {}).items():
        patterns.append((f"common:{name}", re.compile(rx, re.IGNORECASE)))
    endings: dict[str, tuple[str, ...]] = {}
    words: dict[str, frozenset[str]] = {}
    for lang in ("kk", "ru"):
        bp = config.load(f"lang/{lang}").get("boilerplate", {})
        for name, rx in bp.get("patterns", {}).items():
            patterns.append((f"{lang}:{name}", re.compile(rx, re.IGNORECASE)))
        endings[lang] = tuple(sorted({e.lower() for e in bp.get("finite_endings", [])}, key=len, reverse=True))
        words[lang] = frozenset(w.lower() for w in bp.get("finite_words", []))
    sent = cfg["sentences"]
    par = cfg["paragraphs"]
    return _Rules(
        join_wrapped=bool(par.get("join_wrapped_lines", True)),
        wrap_end_chars=par.get("wrap_end_chars", ","),
        no_break_after=frozenset(a.lower() for a in sent.get("no_break_after", [])),
        no_break_before_digit=frozenset(a.lower() for a in sent.get("no_break_before_digit", [])),
        fix_enumerations=bool(sent.get("fix_enumerations", True)),
        patterns=tuple(patterns),
        nav_max_words=int(cfg["boilerplate"].get("nav_max_words", 4)),
        pattern_max_words=int(cfg["boilerplate"].get("pattern_max_words", 25)),
        nav_final_punct=cfg["boilerplate"].get("nav_final_punct", ".!?…"),
        finite_endings=endings,
        finite_words=words,
        max_words=int(sent.get("max_words", 0)),
        long_break_after=tuple(sent.get("long_break_after", [";", ":", ","])),
    )


# ---------------------------------------------------------------- paragraphs


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start] in _WS or text[start].isspace()):
        start += 1
    while end > start and (text[end - 1] in _WS or text[end - 1].isspace()):
        end -= 1
    return start, end


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph; both ends on non-whitespace characters."""
    rules = _rules()
    spans: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    pos = 0
    for line in text.split("\n"):
        s, e = _strip_span(text, pos, pos + len(line))
        pos += len(line) + 1
        if s == e:  # blank line
            if cur:
                spans.append(cur)
            cur = None
            continue
        if cur is not None and rules.join_wrapped and _is_wrap(text[cur[0]:cur[1]], text[s:e], rules):
            cur = (cur[0], e)
            continue
        if cur:
            spans.append(cur)
        cur = (s, e)
    if cur:
        spans.append(cur)
    return spans


def _is_wrap(prev: str, nxt: str, rules: _Rules) -> bool:
    """Is `nxt` the continuation of a hard-wrapped line rather than a new paragraph?"""
    if nxt[0].isalpha() and nxt[0].islower():
        return True
    return prev[-1] in rules.wrap_end_chars and not nxt[0] in "-–—•*·"


# ---------------------------------------------------------------- sentences


def _last_token(s: str) -> str:
    tok = s.rsplit(None, 1)[-1] if s.split() else ""
    return tok.lstrip("([«\"'„“").lower()


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of the sentences of text[start:end] (one paragraph), offsets into `text`."""
    rules = _rules()
    end = len(text) if end is None else end
    chunk = text[start:end]
    spans = [(start + s.start, start + s.stop) for s in sentenize(chunk)]
    spans = [_strip_span(text, a, b) for a, b in spans]
    spans = [sp for sp in spans if sp[0] < sp[1]]
    # merge where razdel broke after an abbreviation that does not end sentences
    merged: list[tuple[int, int]] = []
    for sp in spans:
        if merged:
            prev = text[merged[-1][0]:merged[-1][1]]
            tok = _last_token(prev)
            nxt = text[sp[0]:sp[1]]
            if tok in rules.no_break_after or (tok in rules.no_break_before_digit and nxt[:1].isdigit()):
                merged[-1] = (merged[-1][0], sp[1])
                continue
        merged.append(sp)
    if rules.fix_enumerations:
        merged = _fix_enumerations(text, merged)
    if rules.max_words > 0:
        merged = [piece for sp in merged for piece in _split_long(text, sp, rules)]
    return merged


_TOKEN = re.compile(r"\S+")


def _split_long(text: str, span: tuple[int, int], rules: _Rules) -> list[tuple[int, int]]:
    """Cut a run-on "sentence" (a scraped list of 3,700 words without a full stop) into pieces
    of at most `max_words` words: after the last word ending in the first of `long_break_after`
    found in a piece's second half, else after exactly `max_words` words. Parsing time and memory
    grow with the square of sentence length, so one such line would otherwise set a batch run's
    peak memory."""
    limit = rules.max_words
    words = [m.span() for m in _TOKEN.finditer(text, span[0], span[1])]
    if len(words) <= limit:
        return [span]
    pieces: list[tuple[int, int]] = []
    first = 0
    while len(words) - first > limit:
        cut = first + limit - 1  # index of the piece's last word
        for mark in rules.long_break_after:
            hit = next((i for i in range(first + limit - 1, first + limit // 2 - 1, -1)
                        if text[words[i][0]:words[i][1]].endswith(mark)), None)
            if hit is not None:
                cut = hit
                break
        pieces.append((words[first][0], words[cut][1]))
        first = cut + 1
    pieces.append((words[first][0], span[1]))
    return pieces


def _fix_enumerations(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Move a trailing item number ("... қаласы 2.") to the next item when numbers run on."""
    out = list(spans)
    for i in range(len(out) - 1):
        a, b = out[i]
        s = text[a:b]
        head, tail = _ENUM_HEAD.match(s), _ENUM_TAIL.search(s)
        if not head or not tail or tail.start() <= head.end():
            continue
        h = [int(x) for x in head.group(1).split(".")]
        t = [int(x) for x in tail.group(1).split(".")]
        if len(h) != len(t) or h[:-1] != t[:-1] or t[-1] != h[-1] + 1:
            continue
        num_start = a + tail.start(1)
        new_end = _strip_span(text, a, num_start)[1]
        out[i] = (a, new_end)
        out[i + 1] = (num_start, out[i + 1][1])
    return out


# ---------------------------------------------------------------- boilerplate


def boilerplate_rule(sentence: str, whole_paragraph: bool = False, lang: str | None = None) -> str | None:
    """Name of the first boilerplate rule matching `sentence`, or None.

    `whole_paragraph`: the sentence is a paragraph of one line on its own, the only place where
    the short-navigation-line heuristic applies (a short fragment inside running text is not a
    menu item). `lang` picks the finite-verb endings for that heuristic (both when unknown:
    "Мемлекет" must not look like a Russian verb in "-ет").
    """
    rules = _rules()
    norm = " ".join(sentence.split())
    if len(_WORD.findall(norm)) <= rules.pattern_max_words:
        for name, rx in rules.patterns:
            if rx.search(norm):
                return name
    if whole_paragraph and _is_nav_line(norm, rules, lang):
        return "nav_short_line"
    return None


def _is_nav_line(norm: str, rules: _Rules, lang: str | None) -> bool:
    if not norm or norm[-1] in rules.nav_final_punct:
        return False
    words = [w.lower() for w in _WORD.findall(norm)]
    if not words or len(words) > rules.nav_max_words:
        return False
    langs = [lang] if lang in rules.finite_endings else list(rules.finite_endings)
    for w in words:
        for lg in langs:
            if w in rules.finite_words[lg]:
                return False
            if any(w.endswith(e) and len(w) > len(e) for e in rules.finite_endings[lg]):
                return False
    return True


# ---------------------------------------------------------------- public API


def segment(statement_id: str, text: str) -> list[Paragraph]:
    """Paragraphs of `text`, each with its sentences (language and boilerplate flag set)."""
    paragraphs: list[Paragraph] = []
    index = 0
    for p_index, (p_start, p_end) in enumerate(paragraph_spans(text)):
        para = Paragraph(index=p_index, start=p_start, end=p_end)
        spans = sentence_spans(text, p_start, p_end)
        single_line = "\n" not in text[p_start:p_end]
        for s_start, s_end in spans:
            s_text = text[s_start:s_end]
            lang = identify(s_text)
            whole = single_line and len(spans) == 1
            rule = boilerplate_rule(s_text, whole_paragraph=whole, lang=lang)
            para.sentences.append(
                Sentence(
                    statement_id=statement_id,
                    index=index,
                    start=s_start,
                    end=s_end,
                    text=s_text,
                    lang=lang,
                    paragraph=p_index,
                    boilerplate=rule is not None,
                    boilerplate_rule=rule,
                )
            )
            index += 1
        paragraphs.append(para)
    return paragraphs


def sentences(statement_id: str, text: str) -> list[Sentence]:
    """All sentences of `text` in order (the flat view of `segment`)."""
    return [s for p in segment(statement_id, text) for s in p.sentences]
