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
- The rows come back with the published ``LSOA code`` and the coordinates (``_lon``,
  ``_lat``); ``kcpp prepare`` places them in the areas table through
  :class:`kcpp_analysis.crosswalk.Crosswalk` (codes of either vintage, case and padding
  normalised, coordinates when the code is missing) and counts rows with no location or
  outside the area.
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
from .common import sniff_text, with_default_flags

log = logging.getLogger(__name__)

COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
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


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _duck_error(exc: Exception, files: list[Path]) -> SourceError:
    msg = str(exc)
    m = re.search(r"Line: (\d+)", msg)
    where = f"line {m.group(1)}" if m else "unknown line"
    fm = re.search(r"file[: ]+\"?([^\s\"]+\.csv)", msg)
    fname = (
        fm.group(1) if fm else (str(files[0]) if len(files) == 1 else f"one of {len(files)} files")
    )
    reason = msg.splitlines()[0][:200]
    if "Expected Number of Columns" in msg or "Found:" in msg:
        reason = "row has the wrong number of columns (truncated or malformed line)"
    return SourceError(f"{fname}: {where}: {reason}")


def _line_of(path: str, column: str, value) -> int:
    """Line number (header = 1) of the first row whose ``column`` equals ``value`` (error path)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    hit = df.index[df[column].str.strip() == ("" if value is None else str(value).strip())]
    return int(hit[0]) + 2 if len(hit) else -1


DUCKDB_MEMORY = "1GB"


def _read_compact(path: Path) -> pd.DataFrame:
    """Parquet -> pandas with low-cardinality text as categories (codes, not copies)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path, read_dictionary=["category", "source", "lsoa_code"])
    df = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()  # give freed Arrow memory back to the system
    return df


def read_policeuk_street(paths: list[Path], params: Params) -> tuple[pd.DataFrame, dict]:
    """Read police.uk street files into canonical incident rows plus quality counts.

    The work happens in one DuckDB connection: explicit-schema CSV scan, month check, crime
    type mapping (a join), derived ASB ids (SHA-256 in SQL) and de-duplication; the rows
    come back to pandas (via Arrow) with their LSOA code as published and coordinates.
    """
    import time

    t0 = time.perf_counter()

    def step(label: str) -> None:
        log.debug("police.uk %s: %.2fs", label, time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as td:
        con = duckdb.connect()
        # bounded memory: DuckDB spills to disk beyond this (sorts, hash tables)
        con.execute(f"SET memory_limit='{DUCKDB_MEMORY}'")
        con.execute(f"SET temp_directory='{Path(td) / 'spill'}'")
        files = find_files(paths, Path(td))
        groups: dict[tuple, list[Path]] = {}
        for f in files:
            h = _header(f)
            missing = [c for c in COLUMNS if c not in h]
            if missing:
                raise SourceError(
                    f"{f}: missing column(s) {missing} (police.uk street layout has "
                    f"{len(COLUMNS)} columns; found {h})"
                )
            extra = [c for c in h if c not in COLUMNS]
            if extra:
                log.info("%s: ignoring extra column(s) %s", f.name, extra)
            if len(set(h)) != len(h):
                raise SourceError(f"{f}: repeated column names in the header: {h}")
            groups.setdefault(tuple(h), []).append(f)
        step("headers")
        sel = ", ".join(f'"{c}"' for c in COLUMNS)
        scans = []
        for h, fs in groups.items():
            cols = {c: TYPES.get(c, "VARCHAR") for c in h}
            scans.append(
                f"SELECT {sel}, filename AS _file FROM read_csv({_sql_list(fs)}, header=true, "
                f"columns={cols}, auto_detect=false, filename=true, quote='\"', "
                f"escape='\"', delim=',')"
            )
        q: dict[str, int] = {"files": len(files)}
        cats = pd.DataFrame(
            [
                (n.strip().lower(), code, c.source)
                for code, c in params.categories.items()
                for n in c.raw.get("police_uk", [])
            ],
            columns=["ctype", "category", "source"],
        )
        con.register("cats", cats)
        # files in name order: a file's number orders copies of a duplicated Crime ID
        names = sorted({str(f) for f in files})
        con.register("fnames", pd.DataFrame({"_file": names, "fno": range(len(names))}))
        content = ", ".join(
            f"coalesce(CAST({c} AS VARCHAR), '')" for c in (f'"{x}"' for x in COLUMNS[1:])
        )
        # One scan of the CSVs into a compact table (file number, not name; the content
        # only for ASB rows). ASB rows have no Crime ID: identical ASB rows within a file are
        # numbered (so each gets its own id), then file name + content + that number hashed.
        try:
            con.execute(rf"""
                CREATE TEMP TABLE mapped AS
                WITH raw AS ({" UNION ALL ".join(scans)})
                SELECT trim(coalesce("Crime ID", '')) AS incident_id, "Month", cats.category,
                       cats.source, trim(coalesce("LSOA code", '')) AS lsoa_raw,
                       regexp_full_match(coalesce("Month", ''), '\d{{4}}-(0[1-9]|1[0-2])')
                         AS month_ok,
                       fnames.fno, "Crime type" AS ctype_raw, "Longitude" AS lon,
                       "Latitude" AS lat,
                       CASE WHEN trim(coalesce("Crime ID", '')) = '' THEN
                         concat_ws('|', regexp_extract(_file, '[^/\\]+$'), {content}) END AS body
                FROM raw JOIN fnames USING (_file)
                LEFT JOIN cats ON lower(trim(coalesce("Crime type", ''))) = cats.ctype""")
            # ids for the ASB rows only, in place (no second copy of the table)
            con.execute("""
                UPDATE mapped SET incident_id = 'ASB-' || substr(sha256(
                         mapped.body || '|' || CAST(a.n AS VARCHAR)), 1, 20)
                FROM (SELECT rowid AS r, row_number() OVER (PARTITION BY fno, body) AS n
                      FROM mapped WHERE incident_id = '') a
                WHERE mapped.rowid = a.r""")
        except duckdb.Error as exc:
            raise _duck_error(exc, files) from None
        step("scan + map")
        q["rows_read"] = con.execute("SELECT count(*) FROM mapped").fetchall()[0][0]
        bad = con.execute("""SELECT fno, "Month", count(*) OVER () FROM mapped
                             WHERE NOT month_ok LIMIT 1""").fetchall()
        if bad:
            fno, v, n = bad[0]
            f = names[fno]
            raise SourceError(
                f"{f}: column 'Month' line {_line_of(f, 'Month', v)}: {v!r} is not a "
                f"YYYY-MM month ({n} such row(s))"
            )
        unk = con.execute(
            "SELECT fno, ctype_raw FROM mapped WHERE category IS NULL LIMIT 1"
        ).fetchall()
        if unk:
            fno, v = unk[0]
            f = names[fno]
            raise SourceError(
                f"{f}: column 'Crime type' line {_line_of(f, 'Crime type', v)}: "
                f"unknown crime type {v!r} (not in categories.yaml police_uk names)"
            )
        step("checks")
        # a Crime ID seen more than once: keep the copy from the first file by name, then the
        # first by content (a documented, deterministic rule); the rest are counted
        con.execute("""CREATE TEMP TABLE dups AS
                       SELECT incident_id, count(*) AS n FROM mapped
                       GROUP BY incident_id HAVING count(*) > 1""")
        q["duplicates_dropped"] = int(
            con.execute("SELECT coalesce(sum(n - 1), 0) FROM dups").fetchall()[0][0]
        )
        # the canonical columns, typed here (cheaper than filling 5 million rows in pandas)
        cols = """incident_id, CAST(CAST("Month" || '-01' AS DATE) AS TIMESTAMP_NS) AS date,
                  category, source, lsoa_raw AS lsoa_code, lon AS _lon, lat AS _lat,
                  'month' AS date_precision, CAST(NULL AS VARCHAR) AS victim_id,
                  CAST(NULL AS VARCHAR) AS hate_strand, CAST(NULL AS VARCHAR) AS severity"""
        # streamed to a parquet file (bounded memory), read back once DuckDB has let go
        kept = Path(td) / "kept.parquet"
        con.execute(f"""COPY (
            SELECT {cols} FROM mapped ANTI JOIN dups USING (incident_id)
            UNION ALL
            SELECT {cols} FROM (
              SELECT m.*, row_number() OVER (PARTITION BY incident_id
                                             ORDER BY fno, lsoa_raw, lon, lat) AS k
              FROM mapped m SEMI JOIN dups USING (incident_id)) WHERE k = 1
            ORDER BY incident_id) TO '{kept}' (FORMAT parquet, COMPRESSION uncompressed)""")
        step("dedupe + sort")
        con.close()
        res = _read_compact(kept)
    step("to pandas")
    out = with_default_flags(res)
    q["rows_kept"] = len(out)
    step("canonical frame")
    return out.reset_index(drop=True), q
