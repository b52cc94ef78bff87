"""Reading raw CSV files with errors that name the file, column and line."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..config import FLAGS
from ..errors import SourceError

log = logging.getLogger(__name__)


def sniff_text(path: Path) -> None:
    """Raise :class:`SourceError` if ``path`` is missing, empty or not a text file."""
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    if path.is_dir():
        raise SourceError(f"{path}: is a folder, expected a CSV file")
    head = path.read_bytes()[:4096]
    if not head.strip():
        raise SourceError(f"{path}: file is empty")
    if b"\x00" in head or head[:2] == b"PK" or head[:4] == b"%PDF":
        raise SourceError(
            f"{path}: not a CSV text file (binary content; a zip, spreadsheet or PDF?)"
        )


def read_csv_checked(
    path: str | Path,
    required: Sequence[str],
    *,
    kind: str,
    dtype: dict | None = None,
    strip_headers: bool = True,
) -> pd.DataFrame:
    """Read a CSV whose header must contain ``required`` columns.

    Handles a UTF-8 byte-order mark and Windows line endings; header names are stripped of
    surrounding white space (IoD2019 File 7's last heading ends with a space). Extra columns
    are allowed and logged. A file that is empty, binary, ragged (a row with more fields than
    the header) or lacks a required column raises :class:`SourceError` naming the file,
    column and line. The returned frame has a column ``_line``: the 1-based line number of
    each row in the file (header = line 1).
    """
    path = Path(path)
    sniff_text(path)
    try:
        df = pd.read_csv(
            path,
            dtype=dtype or str,
            encoding="utf-8-sig",
            keep_default_na=False,
            na_values=[""],
            on_bad_lines="error",
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise SourceError(f"{path}: file has no header row") from None
    except pd.errors.ParserError as exc:
        raise SourceError(f"{path}: not a well-formed CSV ({kind}): {exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if strip_headers:
        df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SourceError(
            f"{path}: missing column(s) {missing} for a {kind} file "
            f"(found: {list(df.columns)[:15]})"
        )
    extra = [c for c in df.columns if c not in required]
    if extra:
        log.info("%s: ignoring %d extra column(s): %s", path.name, len(extra), extra[:10])
    df["_line"] = range(2, len(df) + 2)
    return df


def numeric(df: pd.DataFrame, col: str, path: Path, *, integer: bool = False) -> pd.Series:
    """Convert a text column to numbers; a bad value raises naming file, column and line."""
    s = df[col].astype("str").str.replace(",", "", regex=False).str.strip()
    s = s.where(df[col].notna(), None)
    out = pd.to_numeric(s, errors="coerce")
    bad = out.isna() & df[col].notna()
    if bad.any():
        i = bad.idxmax()
        raise SourceError(
            f"{path}: column '{col}' line {df.loc[i, '_line']}: {df.loc[i, col]!r} is not a number"
        )
    if integer:
        if (out.dropna() % 1 != 0).any():
            i = (out % 1 != 0).idxmax()
            raise SourceError(
                f"{path}: column '{col}' line {df.loc[i, '_line']}: "
                f"{df.loc[i, col]!r} is not a whole number"
            )
    return out


def with_default_flags(out: pd.DataFrame) -> pd.DataFrame:
    """Add the canonical flag columns as False (sources that carry no flags)."""
    for f in FLAGS:
        out[f] = False
    return out
