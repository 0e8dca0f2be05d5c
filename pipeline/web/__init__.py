"""`polclaims serve`: Datasette over a claims store, for people who would rather click than query.

Datasette (0.65) supplies faceted table pages, CSV/JSON export and the JSON API; `plugin.py` adds
claim search, statement facets and the claim page; `metadata.py` the titles, column
descriptions, facets and canned queries; `templates/` the claim page and the front page.
The store is opened immutable (read-only, no locks, no WAL writes), and arbitrary SQL is off
unless `allow_sql=True`.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from pipeline.web.metadata import DB_NAME, build_metadata

TEMPLATES = Path(__file__).parent / "templates"
_REQUIRED_TABLES = ("claims", "statements", "sentences", "sentences_fts")


class NotAStore(ValueError):
    """The file is missing or is not a polclaims store."""


def check_store(path: str | Path) -> Path:
    """The path, if it is a polclaims store (read-only check: the file is never written)."""
    p = Path(path)
    if not p.is_file():
        raise NotAStore(f"no polclaims database at {p} (run `polclaims process ... --db {p}` or `make run` first)")
    try:
        conn = sqlite3.connect(f"file:{p.resolve()}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise NotAStore(f"{p} is not a polclaims database ({e})") from None
    missing = [t for t in _REQUIRED_TABLES if t not in names]
    if missing:
        raise NotAStore(f"{p} is an SQLite file but not a polclaims store (no {', '.join(missing)} table)")
    return p


def make_datasette(db_path: str | Path, *, allow_sql: bool = False, settings: dict | None = None):
    """A Datasette instance serving the store as database `polclaims` (immutable)."""
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm

    from pipeline.web import plugin

    path = check_store(db_path)
    # Datasette prints every 404/400 as a rich traceback with local variables (request
    # contents included) to the console; a visitor's typo is not a server error.
    import datasette.handle_exception as _handle_exception

    _handle_exception.rich = None
    if not pm.is_registered(plugin):
        pm.register(plugin, name="polclaims")
    base_settings = {
        "suggest_facets": False,     # the claims page has its facets; suggestions cost a query per column
        "default_allow_sql": allow_sql,
        "facet_time_limit_ms": 1000,
        "sql_time_limit_ms": 3000,
        "allow_download": False,     # the whole file is not the app's to hand out
    }
    base_settings.update(settings or {})
    ds = Datasette(metadata=build_metadata(allow_sql=allow_sql), template_dir=str(TEMPLATES),
                   settings=base_settings)
    ds.add_database(Database(ds, path=str(path.resolve()), is_mutable=False), name=DB_NAME)
    if "_memory" in ds.databases:  # Datasette adds an empty in-memory database when given no files
        ds.remove_database("_memory")
    return ds


def serve(db_path: str | Path, *, host: str = "127.0.0.1", port: int = 8001, allow_sql: bool = False) -> None:
    """Run the web app until interrupted."""
    import uvicorn

    import threading

    from pipeline.web.metadata import CLAIM_FACETS
    from pipeline.web.plugin import warm_up

    ds = make_datasette(db_path, allow_sql=allow_sql)
    names = [next(iter(f.values())) if isinstance(f, dict) else f for f in CLAIM_FACETS]
    threading.Thread(target=warm_up, args=(ds.get_database(DB_NAME).path, names), daemon=True).start()
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
