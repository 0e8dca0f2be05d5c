"""The Ray engine gives exactly what the local engine gives, in the same order."""
from __future__ import annotations

import sys

import pytest

from pipeline.batch.analyse import process_statements
from pipeline.io.records import Failure, Statement

RU = "Правительство выделит 2 млрд тенге на ремонт школ."
KK = "Үкімет мектептерді жөндеуге 2 млрд теңге бөледі."

ITEMS = [
    # a kk-ru pair in one chunk: aligned across statements by parallel_id
    Statement("ru1", RU, parallel_id="p1"),
    Statement("kk1", KK, parallel_id="p1"),
    Failure("bad1", "no text", "in.jsonl:3"),
    Statement("ru2", "Необходимо принять конкретные меры по распределению ответственности."),
    # a chunk made only of failures: never sent to Ray, still in its place
    Failure("bad2", "broken JSON", "in.jsonl:5"),
    Failure("bad3", "duplicate id", "in.jsonl:6"),
    Statement("kk2", "Жергілікті жерлердегі билік органдарының өкілеттіктері қаржылық және "
                     "кадрлық ресурстармен нығайтылатын болады."),
    Statement("ru3", "Я утвердил Концепцию развития местного самоуправления. " + RU),
]


def test_clear_error_without_ray(monkeypatch):
    from pipeline.batch.ray_engine import process_with_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(RuntimeError, match=r"pip install polclaims\[ray\]"):
        process_with_ray(ITEMS)


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install polclaims[ray])")
    pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install polclaims[ray])")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_matches_local_engine(local_ray):
    from pipeline.batch.ray_engine import process_with_ray

    # batch_size=2 -> 4 chunks; 1 actor x window_chunks=2 -> 2 windows (2 datasets, 2 actor pools):
    # covers chunk re-ordering across windows. One actor: on 2 cores it is twice as fast as two.
    got = list(process_with_ray(ITEMS, num_actors=1, batch_size=2, window_chunks=2))
    expected = list(process_statements(ITEMS, chunk_size=2))

    assert [r.statement.id for r in got] == [r.statement.id for r in expected] == [
        "ru1", "kk1", "bad1", "ru2", "bad2", "bad3", "kk2", "ru3"]
    assert [[c.claim_id for c in r.claims] for r in got] == [[c.claim_id for c in r.claims] for r in expected]
    assert sum(len(r.claims) for r in got) >= 6
    assert [r.failure for r in got] == [r.failure for r in expected]
    assert got[2].failure == ITEMS[2]
    # the parallel pair was aligned on the actor, as locally
    assert got[0].claims[0].aligned_to == got[1].claims[0].claim_id
    # everything else too (sentences, offsets, versions): the written output will be identical
    assert got == expected
    assert local_ray.is_initialized()  # an instance it did not start is left running


# ---- a worker that dies (issue #17): the chunk is sent again, then fails by name -----------
class _Died(Exception):
    """Stands for Ray's ActorDiedError in the tests without Ray."""


def _fake_run(deadly: set[int], calls: list):
    """A stand-in for one Ray dataset: yields each chunk's payload back, but the worker dies
    (an exception Ray would raise) when it reaches a chunk of `deadly`."""
    def run(part):
        calls.append(sorted(part))
        for k in sorted(part):
            if k in deadly:
                raise _Died(f"actor died analysing chunk {k}")
            yield k, part[k]
    return run


def _is_died(exc):
    return isinstance(exc, _Died)


def test_a_chunk_whose_worker_died_once_is_sent_again():
    from pipeline.batch.ray_engine import _window_results

    calls: list = []
    once = {2}
    base = _fake_run(once, calls)

    def run_once(part):  # the worker dies on chunk 2 the first time only (a kill)
        try:
            yield from base(part)
        finally:
            once.clear()

    got = list(_window_results({k: b"x%d" % k for k in range(5)}, run_once, is_death=_is_died))
    assert sorted(k for k, _, _ in got) == [0, 1, 2, 3, 4]
    assert all(payload == b"x%d" % k for k, payload, _ in got)
    assert calls == [[0, 1, 2, 3, 4], [2, 3, 4]]


def test_a_chunk_that_kills_every_worker_fails_alone_and_by_name():
    from pipeline.batch.ray_engine import WORKER_TRIES, _died, _window_results

    calls: list = []
    got = list(_window_results({k: b"x" for k in range(4)}, _fake_run({1}, calls), is_death=_is_died))
    assert [(k, p is None) for k, p, _ in got] == [(0, False), (2, False), (3, False), (1, True)]
    assert got[-1][2] == WORKER_TRIES + 1  # sent with the window, then on its own
    # the window's unfinished chunks 3 times (the worker died at chunk 1 each time), then each alone
    assert calls == [[0, 1, 2, 3]] + [[1, 2, 3]] * (WORKER_TRIES - 1) + [[1], [2], [3]]
    chunk = [Statement("a", "текст"), Failure("b", "broken JSON", "in.jsonl:2")]
    failed = _died(chunk, got[-1][2])
    assert [r.failure.record_id for r in failed] == ["a", "b"]
    assert "died 4 times" in failed[0].failure.reason and failed[1].failure.reason == "broken JSON"


def test_an_error_of_the_analysis_itself_is_not_retried():
    from pipeline.batch.ray_engine import _window_results

    def run(part):
        raise ValueError("a bug")
        yield  # pragma: no cover

    with pytest.raises(ValueError, match="a bug"):
        list(_window_results({0: b"x"}, run, is_death=_is_died))


def test_ray_worker_killed_mid_run_loses_nothing(local_ray, tmp_path):
    """SIGKILL one Ray actor process while it works: every statement still comes back analysed,
    with the claims of an uninterrupted run."""
    import os
    import signal
    import threading
    import time

    from pipeline.batch.ray_engine import process_with_ray

    # enough work that the actor is still busy a moment after it is found (16 statements took
    # under a second once the Kazakh pipeline got faster, and the actor was gone before the kill)
    items = [Statement(f"s{i:02d}", (RU, KK)[i % 2]) for i in range(64)]
    killed: list[int] = []

    def kill_an_actor():
        deadline = time.time() + 1200  # actors load the models first: minutes on a busy machine
        while time.time() < deadline and not killed:
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
                except OSError:
                    continue
                if "ClaimActor" in cmd and "__init__" not in cmd:
                    time.sleep(0.5)
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:  # it exited meanwhile: look again
                        continue
                    killed.append(int(pid))
                    return
            time.sleep(0.2)

    t = threading.Thread(target=kill_an_actor, daemon=True)
    t.start()
    got = list(process_with_ray(items, num_actors=1, batch_size=2, window_chunks=8))
    t.join(timeout=1)
    expected = list(process_statements(items, chunk_size=2))
    assert killed, "no Ray actor process was found to kill"
    assert [r.statement.id for r in got] == [r.statement.id for r in expected]
    assert all(r.failure is None for r in got)
    assert [[c.claim_id for c in r.claims] for r in got] == [[c.claim_id for c in r.claims] for r in expected]
