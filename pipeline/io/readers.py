"""Read input statements from files, folders and stdin as a stream of `Statement | Failure`.

Why a stream: corpora can hold millions of records, so nothing is loaded whole when avoidable
(tabular files are read with `datasets` in streaming mode, JSONL fallback and stdin line by
line). Why `Failure` instead of exceptions: one bad record (no text, broken JSON line, duplicate
id) must not stop a batch, and nothing may be dropped silently; every problem is reported with
the record (id, or file:line / file:row N) and a reason. Exceptions are left for programming
errors.

Supported inputs (the same set `train topics` reads):
  * `.txt`: one statement per file; id = its path inside the folder given, without extension
    ("2019/speech-12"), or its name without extension for a file given directly (the path as
    given when two such files share a name) -- stable whatever else is in the batch;
  * `.jsonl`, `.json` (JSON lines or one array of records), `.csv`, `.tsv`, `.parquet`: one record
    per line/row with `id`, `text` (other names: `ReadOptions.id_col`/`text_col`) and optional
    `speaker`, `date`, `source`, `url`, `title`, `parallel_id` (other columns are ignored);
  * a folder: its supported files, recursively, in path order (other files are skipped with a
    notice each, on the `polclaims.readers` logger; hidden files are ignored);
  * `-`: stdin, JSONL when every non-empty line (of the first 1000) starts with "{", otherwise
    one raw-text statement with id "stdin-<first 12 hex digits of the text's SHA-1>" (two
    different texts piped into one store do not replace each other).

Text is read as UTF-8 unless `ReadOptions.encoding` says otherwise; a file that is not UTF-8
fails with the reason, and with the hint to use `--encoding cp1251` when it reads as Cyrillic
in that encoding (the common case for Russian sites). HTML character references left by
scrapers (`&quot;`, `&gt;`, `&#1178;`) are decoded on reading (configs/process.toml [input]
`unescape_html`), so offsets refer to the decoded text.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import html
import itertools
import json
import logging
import math
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.io.records import STATEMENT_FIELDS, Failure, Statement

log = logging.getLogger("polclaims.readers")

SUPPORTED = (".txt", ".jsonl", ".json", ".csv", ".tsv", ".parquet")
OPTIONAL_FIELDS = tuple(f for f in STATEMENT_FIELDS if f not in ("id", "text"))
STDIN_SNIFF_LINES = 1000

Item = Statement | Failure


# ---------------------------------------------------------------- values


def to_str(value: Any) -> str | None:
    """An optional field as `str` or None: dates in ISO format (a midnight timestamp as a plain
    date), whole floats without ".0"
    (CSV/parquet give 2015.0 for a year), nested values as JSON, empty strings as None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, _dt.datetime):
        # pyarrow turns JSON/CSV strings like "2019-09-02" into midnight timestamps: give the
        # date back as it was written
        if value.tzinfo is None and value.time() == _dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip() or None
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "isoformat"):  # numpy/pandas timestamps
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class ReadOptions:
    """How to read the inputs: `process --id-col/--text-col/--id-prefix/--encoding`."""

    id_col: str = "id"
    text_col: str = "text"
    id_prefix: str = ""          # put before every id (keeps two sites' "1", "2", ... apart in one store)
    encoding: str | None = None  # None: UTF-8 (a BOM is skipped)
    unescape_html: bool | None = None  # None: configs/process.toml [input] unescape_html (default on)

    @property
    def codec(self) -> str:
        return self.encoding or "utf-8-sig"

    @property
    def is_utf8(self) -> bool:
        return self.encoding is None or self.encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_entities(text: str) -> str:
    """HTML character references as the characters they stand for ("&quot;" -> '"'); only
    complete references ending in ";", so "R&D" and "AT&T" stay as written."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def encoding_problem(data: bytes, err: UnicodeDecodeError | None = None, encoding: str | None = None) -> str:
    """Why bytes are not text in the expected encoding, and what to do about it."""
    where = f" (byte 0x{data[err.start]:02x} at offset {err.start})" if err is not None and err.start < len(data) else ""
    if encoding:
        return f"not {encoding} text{where}; give the file's encoding with --encoding"
    hint = "give the file's encoding with --encoding (e.g. cp1251, koi8-r, utf-16)"
    try:
        as_1251 = data.decode("cp1251")
        letters = [c for c in as_1251 if c.isalpha()]
        if letters and sum("\u0400" <= c <= "\u04ff" for c in letters) >= 0.5 * len(letters):
            hint = "it reads as Cyrillic in cp1251 (Windows Cyrillic): re-run with --encoding cp1251"
    except UnicodeDecodeError:
        pass
    return f"not UTF-8 text{where}; {hint}"


class _Batch:
    """State shared by all inputs of one `read_statements` call: options and ids seen so far."""

    def __init__(self, options: ReadOptions | None = None) -> None:
        self.seen: set[str] = set()
        self.options = options or ReadOptions()
        unescape = self.options.unescape_html
        if unescape is None:
            from pipeline import config

            unescape = bool(config.load("process").get("input", {}).get("unescape_html", True))
        self.unescape = unescape

    def record(self, rec: Any, where: str) -> Item:
        """Turn one parsed record into a Statement, or a Failure saying what is wrong."""
        if not isinstance(rec, dict):
            return Failure(where, f"record is not an object but {type(rec).__name__}", origin=where)
        id_col, text_col = self.options.id_col, self.options.text_col
        rid = to_str(rec.get(id_col))
        if rid is None:
            return Failure(where, "missing id" if id_col == "id" else f"missing id (column {id_col!r})", origin=where)
        rid = self.options.id_prefix + rid
        text = rec.get(text_col)
        if text is None:
            what = "text" if text_col == "text" else f"text (column {text_col!r})"
            return Failure(rid, f"missing {what}" if text_col not in rec else f"{what} is null", origin=where)
        if not isinstance(text, str):
            return Failure(rid, f"text is not a string but {type(text).__name__}", origin=where)
        if not text.strip():
            return Failure(rid, "empty text", origin=where)
        return self.statement(rid, text, where, {k: to_str(rec.get(k)) for k in OPTIONAL_FIELDS})

    def statement(self, rid: str, text: str, where: str, extra: dict[str, str | None] | None = None) -> Item:
        if rid in self.seen:
            return Failure(rid, "duplicate id (an earlier record of this batch has it)", origin=where)
        self.seen.add(rid)
        if self.unescape:
            text = unescape_entities(text)
            extra = {k: unescape_entities(v) if k in ("title", "speaker") and v else v
                     for k, v in (extra or {}).items()}
        return Statement(id=rid, text=text, origin=where, **(extra or {}))


# ---------------------------------------------------------------- expanding inputs


def _expand(inputs: Iterable[str | Path]) -> Iterator[tuple[str, Path | None, Path | None]]:
    """(input as given, file path, folder it was found in) in reading order; '-' for stdin.
    A missing path is passed through (path None) so that it becomes a Failure in order."""
    for raw in inputs:
        if str(raw) == "-":
            yield "-", None, None
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            for p in files:
                if p.suffix.lower() in SUPPORTED:
                    yield str(p), p, path
                else:  # said once per file (a warning, so it shows without -v), never silently dropped
                    log.warning("skipping %s: not an input file type (%s)", p, ", ".join(SUPPORTED))
        elif path.exists():
            yield str(raw), path, None
        else:
            yield str(raw), None, None


def _txt_ids(entries: list[tuple[str, Path | None, Path | None]]) -> dict[Path, str]:
    """Ids of .txt files: the path inside the folder given, without extension; for a file given
    directly its name without extension, or the path as given when two such names clash. Found in
    a folder, a file's id does not depend on the other files of the batch, so a re-run with more
    files keeps the ids of the store."""
    direct = [p for _, p, base in entries if p is not None and base is None and p.suffix.lower() == ".txt"]
    counts = Counter(p.stem for p in direct)
    ids = {}
    for _, p, base in entries:
        if p is None or p.suffix.lower() != ".txt":
            continue
        if base is not None:
            ids[p] = p.relative_to(base).with_suffix("").as_posix()
        else:
            ids[p] = p.stem if counts[p.stem] == 1 else p.with_suffix("").as_posix()
    return ids


# ---------------------------------------------------------------- readers per format


def _read_txt(path: Path, rid: str, batch: _Batch) -> Iterator[Item]:
    rid = batch.options.id_prefix + rid
    try:
        data = path.read_bytes()
        text = data.decode(batch.options.codec)
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # as read_text did
    except UnicodeDecodeError as e:
        yield Failure(rid, encoding_problem(data, e, batch.options.encoding), origin=str(path))
        return
    except LookupError:
        yield Failure(rid, f"unknown encoding {batch.options.encoding!r}", origin=str(path))
        return
    except OSError as e:
        yield Failure(str(path), f"cannot read file: {e.strerror or e}", origin=str(path))
        return
    if not text.strip():
        yield Failure(rid, "empty text", origin=str(path))
        return
    yield batch.statement(rid, text, str(path))


def _parse_json_line(line: str, where: str, batch: _Batch) -> Item:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        return Failure(where, f"invalid JSON: {e}", origin=where)
    return batch.record(rec, where)


def _jsonl_lines(lines: Iterable[str | bytes], name: str, batch: _Batch, skip_records: int = 0) -> Iterator[Item]:
    """Line-by-line JSONL: each bad line is its own Failure. The first `skip_records` non-blank
    lines are skipped (already delivered by the `datasets` reader before it failed)."""
    codec = batch.options.codec
    for lineno, line in enumerate(lines, start=1):
        where = f"{name}:{lineno}"
        if isinstance(line, bytes):
            if lineno == 1 and batch.options.is_utf8:
                line = line.removeprefix(b"\xef\xbb\xbf")
            try:
                line = line.decode(codec)
            except UnicodeDecodeError as e:
                yield Failure(where, encoding_problem(line, e, batch.options.encoding), origin=where)
                continue
        if not line.strip():
            continue
        if skip_records > 0:
            skip_records -= 1
            continue
        yield _parse_json_line(line, where, batch)


def _datasets():
    """Import `datasets` quietly and offline (it is slow to import, so only when needed)."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    # the variable only counts before the first import: a program (or test run) that imported
    # `datasets` already would otherwise ask the Hub at every file (a DNS timeout offline)
    datasets.config.HF_HUB_OFFLINE = datasets.config.HF_DATASETS_OFFLINE = True
    datasets.disable_progress_bars()
    # its own error messages duplicate ours (we report a Failure or fall back)
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)
    return datasets


def _read_sizes() -> dict[str, int]:
    """How much of a tabular file `datasets` turns into Python rows at once (configs/process.toml
    [input]): its defaults (10 MB of JSON, 10,000 CSV rows, a Parquet row group) make the reading
    process grow with the file up to that size."""
    from pipeline import config

    cfg = config.load("process").get("input", {})
    return {"json_chunk_bytes": int(cfg.get("json_chunk_bytes", 10 << 20)),
            "csv_chunk_rows": int(cfg.get("csv_chunk_rows", 10_000)),
            "parquet_batch_rows": int(cfg.get("parquet_batch_rows", 0))}


@contextmanager
def _without_torch_integration():
    """`datasets` imports PyTorch (2 s here) when it builds a streaming dataset, only to share
    an epoch counter with PyTorch DataLoader workers, which we do not use. Skipping that keeps a
    re-run over an unchanged corpus (nothing to analyse, so no NLP, so no PyTorch) fast."""
    import datasets.config as dconfig

    old = dconfig.TORCH_AVAILABLE
    dconfig.TORCH_AVAILABLE = False
    try:
        yield
    finally:
        dconfig.TORCH_AVAILABLE = old


def _rows(load, errors: list[BaseException]) -> Iterator[dict]:
    """Rows of the dataset built by `load()`; a datasets/pyarrow error ends the rows and is put
    in `errors` (so that only the library call is guarded, not our own code)."""
    try:
        with _without_torch_integration():
            it = iter(load())
    except Exception as e:  # noqa: BLE001 - bad file, not a bug of ours
        errors.append(e)
        return
    while True:
        try:
            row = next(it)
        except StopIteration:
            return
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            return
        yield row


def _read_jsonl(path: Path, batch: _Batch) -> Iterator[Item]:
    """Stream with `datasets`; if it fails (broken line, mixed types), continue line by line."""
    name = str(path)
    delivered = 0
    errors: list[BaseException] = []
    try:
        with path.open("rb") as probe:
            head = probe.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as e:
        yield Failure(name, f"cannot read file: {e.strerror or e}", origin=name)
        return
    rows_are_lines = not head.startswith(b"[")
    if not batch.options.is_utf8:  # `datasets` reads UTF-8 only: the line reader decodes the rest
        if not rows_are_lines:
            yield from _json_array(path, batch)
            return
        try:
            with path.open("rb") as fh:
                yield from _jsonl_lines(fh, name, batch)
        except OSError as e:
            yield Failure(name, f"cannot read file (reading stopped): {e.strerror or e}", origin=name)
        return
    load = lambda: _datasets().load_dataset("json", data_files=name, split="train", streaming=True,  # noqa: E731
                                            chunksize=_read_sizes()["json_chunk_bytes"])
    with path.open(encoding="utf-8-sig", errors="replace") as lines:
        numbered = ((n, l) for n, l in enumerate(lines, start=1) if l.strip())
        for row in _rows(load, errors):
            lineno = next(numbered, (None, None))[0] if rows_are_lines else None
            where = f"{name}:{lineno}" if lineno else f"{name}:row {delivered + 1}"
            delivered += 1
            yield batch.record(row, where)
    if not errors:
        return
    log.info("datasets could not read %s (%s); reading it line by line", name, errors[0])
    if not rows_are_lines:
        yield from _json_array(path, batch, skip_records=delivered)
        return
    try:
        with path.open("rb") as fh:
            yield from _jsonl_lines(fh, name, batch, skip_records=delivered)
    except OSError as e:
        yield Failure(name, f"cannot read file (reading stopped): {e.strerror or e}", origin=name)


def _json_array(path: Path, batch: _Batch, skip_records: int = 0) -> Iterator[Item]:
    """A .json file holding one array of records (read whole: such files are small by nature)."""
    name = str(path)
    try:
        data = path.read_bytes()
        records = json.loads(data.decode(batch.options.codec))
    except UnicodeDecodeError as e:
        yield Failure(name, encoding_problem(data, e, batch.options.encoding), origin=name)
        return
    except (OSError, ValueError) as e:
        yield Failure(name, f"cannot read JSON file: {e}", origin=name)
        return
    if not isinstance(records, list):
        yield Failure(name, "a .json file must hold JSON lines or one array of records", origin=name)
        return
    for n, rec in enumerate(records, start=1):
        if n > skip_records:
            yield batch.record(rec, f"{name}:record {n}")


def _read_csv(path: Path, batch: _Batch) -> Iterator[Item]:
    """Stream with `datasets`, every column read as a string (ids like "007" stay as they are);
    if `datasets` fails, fall back to the csv module. `.tsv` files are tab-separated. A file
    without the id or text column is one failure naming the columns it has, not one per row."""
    name = str(path)
    delivered = 0
    errors: list[BaseException] = []
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    codec = batch.options.codec
    try:
        with path.open(encoding=codec, newline="") as fh:
            header = next(csv.reader(fh, delimiter=sep), None)
    except UnicodeDecodeError as e:
        yield Failure(name, "cannot read CSV file: " + encoding_problem(path.read_bytes()[:65536], e, batch.options.encoding),
                      origin=name)
        return
    except LookupError:
        yield Failure(name, f"unknown encoding {batch.options.encoding!r}", origin=name)
        return
    except (OSError, csv.Error) as e:
        yield Failure(name, f"cannot read CSV file: {e}", origin=name)
        return
    if not header:
        yield Failure(name, "empty CSV file (no header)", origin=name)
        return
    missing = [(opt, col) for opt, col in (("--id-col", batch.options.id_col), ("--text-col", batch.options.text_col))
               if col not in header]
    if missing:
        yield Failure(name, f"no {' and no '.join(repr(c) for _, c in missing)} column (columns: {', '.join(header)}); "
                            f"name the column{'s' if len(missing) > 1 else ''} with "
                            f"{' and '.join(o + ' COLUMN' for o, _ in missing)}", origin=name)
        return
    if batch.options.is_utf8:
        converters = {col: str for col in header}
        load = lambda: _datasets().load_dataset(  # noqa: E731
            "csv", data_files=name, split="train", streaming=True, keep_default_na=False, sep=sep,
            converters=converters, encoding="utf-8-sig", chunksize=_read_sizes()["csv_chunk_rows"])
        for row in _rows(load, errors):
            delivered += 1
            yield batch.record(dict(row), f"{name}:row {delivered}")
        if not errors:
            return
        log.info("datasets could not read %s (%s); using the csv module", name, errors[0])
    try:
        with path.open(encoding=codec, newline="") as fh:
            reader = csv.DictReader(fh, delimiter=sep)
            for n, row in enumerate(reader, start=1):
                if n <= delivered:
                    continue
                if None in row:  # more cells than header columns
                    yield Failure(f"{name}:row {n}", "row has more cells than the header", origin=f"{name}:row {n}")
                    continue
                yield batch.record(row, f"{name}:row {n}")
    except UnicodeDecodeError as e:
        yield Failure(name, "malformed CSV (reading stopped): " + encoding_problem(b"", None, batch.options.encoding)
                      + f" ({e.reason} at byte {e.start} of a line)", origin=name)
    except csv.Error as e:
        yield Failure(name, f"malformed CSV (reading stopped): {e}", origin=name)


def _read_parquet(path: Path, batch: _Batch) -> Iterator[Item]:
    name = str(path)
    n = 0
    errors: list[BaseException] = []
    rows = _read_sizes()["parquet_batch_rows"]
    load = lambda: _datasets().load_dataset("parquet", data_files=name, split="train", streaming=True,  # noqa: E731
                                            batch_size=rows or None)
    for row in _rows(load, errors):
        n += 1
        yield batch.record(row, f"{name}:row {n}")
    if errors:
        e = errors[0]
        yield Failure(name, f"cannot read Parquet file (after {n} rows): {type(e).__name__}: {e}", origin=name)


def _stdin_stream(batch: _Batch):
    """stdin as text in the encoding asked for (the locale's is what Python picked otherwise)."""
    if batch.options.encoding and hasattr(sys.stdin, "buffer"):
        import io

        return io.TextIOWrapper(sys.stdin.buffer, encoding=batch.options.encoding)
    return sys.stdin


def _read_stdin(batch: _Batch) -> Iterator[Item]:
    """JSONL if every non-empty line of the first STDIN_SNIFF_LINES starts with "{", else raw text.
    Only that head is buffered, so a long JSONL stream is still read line by line."""
    stream = _stdin_stream(batch)
    head = list(itertools.islice(stream, STDIN_SNIFF_LINES))
    nonempty = [l for l in head if l.strip()]
    if nonempty and all(l.lstrip().startswith("{") for l in nonempty):
        yield from _jsonl_lines(itertools.chain(head, stream), "stdin", batch)
        return
    text = "".join(head) + stream.read()
    if not text.strip():
        yield Failure("stdin", "empty text", origin="stdin")
        return
    rid = batch.options.id_prefix + "stdin-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    yield batch.statement(rid, text, "stdin")


# ---------------------------------------------------------------- public API


def read_statements(inputs: list[str | Path], options: ReadOptions | None = None) -> Iterator[Statement | Failure]:
    """Yield a `Statement` per good record and a `Failure` per bad record or unreadable input,
    in input order. Ids are unique within the batch: a repeated id is a Failure."""
    if isinstance(inputs, (str, Path)):
        raise TypeError("read_statements expects a list of paths, not a single path")
    batch = _Batch(options)
    entries = list(_expand(inputs))
    txt_ids = _txt_ids(entries)
    for raw, path, _base in entries:
        if raw == "-":
            yield from _read_stdin(batch)
            continue
        if path is None:
            yield Failure(raw, "file not found", origin=raw)
            continue
        suffix = path.suffix.lower()
        if suffix == ".txt":
            yield from _read_txt(path, txt_ids[path], batch)
        elif not os.access(path, os.R_OK):
            yield Failure(raw, "cannot read file: permission denied", origin=raw)
        elif suffix in (".jsonl", ".json"):
            yield from _read_jsonl(path, batch)
        elif suffix in (".csv", ".tsv"):
            yield from _read_csv(path, batch)
        elif suffix == ".parquet":
            yield from _read_parquet(path, batch)
        else:
            yield Failure(raw, f"unsupported file type {suffix or '(no extension)'!r}; "
                               f"supported: {', '.join(SUPPORTED)}", origin=raw)


def count_records(inputs: list[str | Path]) -> int | None:
    """How many records `read_statements` will yield (for a progress bar's ETA), counted cheaply:
    a .txt file is one, JSONL lines, CSV lines after the header, Parquet row-group metadata.
    None when it cannot be known in advance (stdin). Broken records count too: they become
    failures, one each."""
    total = 0
    for raw, path, _ in _expand(inputs):
        if raw == "-":
            return None
        if path is None:
            total += 1
            continue
        suffix = path.suffix.lower()
        if suffix == ".txt":
            total += 1
        elif suffix in (".jsonl", ".csv", ".tsv"):
            with path.open("rb") as fh:
                n = sum(1 for line in fh if line.strip())
            total += n - (1 if suffix in (".csv", ".tsv") and n else 0)
        elif suffix == ".json":
            with path.open("rb") as fh:
                head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
                fh.seek(0)
                if head.startswith(b"["):  # an array: count it once read (small files)
                    try:
                        total += len(json.loads(fh.read().decode("utf-8-sig")))
                    except (ValueError, TypeError):
                        total += 1
                else:
                    total += sum(1 for line in fh if line.strip())
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
        else:
            total += 1
    return total
