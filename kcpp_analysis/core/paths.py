"""Project paths, anchored on the package location (never the working directory)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PROJECT_ROOT = PACKAGE_DIR.parent
#: open reference extracts shipped with the package (OGL; ``kcpp reference build``)
REFERENCE_DIR = PACKAGE_DIR / "resources" / "reference"


def params_dir() -> Path:
    """The folder holding the YAML parameters (``KCPP_PARAMS`` overrides it)."""
    return Path(os.environ.get("KCPP_PARAMS", PROJECT_ROOT / "params")).resolve()


def notebooks_dir() -> Path:
    """The folder holding the report notebooks."""
    return PROJECT_ROOT / "notebooks"


def cache_dir() -> Path:
    """The toolkit's cache, outside the repository: ``$KCPP_CACHE``, else
    ``$XDG_CACHE_HOME/kcpp-sia``, else ``~/.cache/kcpp-sia``."""
    if os.environ.get("KCPP_CACHE"):
        return Path(os.environ["KCPP_CACHE"]).resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).resolve() / "kcpp-sia"


def default_prepared_dir() -> Path:
    """Where the demo dataset is prepared (and reused by content hash): the cache."""
    return cache_dir() / "prepared" / "demo"


def default_outputs_dir() -> Path:
    """Where ``kcpp report`` writes report sets by default (``$KCPP_OUTPUTS`` overrides)."""
    return Path(os.environ.get("KCPP_OUTPUTS", PROJECT_ROOT / "outputs")).resolve()


def real_data_dir() -> Path:
    """The shared real open-data folder (``../shared/data/real`` beside the repo)."""
    return Path(os.environ.get("KCPP_REAL_DATA", PROJECT_ROOT.parent / "shared" / "data" / "real"))


def place_slug(place: str) -> str:
    """A place's name in file and table names: ``place_<slug>.html``.

    >>> place_slug("Dewsbury & Mirfield"), place_slug("Rural")
    ('dewsbury-mirfield', 'rural')
    """
    import re

    return re.sub(r"[^a-z0-9]+", "-", place.lower()).strip("-")
