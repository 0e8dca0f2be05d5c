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
import re
import sqlite3
import sys
import threading
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from pipeline import config
from pipeline.claims import StatementResult
from pipeline.batch.analyse import chunks as _chunks, current_version, process_statements
from pipeline.io.writer import ClaimWriter
from pipeline.batch.memory import fix_mmap_threshold, release_free_memory, worker_recycle_chunks
from pipeline.io.readers import read_statements
from pipeline.io.records import Failure, Statement
from pipeline.store.database import normalize_date
from pipeline.store.database import ClaimStore, StoreError, content_hash

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
    replaced: list = field(default_factory=list)  # (id, stored origin, new origin): a different statement
    seconds: float = 0.0
    out: str = ""
    db: str | None = None
    workers: int = 1

    @property
    def records(self) -> int:
        """Records read: every one ends processed (or skipped as unchanged) or failed."""
        return self.statements + len(self.failures)

    @property
    def exit_code(self) -> int:
        """0: every record processed; 1: some failed, the rest processed; 2: nothing usable
        (no records, or every record failed). 3 (a run stopped midway) comes from RunError."""
        if self.statements == 0:
            return 2
        return 1 if self.failures else 0

    def render(self) -> str:
        if self.records == 0:
            return "no records found in the input (empty files or folders without .txt/.jsonl/.csv/.parquet files)"
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
        for sid, old, new in self.replaced[:20]:
            lines.append(f"REPLACED {sid}: the store held a different statement with this id (from {old}); "
                         f"it now holds the one from {new}")
        if self.replaced:
            lines.append(f"{len(self.replaced)} stored statement(s) replaced by a different statement with the "
                         "same id: give each input its own ids (--id-prefix, --id-col) or its own --db")
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


class RunError(Exception):
    """A run that cannot start (unusable --out or --db) or had to stop (disk full): the message
    says what happened and what to do. Statements stored before it are complete."""

    def __init__(self, message: str, *, started: bool = False) -> None:
        super().__init__(message)
        self.exit_code = 3 if started else 2


def check_output(out: str) -> None:
    """Refuse an --out that cannot be written before any work is done, without creating it."""
    if out == "-":
        return
    path = Path(out)
    if path.is_dir():
        raise RunError(f"--out {out} is a folder; give a file name such as {path / 'claims.jsonl'}")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise RunError(f"--out {out}: {parent} is a file, not a folder")
    if path.exists() and not os.access(path, os.W_OK) or not path.exists() and not os.access(parent, os.W_OK):
        raise RunError(f"--out {out}: permission denied (the file or its folder {parent} is not writable)")


def _file_of(origin: str | None) -> str | None:
    """The file part of an origin ("a.jsonl:12", "b.csv:row 3" -> the path)."""
    return re.sub(r":(row )?\d+$", "", origin) if origin else origin


# ---- workers ---------------------------------------------------------------------------------
WORKER_TRIES = 3  # a chunk in flight when the worker pool broke this many times fails by name


def _watch_parent(parent: int) -> None:
    """A worker whose main process is gone (SIGKILL, OOM killer) exits instead of holding its
    models in memory forever: it would otherwise wait on the task queue for good."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this worker the moment its main process dies (prctl
    PR_SET_PDEATHSIG), even while a model load holds the GIL and the watchdog thread cannot run."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def _worker_init(parent: int | None = None) -> None:
    """Each worker loads both language pipelines once and keeps them for all its chunks."""
    from pipeline.nlp import get_pipeline

    global _INIT_ERROR
    if parent is not None:
        _die_with_parent(parent)
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-parent").start()
    fix_mmap_threshold()
    logging.getLogger("stanza").setLevel(logging.WARNING)
    try:
        get_pipeline("kk")
        get_pipeline("ru")
    except Exception as exc:  # noqa: BLE001 - reported by the first chunk, not a respawn loop
        _INIT_ERROR = f"cannot load the language pipelines: {type(exc).__name__}: {exc}"


_INIT_ERROR: str | None = None


def _worker_ready() -> None:
    """A no-op task: it runs once a worker's initializer (model loading) is done."""


def _worker_run(chunk: list) -> list[StatementResult]:
    if _INIT_ERROR:
        raise RuntimeError(_INIT_ERROR)
    return list(process_statements(chunk, chunk_size=max(1, len(chunk))))


class _AnalysisError(Exception):
    """An exception of the analysis itself (a model that cannot load, a bug), told apart from
    the errors of writing the output and the store."""


def _guarded(results: Iterator[StatementResult]) -> Iterator[StatementResult]:
    while True:
        try:
            res = next(results)
        except StopIteration:
            return
        except (RunError, StoreError):
            raise
        except Exception as exc:  # noqa: BLE001
            raise _AnalysisError(f"{type(exc).__name__}: {exc}") from exc
        yield res


def check_models() -> None:
    """Load the claim and topic models before any work, so a missing, truncated or foreign
    model file stops the run at once with its name and the command that rebuilds it."""
    from pipeline.claims.learned import active_model
    from pipeline.nlp.model_files import check_files, run_files
    from pipeline.topics.assign import check_model
    from pipeline.topics.model import TopicModelError, load_model, resolve_model_path

    try:
        check_files(run_files())  # the language pipelines' files, read through without loading them
        check_model()  # a missing --model fails here; a missing default warns once
        if (resolve_model_path() / "model.joblib").exists():
            load_model()
        active_model()
    except (TopicModelError, FileNotFoundError, ValueError) as exc:
        raise RunError(str(exc)) from exc


def _died(chunk: list, tries: int) -> list[StatementResult]:
    """The statements of a chunk whose worker kept dying: failures by name, so the run goes on."""
    from pipeline.batch.analyse import failure_result

    reason = f"the worker process analysing it died {tries} times (killed, or out of memory)"
    return [failure_result(item if isinstance(item, Failure) else Failure(item.id, reason, item.origin, "worker"))
            for item in chunk]


def stuck_after() -> float:
    """Seconds after which a worker pool counts as stuck (`configs/process.toml [workers]`)."""
    return float(config.load("process").get("workers", {}).get("stuck_after_s", 30))


def _pool_processes(pool: ProcessPoolExecutor) -> list:
    return list((getattr(pool, "_processes", None) or {}).values())


def _result(pool: ProcessPoolExecutor, future, patience: float):
    """`future.result()`, but never waiting forever on a dead worker. A worker killed while it
    sent a result leaves the pool's manager thread reading the rest of that message forever: the
    future then never resolves and the pool never reports the death. A worker that has exited
    while this future is pending, for `patience` seconds, counts as a broken pool."""
    dead_since = None
    while True:
        try:
            return future.result(timeout=min(1.0, patience))
        except FuturesTimeout:
            pass
        if any(p.exitcode is not None for p in _pool_processes(pool)):
            dead_since = dead_since if dead_since is not None else time.monotonic()
            if time.monotonic() - dead_since >= patience:
                raise BrokenProcessPool(f"a worker process died and its pool did not report it within "
                                        f"{patience:g} s")
        else:
            dead_since = None


def _close_pool(pool: ProcessPoolExecutor, patience: float, stop: bool = False) -> bool:
    """Shut `pool` down without ever waiting forever; True when its workers exited by themselves.

    `ProcessPoolExecutor.shutdown(wait=True)` waits for every worker to read its stop message and
    exit. A worker killed at that moment (a SIGKILL, the OOM killer) can die holding one of the
    locks the workers share: the task queue's read lock (an idle worker waits for its next task
    holding it) or the result queue's write lock (a worker reporting its exit). The other workers
    then wait on that lock forever and so does `shutdown` (Python 3.11). Here the workers get
    `patience` seconds to exit; those left are killed (nothing is lost: every result this run
    reads has arrived by then), and the pool's manager thread is unblocked. `stop`: terminate
    the workers at once (a run stopping early, a broken pool)."""
    procs = _pool_processes(pool)
    manager = getattr(pool, "_executor_manager_thread", None)
    call_queue = getattr(pool, "_call_queue", None)
    result_queue = getattr(pool, "_result_queue", None)
    if stop:
        for p in procs:
            if p.exitcode is None:
                p.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + patience
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    stuck = [p for p in procs if p.exitcode is None]
    if stuck:
        log.warning("%d worker process(es) did not exit within %g s of their pool's end (another worker "
                    "was probably killed holding a lock they share); killing them (pids %s)", len(stuck),
                    patience, ", ".join(str(p.pid) for p in stuck))
        for p in stuck:
            p.kill()
        for p in stuck:
            p.join(patience)

    def release_pipes() -> None:
        # With every worker gone, this process holds the last ends of the queues' pipes: closing
        # them ends a read of a result message cut short by a killed worker (EOF) and a write of
        # a task nobody will read (EPIPE), the places where the manager thread could still wait.
        for conn in (getattr(result_queue, "_writer", None), getattr(call_queue, "_reader", None)):
            try:
                if conn is not None:
                    conn.close()
            except OSError:
                pass

    released = bool(stop or stuck)
    if released:
        release_pipes()
    if manager is not None:
        manager.join(patience if released else max(0.0, deadline - time.monotonic()))
        if manager.is_alive() and not released:
            release_pipes()
            manager.join(patience)
        if manager.is_alive():
            log.error("the worker pool's manager thread did not stop within %g s after its workers had "
                      "exited", patience)
            return False
    if result_queue is not None:
        result_queue.close()
    return not stuck


def analyse(items: Iterable[Statement | Failure], workers: int = 1, chunk_size: int = 32,
            state: dict | None = None) -> Iterator[StatementResult]:
    """Results in input order; with several workers at most 2 chunks per worker are in flight.
    `state["workers"]` tells how many processes actually ran (1 for a single chunk).

    A worker that dies (killed, out of memory) breaks the pool: a new pool takes over and the
    unfinished chunks are sent again; a chunk in flight at WORKER_TRIES breaks fails by name."""
    # this process runs the pipelines (one worker) or unpickles and writes every result (several)
    fix_mmap_threshold()
    state = state if state is not None else {}
    state["workers"] = 1
    state["worker_restarts"] = 0
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
    patience = stuck_after()

    def start() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),))

    def ready(pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """`pool` (or its replacement, when a worker died loading) once its workers loaded the models."""
        t_load = time.perf_counter()
        for attempt in range(1, WORKER_TRIES + 1):
            try:
                for f in [pool.submit(_worker_ready) for _ in range(workers)]:  # models load side by side
                    _result(pool, f, patience)
                break
            except BrokenProcessPool:
                if attempt == WORKER_TRIES:
                    raise
                state["worker_restarts"] += 1
                _close_pool(pool, patience, stop=True)
                pool = start()
        state["load_seconds"] = state.get("load_seconds", 0.0) + time.perf_counter() - t_load
        return pool

    pool = ready(start())
    # fresh workers after this many chunks each (configs/process.toml [memory]): what a worker's
    # heap keeps over a long run (fragmentation, caches, string tables) goes with its process
    recycle = worker_recycle_chunks() * workers
    state["worker_recycles"] = 0
    submitted = 0  # chunks sent to the current workers
    source = itertools.chain(head, chunks)
    exhausted = False
    pending: deque = deque()  # [chunk, future or None (given up), tries]
    finished = False
    try:
        while True:
            while not exhausted and len(pending) < 2 * workers and not (recycle and submitted >= recycle):
                chunk = next(source, None)
                if chunk is None:
                    exhausted = True
                    break
                pending.append([chunk, pool.submit(_worker_run, chunk), 0])
                submitted += 1
            if not pending:
                if exhausted:
                    break
                # these workers had their share and all their chunks are in: replace them
                _close_pool(pool, patience)
                pool = ready(start())
                state["worker_recycles"] += 1
                submitted = 0
                continue
            entry = pending[0]
            if entry[1] is None:
                pending.popleft()
                yield from _died(entry[0], entry[2])
                continue
            try:
                results = _result(pool, entry[1], patience)
            except BrokenProcessPool:
                state["worker_restarts"] += 1
                log.warning("a worker process died (killed, or out of memory); starting new workers "
                            "and sending its unfinished statements again")
                _close_pool(pool, patience, stop=True)
                pool = start()
                submitted = 0
                for e in pending:
                    if e[1] is None or (e[1].done() and e[1].exception() is None):
                        continue
                    e[2] += 1
                    e[1] = pool.submit(_worker_run, e[0]) if e[2] < WORKER_TRIES else None
                    submitted += e[1] is not None
                continue
            pending.popleft()
            yield from results
        finished = True
    finally:
        # stopped early (an error, Ctrl-C): do not wait for chunks nobody will read
        _close_pool(pool, patience, stop=not finished)


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
    from pipeline.nlp import LOAD_SECONDS

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
        from pipeline.io.readers import count_records

        # a quick count of the records gives the bar a total, hence an ETA (None for stdin)
        try:
            total = count_records(inputs)
        except OSError:
            total = None  # an unreadable file: it becomes a failure when it is read
        bar = Progress(total)
    loaded_before = _load_seconds({})  # models this process loaded for an earlier run stay loaded
    from pipeline.topics.assign import check_model

    check_model()  # a missing --model fails here, before any work; a missing default warns once
    check_output(out)
    check_models()
    version = current_version()
    store = None
    if db is not None:
        store = ClaimStore(db)
    # unchanged statements are not analysed again; their order slot is kept
    skipped: dict[int, StatementResult] = {}
    counter = itertools.count()

    def todo() -> Iterator[Statement | Failure]:
        for item in read_statements(inputs, read_options):
            n = next(counter)
            if store is not None and isinstance(item, Statement):
                digest = content_hash(item)
                if not force and store.has_current(item.id, digest, version):
                    topic, topics = store.stored_topic(item.id)
                    skipped[n] = StatementResult(item, claims=store.stored_claims(item.id), skipped=True,
                                                 topic=topic, topics=topics)
                    continue
                stored = store.stored_identity(item.id)
                # another text under this id from another file: a collision, not an edit
                if stored and stored[0] != digest and stored[1] and _file_of(stored[1]) != _file_of(item.origin):
                    summary.replaced.append((item.id, stored[1], item.origin))
                    log.warning("statement %s from %s replaces a different stored statement with the same "
                                "id (from %s)", item.id, item.origin, stored[1])
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
        from pipeline.batch.ray_engine import process_with_ray

        results = process_with_ray(todo(), address=address, num_actors=workers if workers > 1 else None,
                                   batch_size=chunk_size)
    else:
        results = analyse(todo(), workers=workers, chunk_size=chunk_size, state=run_state)
    last_log = time.perf_counter()
    done = 0
    try:
        try:
            writer = ClaimWriter(out)
        except OSError as e:
            raise RunError(f"cannot write {out}: {e.strerror or e}") from e
        with writer:
            for res in ordered(_guarded(results)):
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
    except _AnalysisError as e:
        log.debug("analysis error", exc_info=True)
        raise RunError(f"the analysis stopped after {done} record(s): {e}. Statements stored so far are "
                       "complete; fix the cause and run the same command again", started=True) from e
    except (OSError, sqlite3.Error) as e:
        if isinstance(e, sqlite3.Error) and db is not None:
            from pipeline.store.database import describe_error

            reason = describe_error(Path(db), e)
        elif isinstance(e, OSError) and not isinstance(e, FileNotFoundError):
            reason = f"input/output error on {getattr(e, 'filename', None) or out}: {e.strerror or e}"
        else:
            raise
        raise RunError(f"the run stopped after {done} record(s): {reason}. Statements stored so far are "
                       "complete; fix the cause and run the same command again: stored statements are "
                       "skipped", started=True) from e
    finally:
        # a run stopped early ends its workers now, not when the generator is garbage-collected
        # (the exception's traceback keeps it alive, possibly until the interpreter exits)
        close = getattr(results, "close", None)
        if close is not None:
            close()
        if bar is not None:
            bar.close()
        if store is not None:
            store.close()
    summary.seconds = time.perf_counter() - t0
    summary.workers = run_state["workers"]
    return summary


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
