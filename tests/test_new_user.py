"""What a new user hits first (issue #19): one claim record for `process` and `query`, failures
on stderr with file:line, dates that do not parse, unknown output formats, `analyze --explain`,
`annotate` on folders and record files, CoNLL-U entities, help and version."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import typer
from typer.testing import CliRunner

from pipeline.cli.app import app

if TYPE_CHECKING:
    import click

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

RU = "Правительство обязано снизить налоги для малого бизнеса в Астане до 2025 года."
KK = "Үкімет шағын бизнеске салықты төмендетуі тиіс."


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    """One `process` run over records with metadata, a duplicate, a missing text and a date
    that does not parse; --out CSV and a store."""
    d = tmp_path_factory.mktemp("process")
    src = write_jsonl(d / "in.jsonl", [
        {"id": "r1", "text": RU, "speaker": "Аскар Мамин", "date": "2020-01-15", "source": "gov.kz",
         "url": "https://gov.kz/1", "title": "Налоги"},
        {"id": "k1", "text": KK, "speaker": "Мамин", "date": "вчера", "source": "gov.kz"},
        {"id": "r1", "text": "Другой текст."},
        {"id": "nt"},
    ])
    res = runner.invoke(app, ["process", str(src), "--out", str(d / "claims.csv"), "--db", str(d / "s.db"),
                              "--workers", "1", "--no-progress"])
    return d, src, res


def test_process_out_and_query_write_one_claim_record(processed):
    d, _, res = processed
    assert res.exit_code == 1, res.output    # some records failed (README "Exit status")
    with open(d / "claims.csv", encoding="utf-8") as fh:
        out_rows = list(csv.DictReader(fh))
    q = runner.invoke(app, ["query", "--db", str(d / "s.db"), "--format", "csv"])
    assert q.exit_code == 0, q.output
    query_rows = list(csv.DictReader(io.StringIO(q.stdout)))
    assert out_rows and list(out_rows[0]) == list(query_rows[0])  # same columns, same order
    for col in ("speaker", "date", "source", "url", "title", "has_quantity"):
        assert col in out_rows[0]
    first = next(r for r in out_rows if r["statement_id"] == "r1")
    assert (first["speaker"], first["date"], first["source"], first["url"]) == (
        "Аскар Мамин", "2020-01-15", "gov.kz", "https://gov.kz/1")
    # the same claims with the same values (query orders by statement id, process by input)
    assert sorted(out_rows, key=lambda r: r["claim_id"]) == sorted(query_rows, key=lambda r: r["claim_id"])


def test_failures_go_to_stderr_with_file_and_line(processed):
    _, src, res = processed
    assert "FAILED" not in res.stdout
    assert f"FAILED r1 (read) at {src}:3: duplicate id" in res.stderr
    assert f"FAILED nt (read) at {src}:4: text is null" in res.stderr
    assert "2 failed" in res.stdout


def test_dates_that_do_not_parse_are_warned_and_counted(processed):
    _, _, res = processed
    assert "1 statement(s) with a date that does not parse" in res.stdout
    assert "k1 ('вчера')" in res.stderr and "--from/--to will not find them" in res.stderr


def test_unknown_output_extension_is_refused_before_any_work(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "r1", "text": RU}])
    res = runner.invoke(app, ["process", str(src), "--out", str(tmp_path / "claims.xlsx"), "--no-db"])
    assert res.exit_code == 2
    assert "unknown output format '.xlsx'" in res.stderr and ".jsonl, .csv, .parquet" in res.stderr
    assert not (tmp_path / "claims.xlsx").exists()
    res = runner.invoke(app, ["process", str(src), "--encoding", "klingon", "--no-db", "--out", "-"])
    assert res.exit_code == 2 and "unknown encoding 'klingon'" in res.stderr


def test_process_reads_other_column_names_and_encodings(tmp_path):
    src = tmp_path / "posts.csv"
    src.write_bytes(f"post_id;body\np1;{RU}\n".replace(";", ",").encode("cp1251"))
    res = runner.invoke(app, ["process", str(src), "--out", "-", "--no-db", "--no-progress"])
    assert "no 'id' and no 'text' column (columns: post_id, body)" in res.stderr or "cp1251" in res.stderr
    res = runner.invoke(app, ["process", str(src), "--out", "-", "--no-db", "--no-progress", "--encoding", "cp1251",
                              "--id-col", "post_id", "--text-col", "body", "--id-prefix", "site:"])
    assert res.exit_code == 0, res.output
    claims = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert claims and {c["statement_id"] for c in claims} == {"site:p1"}
    assert claims[0]["sentence"] == RU


def test_analyze_explain_shows_every_candidate_and_agrees_with_process(tmp_path):
    text = RU + " Вчера шёл дождь. " + KK + " Главная | Контакты"
    f = tmp_path / "e.txt"
    f.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(f), "--explain", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    by_sentence = {}
    for r in rows:
        by_sentence.setdefault(r["sentence"], []).append(r)
    assert set(by_sentence) == {0, 1, 2, 3}  # every sentence has an answer
    assert any(r["candidate"] == "шёл" and r["verdict"].startswith("dropped") for r in by_sentence[1])
    assert by_sentence[3][0]["verdict"].startswith("no claim: boilerplate")
    kept = [r for r in rows if (r["verdict"] or "").startswith("kept")]
    assert kept and all("P(none)" in r["verdict"] and r["type_scores"] for r in kept)
    out = runner.invoke(app, ["process", str(f), "--out", "-", "--no-db", "--no-progress"])
    claims = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert sorted(r["candidate"] for r in kept) == sorted(c["predicate"] for c in claims)
    assert [r["verdict"].split()[1] for r in sorted(kept, key=lambda r: r["sentence"])] == \
           [c["type"] for c in sorted(claims, key=lambda c: c["sentence_index"])]


def test_annotate_reads_folders_and_record_files_and_writes_entities(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"id": "j1", "text": RU}])
    (tmp_path / "b.txt").write_text("Токаев подписал указ.", encoding="utf-8")
    res = runner.invoke(app, ["annotate", str(tmp_path)])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "# newdoc id = j1" in out and "# newdoc id = b" in out
    assert '{"id"' not in out  # the record's text is analysed, not the JSON line
    ner = [line.split("\t") for line in out.splitlines() if "NER=" in line]
    assert ["Астане", "NER=B-LOC"] in [[c[1], c[9]] for c in ner]
    assert any(c[1] == "Токаев" and c[9] == "NER=B-PER" for c in ner)
    res = runner.invoke(app, ["annotate", str(tmp_path / "a.jsonl"), "--format", "json"])
    sents = json.loads(res.stdout)
    assert sents[0]["statement_id"] == "j1" and sents[0]["text"] == RU


def _commands(cmd: click.Command, path: tuple = ()):
    yield path, cmd
    if hasattr(cmd, "commands"):  # a group (typer's groups are not click.Group subclasses)
        for name, sub in cmd.commands.items():
            yield from _commands(sub, path + (name,))


def test_help_everywhere_with_h_and_no_type_noise():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.startswith("polclaims ")
    paths = [p for p, _ in _commands(typer.main.get_command(app))]
    assert ("process",) in paths and ("train", "topics") in paths and ("topics", "predict") in paths
    for path in paths:
        res = runner.invoke(app, [*path, "-h"], terminal_width=100)
        assert res.exit_code == 0, (path, res.output)
        assert "Usage:" in res.stdout
        assert "<bool>" not in res.stdout and "list[" not in res.stdout, (path, res.stdout)


def test_progress_eta_leaves_model_loading_out():
    from pipeline.batch.runner import Progress

    p = Progress(total=100)
    p.bar.start_t -= 50.0  # 50 s since the bar started, 45 s of them loading models
    p.exclude(45.0)
    p.update(10)
    fmt = p.bar.format_dict
    elapsed = fmt["elapsed"]
    assert 4.5 < elapsed < 6.0, elapsed  # the rate is 10 statements in ~5 s, not in 50 s
    remaining = (fmt["total"] - fmt["n"]) / (fmt["n"] / elapsed)
    assert remaining < 60
    p.exclude(45.0)  # loading already left out is not left out twice
    assert 4.5 < p.bar.format_dict["elapsed"] < 6.0
    p.close()


def test_kazakh_lookalikes_are_analysed_as_kazakh_but_quoted_as_written(tmp_path):
    from pipeline.text.langid import normalize_lookalikes

    text = "Шаhар әкімдігі жолдарды жөндеуі тиiс. Дәлəл жоқ. Mixed i and h stay in English."
    norm = normalize_lookalikes(text)
    assert len(norm) == len(text)  # one to one: offsets are the same
    assert "Шаһар" in norm and "тиіс" in norm and "Дәләл" in norm
    assert norm.endswith("Mixed i and h stay in English.")  # Latin words are left alone
    f = tmp_path / "kk.txt"
    f.write_text(text.split(" Mixed")[0], encoding="utf-8")
    res = runner.invoke(app, ["process", str(f), "--out", "-", "--no-db", "--no-progress"])
    claims = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert claims and claims[0]["lang"] == "kk"
    src = f.read_text(encoding="utf-8")
    for c in claims:  # the record quotes the text as written, offsets into it
        assert src[c["predicate_start"]:c["predicate_end"]] == c["predicate"]
        assert src[c["char_start"]:c["char_end"]] == c["sentence"]
    assert any(c["predicate"].endswith("тиiс") for c in claims)  # with its Latin i
