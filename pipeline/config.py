"""Load settings from `configs/`: pipeline choices and per-language knowledge live there, not in code."""
from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent


def config_dir() -> Path:
    """`$POLCLAIMS_CONFIG_DIR`, else the repository's `configs/`."""
    return Path(os.environ.get("POLCLAIMS_CONFIG_DIR", PROJECT_ROOT / "configs"))


def models_dir() -> Path:
    """`$POLCLAIMS_MODELS_DIR`, else the repository's `models/`: config paths under `models/`
    resolve there (a run on a copy of the models, a test's damaged copy)."""
    return Path(os.environ.get("POLCLAIMS_MODELS_DIR", PROJECT_ROOT / "models"))


def shared_data_dir() -> Path:
    """Where `../shared/data` is (override with `$POLCLAIMS_SHARED_DATA`)."""
    return Path(os.environ.get("POLCLAIMS_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    """Read `configs/<name>.toml` (e.g. "pipeline", "lang/kk")."""
    path = config_dir() / f"{name}.toml"
    with path.open("rb") as fh:
        return tomllib.load(fh)


def resolve_path(value: str) -> Path:
    """Config paths are relative to the project root unless absolute; those under `models/`
    are under `models_dir()`."""
    p = Path(value)
    if p.is_absolute():
        return p
    if p.parts and p.parts[0] == "models" and os.environ.get("POLCLAIMS_MODELS_DIR"):
        return models_dir().joinpath(*p.parts[1:])
    return PROJECT_ROOT / p
