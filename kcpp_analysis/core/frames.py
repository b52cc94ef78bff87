"""Checks every public analysis function makes on the frames it is given, with one wording."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def require_columns(df: pd.DataFrame, cols: Sequence[str], fn: str, table: str) -> None:
    """Raise ``ValueError`` naming the function, the table and the missing columns.

    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "f", "LSOA")
    Traceback (most recent call last):
    ...
    ValueError: f: column(s) ['b'] missing from the LSOA table
    """
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{fn}: column(s) {missing} missing from the {table} table")


def require_positive(df: pd.DataFrame, fn: str, col: str = "population") -> None:
    """Raise ``ValueError`` when ``col`` is zero, negative or missing in any row (naming up
    to five LSOA codes: area codes, never personal data)."""
    bad = df[~(df[col] > 0)]
    if len(bad):
        codes = ", ".join(map(str, bad.get("lsoa_code", bad.index)[:5]))
        raise ValueError(
            f"{fn}: column {col!r} must be positive; zero or missing for "
            f"{len(bad)} row(s) (e.g. {codes})"
        )
