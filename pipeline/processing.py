"""`polclaims process`: read -> analyse -> write claims + store, with progress and a summary.

Large archives: statements stream through in chunks (memory is bounded by the chunk size and
the number of chunks in flight, not by the corpus), `workers` processes each load the models
once, results are written in input order whatever finishes first, and statements already in
the store with the same content and pipeline version are skipped (their stored claims are
written out again), so a re-run after a crash finishes the rest without duplicates.
"""
from __future__ import annotations

import itertools
import logging
import multiprocessing as mp
import os
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .claims import StatementResult
from .claims.process import chunks as _chunks, current_version, process_statements
from .claims.writer import ClaimWriter
from .memory import fix_mmap_threshold, release_free_memory
from .readers import read_statements
from .records import Failure, Statement
from .store import normalize_date

log = logging.getLogger("polclaims.process")


@dataclass
class Summary:
    statements: int = 0
    skipped: int = 0
    sentences: int = 0
    boilerplate: int = 0
    claims: int = 0
    aligned: int = 0
    by_type_lang: Counter = field(default_factory=Counter)
    topics: Counter = field(default_factory=Counter)  # statements per topic
    failures: list = field(default_factory=list)
    bad_dates: list = field(default_factory=list)  # (statement id, date as written) that does not parse
    seconds: float = 0.0
    out: str = ""
    db: str | None = None
    workers: int = 1

    def render(self) -> str:
        lines = [f"{self.statements} statement(s) ({self.skipped} unchanged, skipped), {self.sentences} sentences "
                 f"({self.boilerplate} boilerplate), {self.claims} claims, "
                 f"{self.aligned} kk-ru aligned pairs, {len(self.failures)} failed, {self.seconds:.1f} s"
                 f" with {self.workers} worker(s)"]
        langs = sorted({l for _, l in self.by_type_lang})
        if langs:
            lines.append("claims by type: " + "; ".join(
                f"{t}: " + ", ".join(f"{l} {self.by_type_lang[(t, l)]}" for l in langs)
                for t in ("commitment", "obligation", "decision")))
        if self.topics:
            lines.append("statements by topic: " + ", ".join(f"{t} {n}" for t, n in self.topics.most_common(8))
                         + (f", ... ({len(self.topics)} topics)" if len(self.topics) > 8 else ""))
        if self.bad_dates:
            lines.append(f"{len(self.bad_dates)} statement(s) with a date that does not parse (see stderr)")
        lines.append(f"claims written to {self.out}" + (f"; store: {self.db}" if self.db else ""))
        return "\n".join(lines)

    def problems(self, limit: int = 20) -> str:
        """What went wrong, for stderr: one FAILED line per failure (the record's file:line or row
        where it has one) and the dates `--from`/`--to` cannot use."""
        lines = []
        for f in self.failures[:limit]:
            where = f" at {f.origin}" if f.origin and f.origin != f.record_id else ""
            lines.append(f"FAILED {f.record_id} ({f.stage}){where}: {f.reason}")
        if len(self.failures) > limit:
            lines.append(f"... and {len(self.failures) - limit} more failures (see the store's failures table)")
        if self.bad_dates:
            shown = ", ".join(f"{sid} ({date!r})" for sid, date in self.bad_dates[:5])
            more = f" and {len(self.bad_dates) - 5} more" if len(self.bad_dates) > 5 else ""
            lines.append(f"WARNING {len(self.bad_dates)} statement(s) with a date that is not YYYY-MM-DD or "
                         f"DD.MM.YYYY: {shown}{more}; stored as written, but --from/--to will not find them")
        return "\n".join(lines)


# ---- workers ---------------------------------------------------------------------------------
def _worker_init() -> None:
    """Each worker loads both language pipelines once and keeps them for all its chunks."""
    from .nlp import get_pipeline

    fix_mmap_threshold()
    logging.getLogger("stanza").setLevel(logging.WARNING)
    get_pipeline("kk")
    get_pipeline("ru")


def _worker_ready() -> None:
    """A no-op task: it runs once a worker's initializer (model loading) is done."""


def _worker_run(chunk: list) -> list[StatementResult]:
    return list(process_statements(chunk, chunk_size=max(1, len(chunk))))


def analyse(items: Iterable[Statement | Failure], workers: int = 1, chunk_size: int = 32,
            state: dict | None = None) -> Iterator[StatementResult]:
    """Results in input order; with several workers at most 2 chunks per worker are in flight.
    `state["workers"]` tells how many processes actually ran (1 for a single chunk)."""
    # this process runs the pipelines (one worker) or unpickles and writes every result (several)
    fix_mmap_threshold()
    state = state if state is not None else {}
    state["workers"] = 1
    # the chunks are those of the single-process run, so the output does not depend on `workers`
    # (statements sharing a parallel_id are aligned within a chunk)
    chunks = _chunks(items, chunk_size)
    head = list(itertools.islice(chunks, 2))
    if workers <= 1 or len(head) < 2:
        # one chunk of input is not worth starting processes that each load the models
        yield from process_statements(itertools.chain(*head, *chunks), chunk_size=chunk_size)
        return
    ctx = mp.get_context("spawn")  # no fork after threads: PyTorch and BLAS start their own
    state["workers"] = workers
    with ctx.Pool(workers, initializer=_worker_init) as pool:
        t_load = time.perf_counter()
        pool.apply(_worker_ready)  # the workers load their models side by side: wait for them once
        state["load_seconds"] = time.perf_counter() - t_load
        pending: deque = deque()
        for chunk in itertools.chain(head, chunks):
            pending.append(pool.apply_async(_worker_run, (chunk,)))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


# ---- the run ---------------------------------------------------------------------------------
class Progress:
    """A tqdm bar whose rate and ETA leave out model loading: the first statements wait seconds
    for the models, and counting that time would promise a run far longer than it will be."""

    def __init__(self, total: int | None):
        from tqdm import tqdm

        # smoothing=0: the rate is statements done / time spent processing, not a short-term average
        self.bar = tqdm(desc="statements", unit="st", file=sys.stderr, dynamic_ncols=True, total=total,
                        smoothing=0)
        self.excluded = 0.0

    def exclude(self, seconds: float) -> None:
        """Leave `seconds` in all (model loading so far) out of the elapsed time."""
        if seconds > self.excluded:
            self.bar.start_t += seconds - self.excluded
            self.excluded = seconds

    def update(self, n: int = 1, **postfix) -> None:
        self.bar.update(n)
        if postfix:
            self.bar.set_postfix(refresh=False, **postfix)

    def close(self) -> None:
        self.bar.close()


def _load_seconds(state: dict) -> float:
    """Model loading so far: in this process (one worker) or waiting for the workers' (several)."""
    from .nlp import LOAD_SECONDS

    return sum(LOAD_SECONDS.values()) + state.get("load_seconds", 0.0)


def run_process(inputs: list[str], out: str, db: Path | None, chunk_size: int = 32,
                progress: bool | None = None, workers: int = 1, force: bool = False,
                engine: str = "local", address: str | None = None,
                log_every: float = 30.0, read_options=None) -> Summary:
    t0 = time.perf_counter()
    summary = Summary(out=out, db=str(db) if db else None, workers=workers)
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from .readers import count_records

        # a quick count of the records gives the bar a total, hence an ETA (None for stdin)
        bar = Progress(count_records(inputs))
    loaded_before = _load_seconds({})  # models this process loaded for an earlier run stay loaded
    from .topics.assign import check_model

    check_model()  # a missing --model fails here, before any work; a missing default warns once
    version = current_version()
    store = None
    if db is not None:
        from .store import ClaimStore, content_hash

        store = ClaimStore(db)
    # unchanged statements are not analysed again; their order slot is kept
    skipped: dict[int, StatementResult] = {}
    counter = itertools.count()

    def todo() -> Iterator[Statement | Failure]:
        for item in read_statements(inputs, read_options):
            n = next(counter)
            if (store is not None and not force and isinstance(item, Statement)
                    and store.has_current(item.id, content_hash(item), version)):
                topic, topics = store.stored_topic(item.id)
                skipped[n] = StatementResult(item, claims=store.stored_claims(item.id), skipped=True,
                                             topic=topic, topics=topics)
                continue
            yield item

    def ordered(results: Iterator[StatementResult]) -> Iterator[StatementResult]:
        """Merge skipped statements back into their input positions."""
        pos = 0
        for res in results:
            while pos in skipped:
                yield skipped.pop(pos)
                pos += 1
            yield res
            pos += 1
        while skipped:
            yield skipped.pop(min(skipped))

    run_state: dict = {"workers": workers}
    if engine == "ray":
        from .engines.ray_engine import process_with_ray

        results = process_with_ray(todo(), address=address, num_actors=workers if workers > 1 else None,
                                   batch_size=chunk_size)
    else:
        results = analyse(todo(), workers=workers, chunk_size=chunk_size, state=run_state)
    last_log = time.perf_counter()
    done = 0
    try:
        with ClaimWriter(out) as writer:
            for res in ordered(results):
                done += 1
                if res.failure is not None:
                    summary.failures.append(res.failure)
                else:
                    summary.statements += 1
                    summary.skipped += res.skipped
                    if res.statement.date and normalize_date(res.statement.date) is None:
                        summary.bad_dates.append((res.statement.id, res.statement.date))
                    summary.sentences += len(res.sentences)
                    summary.boilerplate += sum(1 for s in res.sentences if s.boilerplate)
                    if res.topic:
                        summary.topics[res.topic] += 1
                    for c in res.claims:
                        writer.write(c, res.statement)
                        summary.claims += 1
                        summary.by_type_lang[(c.type, c.lang)] += 1
                        if c.aligned_to and c.lang == "kk":
                            summary.aligned += 1
                if store is not None and not res.skipped:
                    if res.failure is not None and not res.statement.text:
                        store.save_failure(res.failure)
                    else:
                        store.save(res, pipeline_version=version)
                if done % chunk_size == 0 and run_state["workers"] > 1:
                    release_free_memory()  # this process unpickles every worker's results
                if bar is not None:
                    bar.exclude(_load_seconds(run_state) - loaded_before)
                    bar.update(1, claims=summary.claims, failed=len(summary.failures), skipped=summary.skipped)
                elif time.perf_counter() - last_log >= log_every:
                    rate = done / (time.perf_counter() - t0)
                    log.warning("processed %d statements (%.1f/s), %d claims, %d skipped, %d failed",
                                done, rate, summary.claims, summary.skipped, len(summary.failures))
                    last_log = time.perf_counter()
    finally:
        if bar is not None:
            bar.close()
        if store is not None:
            store.close()
    summary.seconds = time.perf_counter() - t0
    summary.workers = run_state["workers"]
    return summary


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
