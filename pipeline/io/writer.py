"""Write claim records as they come: JSONL (default), CSV or Parquet, chosen by file extension."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TextIO

from pipeline.io.records import CLAIM_RECORD_COLUMNS, STATEMENT_META, Claim, Statement

# the record `query` prints too: the claim with its statement's speaker, date, source, url, title
COLUMNS = list(CLAIM_RECORD_COLUMNS)
NESTED = {"quantities", "entities", "topics", "model_versions"}
FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def check_out_path(path: str | Path) -> None:
    """Refuse an output file whose extension names no format we write (`claims.xlsx` would
    otherwise get JSON lines under a misleading name)."""
    if str(path) == "-":
        return
    suffix = Path(str(path)).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--out {path}: unknown output format {suffix or '(no extension)'!r}; "
                         f"use {', '.join(FORMATS)} (or - for JSON lines on stdout)")


def _parquet_schema():
    import pyarrow as pa

    q = pa.struct([("text", pa.string()), ("value", pa.float64()), ("unit", pa.string()),
                   ("start", pa.int64()), ("end", pa.int64())])
    e = pa.struct([("text", pa.string()), ("label", pa.string()), ("start", pa.int64()), ("end", pa.int64())])
    t = pa.struct([("label", pa.string()), ("score", pa.float64())])
    types = {
        "predicate_start": pa.int64(), "predicate_end": pa.int64(), "sentence_index": pa.int64(),
        "char_start": pa.int64(), "char_end": pa.int64(), "confidence": pa.float64(),
        "quantities": pa.list_(q), "entities": pa.list_(e), "topics": pa.list_(t),
        "model_versions": pa.string(),  # JSON: `datasets` cannot read Arrow maps
        "has_quantity": pa.bool_(),
    }
    return pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS])


class ClaimWriter:
    """Streams claims to `path` ("-" = stdout as JSONL); Parquet is written in row groups."""

    def __init__(self, path: str | Path, batch_rows: int = 5000):
        self.path = str(path)
        self.count = 0
        self._fh: TextIO | None = None
        self._csv = None
        self._pq = None
        self._buf: list[dict] = []
        self.batch_rows = batch_rows
        if self.path == "-":
            self.fmt, self._fh = "jsonl", sys.stdout
        else:
            check_out_path(self.path)
            self.fmt = FORMATS[Path(self.path).suffix.lower()]
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                self._pq = pq.ParquetWriter(self.path, _parquet_schema())
            else:
                self._fh = open(self.path, "w", encoding="utf-8", newline="")
                if self.fmt == "csv":
                    self._csv = csv.DictWriter(self._fh, fieldnames=COLUMNS)
                    self._csv.writeheader()

    def write(self, claim: Claim, statement: Statement | None = None) -> None:
        row = {c: getattr(claim, c, None) for c in COLUMNS}
        row["has_quantity"] = bool(claim.quantities)
        for m in STATEMENT_META:
            row[m] = getattr(statement, m, None)
        self.count += 1
        if self.fmt == "jsonl":
            self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            self._csv.writerow({k: json.dumps(v, ensure_ascii=False) if k in NESTED else v for k, v in row.items()})
        else:
            row["quantities"] = [{**q, "value": float(q["value"])} for q in row["quantities"]]
            row["model_versions"] = json.dumps(row["model_versions"] or {}, ensure_ascii=False)
            self._buf.append(row)
            if len(self._buf) >= self.batch_rows:
                self._flush()

    def _flush(self) -> None:
        if self._pq is not None and self._buf:
            import pyarrow as pa

            self._pq.write_table(pa.Table.from_pylist(self._buf, schema=_parquet_schema()))
            self._buf = []

    def close(self) -> None:
        if self._pq is not None:
            self._flush()
            self._pq.close()
        elif self._fh is not None and self._fh is not sys.stdout:
            self._fh.close()
        elif self._fh is sys.stdout:
            sys.stdout.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
