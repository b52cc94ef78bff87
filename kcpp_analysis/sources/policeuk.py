"""police.uk street-level crime CSVs, exactly as downloaded, read through DuckDB.

Accepts the archive as downloaded (a zip), the unpacked folder tree
(``YYYY-MM/YYYY-MM-<force>-street.csv``), a single file or a glob. Each file's header must
hold the 12 published columns (``Crime ID, Month, Reported by, Falls within, Longitude,
Latitude, Location, LSOA code, LSOA name, Crime type, Last outcome category, Context``);
extra columns are allowed and ignored (logged). Files are read by DuckDB with an explicit
schema (no type sniffing), in parallel, not row by row in Python.

Treatment, every count recorded in ``dataset.json`` ``quality``:

- ``Month`` must be ``YYYY-MM`` (else an error naming file, column and line); the incident
  date is the first of the month with ``date_precision = "month"``.
- ``Crime type`` maps through the police_uk names of ``params/categories.yaml``; an unknown
  type is an error naming file and line. ASB rows become ``police_asb``, others
  ``police_crime``.
- ASB rows have no Crime ID: their id is ``ASB-`` + the first 20 hex digits of the SHA-256
  of file name, line number and row content, stable across runs of the same file.
- A Crime ID seen before (in any file) is a duplicate: dropped and counted.
- Rows with no LSOA code (police.uk "No Location") are dropped and counted
  (``no_location``); LSOAs outside the partnership's ``areas`` are dropped and counted
  (``outside_area``).
- 2021 LSOA codes (police.uk moved to them) are mapped to the 2011 codes of ``areas`` through
  the ONS LSOA11-LSOA21 lookup: unchanged and split codes map to their 2011 parent; a merged
  2021 LSOA maps to the first of its 2011 parents by code (counted as ``lsoa21_merged``).
"""

from __future__ import annotations

import logging
import re
import tempfile
import zipfile
from pathlib import Path

import duckdb
import pandas as pd

from ..config import Params
from ..errors import SourceError
from .common import sniff_text

log = logging.getLogger(__name__)

COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
           "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
TYPES = {"Longitude": "DOUBLE", "Latitude": "DOUBLE"}
STREET_FILE = re.compile(r"\d{4}-\d{2}-.+-street\.csv$")


def _header(path: Path) -> list[str]:
    sniff_text(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        first = fh.readline().rstrip("\r\n")
    import csv

    return [c.strip() for c in next(csv.reader([first]))]


def find_files(paths: list[Path], tmpdir: Path) -> list[Path]:
    """Expand folders (recursively, ``*-street.csv``) and zips (extracted to ``tmpdir``)."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(x for x in p.rglob("*.csv") if STREET_FILE.search(x.name))
            if not found:
                raise SourceError(f"{p}: folder holds no police.uk *-street.csv files")
            files += found
        elif zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                names = [n for n in z.namelist() if STREET_FILE.search(n)]
                if not names:
                    raise SourceError(f"{p}: zip holds no police.uk *-street.csv files")
                for n in names:
                    z.extract(n, tmpdir)
                    files.append(tmpdir / n)
        else:
            files.append(p)
    return files


def _read_group(files: list[Path], header: list[str]) -> pd.DataFrame:
    cols = {c: TYPES.get(c, "VARCHAR") for c in header}
    lst = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    sel = ", ".join(f'"{c}"' for c in COLUMNS)
    q = (f"SELECT {sel}, filename AS _file FROM read_csv({lst}, header=true, columns={cols}, "
         "auto_detect=false, filename=true, quote='\"', escape='\"', delim=',')")
    try:
        return duckdb.sql(q).df()
    except duckdb.Error as exc:
        msg = str(exc)
        m = re.search(r"Line: (\d+)", msg)
        where = f"line {m.group(1)}" if m else "unknown line"
        fm = re.search(r"file[: ]+\"?([^\s\"]+\.csv)", msg)
        fname = fm.group(1) if fm else (str(files[0]) if len(files) == 1 else f"one of {len(files)} files")
        reason = msg.splitlines()[0][:200]
        if "Expected Number of Columns" in msg or "Found:" in msg:
            reason = "row has the wrong number of columns (truncated or malformed line)"
        raise SourceError(f"{fname}: {where}: {reason}") from None


def read_policeuk_street(paths: list[Path], params: Params, areas: pd.DataFrame,
                         lsoa21_map: dict[str, str] | None = None) -> tuple[pd.DataFrame, dict]:
    """Read police.uk street files into canonical incident rows plus quality counts."""
    with tempfile.TemporaryDirectory() as td:
        files = find_files(paths, Path(td))
        groups: dict[tuple, list[Path]] = {}
        for f in files:
            h = _header(f)
            missing = [c for c in COLUMNS if c not in h]
            if missing:
                raise SourceError(f"{f}: missing column(s) {missing} (police.uk street layout has "
                                  f"{len(COLUMNS)} columns; found {h})")
            extra = [c for c in h if c not in COLUMNS]
            if extra:
                log.info("%s: ignoring extra column(s) %s", f.name, extra)
            if len(set(h)) != len(h):
                raise SourceError(f"{f}: repeated column names in the header: {h}")
            groups.setdefault(tuple(h), []).append(f)
        raw = pd.concat([_read_group(fs, list(h)) for h, fs in groups.items()], ignore_index=True)
    raw["_line"] = raw.groupby("_file").cumcount() + 2
    q: dict[str, int] = {"rows_read": len(raw), "files": len(files)}
    bad = ~raw["Month"].fillna("").str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")
    if bad.any():
        r = raw[bad].iloc[0]
        raise SourceError(f"{r['_file']}: column 'Month' line {r['_line']}: {r['Month']!r} is not "
                          f"a YYYY-MM month ({int(bad.sum())} such row(s))")
    mapping = {n.lower(): code for code, c in params.categories.items()
               for n in c.raw.get("police_uk", [])}
    ctype = raw["Crime type"].fillna("").str.strip().str.lower()
    raw["category"] = ctype.map(mapping)
    unk = raw["category"].isna()
    if unk.any():
        r = raw[unk].iloc[0]
        raise SourceError(f"{r['_file']}: column 'Crime type' line {r['_line']}: unknown crime type "
                          f"{r['Crime type']!r} (not in categories.yaml police_uk names)")
    raw["source"] = raw["category"].map(lambda c: params.categories[c].source)
    # ids: Crime ID, or a stable derived id for ASB (no Crime ID published)
    cid = raw["Crime ID"].fillna("").str.strip()
    no_id = cid == ""
    if no_id.any():
        sub = raw.loc[no_id]
        key = (sub["_file"].map(lambda s: Path(s).name) + "|" + sub["_line"].astype(str) + "|"
               + sub[COLUMNS[1:]].astype(object).fillna("").astype(str).agg("|".join, axis=1))
        import hashlib

        cid = cid.copy()
        cid[no_id] = "ASB-" + key.map(lambda k: hashlib.sha256(k.encode()).hexdigest()[:20])
    raw["incident_id"] = cid
    dup = raw["incident_id"].duplicated()
    q["duplicates_dropped"] = int(dup.sum())
    raw = raw[~dup]
    lsoa = raw["LSOA code"].fillna("").str.strip()
    no_loc = lsoa == ""
    q["no_location"] = int(no_loc.sum())
    raw, lsoa = raw[~no_loc], lsoa[~no_loc]
    known = set(areas["lsoa_code"])
    if lsoa21_map:
        remap = ~lsoa.isin(known) & lsoa.isin(list(lsoa21_map))
        q["lsoa21_remapped"] = int(remap.sum())
        lsoa = lsoa.where(~remap, lsoa.map(lsoa21_map))
    outside = ~lsoa.isin(known)
    q["outside_area"] = int(outside.sum())
    raw, lsoa = raw[~outside], lsoa[~outside]
    out = pd.DataFrame({
        "incident_id": raw["incident_id"].to_numpy(),
        "date": pd.to_datetime(raw["Month"] + "-01").to_numpy(),
        "date_precision": "month", "source": raw["source"].to_numpy(),
        "category": raw["category"].to_numpy(), "lsoa_code": lsoa.to_numpy(), "victim_id": None,
        "hate_strand": None, "severity": None})
    for f in ("domestic_abuse", "hate_crime", "vawg", "knife_crime", "drug_related", "alcohol_related"):
        out[f] = False
    q["rows_kept"] = len(out)
    return out, q


def read_lsoa11_lsoa21(path: Path, known_2011: set[str]) -> tuple[dict[str, str], int]:
    """2021 code -> 2011 code map from the ONS exact-fit lookup (F_LSOA11CD / LSOA11CD)."""
    from .common import read_csv_checked

    head = read_csv_checked(path, [], kind="ONS LSOA11 to LSOA21 lookup")
    c11 = "F_LSOA11CD" if "F_LSOA11CD" in head else "LSOA11CD"
    for c in (c11, "LSOA21CD", "CHGIND"):
        if c not in head:
            raise SourceError(f"{path}: missing column {c!r} (ONS LSOA11 to LSOA21 lookup)")
    t = head[head[c11].isin(known_2011)].sort_values([c11])
    merged = int((t["CHGIND"] == "M").sum())
    m = t.drop_duplicates("LSOA21CD").set_index("LSOA21CD")[c11].to_dict()
    return m, merged
