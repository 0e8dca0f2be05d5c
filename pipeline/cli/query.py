"""`polclaims query`: select claims from a store and print them as a table, JSON, JSONL or CSV.

Kept apart from cli.py so the command can be registered there with
`app.command("query")(query)` and tested on its own.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, NoReturn, Optional

import typer

from pipeline.io.output import write_records

FORMATS = ("table", "json", "jsonl", "csv")
# What a person sees by default; programs (json/jsonl/csv) get every column.
# Few enough to stay readable in a 100-column terminal; --columns shows any other.
TABLE_COLUMNS = ("statement_id", "date", "lang", "type", "tense", "polarity", "predicate", "actor", "target",
                 "quantities", "topic")
THREAD_TABLE_COLUMNS = ("thread_position", "thread_role", "thread_date", "statement_id", "lang", "predicate", "target")
ALIGNED_TABLE_COLUMNS = ("kk_statement_id", "kk_type", "kk_predicate", "ru_predicate", "kk_sentence",
                         "ru_sentence")
TABLE_WIDTHS = {"sentence": 60, "kk_sentence": 45, "ru_sentence": 45, "target": 26, "statement_id": 16,
                "predicate": 24, "actor": 18, "quantities": 16, "topic": 22}


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
        None, "--type", "-t", metavar="TYPE[,TYPE]",
        help="commitment, obligation, decision. Every list option takes several values, comma-separated "
             "or repeated, any of which matches."),
    actor_kind: Optional[List[str]] = typer.Option(
        None, "--actor-kind", metavar="KIND[,KIND]", help="speaker, government, society, other, unspecified."),
    actor: Optional[List[str]] = typer.Option(
        None, "--actor", metavar="TEXT[,TEXT]", help="Part of the actor as written, any case: 'үкімет', 'правительств'."),
    lemma: Optional[List[str]] = typer.Option(
        None, "--lemma", metavar="LEMMA[,LEMMA]", help="Lemma of the predicate's action verb: 'избрать', 'беру'."),
    topic: Optional[List[str]] = typer.Option(
        None, "--topic", metavar="TOPIC[,TOPIC]",
        help="Topic code of the topic model, e.g. government_operations (a wrong one lists them all)."),
    lang: Optional[List[str]] = typer.Option(None, "--lang", "-l", metavar="LANG[,LANG]", help="kk or ru."),
    tense: Optional[List[str]] = typer.Option(None, "--tense", metavar="TENSE[,TENSE]", help="past, present or future."),
    speaker: Optional[List[str]] = typer.Option(None, "--speaker", metavar="TEXT[,TEXT]",
                                                help="Part of the speaker's name, any case."),
    date_from: Optional[str] = typer.Option(
        None, "--from", help="Statements dated on or after this ISO date (YYYY-MM-DD, YYYY-MM or YYYY)."),
    date_to: Optional[str] = typer.Option(
        None, "--to", help="Statements dated on or before this ISO date (YYYY-MM-DD, YYYY-MM or YYYY)."),
    polarity: Optional[List[str]] = typer.Option(None, "--polarity", metavar="POLARITY[,POLARITY]",
                                                 help="affirmative or negative."),
    has_quantity: Optional[bool] = typer.Option(
        None, "--has-quantity/--no-quantity", help="Only claims with numbers / only claims without. Default: both."),
    search: Optional[str] = typer.Option(
        None, "--search", "-s",
        help="Full-text query over the claim's sentence: words are ANDed, word* matches any ending "
             "(әкім* finds әкімдерді, әкімдіктерге), \"quoted phrase\", OR, NOT. Case-insensitive."),
    statement: Optional[List[str]] = typer.Option(None, "--statement", metavar="ID[,ID]", help="Only these statement ids."),
    aligned: bool = typer.Option(
        False, "--aligned", help="Kazakh claims side by side with their aligned Russian twins (kk_*/ru_* columns)."),
    thread: Optional[List[str]] = typer.Option(
        None, "--thread", metavar="ID", help="A promise thread's claims in timeline order (ids from `polclaims threads`)."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, metavar="N",
                                        help="At most N claims (stderr says how many match in all)."),
    format: Optional[str] = typer.Option(
        None, "--format", "-f", help="table, json, jsonl or csv. Default: table on a terminal, else jsonl."),
    columns: Optional[str] = typer.Option(
        None, "--columns", "-c", help="Comma-separated output columns, e.g. statement_id,type,predicate."),
) -> None:
    """Find claims in a store: filter by type, actor, lemma, topic, language, speaker, date,
    polarity, numbers and full text of the sentence. Filters combine with AND; several values
    of one filter combine with OR.

    Examples:

    \b
      polclaims query --type commitment --lang kk --search 'әкім*'
      polclaims query --type commitment,decision --actor-kind government --from 2019 --to 2019-06
      polclaims query --search '"местного самоуправления"' --has-quantity --format csv > claims.csv
      polclaims query --aligned --topic government_operations --format table
      polclaims query --lemma избрать --columns statement_id,predicate,target,quantities

    The number of claims found goes to stderr, so an empty result is visible even when stdout is
    piped (and stays empty).

      polclaims query --thread T1a2b3c4d5e --format table
    """
    from pipeline.store.query import ALIGNED_COLUMNS, COLUMNS, THREAD_COLUMNS, query_claims
    from pipeline.store.database import StoreError

    fmt = format or ("table" if sys.stdout.isatty() else "jsonl")
    if fmt not in FORMATS:
        _fail(f"--format: {fmt!r} is not allowed; use one of {', '.join(FORMATS)}")
    available = ALIGNED_COLUMNS if aligned else (THREAD_COLUMNS + COLUMNS if thread else COLUMNS)
    if columns:
        cols = [c.strip() for c in columns.split(",") if c.strip()]
        unknown = [c for c in cols if c not in available]
        if unknown or not cols:
            _fail(f"--columns: unknown column(s) {', '.join(unknown) or '(none given)'}; "
                  f"available: {', '.join(available)}")
    elif fmt == "table":
        cols = list(ALIGNED_TABLE_COLUMNS if aligned else (THREAD_TABLE_COLUMNS if thread else TABLE_COLUMNS))
    else:
        cols = list(available)
    if not db.exists():
        _fail(f"--db: no polclaims database at {db} (process statements first, or point --db at the store)")

    try:
        filters = dict(type=_split(type), actor_kind=_split(actor_kind), actor=_split(actor),
                       predicate_lemma=_split(lemma), topic=_split(topic), lang=_split(lang), speaker=_split(speaker),
                       date_from=date_from, date_to=date_to, polarity=_split(polarity), tense=_split(tense),
                       has_quantity=has_quantity, search=search, statement_id=_split(statement), aligned=aligned, thread=_split(thread))
        rows = query_claims(db, limit=limit, **filters)
        total = query_claims(db, count=True, **filters) if limit is not None and len(rows) == limit else len(rows)
    except ValueError as e:
        _fail(str(e))
    except (StoreError, FileNotFoundError) as e:
        _fail(f"--db: {e}")

    noun = "aligned pair" if aligned else "claim"
    found = f"{total} {noun}{'s' if total != 1 else ''} match" + (f", {len(rows)} shown (--limit {limit})"
                                                                   if len(rows) < total else "")
    if rows or fmt != "table":
        write_records(_for_people(rows) if fmt == "table" else rows, fmt, cols, title=found, widths=TABLE_WIDTHS)
    # on stderr: a pipe gets only records (nothing when nothing matches), a person still sees the count
    if fmt != "table" or not rows:  # a table has the count in its title
        typer.echo(found if rows else f"No {noun}s match (0 found).", err=True)
