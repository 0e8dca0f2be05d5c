"""`polclaims train claims`: the learned claim extractor from the claims corpus or your own gold."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import List, Optional

import typer


def _gold_records(paths: List[Path]) -> list[dict]:
    """Gold-format JSONL files (../shared/docs/claims-guideline.md) as corpus records; the source
    of a record is its `source` field, else the part of its item_id before the first colon."""
    from pipeline.evaluation.claims import load_gold

    out = []
    for path in paths:
        load_gold(path)  # validates every line, naming the bad ones
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                r.setdefault("source", str(r["item_id"]).split(":")[0])
                r.setdefault("stratum", None)
                out.append(r)
    return out


def train_claims(
    gold: Optional[List[Path]] = typer.Argument(None, metavar="GOLD", exists=True, dir_okay=False,
                                                help="Gold claim files (claims-guideline JSONL) to train on instead of the "
                                                     "claims corpus data/claims/ (its texts come from ../shared/data)."),
    out: Path = typer.Option(Path("models/claims"), "--out", "-o", help="Model folder to write."),
    cv: bool = typer.Option(True, "--cv/--no-cv", help="Leave-one-source-out cross-validation before the final fit."),
    min_source_texts: Optional[int] = typer.Option(None, "--min-source-texts",
                                                   help="Sources with fewer texts form one fold (default: configs/claims/model.toml)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="Only the texts of this language (kk or ru), e.g. to compare "
                                                         "one language's pipeline settings quickly; the shipped model uses both."),
    format: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Train the learned claim extractor and report it on held-out sources.

    Every finite verb, modal or predicative word, verbal noun and participle of the parsed texts is
    a candidate; a classifier learns which candidates are claims and of which type. The report is
    leave-one-source-out cross-validation (each source extracted by a model trained on the others),
    next to the rule extractor on the same texts. Writes model.joblib, card.json and README.md;
    `process` uses the model when configs/claims/model.toml says extractor = "learned".
    """
    from pipeline import config
    from pipeline.corpora import claims as corpus
    from pipeline.training import claims as training
    from pipeline.nlp import quiet_libraries

    quiet_libraries()
    if gold:
        records = _gold_records(gold)
    else:
        try:
            records, problems = corpus.items()
        except corpus.LabelError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2)
        for p in problems:
            typer.echo(f"skipped {p['item_id']}: {p['reason']}", err=True)
        if not records:
            typer.echo("error: no labelled text found: the claims corpus reads its texts from ../shared/data "
                       "(set POLCLAIMS_SHARED_DATA)", err=True)
            raise typer.Exit(2)
    if lang:
        if lang not in ("kk", "ru"):
            typer.echo(f"error: --lang {lang!r}: kk or ru", err=True)
            raise typer.Exit(2)
        records = [r for r in records if r.get("lang") == lang]
        if not records:
            typer.echo(f"error: no {lang} text to train on", err=True)
            raise typer.Exit(2)
    mst = min_source_texts or int(config.load("claims/model").get("cv", {}).get("min_source_texts", 60))
    command = "polclaims train claims " + " ".join(shlex.quote(a) for a in sys.argv[3:])
    card = training.train(records, out, command=command.strip(), cv=cv, min_source_texts=mst)
    if format == "json":
        typer.echo(json.dumps(card, ensure_ascii=False, indent=1, default=str))
        return
    if cv:
        typer.echo(training.cv_markdown(card["loso_cv"]))
    typer.echo(f"model written to {out} ({card['size_bytes'] / 1e6:.1f} MB, threshold {card['none_threshold']})")
