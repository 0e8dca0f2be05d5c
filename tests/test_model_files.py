"""Damaged model files (issue #17): a missing, truncated or corrupt file of models/ stops a run
before anything is written, with the file's name and the command that rebuilds it. The damage is
done in a copy of models/ (POLCLAIMS_MODELS_DIR); the real files are only read."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import config
from pipeline.config import PROJECT_ROOT, resolve_path
from pipeline.nlp.model_files import ModelFileError, check_files, file_problem, run_files
from pipeline.benchmarks.reliability import damaged_models_copy

SAMPLE = PROJECT_ROOT / "data" / "samples" / "decentralization-statement.txt"


def test_the_run_files_cover_every_model_folder_the_pipelines_load():
    folders = {mf.path.parent.name for mf in run_files()}
    adapter = Path(config.load("nlp_ru")["adapter"]["model"]).parent.name
    assert {"kk", adapter, "langid"} <= folders
    names = {mf.path.name for mf in run_files()}
    assert {"kk_pos.pt", "kk_depparse.pt", "kk_pretrain.pt", "kk_tag_corrector.joblib", "adapter.npz",
            "langid_nb.json"} <= names


def test_the_shipped_files_read_through():
    for mf in run_files():
        assert file_problem(mf.path) is None, mf.path
    for path in (Path("models/claims/model.joblib"), Path("models/topics/model.joblib")):
        assert file_problem(PROJECT_ROOT / path) is None


@pytest.mark.parametrize("cut", ["half", "last byte", "first 100 bytes"])
def test_every_truncated_run_file_is_found(tmp_path, cut):
    for mf in run_files():
        data = mf.path.read_bytes()
        keep = {"half": len(data) // 2, "last byte": len(data) - 1, "first 100 bytes": 100}[cut]
        if keep >= len(data) or mf.path.suffix == ".json" and cut != "half":
            continue  # a 3-byte resources.json has no 100-byte head; JSON cut at its end may still parse
        damaged = tmp_path / mf.path.name
        damaged.write_bytes(data[:keep])
        assert file_problem(damaged), f"{mf.path.name} cut to {keep} of {len(data)} bytes passed"


def test_a_flipped_byte_in_a_compressed_or_zipped_model_is_found(tmp_path):
    for rel in ("kk/kk_tag_corrector.joblib", "ru_adapter/adapter.npz", "topics/model.joblib"):
        src = resolve_path("models/" + rel)
        data = bytearray(src.read_bytes())
        data[len(data) // 2] ^= 0xFF
        damaged = tmp_path / src.name
        damaged.write_bytes(bytes(data))
        assert file_problem(damaged), rel


def test_models_dir_option_points_the_run_at_a_copy(tmp_path, monkeypatch):
    pos = resolve_path("models/kk/kk_pos.pt")
    copy = damaged_models_copy(tmp_path / "models", pos)
    monkeypatch.setenv("POLCLAIMS_MODELS_DIR", str(copy))
    assert resolve_path("models/kk/kk_pos.pt") == copy / "kk" / "kk_pos.pt"
    with pytest.raises(ModelFileError) as err:
        check_files(run_files())
    msg = str(err.value)
    assert str(copy / "kk" / "kk_pos.pt") in msg and "truncated" in msg and "make train-kk" in msg
    assert pos.stat().st_size > (copy / "kk" / "kk_pos.pt").stat().st_size  # the real file untouched


def _run(args: list[str], models: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, POLCLAIMS_MODELS_DIR=str(models), PYTHONWARNINGS="ignore",
               PYTHONPATH=str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "pipeline.cli.app", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


@pytest.mark.parametrize("workers", [1, 2])
def test_process_with_a_truncated_kazakh_model_names_it_and_writes_nothing(tmp_path, workers):
    copy = damaged_models_copy(tmp_path / "models", resolve_path("models/kk/kk_pos.pt"))
    out, db = tmp_path / "out.jsonl", tmp_path / "out.db"
    r = _run(["process", str(SAMPLE), "--out", str(out), "--db", str(db), "--workers", str(workers),
              "--no-progress"], copy, tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "kk_pos.pt" in r.stderr and "truncated" in r.stderr and "make train-kk" in r.stderr
    assert not out.exists() and not db.exists()


def test_loading_the_kazakh_pipeline_from_a_damaged_copy_names_the_file(tmp_path):
    """Commands that load a pipeline without `process`'s check first (annotate) say the same."""
    copy = damaged_models_copy(tmp_path / "models", resolve_path("models/kk/kk_depparse.pt"))
    (tmp_path / "kk.txt").write_text("Үкімет биыл жаңа мектептер салуы тиіс.\n", encoding="utf-8")
    r = _run(["annotate", "kk.txt", "--lang", "kk"], copy, tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "kk_depparse.pt" in r.stderr and "make train-kk" in r.stderr
    assert not r.stdout.strip()
