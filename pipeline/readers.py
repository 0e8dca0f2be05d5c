"""Read input statements from files, folders and stdin as a stream of `Statement | Failure`.

Why a stream: corpora can hold millions of records, so nothing is loaded whole when avoidable
(tabular files are read with `datasets` in streaming mode, JSONL fallback and stdin line by
line). Why `Failure` instead of exceptions: one bad record (no text, broken JSON line, duplicate
id) must not stop a batch, and nothing may be dropped silently; every problem is reported with
the record (id, or file:line / file:row N) and a reason. Exceptions are left for programming
errors.

Supported inputs:
  * `.txt`: one statement per file; id = file name without extension (relative path without
    extension when two files of the batch share a name);
  * `.jsonl`, `.csv`, `.parquet`: one record per line/row with `id`, `text` and optional
    `speaker`, `date`, `source`, `url`, `title`, `parallel_id` (other columns are ignored);
  * a folder: its supported files, recursively, in path order (other files are skipped and
    logged; hidden files are ignored);
  * `-`: stdin, JSONL when every non-empty line (of the first 1000) starts with "{", otherwise
    one raw-text statement with id "stdin".
"""
from __future__ import annotations

import csv
import datetime as _dt
import itertools
import json
import logging
import math
import os
from contextlib import contextmanager
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.records import STATEMENT_FIELDS, Failure, Statement

log = logging.getLogger("polclaims.readers")

SUPPORTED = (".txt", ".jsonl", ".csv", ".parquet")
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


class _Batch:
    """State shared by all inputs of one `read_statements` call: ids seen so far."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def record(self, rec: Any, where: str) -> Item:
        """Turn one parsed record into a Statement, or a Failure saying what is wrong."""
        if not isinstance(rec, dict):
            return Failure(where, f"record is not an object but {type(rec).__name__}", origin=where)
        rid = to_str(rec.get("id"))
        if rid is None:
            return Failure(where, "missing id", origin=where)
        text = rec.get("text")
        if text is None:
            return Failure(rid, "missing text" if "text" not in rec else "text is null", origin=where)
        if not isinstance(text, str):
            return Failure(rid, f"text is not a string but {type(text).__name__}", origin=where)
        if not text.strip():
            return Failure(rid, "empty text", origin=where)
        return self.statement(rid, text, where, {k: to_str(rec.get(k)) for k in OPTIONAL_FIELDS})

    def statement(self, rid: str, text: str, where: str, extra: dict[str, str | None] | None = None) -> Item:
        if rid in self.seen:
            return Failure(rid, "duplicate id (an earlier record of this batch has it)", origin=where)
        self.seen.add(rid)
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
                else:
                    log.info("skipping %s: unsupported file type", p)
        elif path.exists():
            yield str(raw), path, None
        else:
            yield str(raw), None, None


def _txt_ids(entries: list[tuple[str, Path | None, Path | None]]) -> dict[Path, str]:
    """Ids of .txt files: the stem, or the relative path without extension when stems clash."""
    txt = [(p, base) for _, p, base in entries if p is not None and p.suffix.lower() == ".txt"]
    counts = Counter(p.stem for p, _ in txt)
    ids = {}
    for p, base in txt:
        if counts[p.stem] == 1:
            ids[p] = p.stem
        else:
            rel = p.relative_to(base) if base is not None else p
            ids[p] = rel.with_suffix("").as_posix()
    return ids


# ---------------------------------------------------------------- readers per format


def _read_txt(path: Path, rid: str, batch: _Batch) -> Iterator[Item]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        yield Failure(rid, f"not UTF-8 text: {e}", origin=str(path))
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
    for lineno, line in enumerate(lines, start=1):
        where = f"{name}:{lineno}"
        if isinstance(line, bytes):
            if lineno == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as e:
                yield Failure(where, f"not UTF-8 text: {e}", origin=where)
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
    try:
        with path.open("rb") as fh:
            yield from _jsonl_lines(fh, name, batch, skip_records=delivered)
    except OSError as e:
        yield Failure(name, f"cannot read file (reading stopped): {e.strerror or e}", origin=name)


def _read_csv(path: Path, batch: _Batch) -> Iterator[Item]:
    """Stream with `datasets`, every column read as a string (ids like "007" stay as they are);
    if `datasets` fails, fall back to the csv module."""
    name = str(path)
    delivered = 0
    errors: list[BaseException] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        yield Failure(name, f"cannot read CSV file: {e}", origin=name)
        return
    if not header:
        yield Failure(name, "empty CSV file (no header)", origin=name)
        return
    converters = {col: str for col in header}
    load = lambda: _datasets().load_dataset(  # noqa: E731
        "csv", data_files=name, split="train", streaming=True, keep_default_na=False,
        converters=converters, encoding="utf-8-sig", chunksize=_read_sizes()["csv_chunk_rows"])
    for row in _rows(load, errors):
        delivered += 1
        yield batch.record(dict(row), f"{name}:row {delivered}")
    if not errors:
        return
    log.info("datasets could not read %s (%s); using the csv module", name, errors[0])
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            for n, row in enumerate(reader, start=1):
                if n <= delivered:
                    continue
                if None in row:  # more cells than header columns
                    yield Failure(f"{name}:row {n}", "row has more cells than the header", origin=f"{name}:row {n}")
                    continue
                yield batch.record(row, f"{name}:row {n}")
    except (csv.Error, UnicodeDecodeError) as e:
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


def _read_stdin(batch: _Batch) -> Iterator[Item]:
    """JSONL if every non-empty line of the first STDIN_SNIFF_LINES starts with "{", else raw text.
    Only that head is buffered, so a long JSONL stream is still read line by line."""
    stream = sys.stdin
    head = list(itertools.islice(stream, STDIN_SNIFF_LINES))
    nonempty = [l for l in head if l.strip()]
    if nonempty and all(l.lstrip().startswith("{") for l in nonempty):
        yield from _jsonl_lines(itertools.chain(head, stream), "stdin", batch)
        return
    text = "".join(head) + stream.read()
    if not text.strip():
        yield Failure("stdin", "empty text", origin="stdin")
        return
    yield batch.statement("stdin", text, "stdin")


# ---------------------------------------------------------------- public API


def read_statements(inputs: list[str | Path]) -> Iterator[Statement | Failure]:
    """Yield a `Statement` per good record and a `Failure` per bad record or unreadable input,
    in input order. Ids are unique within the batch: a repeated id is a Failure."""
    if isinstance(inputs, (str, Path)):
        raise TypeError("read_statements expects a list of paths, not a single path")
    batch = _Batch()
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
        elif suffix == ".jsonl":
            yield from _read_jsonl(path, batch)
        elif suffix == ".csv":
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
        elif suffix in (".jsonl", ".csv"):
            with path.open("rb") as fh:
                n = sum(1 for line in fh if line.strip())
            total += n - (1 if suffix == ".csv" and n else 0)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
        else:
            total += 1
    return total
