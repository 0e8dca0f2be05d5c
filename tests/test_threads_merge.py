"""data/threads/merge.py: majority labels of a batch dir, and `--add` of a new round to the gold."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("threads_merge", ROOT / "data" / "threads" / "merge.py")
merge_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(merge_mod)


def _jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _sel(pid: str, rnd: int | None, lang: str = "kk") -> dict:
    rec = {"pair_id": pid, "lang": lang, "source": "s1+s2", "stratum": "likely",
           "a": {"item_id": "s1:1:kk", "claim": 0, "sha1": "x"}, "b": {"item_id": "s2:1:kk", "claim": 0, "sha1": "y"}}
    if rnd:
        rec["round"] = rnd
    return rec


def _round(tmp: Path, name: str, ids: list[str], a: list[bool], b: list[bool], third: dict[str, bool] | None = None) -> Path:
    d = tmp / name
    _jsonl(d / "batch-01.jsonl", [{"pair_id": i} for i in ids])
    _jsonl(d / "out" / "A-batch-01.jsonl", [{"pair_id": i, "same": v} for i, v in zip(ids, a)])
    _jsonl(d / "out" / "B-batch-01.jsonl", [{"pair_id": i, "same": v} for i, v in zip(ids, b)])
    if third:
        _jsonl(d / "third-01.jsonl", [{"pair_id": i} for i in third])
        _jsonl(d / "out" / "C-third-01.jsonl", [{"pair_id": i, "same": v} for i, v in third.items()])
    return d


@pytest.fixture()
def gold(tmp_path):
    here = tmp_path / "gold"
    here.mkdir()
    _jsonl(here / "selection.jsonl", [_sel(f"p{i}", None) for i in range(1, 5)])
    _jsonl(here / "selection_r2.jsonl", [_sel(f"p{i}", 2, "ru") for i in range(5, 9)])
    _jsonl(here / "dates_selection.jsonl", [])
    r1 = _round(tmp_path, "r1", ["p1", "p2", "p3", "p4"], [True, False, False, True], [True, False, True, True],
                third={"p3": False})
    r2 = _round(tmp_path, "r2", ["p5", "p6", "p7", "p8"], [True, True, False, False], [True, True, False, False])
    return here, r1, r2


def test_add_keeps_earlier_rounds_and_recomputes_stats(gold, tmp_path):
    here, r1, r2 = gold
    merge_mod.merge(r1, here=here)
    first = (here / "pairs.jsonl").read_text(encoding="utf-8")
    stats = merge_mod.merge(r2, add=True, here=here)
    pairs = merge_mod.read_jsonl(here / "pairs.jsonl")
    assert [p["pair_id"] for p in pairs] == [f"p{i}" for i in range(1, 9)]
    assert (here / "pairs.jsonl").read_text(encoding="utf-8").startswith(first)   # round 1 rows unchanged
    assert {p["pair_id"]: p["same"] for p in pairs}["p3"] is False                 # the third's majority kept
    assert sum(p["same"] for p in pairs) == 4
    s = stats["pairs"]
    assert s["items"] == 8 and s["double_labelled"] == 8 and s["third_opinions"] == 1
    assert s["by_round"]["1"]["disagreed"] == 1 and s["by_round"]["1"]["kappa"] == pytest.approx(0.5)
    assert s["by_round"]["2"] == {"items": 4, "same": 2, "same_by_lang": {"ru": 2}, "double_labelled": 4,
                                  "raw_agreement": 1.0, "kappa": 1.0, "disagreed": 0, "third_opinions": 0,
                                  "undecided": 0}
    assert len(merge_mod.read_jsonl(here / "annotations.jsonl")) == 8 * 2 + 1
    # the same gold as a rebuild from one batch dir holding both rounds
    both = tmp_path / "both"
    _round(tmp_path, "both", [], [], [])
    for d, n in ((r1, "01"), (r2, "02")):
        for f in d.rglob("*-01.jsonl"):
            dest = both / f.relative_to(d).as_posix().replace("-01.jsonl", f"-{n}.jsonl")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (both / "batch-01.jsonl").write_text((r1 / "batch-01.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    added = (here / "pairs.jsonl").read_text(encoding="utf-8")
    rebuilt = merge_mod.merge(both, here=here)
    assert (here / "pairs.jsonl").read_text(encoding="utf-8") == added
    assert rebuilt["pairs"]["by_round"] == s["by_round"] and rebuilt["pairs"]["kappa"] == s["kappa"]


def test_add_refuses_ids_already_in_the_gold(gold):
    here, r1, _ = gold
    merge_mod.merge(r1, here=here)
    before = (here / "pairs.jsonl").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="already in the gold.*p1"):
        merge_mod.merge(r1, add=True, here=here)
    assert (here / "pairs.jsonl").read_text(encoding="utf-8") == before


def test_rebuild_without_add_keeps_only_the_batch_dir(gold):
    here, r1, r2 = gold
    merge_mod.merge(r1, here=here)
    stats = merge_mod.merge(r2, here=here)
    assert [p["pair_id"] for p in merge_mod.read_jsonl(here / "pairs.jsonl")] == ["p5", "p6", "p7", "p8"]
    assert list(stats["pairs"]["by_round"]) == ["2"]
