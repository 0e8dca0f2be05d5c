"""Commands for topics: `topics predict`, `train topics`, `evaluate topics`."""
from __future__ import annotations

import csv
import json
import shlex
import sys
from pathlib import Path
from typing import List, Optional

import typer

topics_app = typer.Typer(help="Policy topics of statements (CAP major topics, or your own model's labels).",
                         context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
                         rich_markup_mode=None, no_args_is_help=True)

PREDICT_FORMATS = ("jsonl", "json", "csv", "table")


def _model_or_exit(model: Optional[str]):
    from pipeline.topics.model import TopicModelError, load_model

    try:
        return load_model(model)
    except TopicModelError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)


@topics_app.command("predict")
def predict(
    inputs: list[str] = typer.Argument(..., metavar="INPUT", help="Files (.txt, .jsonl, .json, .csv, .tsv, .parquet), folders, or - for stdin."),
    out: str = typer.Option("-", "--out", "-o", help="Output file (.jsonl, .json or .csv by extension); - for stdout."),
    format: Optional[str] = typer.Option(None, "--format", "-f",
                                         help="jsonl, json, csv or table (default: from --out, else jsonl)."),
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="Model folder (default: configs/topics.toml `model`, the shipped one)."),
    top_k: int = typer.Option(3, "--top-k", min=1, help="How many topics with scores per record."),
    batch_size: int = typer.Option(256, "--batch-size", min=1, help="Records classified together."),
) -> None:
    """Topic of each input record: one line {"id", "topic", "topics": [{"label", "score"}, ...]}
    per record, top-k highest first, in input order.

    The text classified is the record's text without page boilerplate (navigation, e-mail
    notices, word counts). Records that cannot be read are listed on stderr with their reason;
    the others go on.

    Example: polclaims topics predict statements.jsonl --out topics.jsonl
    """
    from pipeline.io.readers import read_statements
    from pipeline.io.records import Failure
    from pipeline.text.segment import segment
    from pipeline.topics.assign import statement_text

    fmt = format or {".json": "json", ".csv": "csv", ".jsonl": "jsonl"}.get(Path(out).suffix.lower(), "jsonl")
    if fmt not in PREDICT_FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(PREDICT_FORMATS)}", param_hint="--format")
    m = _model_or_exit(model)
    stream = sys.stdout if out == "-" else open(out, "w", encoding="utf-8", newline="")
    failures: list[Failure] = []
    rows_for_end: list[dict] = []
    writer = csv.writer(stream) if fmt == "csv" else None
    if writer:
        writer.writerow(["id", "topic", "topics"])
    n = 0

    def emit(batch: list) -> None:
        nonlocal n
        texts = []
        for st in batch:
            try:
                sents = [s for p in segment(st.id, st.text) for s in p.sentences]
            except Exception:  # noqa: BLE001 - fall back to the raw text
                sents = []
            texts.append(statement_text(sents, st.text))
        for st, (label, tops) in zip(batch, m.predict(texts, top_k=top_k)):
            row = {"id": st.id, "topic": label, "topics": tops}
            n += 1
            if fmt == "jsonl":
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif writer:
                writer.writerow([st.id, label, json.dumps(tops, ensure_ascii=False)])
            else:
                rows_for_end.append(row)

    batch: list = []
    try:
        for item in read_statements(inputs):
            if isinstance(item, Failure):
                failures.append(item)
                continue
            batch.append(item)
            if len(batch) >= batch_size:
                emit(batch)
                batch = []
        if batch:
            emit(batch)
        if fmt in ("json", "table"):
            from pipeline.io.output import write_records

            write_records(rows_for_end, fmt, ["id", "topic", "topics"], stream=stream)
    finally:
        if stream is not sys.stdout:
            stream.close()
    for f in failures:
        where = f" at {f.origin}" if f.origin and f.origin != f.record_id else ""
        typer.echo(f"FAILED {f.record_id}{where}: {f.reason}", err=True)
    typer.echo(f"{n} record(s) classified with model {m.name}, {len(failures)} failed"
               + ("" if out == "-" else f"; written to {out}"), err=True)
    if n == 0 and failures:
        raise typer.Exit(1)


def train_topics(
    data: str = typer.Argument(..., metavar="DATA", help="Labelled data: .jsonl, .csv, .tsv, .parquet, a folder saved with "
                                         "datasets' save_to_disk, or a dataset name `datasets` can load."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write (e.g. models/my_topics)."),
    text_col: str = typer.Option("text", "--text-col", help="Column with the text."),
    label_col: str = typer.Option("label", "--label-col", help="Column with the label (any label set)."),
    group_col: Optional[str] = typer.Option(None, "--group-col",
                                            help="Rows sharing this value stay in one CV fold (e.g. a translated pair)."),
    lang_col: Optional[str] = typer.Option(None, "--lang-col", help="Report scores per value of this column too."),
    source_col: Optional[str] = typer.Option(None, "--source-col", metavar="COLUMN",
                                             help="Where each text comes from (site, corpus): adds leave-one-source-out "
                                                  "cross-validation, the headline of the report and card (small sources "
                                                  "pooled, see --min-source-rows)."),
    min_source_rows: Optional[int] = typer.Option(None, "--min-source-rows", min=1, metavar="N",
                                                  help="Sources with fewer rows share a held-out fold "
                                                       "(default configs/topics.toml [cv], 100)."),
    by_col: Optional[List[str]] = typer.Option(None, "--by-col", metavar="COLUMN",
                                               help="Also report CV scores per value of this column (repeatable), "
                                                    "e.g. annotation round or source."),
    folds: Optional[int] = typer.Option(None, "--folds", "-k", min=2, help="Cross-validation folds (default configs/topics.toml)."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid",
                                      help="Train without rows whose label/text is unusable (they are listed) instead of stopping."),
    eval_gold: Optional[Path] = typer.Option(None, "--eval-gold",
                                             help="Also score the final model on gold texts with topics (claims-guideline JSONL)."),
    format: str = typer.Option("table", "--format", "-f", help="table or json (the report)."),
    note: Optional[str] = typer.Option(None, "--note", help="A paragraph for the model card (data provenance, ...)."),
) -> None:
    """Train a topic classifier on your own labels; print a cross-validation report.

    With --source-col the headline is leave-one-source-out cross-validation (how the model does
    on a site or corpus it has never seen), next to the random-fold figure.

    Writes OUT/model.joblib (a scikit-learn Pipeline), OUT/card.json, a model card OUT/README.md
    and the confusion matrix OUT/confusion.png. Use it with `--model OUT` in `process` and
    `topics predict`, or set `model` in configs/topics.toml.

    Example: polclaims train topics data/examples/my_labels.csv --label-col category --out models/my_topics
    """
    from pipeline.training import topics as tr

    command = "polclaims train topics " + " ".join(shlex.quote(a) for a in sys.argv[3:]) if len(sys.argv) > 3 else ""
    try:
        data_obj = tr.read_labelled(data, text_col, label_col, group_col, lang_col, skip_invalid=skip_invalid,
                                    by_cols=list(by_col or []), source_col=source_col)
    except tr.TrainDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    for p in data_obj.problems:
        typer.echo(f"SKIPPED {p['id']}: {p['reason']}", err=True)
    typer.echo(f"training on {len(data_obj.texts)} examples, {len(set(data_obj.labels))} labels "
               f"({len(data_obj.problems)} rows skipped)", err=True)
    try:
        model, report = tr.train(data_obj, out, folds=folds, command=command,
                                 progress=lambda msg: typer.echo(msg, err=True), min_source_rows=min_source_rows)
    except tr.TrainDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    if note:
        model.card["note"] = note
    if eval_gold is not None:
        from pipeline.evaluation.topics import evaluate_topics

        res = evaluate_topics(model, eval_gold)
        res.pop("errors")
        model.card["gold_eval"] = res
    if note or eval_gold is not None:
        (Path(out) / "card.json").write_text(json.dumps(model.card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (Path(out) / "README.md").write_text(tr.model_card_markdown(model.card, Path(out)), encoding="utf-8")
    if format == "json":
        typer.echo(json.dumps(model.card, ensure_ascii=False, indent=1))
    else:
        if "cv_by_source" in model.card:
            typer.echo(tr.report_table(model.card["cv_by_source"]))
            typer.echo("random folds (sources shared between training and test; flatters the model):")
        typer.echo(tr.report_table(model.card["cv"]))
        if "gold_eval" in model.card:
            typer.echo(_gold_table(model.card["gold_eval"]))
        typer.echo(f"model written to {out} ({model.card.get('size_bytes', 0) / 1e6:.1f} MB); "
                   f"training took {sum(model.card['seconds'].values()):.0f} s")


def _gold_table(res: dict) -> str:
    lines = [f"gold {res['gold']}: {res['items']} texts with a topic; accuracy {res['overall']['accuracy']}, "
             f"top-3 {res['overall']['top3_accuracy']}"]
    for key, title in (("by_gold_lang", "by gold lang"), ("by_text_lang", "by text language")):
        lines.append(f"  {title}: " + "; ".join(f"{k} {v['accuracy']} (n={v['n']}, top-3 {v['top3_accuracy']})"
                                               for k, v in res[key].items()))
    if res.get("labels_unknown_to_model"):
        lines.append(f"  gold labels the model does not know: {res['labels_unknown_to_model']}")
    return "\n".join(lines)


def evaluate_topics_command(
    gold: Path = typer.Argument(..., metavar="GOLD", exists=True, dir_okay=False,
                                help="Gold JSONL (claims guideline): items with `text`, `lang`, `topic`."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model folder (default: the configured one)."),
    format: str = typer.Option("table", "--format", "-f", help="table or json."),
    errors: bool = typer.Option(False, "--errors", help="List the misclassified items."),
) -> None:
    """Topic accuracy (and top-3 accuracy) on the gold texts that have a topic, per language."""
    from pipeline.evaluation.topics import evaluate_topics

    res = evaluate_topics(_model_or_exit(model), gold)
    errs = res.pop("errors")
    if format == "json":
        if errors:
            res["errors"] = errs
        typer.echo(json.dumps(res, ensure_ascii=False, indent=1))
        return
    typer.echo(_gold_table(res))
    for p in res["problems"]:
        typer.echo(f"  skipped {p}")
    if errors:
        for e in errs:
            typer.echo(f"  {e['id']}: gold {e['gold']}, predicted {e['predicted']} "
                       f"({', '.join(t['label'] + ' ' + str(t['score']) for t in e['scores'])})")
