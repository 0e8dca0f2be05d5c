"""The Datasette plugin of `polclaims serve`: claim search, facets, the claim page.

Datasette gives the table pages, facets, export and the JSON API; this adds what a claims store
needs on top, reading the store's own tables (pipeline/store/database.py) and nothing else:
- `_search` on the claims table: the FTS5 index of the *sentences*, mapped to the claims that
  start inside a matching sentence (what `polclaims query --search` finds, see HITS_SQL);
- the claims page's facets counted in one query (ClaimFacet), including the statement a claim
  came from (speaker, source, year), with filters `_speaker=`, `_source=`, `_year=`;
- the claim page: statement text with sentence and predicate highlighted, fields, quantities,
  topic probabilities and the aligned twin side by side;
- cells: the predicate highlighted in its sentence, JSON lists as readable text, claim ids in
  canned-query results linked to their claim pages.
Every value reaches the page through Jinja autoescaping or `markupsafe.escape`.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.parse
from collections import OrderedDict
from typing import Any

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import path_with_added_args, path_with_removed_args, tilde_decode, tilde_encode
from datasette.utils.asgi import BadRequest
from markupsafe import Markup, escape

from pipeline.store.query import _check_search
from pipeline.store.database import CLAIM_COLUMNS, _fold
from pipeline.web.chart import stacked_bars
from pipeline.web.metadata import CANNED_QUERIES, CHART_QUERY, DB_NAME, models_html

# Statement fields a claim can be faceted and filtered by: query-string key -> SQL over
# `statements s`.
STATEMENT_FIELDS = {
    "speaker": "s.speaker",
    "source": "s.source",
    "year": "substr(s.date_iso, 1, 4)",
}


def _statement_condition(key: str, names: list[str], values: list[str]) -> str:
    """SQL over `statements s` for one statement filter; years as date ranges, so the date
    index answers them."""
    if key == "year":
        return " or ".join(f"(s.date_iso >= :{n}_from and s.date_iso < :{n}_to)" for n in names)
    return f"{STATEMENT_FIELDS[key]} in ({', '.join(':' + n for n in names)})"


def _ours(database: str | None, table: str | None = "claims") -> bool:
    return database == DB_NAME and (table is None or table == "claims")


# Search hits, computed once per (store file, FTS query) and kept for the page's dozen queries
# (rows, count, every facet): on a large store the FTS join each time was what cost. The store
# is opened immutable, so a cached answer never goes stale.
_HITS: OrderedDict[tuple[str, str], str] = OrderedDict()
_HITS_LOCK = threading.Lock()
_HITS_KEEP = 64


# Claims whose span starts inside a sentence that matches the FTS query. `query --search` asks
# for any overlap; for stores written by `process` (a claim's span is one stored sentence) the
# two are the same claims, and this form is answered from the index on (statement_id,
# char_start) alone, without reading a million claim rows for their char_end.
HITS_SQL = ("SELECT h.rowid FROM sentences_fts f JOIN sentences t ON t.id = f.rowid "
            "JOIN claims h ON h.statement_id = t.statement_id "
            "AND h.char_start >= t.char_start AND h.char_start < t.char_end "
            "WHERE sentences_fts MATCH ?")


def _remember(key: tuple[str, str], rowids) -> str:
    value = json.dumps(sorted(set(rowids)))
    with _HITS_LOCK:
        _HITS[key] = value
        _HITS.move_to_end(key)
        while len(_HITS) > _HITS_KEEP:
            _HITS.popitem(last=False)
    return value


def _hits_json(path: str, fts: str) -> str:
    """The rowids of the claims matching `fts`, as a JSON list (for json_each)."""
    with _HITS_LOCK:
        value = _HITS.get((path, fts))
        if value is not None:
            _HITS.move_to_end((path, fts))
            return value
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)  # evicted meanwhile: recompute
    try:
        return _remember((path, fts), (r[0] for r in conn.execute(HITS_SQL, (fts,))))
    finally:
        conn.close()


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette) -> None:
    """pc_fold(): Unicode case folding (Cyrillic too) for the canned queries' actor match;
    pc_hits(query): the claims matching a search, for the claims page's filter."""
    conn.create_function("pc_fold", 1, _fold, deterministic=True)
    if database == DB_NAME:
        path = datasette.get_database(database).path
        conn.create_function("pc_hits", 1, lambda fts: _hits_json(path, fts), deterministic=True)


@hookimpl(trylast=True)  # last, so our extra_context (supports_search) is not overwritten by core's
def filters_from_request(request, database, table, datasette):
    if not _ours(database, table):
        return None

    async def inner() -> FilterArguments:
        where, params, described, extra = [], {}, [], {"supports_search": True}
        search = (request.args.get("_search") or "").strip()
        db = datasette.get_database(database)
        if search:
            fts = search
            try:
                await db.execute_fn(lambda conn: _check_search(conn, search))
            except ValueError:
                # Not valid FTS syntax (a stray quote, a hyphen): search the words as typed.
                fts = plain_words(search)
            if (db.path, fts) not in _HITS:  # under the page's time limit, unlike pc_hits()
                hits = await db.execute(HITS_SQL, [fts], truncate=False,
                                        custom_time_limit=datasette.setting("sql_time_limit_ms"))
                _remember((db.path, fts), (r[0] for r in hits.rows))
            where.append("rowid in (select value from json_each(pc_hits(:pc_search)))")
            params["pc_search"] = fts
            described.append(f'sentence matches "{search}"' + ("" if fts == search else f" (as words: {fts})"))
            extra["search"] = search
        for key in STATEMENT_FIELDS:
            values = [v for v in request.args.getlist(f"_{key}") if v != ""]
            if not values:
                continue
            names = [f"pc_{key}_{i}" for i in range(len(values))]
            if key == "year":
                bad = [v for v in values if not (v.isdigit() and len(v) == 4)]
                if bad:
                    raise BadRequest(f"_year: {bad[0]!r} is not a year (use four digits, e.g. 2019)")
                for n, v in zip(names, values):
                    params[f"{n}_from"], params[f"{n}_to"] = f"{v}-01-01", f"{int(v) + 1}-01-01"
            else:
                params.update(zip(names, values))
            # With a search, `+` keeps SQLite from driving the query by the statement list (the
            # search's few claims are the cheaper start); without one, the index serves the list.
            plus = "+" if search else ""
            where.append(f"{plus}statement_id in (select s.id from statements s where "
                         f"{_statement_condition(key, names, values)})")
            described.append(f"statement {key} is " + " or ".join(f'"{v}"' for v in values))
        return FilterArguments(where, params, described, extra)

    return inner


def plain_words(text: str) -> str:
    """A search box entry that is not valid FTS5 syntax, as a query for its words: each word
    quoted (hyphens, dots and quotes lose their meaning), a trailing * kept as a prefix."""
    words = []
    for w in text.replace('"', " ").split():
        star = w.endswith("*")
        w = w.rstrip("*")
        if w:
            words.append(f'"{w}"' + ("*" if star else ""))
    return " ".join(words) or '""'


# Facet counts of the whole claims table, per (store file, field): the store is immutable, so
# they are counted once (serve() starts counting them in the background at start-up).
_WHOLE_TABLE: dict[tuple[str, str], list[tuple[Any, int]]] = {}


def whole_table_counts(conn: sqlite3.Connection, path: str, name: str, *, timeout_s: float = 1.0) -> list:
    """(value, count) of one facet field over all claims, cached; statement fields through the
    claims per statement (the index on claims.statement_id), not a million-row join. Gives up
    (sqlite3.OperationalError) after `timeout_s`, leaving the counting to the warm-up."""
    key = (path, name)
    if key in _WHOLE_TABLE:
        return _WHOLE_TABLE[key]
    if name in STATEMENT_FIELDS:
        sql = (f"select {STATEMENT_FIELDS[name]} as v, sum(k.n) from (select statement_id, count(*) as n "
               f"from claims group by statement_id) k join statements s on s.id = k.statement_id "
               f"where v is not null group by v")
    else:
        sql = f"select {name} as v, count(*) from claims where v is not null group by v"
    deadline = time.monotonic() + timeout_s if timeout_s else None
    if deadline:
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        rows = [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        if deadline:
            conn.set_progress_handler(None, 10_000)
    _WHOLE_TABLE[key] = rows
    return rows


def warm_up(path: str, names) -> None:
    """Count the whole table's facets (no time limit) on a connection of our own, so the first
    visitor of a large store sees them; run in a background thread by `serve`."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        for name in names:
            whole_table_counts(conn, path, name, timeout_s=0)
    finally:
        conn.close()


class ClaimFacet(Facet):
    """All the claims page's facets in one query: the filtered claims are gathered once (a
    materialized CTE) and counted per field, instead of the filter (a full-text search, say)
    running again for every facet, which made a search page on a million claims take seconds.
    Fields: claim columns (selected with `column=value`, as Datasette's own facets) and the
    statement's speaker, source and year (`_speaker=`, `_source=`, `_year=`). On the unfiltered
    table each field is counted on its own, where the claims' indexes answer most of them."""

    type = "claim"

    async def suggest(self) -> list:
        return []

    def _field(self, name: str) -> str:
        if name in STATEMENT_FIELDS:
            return STATEMENT_FIELDS[name]
        if name in CLAIM_COLUMNS or name == "has_quantity":
            return f"c.{name}"
        raise BadRequest(f"no claim facet {name!r}; use a claims column or one of {', '.join(STATEMENT_FIELDS)}")

    async def _counts(self, names: list[str]) -> tuple[dict[str, list], list[str]]:
        limit = self.ds.setting("facet_time_limit_ms")
        join = " left join statements s on s.id = c.statement_id"
        if " where " not in self.sql.lower():  # the whole table: counted once, kept (immutable)
            counts, timed_out = {}, []
            db = self.ds.get_database(self.database)
            for name in names:
                self._field(name)  # an unknown name is the visitor's error
                cached = _WHOLE_TABLE.get((db.path, name))
                if cached is None:
                    try:
                        cached = await db.execute_fn(lambda conn, n=name: whole_table_counts(conn, db.path, n))
                    except sqlite3.OperationalError:
                        timed_out.append(name)
                        continue
                counts[name] = [{"value": v, "n": n} for v, n in cached]
            return counts, timed_out
        fields = ", ".join(f"{self._field(n)} as f{i}" for i, n in enumerate(names))
        needs_join = any(n in STATEMENT_FIELDS for n in names)
        parts = " union all ".join(f"select {i} as facet, f{i} as value, count(*) as n from x "
                                   f"where f{i} is not null group by f{i}" for i in range(len(names)))
        sql = (f"with x as materialized (select {fields} from ({self.sql}) c{join if needs_join else ''}) "
               f"{parts}")
        try:
            rows = (await self.ds.execute(self.database, sql, self.params, truncate=False,
                                          custom_time_limit=limit)).rows
        except QueryInterrupted:
            return {}, list(names)
        counts = {n: [] for n in names}
        for row in rows:
            counts[names[row["facet"]]].append(row)
        return counts, []

    async def facet_results(self):
        configs = self.get_configs()
        names = [c["config"].get("simple") for c in configs]
        if not names:  # another table's page (statements, threads): no claim facets to count
            return [], []
        counts, timed_out = await self._counts(names)
        qs_pairs = self.get_querystring_pairs()
        size = self.get_facet_size()
        results = []
        for source_and_config, name in zip(configs, names):
            rows = sorted(counts.get(name) or [], key=lambda r: (-r["n"], str(r["value"])))
            if not rows:
                continue  # e.g. no statement has a speaker: an empty box says nothing
            keys = (f"_{name}",) if name in STATEMENT_FIELDS else (name, f"{name}__exact")
            values = []
            for row in rows[:size]:
                value = str(row["value"])
                selected = any((k, value) in qs_pairs for k in keys)
                path = (path_with_removed_args(self.request, {k: value for k in keys}) if selected
                        else path_with_added_args(self.request, {keys[0]: value}))
                values.append({"value": row["value"], "label": row["value"], "count": row["n"],
                               "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(path)),
                               "selected": selected})
            results.append({"name": name, "type": self.type, "hideable": source_and_config["source"] != "metadata",
                            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet_claim": name})),
                            "results": values, "truncated": len(rows) > size})
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [ClaimFacet]


# -- rendering -------------------------------------------------------------------------------

def highlight(text: str, sentence: tuple[int, int] | None, predicate: tuple[int, int] | None) -> Markup:
    """`text` escaped, the sentence span in <mark class="pc-sentence"> and the predicate span
    inside it in <mark class="pc-predicate">; spans that do not fit the text are left out."""
    n = len(text)

    def ok(span):
        return span is not None and None not in span and 0 <= span[0] < span[1] <= n

    s = sentence if ok(sentence) else None
    p = predicate if ok(predicate) else None
    if s and p and not (s[0] <= p[0] and p[1] <= s[1]):
        p = None
    cuts = sorted({0, n, *(s or ()), *(p or ())})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = escape(text[a:b])
        if p and (a, b) == (p[0], p[1]):
            piece = Markup('<mark class="pc-predicate">') + piece + Markup("</mark>")
        if s and s[0] <= a and b <= s[1]:
            piece = Markup('<mark class="pc-sentence">') + piece + Markup("</mark>")
        out.append(piece)
    return Markup("").join(out)


def _json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _list_text(items: list, column: str) -> str:
    if column in ("topics",):
        return " · ".join(f"{t.get('label')} {float(t.get('score', 0)):.2f}" for t in items if isinstance(t, dict))
    return "; ".join(str(q.get("text", q.get("value"))) for q in items if isinstance(q, dict))


def _get(row, key):
    try:
        return row[key]
    except (IndexError, KeyError):
        return None


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if database != DB_NAME:
        return None
    if table is None and column.endswith("claim_id") and isinstance(value, str) and value:
        url = f"{datasette.urls.table(DB_NAME, 'claims')}/{tilde_encode(value)}"
        return Markup('<a href="{}">{}</a>').format(url, value)
    if column in ("quantities", "entities", "topics") and isinstance(value, str):
        items = _json(value)
        if isinstance(items, list):
            return _list_text(items, column)
    if table == "threads" and column == "evidence" and isinstance(value, str):
        items = _json(value)
        if isinstance(items, list):  # the rules and dates; the thread's page has the sentences
            return "; ".join(f"{e.get('rule')} {e.get('date') or 'undated'}" + (" (inferred)" if e.get("date_inferred") else "")
                             for e in items if isinstance(e, dict))
    if table == "claims" and column == "sentence" and isinstance(value, str):
        start, ps, pe = _get(row, "char_start"), _get(row, "predicate_start"), _get(row, "predicate_end")
        if isinstance(start, int) and isinstance(ps, int) and isinstance(pe, int):
            return highlight(value, None, (ps - start, pe - start))
    return None


async def claim_context(datasette, claim_id: str) -> dict[str, Any] | None:
    """Everything the claim page shows, or None for an unknown id."""
    db = datasette.get_database(DB_NAME)
    row = (await db.execute("select * from claims where claim_id = ?", [claim_id])).first()
    if row is None:
        return None
    claim = dict(row)
    st = (await db.execute("select id, text, speaker, date, source, url, title from statements where id = ?",
                           [claim["statement_id"]])).first()
    st = dict(st) if st else {"id": claim["statement_id"], "text": ""}
    twin = None
    if claim.get("aligned_to"):
        t = (await db.execute("select * from claims where claim_id = ?", [claim["aligned_to"]])).first()
        twin = dict(t) if t else None

    def sentence_html(c: dict) -> Markup:
        s = c.get("char_start") or 0
        return highlight(c.get("sentence") or "", None,
                         (c["predicate_start"] - s, c["predicate_end"] - s)
                         if c.get("predicate_start") is not None else None)

    for c in filter(None, (claim, twin)):
        for k in ("quantities", "entities", "topics"):
            v = _json(c.get(k))
            c[k] = v if isinstance(v, list) else []
        c["sentence_html"] = sentence_html(c)
        c["url"] = f"{datasette.urls.table(DB_NAME, 'claims')}/{tilde_encode(c['claim_id'])}"
    threads = []
    if await db.table_exists("thread_members"):
        threads = [dict(r) for r in (await db.execute(
            "select t.thread_id, t.status_label, t.label, t.n_statements, m.role, m.date, m.date_inferred "
            "from thread_members m join threads t on t.thread_id = m.thread_id where m.claim_id = ? "
            "order by t.thread_id", [claim_id])).rows]
        for t in threads:
            t["url"] = f"{datasette.urls.table(DB_NAME, 'threads')}/{tilde_encode(t['thread_id'])}"
    return {
        "claim": claim,
        "threads": threads,
        "twin": twin,
        "statement": st,
        "statement_url": f"{datasette.urls.table(DB_NAME, 'statements')}/{tilde_encode(st['id'])}",
        "statement_claims_url": f"{datasette.urls.table(DB_NAME, 'claims')}?statement_id={tilde_encode(st['id'])}",
        "statement_html": highlight(st.get("text") or "", (claim["char_start"], claim["char_end"]),
                                    (claim["predicate_start"], claim["predicate_end"])),
        "fields": ("type", "lang", "predicate", "predicate_lemma", "actor", "actor_kind", "target",
                   "polarity", "tense", "topic", "confidence"),
    }


async def thread_context(datasette, thread_id: str) -> dict[str, Any] | None:
    """The thread page: the thread, its evidence and its timeline (members in date order, twins
    side by side in one step), or None for an unknown id."""
    db = datasette.get_database(DB_NAME)
    if not await db.table_exists("thread_members"):
        return None
    row = (await db.execute("select * from threads where thread_id = ?", [thread_id])).first()
    if row is None:
        return None
    thread = dict(row)
    evidence = _json(thread.get("evidence"))
    thread["evidence"] = [e for e in evidence if isinstance(e, dict)] if isinstance(evidence, list) else []
    rows = (await db.execute(
        "select m.position, m.role, m.date, m.date_inferred, m.score, m.claim_id, m.statement_id, c.lang, c.type, "
        "c.sentence, c.char_start, c.predicate_start, c.predicate_end, c.predicate, c.actor, c.target, c.quantities, "
        "s.source, s.speaker, s.title, s.date as statement_date "
        "from thread_members m join claims c on c.claim_id = m.claim_id "
        "left join statements s on s.id = m.statement_id "
        "where m.thread_id = ? order by m.position, c.lang, m.claim_id", [thread_id])).rows
    claims_url, statements_url = datasette.urls.table(DB_NAME, "claims"), datasette.urls.table(DB_NAME, "statements")
    steps: list[dict[str, Any]] = []
    for r in rows:
        m = dict(r)
        s = m.get("char_start") or 0
        ps, pe = m.get("predicate_start"), m.get("predicate_end")
        m["sentence_html"] = highlight(m.get("sentence") or "", None,
                                       (ps - s, pe - s) if isinstance(ps, int) and isinstance(pe, int) else None)
        q = _json(m.get("quantities"))
        m["quantities_text"] = _list_text(q, "quantities") if isinstance(q, list) else ""
        m["url"] = f"{claims_url}/{tilde_encode(m['claim_id'])}"
        m["statement_url"] = f"{statements_url}/{tilde_encode(m['statement_id'])}"
        if steps and steps[-1]["position"] == m["position"]:
            steps[-1]["claims"].append(m)
        else:
            steps.append({"position": m["position"], "role": m["role"], "date": m["date"],
                          "date_inferred": bool(m["date_inferred"]), "claims": [m]})
    for e in thread["evidence"]:
        if e.get("claim_id"):
            e["url"] = f"{claims_url}/{tilde_encode(e['claim_id'])}"
    return {"thread": thread, "steps": steps,
            "threads_url": datasette.urls.table(DB_NAME, "threads"),
            "status_url": f"{datasette.urls.table(DB_NAME, 'threads')}?status={urllib.parse.quote(thread['status'])}"}


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    async def inner() -> dict[str, Any]:
        extra: dict[str, Any] = {"pc_db": DB_NAME, "pc_queries": CANNED_QUERIES, "pc_models": models_html}
        if template == "index.html":
            extra["pc_has_threads"] = await datasette.get_database(DB_NAME).table_exists("threads")
        if database != DB_NAME or request is None:
            return extra
        if view_name == "row" and table == "claims":
            pks = request.url_vars.get("pks")
            if pks:
                extra["pc"] = await claim_context(datasette, tilde_decode(pks))
        elif view_name == "row" and table == "threads":
            pks = request.url_vars.get("pks")
            if pks:
                extra["pc_thread"] = await thread_context(datasette, tilde_decode(pks))

        elif template == "query.html" and request.url_vars.get("table") == CHART_QUERY:
            db = datasette.get_database(DB_NAME)
            rows = (await db.execute(CANNED_QUERIES[CHART_QUERY]["sql"])).rows
            extra["pc_chart"] = stacked_bars([(r[0], r[1], r[2]) for r in rows])
        return extra

    return inner

