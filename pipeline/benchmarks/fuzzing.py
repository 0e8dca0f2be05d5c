"""Hypothesis strategies for `make reliability` and the tests: hostile input files and query
options, and the check that every record of such files ends processed or failed.

Needs the [dev] extra (hypothesis); nothing in `process` imports this module.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import strategies as st

# Claim-bearing sentences of both languages that fuzzed records are built around (and the reliability runs' statements).
SENTENCES = [
    "Мы наделяем сельские акиматы дополнительными полномочиями.",
    "Біз селолық әкімдіктерге қосымша өкілеттіктер береміз.",
    "Я утвердил Концепцию развития местного самоуправления.",
    "Мен Жергілікті өзін-өзі басқаруды дамыту тұжырымдамасын бекіттім.",
    "Необходимо принять конкретные меры по распределению ответственности.",
    "Оған жол беруге болмайды.",
    "Всего будет избрано 2533 акимов.",
    "Стратегия — один из главных документов.",
    "Үкімет 2025 жылға дейін 100 мектеп салады.",
    "Правительство обязано до конца года построить 50 больниц.",
]


NOISE = ["\x00", "\x07", "\x1b[31m", "\u200b", "\u200f", "\u202e", "\ufeff", "\u2028", "\x85", "\r", "\n",
         "\n\n", "\t", "\u0308", "🙂", "👨\u200d👩\u200d👧", "🇰🇿", "שלום עולם", "مرحبا بالعالم", "𝕏𝕐",
         "Ǆ", "ﬁ", "İ", "ß", "\U0010ffff", "\\", '"', "'", ",", ";", "{", "}", "[", "]", "%s", "NULL",
         "1.5e308", "-0", "NaN", "Infinity", "'; DROP TABLE claims; --", "* OR", "\"", "NEAR(", "^"]
WORDS = ["әкім", "акимов", "Үкімет", "бекіттім", "построим", "2533", "50 школ", "млрд тенге",
         "Қасым-Жомарт", "Правительство", "міндетті", "обязан", "тиiс"]  # "тиiс": a Latin i


def _long_word(ch: str, n: int) -> str:
    return ch * n


chunks = st.one_of(
    st.sampled_from(SENTENCES), st.sampled_from(WORDS), st.sampled_from(NOISE),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "So"]),
            max_size=10),
    st.builds(_long_word, st.sampled_from(["а", "ә", "x", "🙂", "-", " "]), st.integers(1000, 10_000)),
)
texts = st.lists(chunks, max_size=12).flatmap(
    lambda parts: st.sampled_from(["", " ", "\n", "\n\n"]).map(lambda sep: sep.join(parts)))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
ids = st.one_of(st.text(min_size=1, max_size=12), st.integers(-5, 10**6), st.sampled_from(["", " ", "0", "007"]))


def _bulk_text(rnd) -> str:
    """Text of the same kinds as `texts`, from a Hypothesis-seeded PRNG: Hypothesis's buffer
    cannot hold hundreds of records per example, so `bulk` records come from here."""
    parts = []
    for _ in range(rnd.randint(0, 10)):
        k = rnd.randrange(100)
        if k < 30:
            parts.append(rnd.choice(SENTENCES))
        elif k < 50:
            parts.append(rnd.choice(WORDS))
        elif k < 70:
            parts.append(rnd.choice(NOISE))
        elif k < 99:
            cps = (rnd.randint(0, 0x2FFFF) for _ in range(rnd.randint(1, 20)))
            parts.append("".join(chr(c) for c in cps if not 0xD800 <= c <= 0xDFFF))
        else:
            parts.append(rnd.choice("аәx🙂- ") * rnd.randint(1000, 10_000))
    return rnd.choice(["", " ", "\n", "\n\n"]).join(parts)


def _bulk_record(rnd, n: int) -> dict:
    k = rnd.randrange(100)
    rec: dict[str, Any] = {"id": f"b{n}-{rnd.randrange(10**6)}" if k else rnd.choice(["", "b1-1", 7, None])}
    rec["text"] = _bulk_text(rnd) if k < 95 else rnd.choice([None, 5, ["a"], {"t": 1}, ""])
    if k % 3 == 0:
        rec["date"] = rnd.choice(["2019-06-12", "12.06.2019", "2019-13-45", None, 2019])
    return rec


def _bulk(draw, bulk: int) -> list[dict]:
    if not bulk:
        return []
    rnd = draw(st.randoms(use_true_random=False))
    return [_bulk_record(rnd, n) for n in range(rnd.randint(0, bulk))]


@st.composite
def records(draw) -> dict:
    """A JSON record: usually id + text, sometimes missing or of the wrong type."""
    rec: dict[str, Any] = {}
    if draw(st.integers(0, 19)):
        rec["id"] = draw(ids)
    kind = draw(st.integers(0, 19))
    if kind < 16:
        rec["text"] = draw(texts)
    elif kind < 19:
        rec["text"] = draw(st.one_of(scalars, st.lists(st.text(max_size=5), max_size=3),
                                     st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2)))
    for key in draw(st.lists(st.sampled_from(["speaker", "date", "source", "url", "title", "parallel_id",
                                              "other"]), max_size=3, unique=True)):
        rec[key] = draw(st.one_of(scalars, st.sampled_from(["2019-06-12", "12.06.2019", "2019-13-45", "вчера"])))
    return rec


junk_lines = st.one_of(
    st.sampled_from([b"{broken", b'{"id": 1, "text": "\xff\xfe bad utf-8"}', b"[1, 2, 3]", b'"just a string"',
                     b"null", b"{\x00}", b'{"id": "x", "text": "a"} trailing']),
    st.text(min_size=1, max_size=40).map(lambda t: ("x" + t.replace("\n", " ")).encode("utf-8")),
    st.just(b'{"id": "mb", "text": "' + "Мы построим школы. ".encode("utf-8") * 2 + b"x" * (1 << 20) + b'"}'),
)


@st.composite
def jsonl_files(draw, bulk: int = 0) -> tuple[str, bytes, int]:
    lines: list[bytes] = []
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 9)) < 8:
            lines.append(json.dumps(draw(records()), ensure_ascii=draw(st.booleans())).encode("utf-8"))
        else:
            lines.append(draw(junk_lines))
    for rec in _bulk(draw, bulk):
        lines.insert(draw(st.integers(0, len(lines))) if len(lines) < 20 else len(lines),
                     json.dumps(rec, ensure_ascii=False).encode("utf-8"))
    data = b"\n".join(lines) + draw(st.sampled_from([b"", b"\n", b"\n\n", b"\r\n"]))
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return "jsonl", data, sum(1 for line in lines if line.strip())


@st.composite
def csv_files(draw, bulk: int = 0) -> tuple[str, bytes, int]:
    header = draw(st.permutations(["id", "text", "speaker", "date", "note"]))[: draw(st.integers(2, 5))]
    if "id" not in header:
        header[0] = "id"
    if "text" not in header:
        header[-1] = "text"
    buf = io.StringIO()
    w = csv.writer(buf, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    w.writerow(header)
    n = draw(st.integers(0, 10))
    for _ in range(n):
        w.writerow([draw(texts) if col == "text" else draw(st.one_of(ids.map(str), st.text(max_size=15)))
                    for col in header])
    for rec in _bulk(draw, bulk):
        n += 1
        w.writerow([rec["text"] if col == "text" and isinstance(rec["text"], str) else
                    str(rec["id"]) if col == "id" else "" for col in header])
    data = buf.getvalue().replace("\x00", "")  # the csv module cannot write NULs
    if draw(st.booleans()):
        data = "\ufeff" + data
    return "csv", data.encode("utf-8"), n


@st.composite
def parquet_files(draw, bulk: int = 0) -> tuple[str, bytes, int]:
    """Parquet with the right column types, or with wrong ones (numbers, lists, bytes, nulls)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = draw(st.integers(1, 8))
    column_kinds = {
        "string": (st.one_of(st.none(), texts), pa.string()),
        "int": (st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)), pa.int64()),
        "float": (st.floats(allow_nan=True), pa.float64()),
        "list": (st.lists(st.text(max_size=5), max_size=3), pa.list_(pa.string())),
        "binary": (st.binary(max_size=20), pa.binary()),
    }
    cols: dict[str, list] = {}
    types = {}
    for name in ("id", "text"):
        kind = draw(st.sampled_from(["string"] * 4 + ["int", "float", "list", "binary"]))
        values_st, typ = column_kinds[kind]
        types[name] = (kind, typ)
        cols[name] = [draw(values_st) for _ in range(n)]
    extra = _bulk(draw, bulk)
    if extra:
        for name in ("id", "text"):
            if types[name][0] == "string":
                cols[name] += [r[name] if isinstance(r[name], str) else None for r in extra]
        n2 = max(len(v) for v in cols.values())
        for name in ("id", "text"):  # a column of another type gets rows of its own type
            while len(cols[name]) < n2:
                cols[name].append(cols[name][len(cols[name]) % n])
        n = n2
    for name, (kind, typ) in types.items():
        cols[name] = pa.array(cols[name], type=typ)
    buf = io.BytesIO()
    pq.write_table(pa.table(cols), buf)
    return "parquet", buf.getvalue(), n


@st.composite
def txt_files(draw) -> tuple[str, bytes, int]:
    data = draw(texts).encode("utf-8")
    for _ in range(draw(st.integers(0, 2))):
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80", b"\xef\xbb\xbf"])) + data[pos:]
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return "txt", data, 1


def file_batches(bulk: int = 0):
    """A few input files of any supported format, for one `process` run; `bulk`: up to that
    many more PRNG-made records per tabular file (the long run's volume)."""
    return st.lists(st.one_of(jsonl_files(bulk), csv_files(bulk), parquet_files(bulk), txt_files()),
                    min_size=1, max_size=4)


def check_batch(files: list[tuple[str, bytes, int]], work: Path, stats: dict) -> None:
    """Read the files, then run them through `process` (store and output included); assert
    that every record is accounted for and no exception escapes. Alternate batches use the
    rule extractor instead of the learned one."""
    from pipeline.batch.runner import run_process
    from pipeline.io.readers import read_statements

    folder = work / f"ex{stats['examples']}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    paths, expected = [], []
    for n, (fmt, data, count) in enumerate(files):
        path = folder / f"f{n}.{fmt}"
        path.write_bytes(data)
        paths.append(str(path))
        expected.append(count)
    items = list(read_statements(paths))
    swallowed = 0
    for path, count in zip(paths, expected):
        mine = [i for i in items if i.origin == path or (i.origin or "").startswith(path + ":")]
        whole = [i for i in mine if getattr(i, "record_id", None) == path and i.origin == path]
        if whole:  # the file could not be read (further): one failure names it
            stats["unreadable_files"] += 1
            assert len(mine) - len(whole) <= count, (path, len(mine), count)
            swallowed += count - (len(mine) - len(whole))
        else:
            assert len(mine) == count, f"{path}: {count} records written, {len(mine)} read: {mine[:3]}"
    stats["files"] += len(paths)
    stats["records"] += sum(expected)

    from pipeline.claims import learned

    rules = stats["examples"] % 2 == 1
    patch = mock.patch.object(learned, "active_model", lambda: None) if rules else contextlib.nullcontext()
    with patch:
        summary = run_process(paths, str(folder / "claims.jsonl"), work / "fuzz.db", chunk_size=8,
                              progress=False, workers=1)
    stats["rules_batches" if rules else "learned_batches"] += 1
    assert summary.records == len(items), (summary.records, len(items))
    assert summary.exit_code == (2 if summary.statements == 0 else 1 if summary.failures else 0)
    stats["processed"] += summary.statements
    whole = sum(1 for i in items if getattr(i, "record_id", None) in paths and i.origin in paths)
    stats["failed"] += len(summary.failures) - whole + swallowed  # a file's failure stands for its records
    stats["claims"] += summary.claims
    # split on "\n" only: JSON strings may hold U+2028 and U+0085, which splitlines() breaks on
    written = [line for line in (folder / "claims.jsonl").read_text(encoding="utf-8").split("\n") if line]
    assert len(written) == summary.claims
    for line in written:
        c = json.loads(line)
        assert c["statement_id"] and c["type"] in ("commitment", "obligation", "decision"), c
    shutil.rmtree(folder, ignore_errors=True)


@st.composite
def query_kwargs(draw) -> dict:
    """Any string (or list of strings) in any option of `query_claims`."""
    any_text = st.one_of(st.text(max_size=30), st.sampled_from(NOISE + WORDS + [
        "әкім*", '"местного самоуправления"', "a OR", "NOT", "AND AND", "(", ")", "*", "text:", "NEAR(a b",
        "2019", "2019-13", "2019-02-30", "commitment", "COMMITMENT", "kk", "ru,kk", "0", "-1"]))
    kw: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(["type", "actor_kind", "actor", "predicate_lemma", "topic", "lang",
                                              "speaker", "date_from", "date_to", "polarity", "tense",
                                              "search", "statement_id"]), max_size=4, unique=True)):
        kw[key] = draw(st.one_of(any_text, st.lists(any_text, max_size=3))) if key not in (
            "date_from", "date_to", "search") else draw(any_text)
    if draw(st.booleans()):
        kw["has_quantity"] = draw(st.sampled_from([True, False, None]))
    if draw(st.booleans()):
        kw["limit"] = draw(st.one_of(st.integers(-3, 50), st.none()))
    kw["aligned"] = draw(st.booleans())
    return kw
