"""Write claim records as they come: JSONL (default), CSV or Parquet, chosen by file extension."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TextIO

from ..records import Claim

COLUMNS = [
    "claim_id", "statement_id", "lang", "type", "predicate", "predicate_start", "predicate_end",
    "predicate_lemma", "actor", "actor_kind", "target", "polarity", "tense", "quantities", "entities",
    "topic", "topics", "aligned_to", "confidence", "sentence", "sentence_index", "char_start", "char_end",
    "pipeline_version", "model_versions",
]
NESTED = {"quantities", "entities", "topics", "model_versions"}


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
            suffix = Path(self.path).suffix.lower()
            self.fmt = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(suffix, "jsonl")
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                self._pq = pq.ParquetWriter(self.path, _parquet_schema())
            else:
                self._fh = open(self.path, "w", encoding="utf-8", newline="")
                if self.fmt == "csv":
                    self._csv = csv.DictWriter(self._fh, fieldnames=COLUMNS)
                    self._csv.writeheader()

    def write(self, claim: Claim) -> None:
        row = {c: getattr(claim, c) for c in COLUMNS}
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
