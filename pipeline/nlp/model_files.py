"""Check the model files a run loads before it loads them: a missing, truncated or corrupt file
stops the run at once with the file's name and the command that rebuilds it, instead of an
error from deep inside Stanza, PyTorch or NumPy after the output and the store were opened.

The checks read the files' structure without running them (no PyTorch import, no code from the
file is executed): a PyTorch file of the legacy format (Stanza saves that one) must end exactly
where its tensors' sizes say; a zip file (PyTorch's newer format, NumPy's .npz) must pass its
CRC checks; a joblib / pickle file must unpickle to its end; a JSON model must parse. Which files
a run loads, and how each is rebuilt, comes from the configs (configs/nlp_kk.toml, nlp_ru.toml,
segment.toml); the claim and topic models are loaded by their own checks (processing.check_models).
"""
from __future__ import annotations

import json
import pickle
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from pipeline import config

# torch/serialization.py: the legacy format's first pickle
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
# bytes per element of the storage classes a legacy PyTorch file names
_STORAGE_BYTES = {"DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2,
                  "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1,
                  "BoolStorage": 1, "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16,
                  "UntypedStorage": 1, "QInt8Storage": 1, "QUInt8Storage": 1, "QInt32Storage": 4}


class ModelFileError(ValueError):
    """A model file that is missing or cannot be read; the message names it and its rebuild command."""


@dataclass(frozen=True)
class ModelFile:
    path: Path
    what: str  # "Kazakh pos model"
    rebuild: str  # "make train-kk"
    optional: bool = False  # a missing optional file is not an error (the langid model)


# ---- which files ---------------------------------------------------------------------------
def kazakh_files(cfg: dict | None = None) -> list[ModelFile]:
    cfg = cfg or config.load("nlp_kk")
    mdir = config.resolve_path(cfg["model_dir"])
    files = cfg["models"]
    procs = list(cfg.get("processors", []))
    rebuild = "make train-kk"
    out = [ModelFile(mdir / files[p], f"Kazakh {p} model", rebuild) for p in procs]
    if set(procs) & {"pos", "depparse", "ner"}:
        out.append(ModelFile(mdir / files["pretrain"], "Kazakh word vectors (pretrain)", rebuild))
    for direction in ("forward", "backward"):
        if files.get(f"charlm_{direction}"):
            out.append(ModelFile(mdir / files[f"charlm_{direction}"], f"Kazakh {direction} character LM", rebuild))
    if files.get("tag_corrector") and "pos" in procs:
        out.append(ModelFile(mdir / files["tag_corrector"], "Kazakh tag corrector", rebuild))
    out.append(ModelFile(mdir / "resources.json", "Kazakh Stanza resources file", rebuild))
    return out


def russian_files(cfg: dict | None = None) -> list[ModelFile]:
    cfg = cfg or config.load("nlp_ru")
    adapter = cfg.get("adapter", {})
    if not adapter.get("apply", False) or not adapter.get("model"):
        return []
    return [ModelFile(config.resolve_path(adapter["model"]), "Russian UD adapter",
                      adapter.get("rebuild", "make train-ru-adapter"))]


def langid_files() -> list[ModelFile]:
    path = config.load("segment").get("langid", {}).get("model_path")
    if not path:
        return []
    return [ModelFile(config.resolve_path(path), "language identification model",
                      "python -m pipeline.evaluation.langid --train", optional=True)]


def run_files() -> list[ModelFile]:
    """Every model file of models/ that `process` loads, besides the claim and topic models."""
    return [*langid_files(), *kazakh_files(), *russian_files()]


# ---- how each is read ----------------------------------------------------------------------
class _Anything(dict):
    """Stands in for every class a pickle names: the structure is read, no code runs."""

    def __init__(self, *args, **kwargs):  # noqa: D401 - any constructor arguments
        pass

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass


class _StructureUnpickler(pickle.Unpickler):
    def __init__(self, fh, storages: list | None = None):
        super().__init__(fh)
        self.storages = storages

    def find_class(self, module, name):
        if self.storages is not None and module == "torch" and name.endswith("Storage"):
            return name  # a storage type: its element size decides how many bytes follow
        return _Anything

    def persistent_load(self, pid):
        if self.storages is None:
            raise pickle.UnpicklingError("unexpected persistent id")
        if isinstance(pid, tuple) and pid and pid[0] == "storage":
            _, storage_type, key, _location, numel, _view = pid
            self.storages.append((str(key), storage_type, int(numel)))
        return _Anything()


def _check_torch_legacy(path: Path, fh) -> str | None:
    size = path.stat().st_size
    for expect in ("magic", "protocol", "sys_info"):
        value = _StructureUnpickler(fh).load()
        if expect == "magic" and value != TORCH_MAGIC:
            return "not a PyTorch file"
    storages: list = []
    _StructureUnpickler(fh, storages).load()
    keys = _StructureUnpickler(fh).load()
    by_key = {k: (t, n) for k, t, n in storages}
    pos = fh.tell()
    for key in keys:
        storage_type, numel = by_key.get(str(key), (None, None))
        if storage_type not in _STORAGE_BYTES:
            return f"unknown tensor storage {storage_type!r}"
        head = fh.read(8)
        if len(head) < 8:
            return f"truncated: {size} bytes, tensor data missing"
        (stored,) = struct.unpack("<q", head)
        if stored != numel:
            return f"corrupt: tensor size {stored} where {numel} was recorded"
        pos += 8 + numel * _STORAGE_BYTES[storage_type]
        if pos > size:
            return f"truncated: {size} bytes of at least {pos}"
        fh.seek(pos)
    if pos != size:
        return f"{size - pos} unexpected bytes after the last tensor"
    return None


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be a complete model file (None: it reads through to its end)."""
    path = Path(path)
    if not path.is_file():
        return "not found" if not path.exists() else "not a file"
    if path.stat().st_size == 0:
        return "empty (0 bytes)"
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
            return f"corrupt: member {bad} fails its checksum" if bad else None
        suffix = path.suffix.lower()
        with path.open("rb") as fh:
            if suffix == ".json":
                json.loads(fh.read().decode("utf-8"))
                return None
            if suffix == ".pt":
                if fh.read(2)[:1] != b"\x80":
                    return "not a PyTorch file"
                fh.seek(0)
                return _check_torch_legacy(path, fh)
            if suffix in (".joblib", ".pkl", ".pickle"):
                return _check_joblib(fh)
            if suffix == ".npz" or suffix == ".zip":
                return "not a zip archive (truncated or corrupt)"
    except (EOFError, pickle.UnpicklingError, zipfile.BadZipFile, zlib.error, OSError, UnicodeDecodeError, json.JSONDecodeError,
            struct.error, ValueError, IndexError, KeyError, TypeError, AttributeError, OverflowError,
            MemoryError, RecursionError) as exc:
        return f"unreadable ({type(exc).__name__}: {str(exc)[:120] or 'truncated'})"
    return None


def _check_joblib(fh) -> str | None:
    """joblib writes a pickle whose NumPy arrays follow their wrappers inline, usually as one
    zlib (or gzip) stream: a compressed file must decompress to the stream's end (its checksum
    included); an uncompressed one must unpickle, arrays and all, to its end."""
    import zlib

    head = fh.read(2)
    fh.seek(0)
    if head[:1] == b"\x78" or head == b"\x1f\x8b":
        d = zlib.decompressobj(zlib.MAX_WBITS | (16 if head == b"\x1f\x8b" else 0))
        while chunk := fh.read(1 << 20):
            d.decompress(chunk, 1 << 20)
            while d.unconsumed_tail:
                d.decompress(d.unconsumed_tail, 1 << 20)
        if not d.eof:
            return "truncated: the compressed data ends early"
        if d.unused_data or fh.read(1):
            return "unexpected bytes after the end of the model"
        return None
    from joblib.numpy_pickle import NumpyUnpickler

    class Structure(NumpyUnpickler):
        def find_class(self, module, name):
            if module.split(".")[0] in ("numpy", "joblib"):
                return super().find_class(module, name)
            return _Anything

    Structure(str(getattr(fh, "name", "model")), fh, ensure_native_byte_order=False).load()
    if fh.read(1):
        return "unexpected bytes after the end of the model"
    return None


def describe(mf: ModelFile, problem: str) -> str:
    return (f"{mf.what} {mf.path}: {problem}; rebuild it with `{mf.rebuild}`"
            + (" (or restore the file from a copy)" if problem != "not found" else ""))


def check_files(files: list[ModelFile]) -> None:
    """Raise ModelFileError for the first file of `files` that is missing or cannot be read."""
    for mf in files:
        if mf.optional and not mf.path.exists():
            continue
        problem = file_problem(mf.path)
        if problem:
            raise ModelFileError(describe(mf, problem))


def check_language(lang: str) -> None:
    """The files of one language pipeline (called when loading it failed, to say which file)."""
    check_files(_LANGUAGE_FILES.get(lang, lambda: [])())


_LANGUAGE_FILES = {"kk": kazakh_files, "ru": russian_files}
