"""The end of a run: the manifest, the privacy scan of every file, verification against the
manifest, and the atomic publication (or ``<year>.failed`` for diagnosis)."""

from __future__ import annotations

import platform
import re
from importlib import metadata
from pathlib import Path

from kcpp_analysis.core.outputset import MARKER
from kcpp_analysis.data.dataset import Dataset

PACKAGES = [
    "kcpp-analysis",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "pandera",
    "pydantic",
    "duckdb",
    "pyarrow",
]


def versions() -> dict[str, str]:
    v = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            v[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            v[p] = "not installed"
    return v


def victim_tokens(ds: Dataset) -> set[str]:
    v = ds.incidents["victim_id"].dropna()
    return set(v.astype(str).unique())


_TOKEN = re.compile(r"[A-Za-z0-9_\-]{6,}")


def leaks_in(folder: Path, victims: set[str], extra: dict[str, str] | None = None) -> list[str]:
    """Files of ``folder`` (and named ``extra`` texts) holding a victim identifier.

    Every file is scanned: text files as text; parquet files by their string columns.
    Returns ``"<relative path> (<n> victim id(s))"`` per leaking file; never the ids.
    """
    if not victims:
        return []
    texts: dict[str, str] = dict(extra or {})
    found = []
    for p in sorted(Path(folder).rglob("*")):
        if not p.is_file() or p.name == MARKER:
            continue
        rel = p.relative_to(folder).as_posix()
        if p.suffix == ".parquet":
            import pyarrow.parquet as pq

            t = pq.read_table(p)
            vals = [
                str(v)
                for c in t.column_names
                if str(t.schema.field(c).type) in ("string", "large_string")
                for v in t.column(c).to_pylist()
                if v is not None
            ]
            texts[rel] = "\n".join(vals)
        else:
            texts[rel] = p.read_text(encoding="utf-8", errors="replace")
    for rel, text in texts.items():
        hits = {t for t in _TOKEN.findall(text) if t in victims}
        if hits:
            found.append(f"{rel} ({len(hits)} victim id(s))")
    return found
