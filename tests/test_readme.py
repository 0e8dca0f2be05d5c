"""The README tells the truth: its shell examples run as written on the shipped files, its claim
field table is what the evaluation results render to, and its links lead to files a clone has."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.evaluation.claims import FIELDS
from pipeline.io.records import CLAIM_RECORD_COLUMNS
from pipeline.evaluation.report_claims import readme_block, render

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SKIP_MARK = "<!-- readme-test: skip block"
# Examples that take minutes here, run only with POLCLAIMS_README_SLOW=1 (the same command on a
# small file is tested in test_cli.py; `make eval-nlp` runs it on the full test files).
SLOW = {"polclaims evaluate nlp": "scores a 900-sentence treebank file (about 2 minutes on 2 cores)"}


def readme_commands() -> list[tuple[int, str]]:
    """(line number, command) of every `polclaims` line in the README's bash blocks, joined over
    backslash continuations; blocks right after a skip marker are left out (patterns with the
    user's own files, a Ray cluster)."""
    lines = README.read_text(encoding="utf-8").splitlines()
    out, in_block, skip, pending, start = [], False, False, "", 0
    for n, line in enumerate(lines, start=1):
        if line.startswith("```"):
            if not in_block:
                in_block = line.strip() == "```bash"
                prev = next((lines[k] for k in range(n - 2, -1, -1) if lines[k].strip()), "")
                skip = prev.startswith(SKIP_MARK)
            else:
                in_block = False
            continue
        if not in_block or skip:
            continue
        if pending:
            pending += " " + line.strip()
        elif line.startswith("polclaims "):
            pending, start = line.strip(), n
        if pending and not pending.endswith("\\"):
            out.append((start, pending))
            pending = ""
        elif pending:
            pending = pending[:-1].rstrip()
    return out


def test_the_readme_has_runnable_examples_and_skips_are_marked():
    cmds = [c for _, c in readme_commands()]
    assert len(cmds) >= 15
    for needed in ("polclaims process data/examples/statements.jsonl", "polclaims query --aligned",
                   "--explain", "polclaims annotate", "polclaims train topics data/examples/my_labels.csv"):
        assert any(needed in c for c in cmds), needed
    text = README.read_text(encoding="utf-8")
    assert text.count(SKIP_MARK) == 5  # own files, web server, threads store, own archive, Ray cluster: said in each marker


def _args(command: str) -> tuple[list[str], str | None]:
    """argv after `polclaims` (comments dropped) and the file a `>` redirects stdout to."""
    words = shlex.split(command, comments=True)[1:]
    if ">" in words:
        i = words.index(">")
        return words[:i], words[i + 1]
    return words, None


@pytest.mark.skipif(os.environ.get("POLCLAIMS_SKIP_README_RUN") == "1", reason="POLCLAIMS_SKIP_README_RUN=1")
def test_readme_examples_run_as_written(tmp_path, monkeypatch):
    """Each `polclaims` line of the README, in order, in a fresh folder holding the shipped
    `data/` (as a clone has it), in this process (the models load once for all commands).
    Lines that read ../shared/data are skipped, with the reason, where it is absent."""
    work = tmp_path / "clone"
    work.mkdir()
    shutil.copytree(ROOT / "data" / "examples", work / "data" / "examples")
    shutil.copytree(ROOT / "data" / "samples", work / "data" / "samples")
    (work / "models").mkdir()  # `--out models/my_topics` writes here, not into the repository
    shared = (ROOT / ".." / "shared").resolve()
    if shared.exists():
        (work.parent / "shared").symlink_to(shared, target_is_directory=True)
    monkeypatch.chdir(work)
    runner = CliRunner()
    problems, ran, skipped = [], 0, []
    for lineno, command in readme_commands():
        args, redirect = _args(command)
        if any(a.startswith("../shared/") and not Path(a).exists() for a in args):
            skipped.append(f"README:{lineno} needs ../shared/data")
            continue
        slow = next((why for prefix, why in SLOW.items() if command.startswith(prefix)), None)
        if slow and os.environ.get("POLCLAIMS_README_SLOW") != "1":
            skipped.append(f"README:{lineno} {slow}")
            continue
        t0 = time.perf_counter()
        res = runner.invoke(app, args, catch_exceptions=True)
        ran += 1
        if redirect:
            Path(redirect).write_text(res.stdout, encoding="utf-8")
        if res.exit_code != 0:
            problems.append(f"README:{lineno} `{command}` -> exit {res.exit_code}: "
                            f"{(res.stderr or res.stdout)[-800:]} {res.exception!r}")
        print(f"README:{lineno} {time.perf_counter() - t0:.1f} s  {command[:90]}")
    print("not run: " + "; ".join(skipped))
    assert not problems, "\n".join(problems)
    assert ran >= 12, (ran, skipped)
    # what the examples promise
    claims = [json.loads(x) for x in Path("claims.jsonl").read_text(encoding="utf-8").splitlines()]
    assert claims and list(claims[0]) == list(CLAIM_RECORD_COLUMNS)
    assert any(c["aligned_to"] for c in claims)  # the two statements sharing a parallel_id
    assert Path("prohibitions.csv").exists() and Path("topics.jsonl").exists()
    assert (Path("models") / "my_topics" / "model.joblib").exists()


def test_claims_field_table_is_rendered_from_the_evaluation_figures():
    figures = json.loads((ROOT / "models" / "claims" / "final_fields.json").read_text(encoding="utf-8"))
    assert readme_block(README) == render(figures), "README table out of date: run make eval-claims"
    for fig in figures:
        assert set(fig["fields"]["all"]) == set(FIELDS)  # every field, good or bad
        assert {"kk", "ru"} <= set(fig["fields"])
    # the same figures as the final checks `make train-claims` computed on its own
    card = json.loads((ROOT / "models" / "claims" / "card.json").read_text(encoding="utf-8"))
    for fig in figures:
        checks = card["final_checks"][fig["gold_file"]]
        assert checks["detection"]["matched"] == fig["detection"]["matched"]
        for field, (right, total) in fig["fields"]["all"].items():
            assert checks["fields"][field] == pytest.approx(right / total), field


def test_links_lead_to_files_in_the_repository_and_the_field_reference_covers_the_record():
    text = README.read_text(encoding="utf-8")
    assert "../shared/docs" not in text  # a clone does not have it
    for target in re.findall(r"\]\(([^)#:]+)\)", text):
        assert (ROOT / target).exists(), target
    ref = (ROOT / "docs" / "claim-record.md").read_text(encoding="utf-8")
    for col in CLAIM_RECORD_COLUMNS:
        assert f"`{col}`" in ref, col


def test_claims_headline_table_is_rendered_from_the_model_card():
    from pipeline.training.claims import README_END, README_START, readme_loso_table

    card = json.loads((ROOT / "models" / "claims" / "card.json").read_text(encoding="utf-8"))
    text = README.read_text(encoding="utf-8")
    block = text.split(README_START, 1)[1].split(README_END, 1)[0]
    assert block == "\n" + readme_loso_table(card), "README table out of date: run make train-claims"

