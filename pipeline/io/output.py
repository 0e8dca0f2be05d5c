"""Write lists of records as table, JSON, JSON Lines or CSV: one writer for every command."""
from __future__ import annotations

import csv
import json
import sys
from typing import Any, Sequence, TextIO


# No per-column minimum widths: with them rich cannot shrink a table that is too wide and cuts
# off its last columns; without them a narrow terminal folds long words, but every column shows.


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_records(rows: Sequence[dict], fmt: str, columns: Sequence[str] | None = None,
                  stream: TextIO | None = None, title: str | None = None,
                  widths: dict[str, int] | None = None) -> None:
    """`table` is for people (rich, truncated cells); json/jsonl/csv are for programs."""
    stream = stream or sys.stdout
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        json.dump([{c: r.get(c) for c in columns} for r in rows], stream, ensure_ascii=False, indent=1)
        stream.write("\n")
    elif fmt == "jsonl":
        for r in rows:
            stream.write(json.dumps({c: r.get(c) for c in columns}, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        w = csv.writer(stream)
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        widths = widths or {}
        table = Table(title=title, show_lines=False, expand=False)
        for c in columns:
            table.add_column(c, overflow="fold", max_width=widths.get(c))
        for r in rows:
            table.add_row(*[_cell(r.get(c)) for c in columns])
        # a terminal: its own width (cells fold); a file or pipe: wide enough for the default columns
        tty = getattr(stream, "isatty", lambda: False)()
        Console(file=stream, width=max(100, Console().width) if tty else 200).print(table)
    else:
        raise ValueError(f"unknown format {fmt!r}")
