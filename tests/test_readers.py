"""Reading statements: every format, folders, stdin, and bad records reported, not fatal."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import io
import json
import sys

import pandas as pd
import pytest

from pipeline.io.readers import ReadOptions, count_records, read_statements, to_str
from pipeline.io.records import Failure, Statement

KK = "Мен Жергілікті өзін-өзі басқаруды дамыту тұжырымдамасын бекіттім."
RU = "Я утвердил Концепцию развития местного самоуправления."


def split(items):
    items = list(items)
    good = [i for i in items if isinstance(i, Statement)]
    bad = [i for i in items if isinstance(i, Failure)]
    assert len(good) + len(bad) == len(items)
    return good, bad


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_txt_one_statement_per_file(tmp_path):
    (tmp_path / "speech-1.txt").write_text(KK + "\n\n" + RU + "\n", encoding="utf-8")
    good, bad = split(read_statements([tmp_path / "speech-1.txt"]))
    assert not bad
    assert [s.id for s in good] == ["speech-1"]
    assert good[0].text == KK + "\n\n" + RU + "\n"  # verbatim: offsets refer to it
    assert good[0].origin == str(tmp_path / "speech-1.txt")


def test_jsonl_records_and_optional_fields(tmp_path):
    f = tmp_path / "s.jsonl"
    write_jsonl(f, [
        {"id": "a", "text": KK, "speaker": "Тоқаев", "date": "2019-09-02", "source": "akorda",
         "url": "https://akorda.kz/x", "title": "Жолдау", "parallel_id": "p1", "extra": [1, 2]},
        {"id": 7, "text": RU},
    ])
    good, bad = split(read_statements([f]))
    assert not bad
    a, b = good
    assert (a.id, a.speaker, a.date, a.source, a.url, a.title, a.parallel_id) == (
        "a", "Тоқаев", "2019-09-02", "akorda", "https://akorda.kz/x", "Жолдау", "p1")
    assert a.origin == f"{f}:1"
    assert b.id == "7" and b.speaker is None and b.origin == f"{f}:2"


def test_csv_keeps_ids_as_text(tmp_path):
    f = tmp_path / "s.csv"
    pd.DataFrame({"id": ["007", "008"], "text": [KK, "Текст, с запятой\nи переносом."],
                  "date": ["2015-03-12", ""]}).to_csv(f, index=False)
    good, bad = split(read_statements([f]))
    assert not bad
    assert [s.id for s in good] == ["007", "008"]  # not 7.0
    assert good[0].date == "2015-03-12" and good[1].date is None
    assert good[1].text == "Текст, с запятой\nи переносом."
    assert good[1].origin == f"{f}:row 2"


def test_parquet_with_datetime(tmp_path):
    f = tmp_path / "s.parquet"
    pd.DataFrame({"id": ["p1", "p2"], "text": [KK, RU],
                  "date": [dt.datetime(2015, 3, 12, 17, 9), None], "speaker": ["A", None]}).to_parquet(f)
    good, bad = split(read_statements([f]))
    assert not bad
    assert good[0].date == "2015-03-12T17:09:00"
    assert good[1].date is None and good[1].speaker is None
    assert good[0].origin == f"{f}:row 1"


def test_directory_recursive_sorted_and_unique_txt_ids(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "speech.txt").write_text(KK, encoding="utf-8")
    (tmp_path / "b" / "speech.txt").write_text(RU, encoding="utf-8")
    (tmp_path / "c.txt").write_text(RU, encoding="utf-8")
    write_jsonl(tmp_path / "d.jsonl", [{"id": "j1", "text": KK}])
    (tmp_path / "README.md").write_text("not input", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("ignored", encoding="utf-8")
    good, bad = split(read_statements([tmp_path]))
    assert not bad
    assert [s.id for s in good] == ["a/speech", "b/speech", "c", "j1"]


def test_stdin_jsonl(monkeypatch):
    lines = [json.dumps({"id": "s1", "text": KK}), "", json.dumps({"id": "s2", "text": RU}), "{broken"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    good, bad = split(read_statements(["-"]))
    assert [s.id for s in good] == ["s1", "s2"]
    assert good[1].origin == "stdin:3"
    assert len(bad) == 1 and bad[0].record_id == "stdin:4" and bad[0].reason.startswith("invalid JSON")


def test_stdin_raw_text(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(KK + "\n{not json}\n" + RU))
    good, bad = split(read_statements(["-"]))
    assert not bad
    text = KK + "\n{not json}\n" + RU
    assert len(good) == 1 and good[0].id == "stdin-" + hashlib.sha1(text.encode()).hexdigest()[:12]
    assert good[0].text == text
    # another text piped into the same store gets another id: it does not replace the first
    monkeypatch.setattr(sys, "stdin", io.StringIO(RU))
    other = list(read_statements(["-"]))[0]
    assert other.id.startswith("stdin-") and other.id != good[0].id


def test_bad_records_reported_and_batch_goes_on(tmp_path):
    f = tmp_path / "mixed.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "ok1", "text": KK}),
        json.dumps({"id": "no-text"}),
        json.dumps({"id": "empty", "text": "  \n "}),
        '{"id": "broken", "text": "unterminated',
        json.dumps({"id": "null-text", "text": None}),
        json.dumps({"text": "no id here"}),
        json.dumps({"id": "num-text", "text": 42}),
        json.dumps({"id": "ok1", "text": RU}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "ok2", "text": RU}),
    ]) + "\n", encoding="utf-8")
    missing = tmp_path / "missing.jsonl"
    other = tmp_path / "notes.docx"
    other.write_bytes(b"PK")
    good, bad = split(read_statements([f, missing, other]))
    assert [s.id for s in good] == ["ok1", "ok2"]
    reasons = {b.record_id: b.reason for b in bad}
    assert reasons["no-text"] == "missing text"
    assert reasons["empty"] == "empty text"
    assert reasons[f"{f}:4"].startswith("invalid JSON")
    assert reasons["null-text"] == "text is null"
    assert reasons[f"{f}:6"] == "missing id"
    assert reasons["num-text"].startswith("text is not a string")
    assert reasons["ok1"].startswith("duplicate id")
    assert reasons[f"{f}:9"].startswith("record is not an object")
    assert reasons[str(missing)] == "file not found"
    assert reasons[str(other)].startswith("unsupported file type")
    dup = next(b for b in bad if b.record_id == "ok1")
    assert dup.origin == f"{f}:8"


def test_bad_rows_in_csv_and_parquet(tmp_path):
    c = tmp_path / "s.csv"
    c.write_text(f"id,text\nc1,{RU}\nc2,\n,{KK}\n", encoding="utf-8")
    p = tmp_path / "s.parquet"
    pd.DataFrame({"id": ["p1", "p2"], "text": [KK, None]}).to_parquet(p)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    good, bad = split(read_statements([c, p, broken]))
    assert [s.id for s in good] == ["c1", "p1"]
    reasons = {b.record_id: b.reason for b in bad}
    assert reasons["c2"] == "empty text"
    assert reasons[f"{c}:row 3"] == "missing id"
    assert reasons["p2"] == "text is null"
    assert reasons[str(broken)].startswith("cannot read Parquet file")


def test_invalid_utf8_txt_is_a_failure(tmp_path):
    f = tmp_path / "latin1.txt"
    f.write_bytes("Қазақстан".encode("utf-8")[:3] + b"\xff\xfe")
    good, bad = split(read_statements([f]))
    assert not good and bad[0].record_id == "latin1" and "UTF-8" in bad[0].reason


def test_single_path_instead_of_list_is_a_programming_error(tmp_path):
    with pytest.raises(TypeError):
        list(read_statements(str(tmp_path)))


@pytest.mark.parametrize("value,expected", [
    (None, None), ("  ", None), (" x ", "x"), (2015.0, "2015"), (1.5, "1.5"), (float("nan"), None),
    (dt.date(2015, 3, 12), "2015-03-12"), (True, "true"), ({"a": 1}, '{"a": 1}'), (12, "12"),
])
def test_to_str(value, expected):
    assert to_str(value) == expected


def test_midnight_timestamp_is_a_date():
    assert to_str(dt.datetime(2019, 9, 2)) == "2019-09-02"
    assert to_str(dt.datetime(2019, 9, 2, 10, 30)) == "2019-09-02T10:30:00"


def test_small_read_chunks_lose_and_repeat_nothing(tmp_path, monkeypatch):
    """Large files are turned into rows a bounded piece at a time (configs/process.toml [input]);
    records that straddle piece boundaries must come through once, in order, with bad lines
    still named by their line number."""
    import pipeline.io.readers as readers

    monkeypatch.setattr(readers, "_read_sizes",
                        lambda: {"json_chunk_bytes": 300, "csv_chunk_rows": 2, "parquet_batch_rows": 3})
    recs = [{"id": f"r{i}", "text": (KK if i % 2 else RU) + f" {i}"} for i in range(40)]
    write_jsonl(tmp_path / "a.jsonl", recs)
    pd.DataFrame(recs).to_csv(tmp_path / "b.csv", index=False)
    pd.DataFrame(recs).to_parquet(tmp_path / "c.parquet", row_group_size=40)
    for name in ("a.jsonl", "b.csv", "c.parquet"):
        good, bad = split(read_statements([tmp_path / name]))
        assert not bad
        assert [(s.id, s.text) for s in good] == [(r["id"], r["text"]) for r in recs], name
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    lines[25] = '{"id": "broken", "text": '
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    good, bad = split(read_statements([tmp_path / "d.jsonl"]))
    assert len(good) == 39 and [b.record_id for b in bad] == [f"{tmp_path / 'd.jsonl'}:26"]


# -- what a new user hits (issue #19) ----------------------------------------------------------
def test_txt_id_is_the_path_inside_the_folder_whatever_else_is_there(tmp_path):
    (tmp_path / "2019").mkdir()
    (tmp_path / "2019" / "speech-12.txt").write_text(KK, encoding="utf-8")
    good, _ = split(read_statements([tmp_path]))
    assert [s.id for s in good] == ["2019/speech-12"]  # not "speech-12", even without a name clash
    good, _ = split(read_statements([tmp_path / "2019" / "speech-12.txt"]))
    assert [s.id for s in good] == ["speech-12"]  # a file given directly: its name


def test_same_formats_as_train_topics_and_a_notice_per_skipped_file(tmp_path, caplog):
    from pipeline.training.topics import TABULAR

    (tmp_path / "a.tsv").write_text(f"id\ttext\tspeaker\nt1\t{KK}\tМамин\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps([{"id": "j1", "text": RU}, {"id": "j2", "text": KK}],
                                                ensure_ascii=False), encoding="utf-8")
    write_jsonl(tmp_path / "c.json", [{"id": "l1", "text": RU}])  # JSON lines named .json
    (tmp_path / "d.docx").write_bytes(b"PK")
    (tmp_path / "e.xml").write_text("<x/>", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="polclaims.readers"):
        good, bad = split(read_statements([tmp_path]))
    assert not bad
    assert [s.id for s in good] == ["t1", "j1", "j2", "l1"]
    assert good[0].speaker == "Мамин" and good[0].origin == f"{tmp_path / 'a.tsv'}:row 1"
    skipped = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert len(skipped) == 2 and "d.docx" in skipped[0] and "e.xml" in skipped[1]
    assert count_records([tmp_path]) == 4
    # every format `train topics` reads from a file, `process` reads too
    from pipeline.io.readers import SUPPORTED
    assert set(TABULAR) <= set(SUPPORTED)


def test_html_entities_are_decoded_and_offsets_refer_to_the_decoded_text(tmp_path):
    f = tmp_path / "s.jsonl"
    write_jsonl(f, [{"id": "h1", "text": "Президент: &quot;Мы снизим налог&quot; &gt; 5 &#1178;азақ. R&D, AT&T &amp;",
                     "title": "&laquo;Итоги&raquo;"}])
    good, _ = split(read_statements([f]))
    assert good[0].text == 'Президент: "Мы снизим налог" > 5 Қазақ. R&D, AT&T &'
    assert good[0].title == "«Итоги»"
    good, _ = split(read_statements([f], ReadOptions(unescape_html=False)))
    assert "&quot;" in good[0].text


def test_cp1251_file_fails_with_a_hint_and_reads_with_encoding(tmp_path):
    t = tmp_path / "ru.txt"
    t.write_bytes(RU.encode("cp1251"))
    c = tmp_path / "ru.csv"
    c.write_bytes(f"id,text\nr1,{RU}\n".encode("cp1251"))
    j = tmp_path / "ru.jsonl"
    j.write_bytes((json.dumps({"id": "j1", "text": RU}, ensure_ascii=False) + "\n").encode("cp1251"))
    good, bad = split(read_statements([t, c, j]))
    assert not good and len(bad) == 3
    for b in bad:
        assert "not UTF-8 text" in b.reason and "--encoding cp1251" in b.reason, b
    good, bad = split(read_statements([t, c, j], ReadOptions(encoding="cp1251")))
    assert not bad and [s.text for s in good] == [RU, RU, RU] and [s.id for s in good] == ["ru", "r1", "j1"]


def test_csv_without_id_column_fails_once_and_column_options(tmp_path):
    c = tmp_path / "posts.csv"
    c.write_text(f"post_id,body,date\np1,{RU},2020-01-01\np2,{KK},2020-01-02\n", encoding="utf-8")
    good, bad = split(read_statements([c]))
    assert not good and len(bad) == 1
    assert bad[0].record_id == str(c)
    assert "no 'id' and no 'text' column (columns: post_id, body, date)" in bad[0].reason
    assert "--id-col COLUMN and --text-col COLUMN" in bad[0].reason
    good, bad = split(read_statements([c], ReadOptions(id_col="post_id", text_col="body", id_prefix="site:")))
    assert not bad and [s.id for s in good] == ["site:p1", "site:p2"] and good[1].text == KK
    assert good[0].date == "2020-01-01"
