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
