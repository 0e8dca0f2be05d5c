"""What a user's mistakes must not do: read commands never create or change files, unusable
--db/--out paths and damaged files are refused with a message (never a traceback), the exit
status says whether everything was processed, and a different statement with a stored id is
not replaced silently."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.store.database import ClaimStore

runner = CliRunner()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _no_traceback(res) -> None:
    assert "Traceback" not in res.output and not isinstance(res.exception, Exception) or \
        isinstance(res.exception, SystemExit), res.output


def test_query_never_creates_or_changes_a_file(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    empty = tmp_path / "empty.db"
    empty.touch()
    before = _files(tmp_path)
    for db, says in ((notes, "not a polclaims store"), (empty, "empty file"), (tmp_path, "folder"),
                     (tmp_path / "none.db", "no polclaims database")):
        res = runner.invoke(app, ["query", "--db", str(db)])
        assert res.exit_code == 2, (db, res.output)
        assert says in res.output, res.output
        _no_traceback(res)
    assert _files(tmp_path) == before  # nothing created (no -wal/-shm either), nothing changed


def test_query_on_a_store_leaves_it_as_it_was(tmp_path):
    db = tmp_path / "s.db"
    with ClaimStore(db) as store:
        store.conn.execute("INSERT INTO statements (id, text) VALUES ('a', 'x')")
    before = _files(tmp_path)
    res = runner.invoke(app, ["query", "--db", str(db), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert _files(tmp_path) == before


def test_truncated_or_corrupt_store_is_named_with_the_fix(tmp_path):
    db = tmp_path / "s.db"
    with ClaimStore(db) as store:
        store.conn.execute("INSERT INTO statements (id, text) VALUES ('a', 'x')")
    data = db.read_bytes()
    (tmp_path / "cut.db").write_bytes(data[: len(data) // 3])
    (tmp_path / "bad.db").write_bytes(data[:100] + b"\x00\xff" * ((len(data) - 100) // 2))
    for name in ("cut.db", "bad.db"):
        for args in (["query", "--db", str(tmp_path / name)],
                     ["process", str(tmp_path / "none.jsonl"), "--db", str(tmp_path / name),
                      "--out", str(tmp_path / "o.jsonl")]):
            res = runner.invoke(app, args)
            assert res.exit_code == 2, res.output
            assert name in res.output and ("damaged" in res.output or "not a polclaims" in res.output), res.output
            assert "--db NEW.db" in res.output or "not a polclaims" in res.output
            _no_traceback(res)
    assert not (tmp_path / "o.jsonl").exists()


def test_unusable_out_and_db_paths_are_refused_before_any_work(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "Мы построим школы."}\n', encoding="utf-8")
    a_file = tmp_path / "a.txt"
    a_file.write_text("x", encoding="utf-8")
    cases = [
        (["--out", str(tmp_path), "--db", str(tmp_path / "s.db")], "is a folder"),
        (["--out", str(a_file / "o.jsonl"), "--db", str(tmp_path / "s.db")], "is a file, not a folder"),
        (["--out", str(tmp_path / "o.jsonl"), "--db", str(tmp_path)], "is a folder"),
        (["--out", str(tmp_path / "o.jsonl"), "--db", str(a_file / "s.db")], "is a file, not a folder"),
        (["--out", str(tmp_path / "o.jsonl"), "--db", str(a_file)], "not a polclaims store"),
    ]
    for opts, says in cases:
        res = runner.invoke(app, ["process", str(src), "--workers", "1", "--no-progress", *opts])
        assert res.exit_code == 2, (opts, res.output)
        assert says in res.output, (opts, res.output)
        _no_traceback(res)
    assert a_file.read_text(encoding="utf-8") == "x"
    assert not (tmp_path / "s.db").exists() and not (tmp_path / "o.jsonl").exists()


def test_exit_status_rule(tmp_path):
    """0: every record processed; 1: some failed; 2: nothing usable (README, Exit status)."""
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "g1", "text": "Мы построим 10 школ."}\n', encoding="utf-8")
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"id": "m1", "text": "Мы построим 10 школ."}\n{broken\n{"id": "m3"}\n', encoding="utf-8")
    empty_jsonl = tmp_path / "empty.jsonl"
    empty_jsonl.write_text("", encoding="utf-8")
    empty_txt = tmp_path / "empty.txt"
    empty_txt.write_text("  \n", encoding="utf-8")

    def run(*inputs):
        return runner.invoke(app, ["process", *map(str, inputs), "--workers", "1", "--no-progress",
                                   "--out", str(tmp_path / "o.jsonl"), "--db", str(tmp_path / "s.db")])

    assert run(good).exit_code == 0
    res = run(mixed)
    assert res.exit_code == 1 and "2 failed" in res.output, res.output
    res = run(empty_jsonl)
    assert res.exit_code == 2 and "no records found" in res.output, res.output
    assert run(empty_txt).exit_code == 2
    assert run(tmp_path / "missing.jsonl").exit_code == 2


def test_a_different_statement_with_a_stored_id_is_reported(tmp_path):
    """Two folders each holding `same.txt`: the second run would replace the first statement."""
    for folder, text in (("a", "Мы построим 10 школ."), ("b", "Правительство обязано построить 50 больниц.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text(text, encoding="utf-8")
    args = ["--workers", "1", "--no-progress", "--out", str(tmp_path / "o.jsonl"), "--db", str(tmp_path / "s.db")]
    first = runner.invoke(app, ["process", str(tmp_path / "a"), *args])
    assert first.exit_code == 0 and "REPLACED" not in first.output
    again = runner.invoke(app, ["process", str(tmp_path / "a"), *args])
    assert "REPLACED" not in again.output  # the same statement again: nothing to report
    second = runner.invoke(app, ["process", str(tmp_path / "b"), *args])
    assert "REPLACED same" in second.output and str(tmp_path / "a" / "same.txt") in second.output, second.output
    assert "--id-prefix" in second.output
    # an edited statement from the same file is an update, not a collision
    (tmp_path / "b" / "same.txt").write_text("Мы построим 20 школ.", encoding="utf-8")
    third = runner.invoke(app, ["process", str(tmp_path / "b"), *args])
    assert "REPLACED" not in third.output, third.output


def test_annotate_binary_and_evaluate_non_conllu_give_messages(tmp_path):
    binary = tmp_path / "image.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    res = runner.invoke(app, ["annotate", str(binary)])
    assert res.exit_code == 2 and "not UTF-8 text" in res.output, res.output
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"abc\x00def")
    res = runner.invoke(app, ["annotate", str(nul)])
    assert res.exit_code == 2 and "NUL" in res.output
    plain = tmp_path / "plain.conllu"
    plain.write_text("Это обычный текст,\nа не CoNLL-U.\n", encoding="utf-8")
    res = runner.invoke(app, ["evaluate", "nlp", str(plain), "--lang", "ru"])
    flat = "".join(res.output.replace("│", "").split())  # the message as one line, whatever the panel wrapping
    assert res.exit_code == 2 and "plain.conllu:1" in flat and "CoNLL-U" in flat, res.output
    res = runner.invoke(app, ["evaluate", "nlp", str(binary), "--lang", "ru"])
    assert res.exit_code == 2 and "not UTF-8" in res.output, res.output


def test_read_only_store_on_a_read_only_disk(tmp_path):
    """A store on read-only media can still be queried (mode=ro fallback)."""
    db = tmp_path / "s.db"
    with ClaimStore(db) as store:
        store.conn.execute("INSERT INTO statements (id, text) VALUES ('a', 'x')")
    with ClaimStore(db, readonly=True) as store:
        assert store.conn.execute("SELECT count(*) FROM statements").fetchone()[0] == 1
        try:
            store.conn.execute("INSERT INTO statements (id, text) VALUES ('b', 'y')")
            raise AssertionError("a read-only store accepted a write")
        except sqlite3.OperationalError:
            pass
    assert sorted(os.listdir(tmp_path)) == ["s.db"]
