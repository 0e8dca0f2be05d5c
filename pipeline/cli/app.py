"""The `polclaims` command line."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import List, Optional

import typer

from pipeline import __version__
from pipeline.nlp import quiet_libraries

# Plain help (click's layout): paragraphs re-wrapped to the terminal, no `<bool>` type column for
# flags, `-h` as well as `--help` everywhere (sub-commands inherit the context settings).
HELP_SETTINGS = {"context_settings": {"help_option_names": ["-h", "--help"], "max_content_width": 100},
                 "rich_markup_mode": None}


def _argument_types_from_metavar() -> None:
    """typer writes an argument's Python type after it in help (`INPUT <list[str]>`); an argument
    given a metavar shows just that, as options with a metavar already do."""
    try:
        from typer.core import TyperArgument

        plain = TyperArgument.display_type_rich
    except (ImportError, AttributeError):  # another typer: keep its help as it is
        return

    def display_type(self, ctx):
        return None if self.metavar is not None else plain(self, ctx)

    TyperArgument.display_type_rich = display_type


_argument_types_from_metavar()


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"polclaims {__version__}")
        raise typer.Exit()


app = typer.Typer(
    help="polclaims: policy claims from Kazakh and Russian statements of officials.\n\n"
         "Start with `polclaims process FILE` to extract claims and `polclaims query` to find them; "
         "`polclaims analyze FILE` shows how a statement is segmented and analysed, "
         "`polclaims annotate FILE` gives CoNLL-U / JSON output of the language pipelines.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, **HELP_SETTINGS)
evaluate_app = typer.Typer(help="Score the pipelines against gold data.", no_args_is_help=True, **HELP_SETTINGS)
train_app = typer.Typer(help="Train models: the Kazakh pipeline, topic classifiers on your labels, the claim extractor.",
                        no_args_is_help=True, **HELP_SETTINGS)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", "-V", callback=_version_callback, is_eager=True,
                                       help="Print the polclaims version and exit.")) -> None:
    """polclaims: policy claims from Kazakh and Russian statements of officials."""
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(train_app, name="train")

FORMATS_ANNOTATE = ("conllu", "json")
FORMATS_TABLE = ("table", "json", "jsonl", "csv")


@app.command()
def version() -> None:
    """Print the polclaims version and the versions of the language pipelines' models."""
    from pipeline import config

    kk = config.load("nlp_kk").get("version")
    ru = config.load("nlp_ru").get("version", "ru")
    typer.echo(f"polclaims {__version__} (kk: {kk}, ru: {ru})")


@app.command()
def annotate(
    inputs: List[str] = typer.Argument(..., metavar="INPUT", help="Text files, record files (.jsonl, .json, .csv, .tsv, .parquet), "
                                                "folders, or - for stdin. Paragraphs are separated by blank lines."),
    lang: str = typer.Option("auto", "--lang", "-l", help="kk, ru, or auto (language per sentence)."),
    format: str = typer.Option("conllu", "--format", "-f", help="conllu or json."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Encoding of the inputs (default UTF-8), e.g. cp1251."),
) -> None:
    """Tokenize, split sentences, tag, lemmatize, parse and find entities; print CoNLL-U or JSON.

    Inputs are read as by `process`: a .txt file is one text, a record file gives the `text` of
    each record, a folder all such files. CoNLL-U output is scorable by the CoNLL 2018 evaluation
    (`udtools.udeval`); each statement starts with `# newdoc id = <its id>`, each sentence carries
    `# lang` and its character offsets in the statement's text (`# char_start`, `# char_end`), and
    named entities are in MISC (`NER=B-PER`). JSON adds `statement_id` to each sentence.
    """
    from pipeline.nlp.annotate import annotate as run_annotate, chunk_to_json
    from pipeline.nlp.conllu import sentence_to_conllu
    from pipeline.io.readers import ReadOptions, read_statements
    from pipeline.io.records import Failure

    quiet_libraries()
    if format not in FORMATS_ANNOTATE:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS_ANNOTATE)}", param_hint="--format")
    if lang not in ("auto", "kk", "ru"):
        raise typer.BadParameter("use kk, ru or auto", param_hint="--lang")
    failures, out, n, done = [], [], 0, 0
    for item in read_statements(inputs, ReadOptions(encoding=encoding)):
        if isinstance(item, Failure):
            failures.append(item)
            continue
        text = item.text
        if "\x00" in text:
            failures.append(Failure(item.id, "holds NUL bytes: a binary file, not text", item.origin, "read"))
            continue
        done += 1
        chunks = run_annotate(text, lang)
        if format == "json":
            out.extend({"statement_id": item.id, **s} for c in chunks for s in chunk_to_json(text, c))
            continue
        newdoc = f"# newdoc id = {item.id}"
        for c in chunks:
            for sent in c.doc.sents:
                toks = [t for t in sent if not t.is_space]
                if not toks:
                    continue
                n += 1
                block = sentence_to_conllu(sent, f"s{n}")
                start = c.start + toks[0].idx
                end = c.start + toks[-1].idx + len(toks[-1].text)
                lines = block.split("\n")
                lines.insert(1, f"# lang = {c.lang}\n# char_start = {start}\n# char_end = {end}")
                if newdoc:  # on the statement's first sentence
                    lines.insert(0, newdoc)
                    newdoc = ""
                sys.stdout.write("\n".join(lines) + "\n")
    if format == "json":
        typer.echo(json.dumps(out, ensure_ascii=False, indent=1))
    for f in failures:
        where = f" at {f.origin}" if f.origin and f.origin != f.record_id else ""
        typer.echo(f"FAILED {f.record_id}{where}: {f.reason}", err=True)
    if failures:  # the exit status of `process`: 1 some failed, 2 nothing usable
        raise typer.Exit(1 if done else 2)


@app.command()
def analyze(
    inputs: List[str] = typer.Argument(..., metavar="INPUT", help="Files (.txt, .jsonl, .json, .csv, .tsv, .parquet), folders, or - for stdin."),
    format: str = typer.Option("table", "--format", "-f", help="table, json, jsonl or csv."),
    nlp: bool = typer.Option(True, "--nlp/--no-nlp", help="Run the language pipelines (entities, tokens, root)."),
    explain: bool = typer.Option(False, "--explain",
                                 help="List every claim candidate of each sentence, the rule that proposed it, the "
                                      "model's scores, and why it was kept or dropped."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Encoding of the inputs (default UTF-8), e.g. cp1251."),
) -> None:
    """Show how statements are read and segmented: paragraphs, sentences with offsets,
    language per sentence, boilerplate, and what the language pipelines see in each sentence.

    With --explain: why a sentence gave a claim or none (candidates, scores, verdicts).
    """
    from pipeline.nlp.analysis import analyze_statements, print_analysis
    from pipeline.io.readers import ReadOptions

    quiet_libraries()
    if format not in FORMATS_TABLE:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS_TABLE)}", param_hint="--format")
    if explain:
        from pipeline.claims.explain import explain_statements, print_explanation

        rows, failures = explain_statements(inputs, ReadOptions(encoding=encoding))
        print_explanation(rows, failures, format)
        for f in failures:
            typer.echo(f"FAILED {f.record_id}: {f.reason}", err=True)
        if failures and not rows:
            raise typer.Exit(1)
        return
    rows, failures = analyze_statements(inputs, run_nlp=nlp, read_options=ReadOptions(encoding=encoding))
    print_analysis(rows, failures, format)
    if failures and not rows:
        raise typer.Exit(1)


@app.command()
def process(
    inputs: List[str] = typer.Argument(..., metavar="INPUT", help="Files (.txt, .jsonl, .json, .csv, .tsv, .parquet), folders, or - for stdin."),
    out: str = typer.Option("claims.jsonl", "--out", "-o",
                            help="Claims file: .jsonl (default), .csv or .parquet by extension; - for stdout."),
    db: Optional[Path] = typer.Option(Path("polclaims.db"), "--db",
                                      help="SQLite store of statements, sentences, claims and failures."),
    no_db: bool = typer.Option(False, "--no-db", help="Do not write the SQLite store."),
    chunk_size: int = typer.Option(
        32, "--chunk-size", help="Statements analysed together: one unit of work for a worker; statements "
                                 "sharing a parallel_id are aligned when they fall in the same chunk."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w",
                                          help="Worker processes, each loading the models once (default: number of cores)."),
    force: bool = typer.Option(False, "--force", help="Re-process statements the store already holds unchanged."),
    engine: str = typer.Option("local", "--engine", help="local (processes on this machine) or ray (a Ray cluster)."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (HEAD:6379); none = a local Ray instance."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="Progress bar (default: on when stderr is a terminal; else a log line every 30 s)."),
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="Topic model folder for claims and statements (default: configs/topics.toml)."),
    claims_model: Optional[str] = typer.Option(None, "--claims-model",
                                               help="Claim extractor folder from `polclaims train claims` (default: configs/claims/model.toml)."),
    id_col: str = typer.Option("id", "--id-col", help="Column (CSV/TSV/Parquet) or key (JSON) holding the record's id."),
    text_col: str = typer.Option("text", "--text-col", help="Column or key holding the statement's text."),
    id_prefix: str = typer.Option("", "--id-prefix",
                                  help="Put before every id read, e.g. 'akorda:' to keep two sites' ids apart in one store."),
    encoding: Optional[str] = typer.Option(None, "--encoding",
                                           help="Encoding of the input files and stdin (default UTF-8), e.g. cp1251."),
) -> None:
    """Extract policy claims (commitments, obligations, decisions) from statements.

    Writes one claim per line with all fields of the claims guideline, stores everything in
    SQLite (re-processing a statement replaces its rows), and prints a summary. Records that
    cannot be processed are listed with their reason and stored as failures; the rest goes on.
    Statements already stored with the same text and pipeline version are skipped (their stored
    claims are written again), so a re-run after a crash finishes the rest; --force re-does all.

    Failures (with the record's file:line or row) and warnings go to stderr, the summary to
    stdout (to stderr with --out -).

    Example: polclaims process data/samples/decentralization-statement.txt --out claims.jsonl
    """
    from pipeline.io.writer import check_out_path
    from pipeline.batch.runner import RunError, default_workers, run_process
    from pipeline.io.readers import ReadOptions
    from pipeline.store.database import StoreError

    quiet_libraries()
    import codecs
    import os

    from pipeline.batch.runner import check_output

    try:
        check_output(out)      # a folder, a path under a file, unwritable: said first
        check_out_path(out)    # then an extension we do not write
        if encoding:
            codecs.lookup(encoding)
    except (ValueError, LookupError, RunError) as exc:
        msg = f"--encoding: unknown encoding {encoding!r}" if isinstance(exc, LookupError) else str(exc)
        typer.echo(f"error: {msg}", err=True)
        raise typer.Exit(2)
    read_options = ReadOptions(id_col=id_col, text_col=text_col, id_prefix=id_prefix, encoding=encoding)

    previous = os.environ.get("POLCLAIMS_TOPIC_MODEL")
    previous_claims = os.environ.get("POLCLAIMS_CLAIMS_MODEL")
    if claims_model:
        from pipeline.claims.learned import ClaimModel

        folder = Path(claims_model).expanduser().resolve()
        try:
            ClaimModel.load(folder / "model.joblib")
        except (FileNotFoundError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2)
        os.environ["POLCLAIMS_CLAIMS_MODEL"] = str(folder)  # workers inherit it
    if model:
        from pipeline.topics.model import TopicModelError, load_model

        try:
            load_model(model)
        except TopicModelError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2)
        os.environ["POLCLAIMS_TOPIC_MODEL"] = str(Path(model).expanduser().resolve())  # workers inherit it
    try:
        summary = run_process(inputs, out, None if no_db else db, chunk_size=chunk_size, progress=progress,
                              workers=workers or default_workers(), force=force, engine=engine, address=address,
                              read_options=read_options)
    except (RunError, StoreError) as exc:  # exit status: see README "Exit status"
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(getattr(exc, "exit_code", 2))
    finally:  # leave the environment as it was (matters when polclaims runs inside a program)
        for name, value in (("POLCLAIMS_TOPIC_MODEL", previous), ("POLCLAIMS_CLAIMS_MODEL", previous_claims)):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    typer.echo(summary.render(), err=out == "-")
    problems = summary.problems()
    if problems:
        typer.echo(problems, err=True)
    raise typer.Exit(summary.exit_code)  # 0 all processed, 1 some failed, 2 nothing usable


@evaluate_app.command("nlp")
def evaluate_nlp(
    gold: Path = typer.Argument(..., metavar="GOLD", help="A UD treebank file (.conllu) with gold annotation.", exists=True, dir_okay=False),
    lang: str = typer.Option(..., "--lang", "-l", help="kk or ru: which pipeline to score."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the system CoNLL-U here."),
    format: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Run the pipeline on the raw text of GOLD and print F1 for Tokens, Sentences, UPOS,
    UFeats, Lemmas, UAS and LAS (CoNLL 2018 shared-task evaluation)."""
    from pipeline.evaluation.nlp import evaluate_pipeline
    from pipeline.nlp import get_pipeline

    quiet_libraries()
    if lang not in ("kk", "ru"):
        raise typer.BadParameter("use kk or ru", param_hint="--lang")
    from pipeline.evaluation.nlp import GoldFileError

    try:
        scores = evaluate_pipeline(get_pipeline(lang), gold, output)
    except GoldFileError as exc:
        raise typer.BadParameter(str(exc), param_hint="GOLD") from None
    if format == "json":
        typer.echo(json.dumps({"lang": lang, "gold": str(gold), **scores}))
        return
    typer.echo(f"{lang} on {gold.name}")
    for k, v in scores.items():
        typer.echo(f"  {k:<18} {v}")


from pipeline.evaluation.claims import evaluate_claims_command  # noqa: E402
from pipeline.cli.query import query  # noqa: E402

evaluate_app.command("claims")(evaluate_claims_command)
app.command("query")(query)

from pipeline.cli.claims import train_claims  # noqa: E402
from pipeline.cli.topics import evaluate_topics_command, topics_app, train_topics  # noqa: E402

app.add_typer(topics_app, name="topics")
train_app.command("topics")(train_topics)
train_app.command("claims")(train_claims)
evaluate_app.command("topics")(evaluate_topics_command)

from pipeline.cli.serve import serve  # noqa: E402

app.command("serve")(serve)

from pipeline.cli.threads import evaluate_threads_command, threads_command, track_command, train_threads_command  # noqa: E402

app.command("track")(track_command)
app.command("threads")(threads_command)
evaluate_app.command("threads")(evaluate_threads_command)
train_app.command("threads")(train_threads_command)


@train_app.command("kk")
def train_kk(
    data: Path = typer.Option(Path("../shared/data"), help="Folder holding ud/kk_ktb, kaznerd and parallel_kk_ru."),
    config_file: Path = typer.Option(Path("configs/train_kk.toml"), "--config", help="Training settings."),
    out: Path = typer.Option(Path("models/kk"), help="Where the models go."),
    work: Path = typer.Option(Path("build/kk"), help="Scratch folder (splits, vectors, logs)."),
    steps: str = typer.Option("vectors,charlm,tokenize,mwt,pos,lemma,tag_corrector,depparse,ner",
                              help="Comma-separated subset of the steps to run (`charlm`: the character LMs that components with `charlm = true` read)."),
) -> None:
    """Rebuild the Kazakh Stanza models (tokenizer, MWT, POS, lemma, parser, NER) on a CPU.

    Preload jemalloc for a 2-3x speed-up on VMs (the Makefile's `train-kk` target does)."""
    from pipeline.training import kk_stanza

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    kk_stanza.main(config_file, data, out, work, [s.strip() for s in steps.split(",") if s.strip()])


@train_app.command("ru-adapter")
def train_ru_adapter(
    data: Path = typer.Option(Path("../shared/data"), help="Folder holding ud/ru_gsd, ud/ru_taiga, ud/ru_grameval, ud/ru_poetry."),
    out: Path = typer.Option(Path("models/ru_adapter"), help="Where the adapter and its model card go."),
    config_name: str = typer.Option("train_ru_adapter", "--config",
                                    help="Training settings: configs/<NAME>.toml (train_ru_adapter: UD GSD/Taiga "
                                         "conventions; train_ru_adapter_syntagrus: SynTagRus/GramEval conventions)."),
) -> None:
    """Train the Russian UD adapter (UPOS and features in one UD Russian convention) on the
    training files of its config and score the pipeline without and with it on the scored files."""
    from pipeline import config
    from pipeline.training import ru_adapter

    quiet_libraries()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    card = ru_adapter.train(out, data, config.load(config_name))
    for name, r in card["scores"].items():
        for label in ("without", "with"):
            typer.echo(f"{name} {label} adapter: " + ", ".join(f"{m} {r[label][m]}" for m in ru_adapter.METRICS))
    typer.echo(f"written to {out}")


def main() -> None:  # console-script entry point
    from pipeline.nlp.model_files import ModelFileError

    try:
        app()
    except ModelFileError as exc:  # any command whose language pipeline found a damaged model file
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
