"""Project paths, anchored on the package location (never the working directory)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def params_dir() -> Path:
    """The folder holding the YAML parameters (``KCPP_PARAMS`` overrides it)."""
    return Path(os.environ.get("KCPP_PARAMS", PROJECT_ROOT / "params")).resolve()


def notebooks_dir() -> Path:
    """The folder holding the report notebooks."""
    return PROJECT_ROOT / "notebooks"


def default_prepared_dir() -> Path:
    """Where ``kcpp prepare`` writes the demo dataset by default."""
    return PROJECT_ROOT / "data" / "prepared" / "demo"


def default_outputs_dir() -> Path:
    """Where ``kcpp report`` writes report sets by default."""
    return PROJECT_ROOT / "outputs"


def real_data_dir() -> Path:
    """The shared real open-data folder (``../shared/data/real`` beside the repo)."""
    return Path(os.environ.get("KCPP_REAL_DATA", PROJECT_ROOT.parent / "shared" / "data" / "real"))
