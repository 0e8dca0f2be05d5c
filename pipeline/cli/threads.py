"""`polclaims track`, `polclaims threads` and `polclaims evaluate threads` (registered in pipeline/cli/app.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, NoReturn, Optional

import typer

FORMATS = ("table", "json", "jsonl", "csv")
TABLE_COLUMNS = ("thread_id", "status_label", "topic", "langs", "first_date", "deadline", "n_statements", "label")


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def _format(fmt: Optional[str]) -> str:
    fmt = fmt or ("table" if sys.stdout.isatty() else "jsonl")
    if fmt not in FORMATS:
        _fail(f"--format: {fmt!r} is not allowed; use one of {', '.join(FORMATS)}")
    return fmt


def track_command(
    db: Path = typer.Option(Path("polclaims.db"), "--db", metavar="FILE", help="The store written by `polclaims process`."),
    format: Optional[str] = typer.Option(None, "--format", "-f", metavar="FORMAT", help="table or json: the run's summary."),
) -> None:
    """Link the store's claims into promise threads (same commitment across statements) and store
    them: each thread ordered by statement date, each member with its role (announced, reaffirmed,
    decided, obligated), each thread with a status (acted on, overdue, reaffirmed N times, open)
    and the evidence for it. Replaces the threads of an earlier run.

    Examples:

      polclaims track --db polclaims.db

      polclaims threads --db polclaims.db --status overdue --topic education --format csv
    """
    from pipeline.store.database import StoreError
    from pipeline.threads.track import track

    if not db.is_file():
        _fail(f"--db: no polclaims database at {db} (process statements first, or point --db at the store)")
    from rich.progress import Progress, SpinnerColumn, TextColumn

    try:
        with Progress(SpinnerColumn(), TextColumn("linking claims: {task.completed} links"), transient=True,
                      disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("link", total=None)
            result = track(db, progress=lambda: bar.advance(task))
    except (StoreError, FileNotFoundError) as e:
        _fail(f"--db: {e}")
    summary = result.__dict__
    if (format or "table") == "json":
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    typer.echo(f"{result.threads} threads ({result.members} claims) from {result.claims} claims in "
               f"{result.seconds} s; latest statement date {result.latest_date or 'unknown'}"
               f" ({result.inferred_dates} statement dates read from datelines)")
    for k, v in sorted(result.by_status.items()):
        typer.echo(f"  {k:<10} {v}")


def threads_command(
    db: Path = typer.Option(Path("polclaims.db"), "--db", metavar="FILE", help="The store, after `polclaims track`."),
    status: Optional[List[str]] = typer.Option(
        None, "--status", metavar="STATUS[,STATUS]", help="'acted on' (or acted_on), overdue, reaffirmed, open; repeat or comma-separate."),
    topic: Optional[List[str]] = typer.Option(None, "--topic", metavar="TOPIC[,TOPIC]", help="Topic code (topics.md), e.g. education."),
    lang: Optional[List[str]] = typer.Option(None, "--lang", "-l", metavar="LANG[,LANG]", help="Threads with claims in kk or ru."),
    min_statements: Optional[int] = typer.Option(None, "--min-statements", min=2, metavar="N", help="At least N statements."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, metavar="N", help="At most N threads."),
    format: Optional[str] = typer.Option(
        None, "--format", "-f", metavar="FORMAT", help="table, json, jsonl or csv. Default: table on a terminal, else jsonl."),
) -> None:
    """List the promise threads of a store with their status; `polclaims query --thread ID` shows
    one thread's timeline.

    Examples:

      polclaims threads --status overdue --topic education --format csv

      polclaims threads --status reaffirmed --lang kk --min-statements 3
    """
    from pipeline.io.output import write_records
    from pipeline.store.database import StoreError
    from pipeline.threads.track import THREAD_COLUMNS, read_threads

    fmt = _format(format)
    if not db.is_file():
        _fail(f"--db: no polclaims database at {db} (process statements first, or point --db at the store)")
    try:
        rows = read_threads(db, status=status, topic=topic, lang=lang, min_statements=min_statements, limit=limit)
    except ValueError as e:
        _fail(str(e))
    except (StoreError, FileNotFoundError) as e:
        _fail(f"--db: {e}")
    cols = TABLE_COLUMNS if fmt == "table" else THREAD_COLUMNS
    write_records(rows, fmt, cols, title=f"{len(rows)} thread{'s' if len(rows) != 1 else ''}",
                  widths={"thread_id": 12, "status_label": 18})
    if not rows:
        typer.echo(f"No threads match (threads come from `polclaims track --db {db}`, run after processing).", err=True)


def evaluate_threads_command(
    pairs: Path = typer.Option(Path("data/threads/pairs.jsonl"), "--pairs", metavar="FILE", help="Gold claim pairs (same commitment or not)."),
    dates: Path = typer.Option(Path("data/threads/dates_gold.jsonl"), "--dates", metavar="FILE", help="Gold dates of the dateline sample."),
    out: Optional[Path] = typer.Option(Path("data/threads/scores.json"), "--out", metavar="FILE", help="Where the scores go (JSON)."),
    format: str = typer.Option("table", "--format", "-f", metavar="FORMAT", help="table or json."),
    linker: str = typer.Option("learned", "--linker", metavar="LINKER",
                               help="learned (the pair classifier, held out by source), rules (configs/threads/link.toml [score]) "
                                    "or shipped (the shipped model and rules as they are, fitted on nothing here)."),
    round_: Optional[List[int]] = typer.Option(None, "--round", metavar="N",
                                               help="With --linker shipped: score the gold pairs of annotation round N alone (repeatable)."),
) -> None:
    """Score thread linking on the gold pairs (pairwise precision, recall, F1 and thread purity,
    per source and per language) and the dateline parser on the gold date sample.

    The claims of the whole claims corpus (data/claims, texts from ../shared/data) are linked as
    `track` links a store; a gold pair counts as linked when both claims end in one thread. With
    the learned linker every pair is scored by a model (threshold included) fitted on the gold
    pairs that touch none of its sources; the rules' scores are reported beside it."""
    from pipeline.evaluation.threads import evaluate

    try:
        scores = evaluate(pairs, dates, linker=linker, rounds=round_)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(scores, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if format == "json":
        typer.echo(json.dumps(scores, ensure_ascii=False))
        return
    from pipeline.evaluation.threads import summary_lines

    for line in summary_lines(scores):
        typer.echo(line)


def train_threads_command(
    out: Path = typer.Option(Path("models/threads"), "--out", "-o", metavar="DIR", help="Model folder to write (linker.pkl, README.md)."),
    pairs: Path = typer.Option(Path("data/threads/pairs.jsonl"), "--pairs", metavar="FILE", help="Gold claim pairs (same commitment or not)."),
    format: str = typer.Option("table", "--format", "-f", metavar="FORMAT", help="table or json: the summary."),
) -> None:
    """Train the promise-thread pair classifier that `polclaims track` links claims with: a logistic
    regression over pair features (action lemmas and their related verbs, target and sentence
    words, numbers, names, actors, claim types, kk-ru twins), its link threshold chosen on
    source-grouped folds of the training pairs. Also scores it held out by source and writes the
    model card. Needs the claims corpus's texts (../shared/data).

    Example:

      polclaims train threads --out models/threads
    """
    from pipeline.evaluation.threads import train_and_score

    try:
        result = train_and_score(pairs, out)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    if format == "json":
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    h = result["heldout"]
    typer.echo(f"{out / result['model']}: {result['bytes'] / 1024:.1f} KB, link threshold {result['threshold']}")
    typer.echo(f"held out by source: P {h['precision']} R {h['recall']} F1 {h['f1']}, thread purity {result['purity']} "
               f"(card: {out / 'README.md'})")
