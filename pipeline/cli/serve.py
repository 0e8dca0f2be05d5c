"""`polclaims serve`: the claims store as a web app (Datasette), registered in cli.py."""
from __future__ import annotations

from pathlib import Path

import typer


def serve(
    db: Path = typer.Option(Path("polclaims.db"), "--db", help="The store written by `polclaims process` (opened read-only)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8001, "--port", "-p", min=1, max=65535, help="Port to listen on."),
    allow_sql: bool = typer.Option(False, "--allow-sql", help="Let visitors run arbitrary read-only SQL (off by default)."),
) -> None:
    """Browse, filter, search and export claims in a web browser.

    Claims page with facets (type, language, actor kind, topic, polarity, tense, speaker, source, year) and full-text search over sentences (әкім* finds әкімдерді); a page per claim with the statement, the highlighted predicate and the kk<->ru twin; canned queries; CSV/JSON export and a JSON API (see the README). The store is opened immutable: never written, never locked.

    Example: polclaims serve --db out/sample.db, then open http://127.0.0.1:8001/
    """
    from pipeline.web import NotAStore, check_store, serve as run

    try:
        check_store(db)
    except NotAStore as e:
        typer.echo(f"Error: --db: {e}", err=True)
        raise typer.Exit(2)
    typer.echo(f"polclaims serve: {db} at http://{host}:{port}/ (Ctrl+C stops it)", err=True)
    run(db, host=host, port=port, allow_sql=allow_sql)
