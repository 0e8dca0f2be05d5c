"""`polclaims query`: select claims from a store and print them as a table, JSON, JSONL or CSV.

Kept apart from cli.py so the command can be registered there with
`app.command("query")(query)` and tested on its own.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, NoReturn, Optional

import typer

from .output import write_records

FORMATS = ("table", "json", "jsonl", "csv")
# What a person sees by default; programs (json/jsonl/csv) get every column.
# Few enough to stay readable in a 100-column terminal; --columns shows any other.
TABLE_COLUMNS = ("statement_id", "date", "lang", "type", "polarity", "predicate", "actor", "target", "quantities")
ALIGNED_TABLE_COLUMNS = ("kk_statement_id", "kk_type", "kk_predicate", "ru_predicate", "kk_sentence",
                         "ru_sentence")
TABLE_WIDTHS = {"sentence": 60, "kk_sentence": 45, "ru_sentence": 45, "target": 30, "statement_id": 16,
                "predicate": 28, "actor": 20, "quantities": 16}


def _for_people(rows: list[dict]) -> list[dict]:
    """Table cells: quantities as their text ("2533; 50 городов"), not as JSON."""
    out = []
    for r in rows:
        r = dict(r)
        for k, v in r.items():
            if k.endswith("quantities") and isinstance(v, list):
                r[k] = "; ".join(str(q.get("text", q.get("value"))) for q in v if isinstance(q, dict))
        out.append(r)
    return out


def _split(values: Optional[List[str]]) -> Optional[List[str]]:
    """`--type a --type b` and `--type a,b` both mean a or b."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def query(
    db: Path = typer.Option(Path("polclaims.db"), "--db", help="The store written by processing."),
    type: Optional[List[str]] = typer.Option(
        None, "--type", "-t", help="commitment, obligation, decision (repeat or comma-separate for several)."),
    actor_kind: Optional[List[str]] = typer.Option(
        None, "--actor-kind", help="speaker, government, society, other, unspecified."),
    actor: Optional[List[str]] = typer.Option(
        None, "--actor", help="Part of the actor as written, any case: 'үкімет', 'правительств'."),
    lemma: Optional[List[str]] = typer.Option(
        None, "--lemma", help="Lemma of the predicate's action verb: 'избрать', 'беру'."),
    topic: Optional[List[str]] = typer.Option(
        None, "--topic", help="Topic code (topics.md), e.g. government_operations."),
    lang: Optional[List[str]] = typer.Option(None, "--lang", "-l", help="kk or ru."),
    speaker: Optional[List[str]] = typer.Option(None, "--speaker", help="Part of the speaker's name, any case."),
    date_from: Optional[str] = typer.Option(
        None, "--from", help="Statements dated on or after this ISO date (YYYY-MM-DD, YYYY-MM or YYYY)."),
    date_to: Optional[str] = typer.Option(
        None, "--to", help="Statements dated on or before this ISO date (YYYY-MM-DD, YYYY-MM or YYYY)."),
    polarity: Optional[List[str]] = typer.Option(None, "--polarity", help="affirmative or negative."),
    has_quantity: Optional[bool] = typer.Option(
        None, "--has-quantity/--no-quantity", help="Only claims with numbers / only claims without. Default: both."),
    search: Optional[str] = typer.Option(
        None, "--search", "-s",
        help="Full-text query over the claim's sentence: words are ANDed, word* matches any ending "
             "(әкім* finds әкімдерді, әкімдіктерге), \"quoted phrase\", OR, NOT. Case-insensitive."),
    statement: Optional[List[str]] = typer.Option(None, "--statement", help="Only these statement ids."),
    aligned: bool = typer.Option(
        False, "--aligned", help="Kazakh claims side by side with their aligned Russian twins (kk_*/ru_* columns)."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="At most N claims."),
    format: Optional[str] = typer.Option(
        None, "--format", "-f", help="table, json, jsonl or csv. Default: table on a terminal, else jsonl."),
    columns: Optional[str] = typer.Option(
        None, "--columns", "-c", help="Comma-separated output columns, e.g. statement_id,type,predicate."),
) -> None:
    """Find claims in a store: filter by type, actor, lemma, topic, language, speaker, date,
    polarity, numbers and full text of the sentence. Filters combine with AND; several values
    of one filter combine with OR.

    Examples:

      polclaims query --type commitment --lang kk --search 'әкім*'

      polclaims query --type commitment,decision --actor-kind government --from 2019 --to 2019-06

      polclaims query --search '"местного самоуправления"' --has-quantity --format csv > claims.csv

      polclaims query --aligned --topic government_operations --format table

      polclaims query --lemma избрать --columns statement_id,predicate,target,quantities
    """
    from .query import ALIGNED_COLUMNS, COLUMNS, query_claims
    from .store import StoreError

    fmt = format or ("table" if sys.stdout.isatty() else "jsonl")
    if fmt not in FORMATS:
        _fail(f"--format: {fmt!r} is not allowed; use one of {', '.join(FORMATS)}")
    available = ALIGNED_COLUMNS if aligned else COLUMNS
    if columns:
        cols = [c.strip() for c in columns.split(",") if c.strip()]
        unknown = [c for c in cols if c not in available]
        if unknown or not cols:
            _fail(f"--columns: unknown column(s) {', '.join(unknown) or '(none given)'}; "
                  f"available: {', '.join(available)}")
    elif fmt == "table":
        cols = list(ALIGNED_TABLE_COLUMNS if aligned else TABLE_COLUMNS)
    else:
        cols = list(available)
    if not db.exists():
        _fail(f"--db: no polclaims database at {db} (process statements first, or point --db at the store)")

    try:
        rows = query_claims(
            db, type=_split(type), actor_kind=_split(actor_kind), actor=actor,
            predicate_lemma=_split(lemma), topic=_split(topic), lang=_split(lang), speaker=speaker,
            date_from=date_from, date_to=date_to, polarity=_split(polarity), has_quantity=has_quantity,
            search=search, statement_id=statement, aligned=aligned, limit=limit)
    except ValueError as e:
        _fail(str(e))
    except (StoreError, FileNotFoundError) as e:
        _fail(f"--db: {e}")

    write_records(_for_people(rows) if fmt == "table" else rows, fmt, cols, title=f"{len(rows)} claim{'s' if len(rows) != 1 else ''}",
                  widths=TABLE_WIDTHS)
    if fmt == "table" and not rows:
        typer.echo("No claims match.", err=True)
