"""Run `process` on a Ray cluster (or a local Ray instance) with Ray Data.

How the work is cut: the input stream is split into *chunks* of `batch_size` records, exactly as
`process_statements(items, chunk_size=batch_size)` cuts it (failures count towards a chunk).
A chunk is the unit of NLP batching and of `parallel_id` alignment, so keeping the same chunk
boundaries is what makes the output identical to the local engine's. Each chunk's statements
(pickled) are one row of a Ray dataset; `map_batches` sends rows to a pool of actors
(`_ClaimActor`) that load the Kazakh and Russian pipelines once, in `__init__`, and run
`process_statements` on each chunk. `Failure` records never leave the driver; they are put back
at their position when the chunk's results come back.

Memory stays bounded: the input is read in windows of `window_chunks * num_actors` chunks; one
window is one `ray.data.from_items(...)` dataset. Results are re-ordered by chunk number on the
driver (and Ray Data's `preserve_order` is on as well), so output order = input order.

Cost to know about: Ray Data starts a fresh actor pool for each dataset, so every window pays
the model loading once per actor (about 5-6 s on a laptop CPU). Windows are large by default
(16 chunks per actor) to amortise it; raise `window_chunks` for long runs on big clusters.
"""
from __future__ import annotations

import itertools
import logging
import os
import pickle
from typing import Iterable, Iterator

from pipeline.claims import StatementResult
from pipeline.batch.analyse import chunks as _chunks, failure_result as _failure_result
from pipeline.io.records import Failure, Statement

log = logging.getLogger(__name__)

INSTALL_HINT = "the Ray engine needs `pip install polclaims[ray]`"


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the `data` extra must be there too
    except ImportError as exc:
        raise RuntimeError(INSTALL_HINT) from exc
    return ray


class _ClaimActor:
    """A Ray Data actor: loads both language pipelines once, then processes chunks."""

    def __init__(self) -> None:
        from pipeline.batch.memory import fix_mmap_threshold
        from pipeline.nlp import get_pipeline

        fix_mmap_threshold()
        get_pipeline("kk")
        get_pipeline("ru")

    def __call__(self, batch: dict) -> dict:
        from pipeline.batch.analyse import process_statements

        out = []
        for payload in batch["payload"]:
            statements: list[Statement] = pickle.loads(payload)
            results = list(process_statements(statements, chunk_size=max(1, len(statements))))
            out.append(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
        return {"chunk": batch["chunk"], "payload": out}


def _runtime_env() -> dict | None:
    """Actors must use the topic model the driver was told to use (--model)."""
    env = {k: v for k, v in os.environ.items() if k in ("POLCLAIMS_TOPIC_MODEL", "POLCLAIMS_CONFIG_DIR",
                                                          "POLCLAIMS_MODELS_DIR")}
    return {"env_vars": env} if env else None


def _connect(ray, address: str | None, num_actors: int | None) -> bool:
    """Connect to (or start) Ray; True when this call started a local instance."""
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, log_to_driver=False, runtime_env=_runtime_env())
        return False
    num_cpus = max(num_actors or 0, os.cpu_count() or 1)
    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, runtime_env=_runtime_env())
    return True


def process_with_ray(items: Iterable[Statement | Failure], address: str | None = None,
                     num_actors: int | None = None, batch_size: int = 32,
                     window_chunks: int = 16) -> Iterator[StatementResult]:
    """Yield one `StatementResult` per input record, in input order, computed on Ray.

    `address`: a running cluster ("HEAD:6379" or "auto"); None starts a local instance (unless
    Ray is already initialised in this process). `num_actors`: NLP actors, one CPU each
    (default: the CPUs the cluster has). `batch_size`: records per chunk, the unit each actor
    call processes; pass the local engine's `chunk_size` for byte-identical output (statements
    sharing a `parallel_id` are aligned only within a chunk, in both engines).
    `window_chunks`: chunks per actor held in flight per dataset (bounds driver memory).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    ray = _import_ray()  # fails here, at call time, when Ray is missing
    return _process(ray, items, address, num_actors, batch_size, window_chunks)


def _process(ray, items, address, num_actors, batch_size, window_chunks) -> Iterator[StatementResult]:
    started = _connect(ray, address, num_actors)
    try:
        if num_actors is None:
            num_actors = max(1, int(ray.cluster_resources().get("CPU", 1)))
        ctx = ray.data.DataContext.get_current()
        old_order = ctx.execution_options.preserve_order
        ctx.execution_options.preserve_order = True
        old_progress = getattr(ctx, "enable_progress_bars", None)
        if old_progress is not None:
            ctx.enable_progress_bars = False  # the CLI has its own progress bar
        try:
            window = max(1, window_chunks) * num_actors
            chunks = _chunks(items, batch_size)
            base = 0
            while True:
                win = list(itertools.islice(chunks, window))
                if not win:
                    break
                yield from _run_window(ray, win, base, num_actors)
                base += len(win)
        finally:
            ctx.execution_options.preserve_order = old_order
            if old_progress is not None:
                ctx.enable_progress_bars = old_progress
    finally:
        if started:
            ray.shutdown()


WORKER_TRIES = 3  # as the local engine: a chunk whose worker died this many times fails by name

# Ray's errors for a worker process that died (killed, out of memory, its node gone); anything
# else escaping an actor is a bug of the analysis and stops the run as it would locally
_DEATH_ERRORS = ("RayActorError", "ActorDiedError", "ActorUnavailableError", "WorkerCrashedError",
                 "ObjectLostError", "OwnerDiedError", "NodeDiedError", "OutOfMemoryError", "LocalRayletDiedError")


def _is_worker_death(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if any(type(exc).__name__ == name or name in {c.__name__ for c in type(exc).__mro__}
               for name in _DEATH_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _map_rows(ray, rows: dict[int, bytes], num_actors: int) -> Iterator[tuple[int, bytes]]:
    """One Ray dataset over `rows` (chunk number -> pickled statements): (chunk, pickled results)
    as they come back. Actors are restarted when killed; their task is not retried by Ray (that
    is `_window_results`'s job, with a bound), so a chunk that kills every worker cannot loop."""
    items = [{"chunk": k, "payload": v} for k, v in rows.items()]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    pool = ray.data.ActorPoolStrategy(size=min(num_actors, len(items)))
    kwargs = dict(batch_size=1, batch_format="default", compute=pool, num_cpus=1)
    try:
        ds = ds.map_batches(_ClaimActor, **kwargs, max_restarts=-1, max_task_retries=0)
    except TypeError:  # a Ray without actor options in map_batches: its own retries (unbounded)
        ds = ds.map_batches(_ClaimActor, **kwargs)
    del items  # the driver's copy is no longer needed
    for row in ds.iter_rows():
        yield int(row["chunk"]), row["payload"]


def _window_results(rows: dict[int, bytes], run, tries: int = WORKER_TRIES,
                    is_death=_is_worker_death) -> Iterator[tuple[int, bytes | None, int]]:
    """(chunk, pickled results, 0) for every row, in the order they complete; a chunk whose
    worker died is sent again (the whole rest of the window: which chunk a dead worker held is
    not known) up to `tries` times, then once more on its own; a chunk that still does not come
    back is (chunk, None, deaths): its statements become failures by name. `run(rows)` runs one
    dataset over `rows` and yields (chunk, payload)."""
    todo = dict(rows)
    deaths: dict[int, int] = {k: 0 for k in rows}

    def attempt(part: dict[int, bytes]) -> Iterator[tuple[int, bytes | None, int]]:
        try:
            for k, payload in run(part):
                if k in todo:
                    del todo[k]
                    yield k, payload, 0
        except Exception as exc:  # noqa: BLE001 - sorted just below
            if not is_death(exc):
                raise
            log.warning("a Ray worker died (killed, or out of memory): %s; sending its window's "
                        "unfinished chunks again", str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
            for k in part:
                if k in todo:
                    deaths[k] += 1

    for _ in range(tries):
        if not todo:
            return
        yield from attempt(dict(todo))
    for k in sorted(todo):  # still missing: each on its own, so one bad chunk fails no other
        if k in todo:
            yield from attempt({k: todo[k]})
    for k in sorted(todo):
        yield k, None, deaths[k]


def _died(chunk: list, deaths: int) -> list[StatementResult]:
    """The statements of a chunk whose worker kept dying: failures by name, so the run goes on."""
    reason = f"the Ray worker analysing it died {deaths} times (killed, or out of memory)"
    return [_failure_result(x if isinstance(x, Failure) else Failure(x.id, reason, x.origin, "worker"))
            for x in chunk]


def _run_window(ray, win: list[list[Statement | Failure]], base: int,
                num_actors: int) -> Iterator[StatementResult]:
    rows = {}
    for i, chunk in enumerate(win):
        statements = [x for x in chunk if not isinstance(x, Failure)]
        if statements:
            rows[base + i] = pickle.dumps(statements, protocol=pickle.HIGHEST_PROTOCOL)
    results_iter = _window_results(rows, lambda part: _map_rows(ray, part, num_actors))
    del rows
    done: dict[int, list[StatementResult] | int] = {}
    # emit chunks as soon as they and all before them are in
    for i, chunk in enumerate(win):
        idx = base + i
        if any(not isinstance(x, Failure) for x in chunk):
            while idx not in done:
                got = next(results_iter, None)
                if got is None:
                    raise RuntimeError(f"Ray returned no result for chunk {idx}")
                k, payload, deaths = got
                done[k] = pickle.loads(payload) if payload is not None else deaths
            res = done.pop(idx)
            if isinstance(res, int):
                yield from _died(chunk, res)
                continue
            processed = iter(res)
        else:
            processed = iter(())
        for x in chunk:
            yield _failure_result(x) if isinstance(x, Failure) else next(processed)
