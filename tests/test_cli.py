"""The command line as a user drives it: annotate, analyze and evaluate nlp on the bundled sample."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "decentralization-statement.txt"
runner = CliRunner()


def test_help_explains_itself():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("annotate", "analyze", "process", "query", "evaluate", "train"):
        assert cmd in res.output


def test_annotate_json_offsets_and_languages():
    text = SAMPLE.read_text(encoding="utf-8")
    res = runner.invoke(app, ["annotate", str(SAMPLE), "--format", "json"])
    assert res.exit_code == 0, res.output
    sents = json.loads(res.output)
    assert {s["lang"] for s in sents} == {"kk", "ru"}
    for s in sents:
        assert text[s["start"]:s["end"]] == s["text"]
        for t in s["tokens"]:
            assert text[t["start"]:t["end"]] == t["text"]
    first = next(s for s in sents if s["text"].startswith("Мы должны грамотно"))
    assert first["lang"] == "ru"
    assert any(t["lemma"] == "проводить" and t["upos"] == "VERB" for t in first["tokens"])


def test_annotate_conllu_is_valid_ud(tmp_path):
    res = runner.invoke(app, ["annotate", str(SAMPLE), "--format", "conllu"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "sample.conllu"
    out.write_text(res.output, encoding="utf-8")
    assert "# lang = kk" in res.output and "# lang = ru" in res.output
    check = subprocess.run([sys.executable, "-m", "udtools.cli", "--level", "2", "--lang", "ud", str(out)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr[-2000:]


def test_annotate_stdin_with_fixed_language():
    res = runner.invoke(app, ["annotate", "-", "--lang", "ru", "--format", "json"],
                        input="Я утвердил Концепцию развития местного самоуправления.")
    assert res.exit_code == 0, res.output
    sents = json.loads(res.output)
    assert len(sents) == 1 and sents[0]["tokens"][1]["lemma"] == "утвердить"


def test_annotate_rejects_unknown_language_and_format():
    assert runner.invoke(app, ["annotate", str(SAMPLE), "--lang", "en"]).exit_code != 0
    assert runner.invoke(app, ["annotate", str(SAMPLE), "--format", "xml"]).exit_code != 0


def test_analyze_marks_boilerplate_and_languages():
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = [r for r in json.loads(res.output) if r.get("statement_id")]
    bp = {r["text"] for r in rows if r["boilerplate"]}
    assert {"Медиаон ақпарат", "281 сөз", "Добавить комментарий"} <= bp
    real = [r for r in rows if not r["boilerplate"]]
    assert {r["lang"] for r in real} == {"kk", "ru"}
    assert all(r["tokens"] for r in real)


def test_evaluate_nlp_on_a_small_gold_file(tmp_path):
    gold = tmp_path / "g.conllu"
    gold.write_text(
        "# text = Мы наделяем акиматы полномочиями.\n"
        "1\tМы\tмы\tPRON\t_\tCase=Nom|Number=Plur|Person=1\t2\tnsubj\t_\t_\n"
        "2\tнаделяем\tнаделять\tVERB\t_\tAspect=Imp|Mood=Ind|Number=Plur|Person=1|Tense=Pres|VerbForm=Fin|Voice=Act\t0\troot\t_\t_\n"
        "3\tакиматы\tакимат\tNOUN\t_\tAnimacy=Inan|Case=Acc|Gender=Masc|Number=Plur\t2\tobj\t_\t_\n"
        "4\tполномочиями\tполномочие\tNOUN\t_\tAnimacy=Inan|Case=Ins|Gender=Neut|Number=Plur\t2\tobl\t_\tSpaceAfter=No\n"
        "5\t.\t.\tPUNCT\t_\t_\t2\tpunct\t_\t_\n\n", encoding="utf-8")
    res = runner.invoke(app, ["evaluate", "nlp", str(gold), "--lang", "ru", "--format", "json"])
    assert res.exit_code == 0, res.output
    scores = json.loads(res.output)
    assert scores["Tokens"] == 100.0 and scores["Sentences"] == 100.0
    assert scores["UPOS"] >= 80
