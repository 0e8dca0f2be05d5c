"""The SQLite store of processed statements: statements, sentences, claims and failures.

One file that every later step reads (`polclaims query`, reports, exports), so a run's results
outlive the run and can be queried without re-processing. Re-processing a statement replaces
its rows (one transaction per statement), so a store never holds two versions of a statement.

Sentence text is indexed with FTS5 (`sentences_fts`) using the `unicode61` tokenizer with
`remove_diacritics 0`: Kazakh letters (ә ғ қ ң ө ұ ү һ і) stay distinct from the Russian
letters they resemble, case is folded for Cyrillic, and prefix queries (`әкім*`) reach the
inflected forms of an agglutinative word ("әкімдерді", "әкімдіктерге").
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from pipeline.claims import StatementResult
from pipeline.io.records import Claim, Failure, Sentence, Statement

SCHEMA_VERSION = 2  # 2: statements.topic, statements.topics

# Every `Claim` field, in table order; tests check this stays in step with the dataclass.
CLAIM_COLUMNS = (
    "claim_id", "statement_id", "lang", "sentence", "char_start", "char_end", "type",
    "predicate", "predicate_start", "predicate_end", "predicate_lemma", "actor", "actor_kind",
    "target", "polarity", "tense", "quantities", "entities", "topic", "topics", "aligned_to",
    "confidence", "sentence_index", "pipeline_version", "model_versions",
)
JSON_COLUMNS = ("quantities", "entities", "topics", "model_versions")
STATEMENT_COLUMNS = ("id", "text", "speaker", "date", "source", "url", "title", "parallel_id",
                     "origin", "content_hash", "pipeline_version", "processed_at", "date_iso",
                     "topic", "topics")

_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);

CREATE TABLE statements (
    id               TEXT PRIMARY KEY,
    text             TEXT,
    speaker          TEXT,
    date             TEXT,        -- as written in the input
    source           TEXT,
    url              TEXT,
    title            TEXT,
    parallel_id      TEXT,
    origin           TEXT,
    content_hash     TEXT,
    pipeline_version TEXT,
    processed_at     TEXT,        -- UTC, ISO 8601
    date_iso         TEXT,        -- derived: `date` as YYYY-MM-DD where it parses, for date filters
    topic            TEXT,        -- the statement's topic (topic model), top-k in `topics` (JSON)
    topics           TEXT
);
CREATE INDEX idx_statements_date ON statements(date_iso);

CREATE TABLE sentences (
    id               INTEGER PRIMARY KEY,  -- rowid of the FTS index
    statement_id     TEXT NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
    idx              INTEGER NOT NULL,
    char_start       INTEGER NOT NULL,
    char_end         INTEGER NOT NULL,
    text             TEXT NOT NULL,
    lang             TEXT,
    paragraph        INTEGER,
    boilerplate      INTEGER NOT NULL DEFAULT 0,
    boilerplate_rule TEXT,
    UNIQUE (statement_id, idx)
);
CREATE INDEX idx_sentences_span ON sentences(statement_id, char_start);

-- External-content FTS5 index over sentences.text, kept in step by the triggers below.
CREATE VIRTUAL TABLE sentences_fts USING fts5(
    text, content='sentences', content_rowid='id',
    tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER sentences_ai AFTER INSERT ON sentences BEGIN
    INSERT INTO sentences_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER sentences_ad AFTER DELETE ON sentences BEGIN
    INSERT INTO sentences_fts(sentences_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER sentences_au AFTER UPDATE ON sentences BEGIN
    INSERT INTO sentences_fts(sentences_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO sentences_fts(rowid, text) VALUES (new.id, new.text);
END;

CREATE TABLE claims (
    claim_id         TEXT PRIMARY KEY,
    statement_id     TEXT NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
    lang             TEXT,
    sentence         TEXT,
    char_start       INTEGER,
    char_end         INTEGER,
    type             TEXT,
    predicate        TEXT,
    predicate_start  INTEGER,
    predicate_end    INTEGER,
    predicate_lemma  TEXT,
    actor            TEXT,
    actor_kind       TEXT,
    target           TEXT,
    polarity         TEXT,
    tense            TEXT,
    quantities       TEXT,        -- JSON list
    entities         TEXT,        -- JSON list
    topic            TEXT,
    topics           TEXT,        -- JSON list
    aligned_to       TEXT,
    confidence       REAL,
    sentence_index   INTEGER,
    pipeline_version TEXT,
    model_versions   TEXT,        -- JSON object
    has_quantity     INTEGER NOT NULL DEFAULT 0   -- derived: quantities is not empty
);
CREATE INDEX idx_claims_type ON claims(type);
CREATE INDEX idx_claims_lang ON claims(lang);
CREATE INDEX idx_claims_actor_kind ON claims(actor_kind);
CREATE INDEX idx_claims_lemma ON claims(predicate_lemma);
CREATE INDEX idx_claims_topic ON claims(topic);
CREATE INDEX idx_claims_statement ON claims(statement_id, char_start, predicate_start);

CREATE TABLE failures (
    id        INTEGER PRIMARY KEY,
    record_id TEXT,
    origin    TEXT,
    stage     TEXT,
    reason    TEXT,
    failed_at TEXT
);
CREATE INDEX idx_failures_record ON failures(record_id);
"""


# Promise threads (`polclaims track`, pipeline/threads): derived from the claims, rebuilt whole
# by each run. Added to older stores when they are opened for writing (`ensure_thread_tables`);
# no schema version change, since stores without them stay valid and readers check for them.
_THREADS_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    thread_id    TEXT PRIMARY KEY,
    status       TEXT NOT NULL,   -- acted on, overdue, reaffirmed, open
    status_label TEXT NOT NULL,   -- "reaffirmed 2 times"
    reaffirmed   INTEGER NOT NULL DEFAULT 0,
    topic        TEXT,
    langs        TEXT,            -- "kk", "ru", "kk,ru"
    label        TEXT,            -- lemma and target of the first member, for people
    first_date   TEXT,
    last_date    TEXT,
    deadline     TEXT,            -- ISO date a commitment named, where one did
    n_claims     INTEGER NOT NULL,
    n_statements INTEGER NOT NULL,
    evidence     TEXT,            -- JSON list: the members and rules behind the status
    built_at     TEXT
);
CREATE INDEX IF NOT EXISTS idx_threads_status ON threads(status);
CREATE INDEX IF NOT EXISTS idx_threads_topic ON threads(topic);
CREATE TABLE IF NOT EXISTS thread_members (
    thread_id     TEXT NOT NULL REFERENCES threads(thread_id) ON DELETE CASCADE,
    claim_id      TEXT NOT NULL REFERENCES claims(claim_id) ON DELETE CASCADE,
    statement_id  TEXT NOT NULL,
    position      INTEGER NOT NULL,  -- step of the timeline; kk-ru twins share one
    role          TEXT NOT NULL,     -- announced, reaffirmed, decided, obligated
    date          TEXT,              -- ISO date of the statement
    date_inferred INTEGER NOT NULL DEFAULT 0,  -- 1: read from a dateline in the text
    score         REAL,              -- strongest link of the claim inside the thread
    PRIMARY KEY (thread_id, claim_id)
);
CREATE INDEX IF NOT EXISTS idx_thread_members_claim ON thread_members(claim_id);
"""


class StoreError(Exception):
    """The file is not a polclaims store, one of another schema version, damaged, or cannot be
    opened or written; the message names the file and what to do."""


SQLITE_MAGIC = b"SQLite format 3\x00"
REBUILD = ("re-process the statements into a new store (polclaims process ... --db NEW.db), "
           "or restore the file from a backup")


def check_store_file(path: Path) -> None:
    """Refuse, before SQLite touches it, a path that cannot be a store: a folder, a file that
    is not an SQLite database (SQLite would turn an empty or foreign file into one, or fail
    later with a vague message), or a database file shorter than its own header says
    (truncated by a copy or a full disk). A missing path passes: the caller decides."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a store file; give a file path such as "
                         f"{path / 'polclaims.db'}")
    if not path.exists():
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            raise StoreError(f"cannot create {path}: {parent} is a file, not a folder")
        return
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
        size = path.stat().st_size
    except OSError as e:
        raise StoreError(f"cannot read {path}: {e.strerror or e}") from e
    if size == 0:
        return  # an empty file (e.g. made by `touch`) is an empty database to SQLite
    if not header.startswith(SQLITE_MAGIC):
        raise StoreError(f"{path} is not a polclaims store (not an SQLite database); "
                         "use the store file written by `polclaims process` (or, to process, a new file name)")
    if len(header) < 100:
        raise StoreError(f"{path} is damaged (truncated to {size} bytes); {REBUILD}")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counter, valid_for = header[24:28], header[92:96]
    # the in-header page count is valid when it is non-zero and the change counter matches
    if pages and counter == valid_for and size < pages * page_size:
        raise StoreError(f"{path} is damaged (truncated: {size} bytes of {pages * page_size}); {REBUILD}")


def content_hash(statement: Statement) -> str:
    """sha256 of the text and the metadata, so a changed date or speaker counts as a change.

    `origin` is left out: the same statement read from a moved or renamed file is unchanged.
    """
    payload = {"id": statement.id, "text": statement.text, "speaker": statement.speaker,
               "date": statement.date, "source": statement.source, "url": statement.url,
               "title": statement.title, "parallel_id": statement.parallel_id}
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_DOTTED_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})")


def normalize_date(value: str | None) -> str | None:
    """`date` as YYYY-MM-DD, or None: ISO dates/timestamps and the "12.06.2019" form that
    Kazakh and Russian sites use; anything else is kept as written but not date-filterable."""
    if not value:
        return None
    value = value.strip()
    m = _ISO_DAY.match(value)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _DOTTED_DAY.match(value)
        if not m:
            return None
        d, mo, y = (int(g) for g in m.groups())
    try:
        return _dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _fold(value: Any) -> Any:
    """Unicode case folding for SQL: SQLite's own lower()/LIKE fold ASCII only, not Cyrillic."""
    return value.casefold() if isinstance(value, str) else value


class ClaimStore:
    """A polclaims SQLite database (WAL mode, foreign keys on). Use as a context manager.

    `create=False` refuses to make a new file, so a mistyped path for a query is an error
    instead of an empty store.
    """

    def __init__(self, path: str | Path, *, create: bool = True, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        memory = str(path) == ":memory:"
        if not memory:
            check_store_file(self.path)
        if (readonly or not create) and not memory and not self.path.is_file():
            raise FileNotFoundError(f"no polclaims database at {self.path}")
        if create and not readonly and not memory:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"cannot create the folder of {self.path}: {e.strerror or e}") from e
        try:
            self.conn = self._connect(str(path), readonly)
        except sqlite3.Error as e:
            raise StoreError(describe_error(self.path, e)) from e
        self.conn.row_factory = sqlite3.Row
        self.conn.create_function("pc_fold", 1, _fold, deterministic=True)
        try:
            self.conn.execute("PRAGMA foreign_keys = ON")
            if readonly:
                self.conn.execute("PRAGMA query_only = ON")  # a read command never writes
            else:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")  # durable enough with WAL, much faster
            self._init_schema()
            if create and not readonly:
                self.ensure_thread_tables()
        except sqlite3.DatabaseError as e:
            self.conn.close()
            raise StoreError(describe_error(self.path, e)) from e
        except StoreError:
            self.conn.close()
            raise

    @staticmethod
    def _connect(path: str, readonly: bool) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a save is exactly one transaction.
        if not readonly:
            return sqlite3.connect(path, timeout=30.0, isolation_level=None)
        uri = Path(path).resolve().as_uri()
        try:
            # mode=rw never creates the file, and as the last connection it removes the -wal and
            # -shm files it opened; mode=ro for a store on a read-only disk
            conn = sqlite3.connect(uri + "?mode=rw", uri=True, timeout=30.0, isolation_level=None)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            return sqlite3.connect(uri + "?mode=ro", uri=True, timeout=30.0, isolation_level=None)

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> "ClaimStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def _init_schema(self) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "schema_version" not in tables:
            if tables:
                raise StoreError(f"{self.path} is an SQLite database but not a polclaims store")
            if self.readonly:
                raise StoreError(f"{self.path} is an empty file, not a polclaims store")
            with self.transaction():
                for stmt in _split_sql(_SCHEMA):
                    self.conn.execute(stmt)
                self.conn.execute("INSERT INTO schema_version(version) VALUES (?)", (SCHEMA_VERSION,))
                for stmt in _split_sql(_THREADS_SCHEMA):
                    self.conn.execute(stmt)
            return
        row = self.conn.execute("SELECT max(version) FROM schema_version").fetchone()
        version = row[0] if row else None
        if version == 1 and self.readonly:
            return  # readable as it is; the next `process` run adds the topic columns
        if version == 1:  # stores written before statement topics: add the two columns
            with self.transaction() as conn:
                conn.execute("ALTER TABLE statements ADD COLUMN topic TEXT")
                conn.execute("ALTER TABLE statements ADD COLUMN topics TEXT")
                conn.execute("INSERT INTO schema_version(version) VALUES (?)", (SCHEMA_VERSION,))
            version = SCHEMA_VERSION
        if version != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has store schema version {version}, this polclaims "
                             f"uses {SCHEMA_VERSION}; re-process the statements into a new file")

    def has_thread_tables(self) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='thread_members'").fetchone() is not None

    def ensure_thread_tables(self) -> None:
        """Add the promise-thread tables to a store written before them (a write; idempotent)."""
        if not self.has_thread_tables():
            with self.transaction() as conn:
                for stmt in _split_sql(_THREADS_SCHEMA):
                    conn.execute(stmt)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: all of it or none of it."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- writing -----------------------------------------------------------------------------
    def save(self, result: StatementResult, *, pipeline_version: str | None = None) -> None:
        """Store one statement's result, replacing whatever was stored for it before.

        One transaction: the old sentences (and with them their FTS rows), claims and failures
        of the statement go, the new ones come in. A result with `failure` set keeps only the
        statement row and the failure, so stale claims of an earlier run never survive.
        `pipeline_version` (for `has_current`) defaults to the claims' version, else the
        package version.
        """
        st = result.statement
        if st is None:  # a failure before the statement could even be read
            if result.failure is None:
                raise ValueError("a StatementResult needs a statement or a failure")
            self.save_failure(result.failure)
            return
        if pipeline_version is None:
            pipeline_version = next((c.pipeline_version for c in result.claims if c.pipeline_version), None)
        if pipeline_version is None:
            from pipeline import __version__
            pipeline_version = __version__
        for c in result.claims:
            if c.statement_id and c.statement_id != st.id:
                raise ValueError(f"claim {c.claim_id or c.predicate!r} has statement_id "
                                 f"{c.statement_id!r}, but is saved with statement {st.id!r}")
        with self.transaction() as conn:
            conn.execute("DELETE FROM claims WHERE statement_id = ?", (st.id,))
            conn.execute("DELETE FROM sentences WHERE statement_id = ?", (st.id,))
            conn.execute("DELETE FROM failures WHERE record_id = ?", (st.id,))
            self._upsert_statement(st, pipeline_version, result.topic, result.topics)
            if result.failure is not None:
                self._insert_failure(result.failure)
                return
            self._insert_sentences(st.id, result.sentences, result.claims)
            self._insert_claims(st.id, result.claims)

    def save_failure(self, failure: Failure) -> None:
        """Store a record that could not be processed (e.g. unreadable input). Re-running on
        the same input replaces the failure of the same record, origin and stage."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM failures WHERE record_id IS ? AND origin IS ? AND stage IS ?",
                         (failure.record_id, failure.origin, failure.stage))
            self._insert_failure(failure)

    def _upsert_statement(self, st: Statement, pipeline_version: str, topic: str | None = None,
                          topics: list[dict] | None = None) -> None:
        # An upsert, not INSERT OR REPLACE: REPLACE deletes the row first and would cascade.
        values = (st.id, st.text, st.speaker, st.date, st.source, st.url, st.title, st.parallel_id,
                  st.origin, content_hash(st), pipeline_version, _now(), normalize_date(st.date),
                  topic, json.dumps(topics, ensure_ascii=False) if topics else None)
        cols = ", ".join(STATEMENT_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in STATEMENT_COLUMNS if c != "id")
        self.conn.execute(f"INSERT INTO statements ({cols}) VALUES ({', '.join('?' * len(values))}) "
                          f"ON CONFLICT(id) DO UPDATE SET {updates}", values)

    def _insert_failure(self, f: Failure) -> None:
        self.conn.execute("INSERT INTO failures (record_id, origin, stage, reason, failed_at) "
                          "VALUES (?, ?, ?, ?, ?)", (f.record_id, f.origin, f.stage, f.reason, _now()))

    def _insert_sentences(self, statement_id: str, sentences: list[Sentence], claims: list[Claim]) -> None:
        rows = [(statement_id, s.index, s.start, s.end, s.text, s.lang, s.paragraph,
                 int(bool(s.boilerplate)), s.boilerplate_rule) for s in sentences]
        # A claim whose sentence is not among the given sentences (e.g. a result built from gold
        # claims alone) still gets its sentence indexed, so that --search can find it.
        spans = [(s.start, s.end) for s in sentences]
        used = {s.index for s in sentences}
        next_idx = max(used, default=-1) + 1
        for c in claims:
            if any(a < c.char_end and c.char_start < b for a, b in spans) or (c.char_start, c.char_end) in spans:
                continue
            idx = c.sentence_index if c.sentence_index is not None and c.sentence_index not in used else None
            if idx is None:
                while next_idx in used:
                    next_idx += 1
                idx = next_idx
            used.add(idx)
            spans.append((c.char_start, c.char_end))
            rows.append((statement_id, idx, c.char_start, c.char_end, c.sentence, c.lang, None, 0, None))
        self.conn.executemany(
            "INSERT INTO sentences (statement_id, idx, char_start, char_end, text, lang, paragraph, "
            "boilerplate, boilerplate_rule) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def _insert_claims(self, statement_id: str, claims: list[Claim]) -> None:
        rows = []
        seen: set[str] = set()
        for c in claims:
            d = c.to_dict()
            d["statement_id"] = statement_id
            if not d["claim_id"]:  # the extractor normally sets it; a stable fallback otherwise
                base = f"{statement_id}:{c.predicate_start}-{c.predicate_end}"
                d["claim_id"], n = base, 1
                while d["claim_id"] in seen:
                    n += 1
                    d["claim_id"] = f"{base}#{n}"
            seen.add(d["claim_id"])
            for k in JSON_COLUMNS:
                d[k] = json.dumps(d[k] if d[k] is not None else ([] if k != "model_versions" else {}),
                                  ensure_ascii=False)
            rows.append(tuple(d[k] for k in CLAIM_COLUMNS) + (int(bool(c.quantities)),))
        cols = ", ".join(CLAIM_COLUMNS + ("has_quantity",))
        self.conn.executemany(f"INSERT INTO claims ({cols}) VALUES ({', '.join('?' * (len(CLAIM_COLUMNS) + 1))})",
                              rows)

    # -- reading -----------------------------------------------------------------------------
    def has_current(self, statement_id: str, content_hash: str, pipeline_version: str) -> bool:
        """True when the statement is stored from the same content by the same pipeline version
        and did not fail, so a re-run may skip it. Failed statements are always retried. A
        failure at reading under the same id is another record's (a later duplicate of the id in
        the batch): it does not make the stored statement re-analysed on every run."""
        row = self.conn.execute(
            "SELECT 1 FROM statements WHERE id = ? AND content_hash = ? AND pipeline_version = ? "
            "AND NOT EXISTS (SELECT 1 FROM failures WHERE record_id = ? AND stage IS NOT 'read')",
            (statement_id, content_hash, pipeline_version, statement_id)).fetchone()
        return row is not None

    def stored_identity(self, statement_id: str) -> tuple[str, str | None] | None:
        """(content hash, origin) of the stored statement with this id, or None: lets a run see
        that it is about to replace a *different* statement that happens to share the id."""
        row = self.conn.execute("SELECT content_hash, origin FROM statements WHERE id = ?",
                                (statement_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def stored_claims(self, statement_id: str) -> list[Claim]:
        """The claims stored for a statement, as records (what a skipped re-run writes out)."""
        cur = self.conn.execute(
            f"SELECT {', '.join(CLAIM_COLUMNS)} FROM claims WHERE statement_id = ? "
            "ORDER BY char_start, predicate_start", (statement_id,))
        out = []
        for row in cur.fetchall():
            d = dict(zip(CLAIM_COLUMNS, row))
            for k in JSON_COLUMNS:
                d[k] = json.loads(d[k]) if d[k] else ({} if k == "model_versions" else [])
            out.append(Claim(**d))
        return out

    def stored_topic(self, statement_id: str) -> tuple[str | None, list[dict]]:
        row = self.conn.execute("SELECT topic, topics FROM statements WHERE id = ?", (statement_id,)).fetchone()
        if row is None:
            return None, []
        return row[0], json.loads(row[1]) if row[1] else []

    def counts(self) -> dict[str, Any]:
        """How much the store holds: rows per table and claims per type and language."""
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        by = lambda col: {r[0]: r[1] for r in self.conn.execute(  # noqa: E731
            f"SELECT {col}, count(*) FROM claims GROUP BY {col} ORDER BY {col}")}
        return {
            "statements": one("SELECT count(*) FROM statements"),
            "sentences": one("SELECT count(*) FROM sentences"),
            "claims": one("SELECT count(*) FROM claims"),
            "failures": one("SELECT count(*) FROM failures"),
            "aligned_claims": one("SELECT count(*) FROM claims WHERE aligned_to IS NOT NULL"),
            "claims_by_type": by("type"),
            "claims_by_lang": by("lang"),
        }

    def failures(self) -> list[dict[str, Any]]:
        """The stored failures, oldest first."""
        return [dict(r) for r in self.conn.execute(
            "SELECT record_id, origin, stage, reason, failed_at FROM failures ORDER BY id")]


def describe_error(path: Path, e: sqlite3.Error) -> str:
    """An SQLite error while using the store at `path`, as a message that says what to do."""
    text = str(e)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return f"{path} is damaged or not a polclaims store ({text}); {REBUILD}"
    if "disk is full" in text or "disk I/O error" in text:
        return f"cannot write {path} ({text}): the disk is full or failing"
    if "readonly" in text or "unable to open" in text:
        return f"cannot open {path} for writing ({text}): check that the file and its folder exist and are writable"
    if "locked" in text or "busy" in text:
        return f"{path} is locked by another program ({text}); try again when it has finished"
    return f"{path}: {text}"


def _split_sql(script: str) -> list[str]:
    """The schema script as single statements (triggers hold `;` inside BEGIN ... END), so it
    runs inside our own transaction; `executescript` would COMMIT first."""
    out, buf = [], ""
    for line in script.splitlines():
        if line.strip().startswith("--") or not line.strip():
            continue
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
