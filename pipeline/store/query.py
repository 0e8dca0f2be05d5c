"""Select claims from a polclaims store by type, actor, lemma, topic, date, full text and more.

The one query path for the CLI and for Python callers. Every value goes to SQLite as a bound
parameter, never formatted into SQL, and every enumerated filter is checked first, so a typo
("comitment") is an error naming the allowed values instead of a silently empty result.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.io.records import (
    ACTOR_KINDS,
    CLAIM_RECORD_COLUMNS,
    CLAIM_TYPES,
    POLARITIES,
    STATEMENT_META,
    TENSES,
)
from pipeline.store.database import CLAIM_COLUMNS, JSON_COLUMNS, ClaimStore, StoreError, describe_error

LANGS = ("kk", "ru")

# Output columns of a plain query: the claim record `process --out` writes too.
COLUMNS = CLAIM_RECORD_COLUMNS
_PAIRED = ("claim_id", "statement_id", "type", "predicate", "predicate_lemma", "actor",
           "actor_kind", "target", "polarity", "tense", "quantities", "has_quantity", "topic",
           "sentence", "char_start", "char_end", "predicate_start", "predicate_end", "entities",
           "topics", "confidence", "sentence_index", "pipeline_version", "model_versions")
# Output columns of an aligned query: each field of the Kazakh claim beside its Russian twin.
ALIGNED_COLUMNS = ("speaker", "date") + tuple(f"{side}_{c}" for c in _PAIRED for side in ("kk", "ru")) \
    + ("source", "url", "title")

# Extra columns of a query by thread (`--thread`): where each claim stands on the timeline.
THREAD_COLUMNS = ("thread_id", "thread_position", "thread_role", "thread_date", "thread_date_inferred")

Values = str | Iterable[str] | None


def _values(value: Values) -> list[str]:
    """One value or several, as a list without blanks (empty list: no filter)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [str(v).strip() for v in value if v is not None and str(v).strip()]


def _choices(option: str, value: Values, allowed: Sequence[str]) -> list[str]:
    vals = [v.lower() for v in _values(value)]
    bad = [v for v in vals if v not in allowed]
    if bad:
        raise ValueError(f"{option}: {', '.join(repr(b) for b in bad)} is not allowed; "
                         f"use one of {', '.join(allowed)}")
    return vals


_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def parse_date(option: str, value: str | _dt.date | None, *, end: bool = False) -> str | None:
    """An ISO date (YYYY-MM-DD) as a string; YYYY and YYYY-MM stand for their first day, or
    their last day with `end=True`, so `--from 2019 --to 2019` means the whole year."""
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        m = _PARTIAL.match(text)
        if m:
            year, month = int(m.group(1)), int(m.group(2)) if m.group(2) else None
            if not end:
                return _dt.date(year, month or 1, 1).isoformat()
            if month is None:
                return _dt.date(year, 12, 31).isoformat()
            nxt = _dt.date(year + (month == 12), month % 12 + 1, 1)
            return (nxt - _dt.timedelta(days=1)).isoformat()
        return _dt.date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text).isoformat()
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not an ISO date; use YYYY-MM-DD (or YYYY, YYYY-MM)") from None


def _in(expr: str, vals: list[str], params: list[Any]) -> str:
    params.extend(vals)
    return f"{expr} IN ({', '.join('?' * len(vals))})"


def _check_search(conn: sqlite3.Connection, search: str) -> None:
    """Run the FTS query once on its own, so a syntax error is reported as the user's mistake."""
    try:
        conn.execute("SELECT rowid FROM sentences_fts WHERE sentences_fts MATCH ? LIMIT 1", (search,)).fetchall()
    except sqlite3.OperationalError as e:
        if "malformed" in str(e) or "corrupt" in str(e):
            raise
        raise ValueError(
            f"--search: {search!r} is not a valid full-text query ({e}); words are ANDed, "
            'end a word with * for a prefix (әкім*), put phrases and words with hyphens or '
            'punctuation in double quotes ("Қасым-Жомарт"), combine with OR / NOT') from None


def topic_labels(conn: sqlite3.Connection | None = None) -> list[str]:
    """Topic codes a query can ask for: the labels of the configured topic model (from its card,
    without loading it) and every topic stored claims carry (a store built with `--model other`)."""
    from pipeline.topics.model import resolve_model_path

    labels: set[str] = set()
    try:
        card = json.loads((resolve_model_path() / "card.json").read_text(encoding="utf-8"))
        labels.update(str(x) for x in card.get("labels") or [])
    except (OSError, ValueError):
        pass
    if conn is not None:
        labels.update(r[0] for r in conn.execute("SELECT DISTINCT topic FROM claims WHERE topic IS NOT NULL"))
    return sorted(labels)


def _check_topics(conn: sqlite3.Connection, topics: list[str]) -> None:
    known = topic_labels(conn)
    bad = [t for t in topics if t not in known]
    if bad and known:
        raise ValueError(f"--topic: {', '.join(repr(b) for b in bad)} is not a topic of the topic model "
                         f"or of this store; use one of {', '.join(known)}")


def query_claims(
    store_path: str | Path | ClaimStore,
    *,
    type: Values = None,
    actor_kind: Values = None,
    actor: Values = None,
    predicate_lemma: Values = None,
    topic: Values = None,
    lang: Values = None,
    speaker: Values = None,
    date_from: str | _dt.date | None = None,
    date_to: str | _dt.date | None = None,
    polarity: Values = None,
    tense: Values = None,
    has_quantity: bool | None = None,
    search: str | None = None,
    statement_id: Values = None,
    aligned: bool = False,
    limit: int | None = None,
    thread: Values = None,
    count: bool = False,
) -> list[dict[str, Any]] | int:
    """Claims matching every given filter, ordered by statement, then position in it.

    Each filter takes one value or a list of values (any of them matches). `actor` and
    `speaker` are case-insensitive substrings; `predicate_lemma`, `topic` and `statement_id`
    match exactly; `date_from`/`date_to` bound the statement's date (inclusive); `search` is an
    FTS5 query over the claim's sentence (`әкім*`, `"местного самоуправления"`, `а OR б`).
    `thread` keeps the members of promise threads (`polclaims track`), in timeline order, with
    the THREAD_COLUMNS added.

    `aligned=True` returns only Kazakh claims that have an `aligned_to`, each beside its Russian
    twin (`kk_predicate`, `ru_predicate`, `kk_sentence`, `ru_sentence`, ...); the filters apply
    to the Kazakh claim, except `search`, which may match either sentence.

    `count=True` returns how many claims match in all (`limit` ignored): what `--limit` reports.
    A `topic` that is neither a label of the topic model nor a topic of any stored claim is a
    ValueError listing the labels (a typo would otherwise be an empty result).

    Raises ValueError for a bad filter value (message names the option and allowed values),
    FileNotFoundError for a missing store, `store.StoreError` for a file that is not one.
    """
    types = _choices("--type", type, CLAIM_TYPES)
    kinds = _choices("--actor-kind", actor_kind, ACTOR_KINDS)
    pols = _choices("--polarity", polarity, POLARITIES)
    tenses = _choices("--tense", tense, TENSES)
    langs = _choices("--lang", lang, LANGS)
    d_from = parse_date("--from", date_from)
    d_to = parse_date("--to", date_to, end=True)
    if d_from and d_to and d_from > d_to:
        raise ValueError(f"--from {d_from} is after --to {d_to}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValueError(f"--limit: {limit!r} is not allowed; use a whole number of 1 or more")
    if has_quantity is not None and not isinstance(has_quantity, bool):
        raise ValueError(f"has_quantity: {has_quantity!r} is not allowed; use True, False or None")
    if aligned and langs and langs != ["kk"]:
        raise ValueError("--lang: aligned rows always pair a Kazakh claim with its Russian twin; "
                         "leave --lang out with --aligned")
    search = search.strip() if search else None
    threads = _values(thread)
    if threads and aligned:
        raise ValueError("--thread: a thread lists each claim on its own; leave --aligned out with --thread")

    where: list[str] = []
    params: list[Any] = []
    c = "k" if aligned else "c"
    if aligned:
        where += ["k.lang = 'kk'", "k.aligned_to IS NOT NULL"]
    if types:
        where.append(_in(f"{c}.type", types, params))
    if kinds:
        where.append(_in(f"{c}.actor_kind", kinds, params))
    if pols:
        where.append(_in(f"{c}.polarity", pols, params))
    if tenses:
        where.append(_in(f"{c}.tense", tenses, params))
    if langs and not aligned:
        where.append(_in("c.lang", langs, params))
    for col, vals in ((f"{c}.actor", _values(actor)), ("s.speaker", _values(speaker))):
        if vals:  # instr on casefolded text: case-insensitive for Cyrillic, and no LIKE wildcards
            where.append("(" + " OR ".join(f"instr(pc_fold({col}), ?) > 0" for _ in vals) + ")")
            params.extend(v.casefold() for v in vals)
    lemmas = _values(predicate_lemma)
    if lemmas:  # exact, but forgiving about case, and still able to use the lemma index
        where.append(_in(f"{c}.predicate_lemma", sorted(set(lemmas) | {v.casefold() for v in lemmas}), params))
    topics = _values(topic)
    if topics:
        where.append(_in(f"{c}.topic", topics, params))
    ids = _values(statement_id)
    if ids:
        where.append(_in(f"{c}.statement_id", ids, params))
    if d_from:
        where.append("s.date_iso >= ?")
        params.append(d_from)
    if d_to:
        where.append("s.date_iso <= ?")
        params.append(d_to)
    if has_quantity is not None:
        where.append(f"{c}.has_quantity = ?")
        params.append(int(has_quantity))

    # Claims whose sentence span overlaps a sentence matching the FTS query; computed once.
    hits = ("SELECT h.claim_id FROM sentences_fts f JOIN sentences t ON t.id = f.rowid "
            "JOIN claims h ON h.statement_id = t.statement_id "
            "AND h.char_start < t.char_end AND t.char_start < h.char_end "
            "WHERE sentences_fts MATCH ?")
    if search:
        if aligned:
            where.append(f"(k.claim_id IN ({hits}) OR r.claim_id IN ({hits}))")
            params += [search, search]
        else:
            where.append(f"c.claim_id IN ({hits})")
            params.append(search)

    if threads:  # first in WHERE, so its parameters go first
        where.insert(0, f"m.thread_id IN ({', '.join('?' * len(threads))})")
        params[:0] = threads
    if aligned:
        select = ", ".join([f"s.{m} AS {m}" for m in STATEMENT_META]
                           + [f"k.{col} AS kk_{col}" for col in _PAIRED]
                           + [f"r.{col} AS ru_{col}" for col in _PAIRED])
        sql = (f"SELECT {select} FROM claims k JOIN claims r ON r.claim_id = k.aligned_to "
               f"JOIN statements s ON s.id = k.statement_id")
        order = " ORDER BY k.statement_id, k.char_start, k.predicate_start, k.claim_id"
    else:
        select = ", ".join([f"c.{col}" for col in CLAIM_COLUMNS + ("has_quantity",)]
                           + [f"s.{m} AS {m}" for m in STATEMENT_META])
        sql = f"SELECT {select} FROM claims c JOIN statements s ON s.id = c.statement_id"
        order = " ORDER BY c.statement_id, c.char_start, c.predicate_start, c.claim_id"
        if threads:
            select += (", m.thread_id AS thread_id, m.position AS thread_position, m.role AS thread_role, "
                       "m.date AS thread_date, m.date_inferred AS thread_date_inferred")
            sql = (f"SELECT {select} FROM thread_members m JOIN claims c ON c.claim_id = m.claim_id "
                   "JOIN statements s ON s.id = c.statement_id")
            order = " ORDER BY m.thread_id, m.position, c.lang, c.claim_id"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if count:
        sql = f"SELECT count(*) FROM ({sql})"
    else:
        sql += order
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)

    def run(store: ClaimStore) -> list[dict[str, Any]] | int:
        if threads and not store.has_thread_tables():
            raise ValueError(f"--thread: {store.path} holds no threads yet; run `polclaims track --db {store.path}` first")
        try:
            if topics:
                _check_topics(store.conn, topics)
            if search:
                _check_search(store.conn, search)
            if count:
                return int(store.conn.execute(sql, params).fetchone()[0])
            rows = store.conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as e:  # a damaged page found while reading
            raise StoreError(describe_error(store.path, e)) from e
        return [_decode(dict(r), aligned) for r in rows]

    if isinstance(store_path, ClaimStore):
        return run(store_path)
    with ClaimStore(store_path, readonly=True) as store:  # a query never creates or writes a file
        return run(store)


def _decode(row: dict[str, Any], aligned: bool) -> dict[str, Any]:
    """JSON text back to lists/dicts, has_quantity back to bool, keys in output order."""
    for key in list(row):
        base = key[3:] if aligned and key[:3] in ("kk_", "ru_") else key
        if base in JSON_COLUMNS and row[key] is not None:
            row[key] = json.loads(row[key])
        elif base == "has_quantity" and row[key] is not None:
            row[key] = bool(row[key])
    order = ALIGNED_COLUMNS if aligned else COLUMNS
    if "thread_id" in row:
        order = THREAD_COLUMNS + order
        row["thread_date_inferred"] = bool(row["thread_date_inferred"])
    return {k: row.get(k) for k in order}
