"""`polclaims process`: read -> analyse -> write claims + store, with progress and a summary."""
from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .claims.process import PIPELINE_VERSION, process_statements
from .claims.writer import ClaimWriter
from .readers import read_statements


@dataclass
class Summary:
    statements: int = 0
    sentences: int = 0
    boilerplate: int = 0
    claims: int = 0
    aligned: int = 0
    by_type_lang: Counter = field(default_factory=Counter)
    failures: list = field(default_factory=list)
    seconds: float = 0.0
    out: str = ""
    db: str | None = None

    def render(self) -> str:
        lines = [f"{self.statements} statement(s), {self.sentences} sentences "
                 f"({self.boilerplate} boilerplate), {self.claims} claims, "
                 f"{self.aligned} kk-ru aligned pairs, {len(self.failures)} failed, {self.seconds:.1f} s"]
        langs = sorted({l for _, l in self.by_type_lang})
        if langs:
            lines.append("claims by type: " + "; ".join(
                f"{t}: " + ", ".join(f"{l} {self.by_type_lang[(t, l)]}" for l in langs)
                for t in ("commitment", "obligation", "decision")))
        for f in self.failures[:20]:
            lines.append(f"FAILED {f.record_id} ({f.stage}): {f.reason}")
        if len(self.failures) > 20:
            lines.append(f"... and {len(self.failures) - 20} more failures (see the store's failures table)")
        lines.append(f"claims written to {self.out}" + (f"; store: {self.db}" if self.db else ""))
        return "\n".join(lines)


def run_process(inputs: list[str], out: str, db: Path | None, chunk_size: int = 64,
                progress: bool | None = None) -> Summary:
    t0 = time.perf_counter()
    summary = Summary(out=out, db=str(db) if db else None)
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(desc="statements", unit="st", file=sys.stderr, dynamic_ncols=True)
    store = None
    if db is not None:
        from .store import ClaimStore

        store = ClaimStore(db)
    try:
        with ClaimWriter(out) as writer:
            for res in process_statements(read_statements(inputs), chunk_size=chunk_size):
                if res.failure is not None:
                    summary.failures.append(res.failure)
                else:
                    summary.statements += 1
                    summary.sentences += len(res.sentences)
                    summary.boilerplate += sum(1 for s in res.sentences if s.boilerplate)
                    for c in res.claims:
                        writer.write(c)
                        summary.claims += 1
                        summary.by_type_lang[(c.type, c.lang)] += 1
                        if c.aligned_to and c.lang == "kk":
                            summary.aligned += 1
                if store is not None:
                    if res.failure is not None and not res.statement.text:
                        store.save_failure(res.failure)
                    else:
                        store.save(res, pipeline_version=PIPELINE_VERSION)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(claims=summary.claims, failed=len(summary.failures), refresh=False)
    finally:
        if bar is not None:
            bar.close()
        if store is not None:
            store.close()
    summary.seconds = time.perf_counter() - t0
    return summary
