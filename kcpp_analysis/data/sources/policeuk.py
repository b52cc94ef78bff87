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
  of ``"<file name>|<Month>|<Longitude>|<Latitude>|<LSOA code>|<Crime type>|1"`` (fields as
  read, coordinates as numbers: :data:`ASB_ID_FIELDS`), stable across runs of the same
  file; the n-th ASB row of a file with the same values (n > 1) gets the SHA-256 of
  ``"<that id>|<n>"`` instead.
- An id seen before (a Crime ID in an earlier file, or the same ASB row in a file of the
  same name) is a duplicate: the copy read first is kept (the first file by name, then the
  first line), the others dropped and counted.
- Rows come out in reading order (files by name, lines in file order), not sorted.
- The rows come back with the published ``LSOA code`` and the coordinates (``_lon``,
  ``_lat``); ``kcpp prepare`` places them in the areas table through
  :class:`kcpp_analysis.data.crosswalk.Crosswalk` (codes of either vintage, case and padding
  normalised, coordinates when the code is missing) and counts rows with no location or
  outside the area.
"""

from __future__ import annotations

import logging
import re
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from kcpp_analysis.config.params import Params
from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.messages import shown
from kcpp_analysis.data.sources.common import check_text, keep_rows, sniff_text, with_default_flags
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register

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
#: the fields an ASB row's id is made from (with the file name and an occurrence number):
#: the ones kcpp reads. The others add nothing to an ASB record's identity: Location is the
#: name of the snap point the coordinates give, LSOA name follows from the code, Reported by
#: and Falls within name the force of the file, ASB rows have no outcome, and Context is
#: almost always empty; reading only these saves building six text columns (about 1 s in
#: 5 million rows).
ASB_ID_FIELDS = ("Month", "Longitude", "Latitude", "LSOA code", "Crime type")
STREET_FILE = re.compile(r"\d{4}-\d{2}-.+-street\.csv$")


def _header(path: Path) -> list[str]:
    # NUL bytes and UTF-8 are checked by check_text while DuckDB reads
    sniff_text(path, whole=False)
    with open(path, "rb") as fh:  # bytes: the text after line 1 is DuckDB's to check
        raw = fh.readline(1 << 16)
    try:
        first = raw.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise SourceError(f"{path}: line 1: not UTF-8 text; re-save the file as UTF-8") from None
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
                    parts = PurePosixPath(n.replace("\\", "/")).parts
                    if n.startswith(("/", "\\")) or ".." in parts or ":" in n:
                        raise SourceError(
                            f"{p}: the zip holds an entry whose name points outside the "
                            "archive (an absolute path or '..'); refusing to read it"
                        )
                    target = Path(z.extract(n, tmpdir)).resolve()
                    if not target.is_relative_to(Path(tmpdir).resolve()):
                        raise SourceError(f"{p}: a zip entry extracts outside its folder")
                    files.append(target)
        else:
            files.append(p)
    return files


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _duck_error(exc: Exception, files: list[Path]) -> SourceError:
    msg = str(exc)
    m = re.search(r"Line: (\d+)", msg)
    where = f"line {m.group(1)}" if m else "unknown line"
    fm = re.search(r"file\s*[:=]?\s*\"?([^\s\"]+\.csv)", msg)
    fname = (
        fm.group(1) if fm else (str(files[0]) if len(files) == 1 else f"one of {len(files)} files")
    )
    reason = msg.splitlines()[0][:200]
    if "Expected Number of Columns" in msg or "Found:" in msg:
        reason = "row has the wrong number of columns (truncated or malformed line)"
    elif "Invalid unicode" in msg:
        reason = "not UTF-8 text (saved as Windows-1252 or Latin-1?); re-save the file as UTF-8"
    elif "Maximum line size" in msg:
        reason = "a line longer than 2,000,000 bytes (a damaged file?)"
    return SourceError(f"{fname}: {where}: {reason}")


def _find_line(path: str, column: str, bad) -> tuple[int, str | None]:
    """The line (header = 1; a quoted field spanning lines counts its lines) and value of
    the first row whose ``column`` satisfies ``bad`` (error path only; reads the file)."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        header = [c.strip() for c in next(rows)]
        i = header.index(column)
        start = rows.line_num + 1
        for row in rows:
            v = row[i] if i < len(row) else None
            if bad(v):
                return start, v
            start = rows.line_num + 1
    return -1, None


def _line_of(path: str, column: str, value) -> int:
    """Line number (header = 1) of the first row whose ``column`` equals ``value``."""
    want = "" if value is None else str(value).strip()
    return _find_line(path, column, lambda v: (v or "").strip() == want)[0]


MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _first_bad_month(path: str) -> tuple[int, str | None]:
    return _find_line(path, "Month", lambda v: not MONTH.fullmatch(v or ""))


def _resolve_repeats(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Give identical ASB rows of a file their own ids and drop repeated ids; drop ``fno``.

    Rows come in reading order with ``fno``, the file's rank by name. The repeated ids are
    found with :func:`kcpp_analysis.data.schemas.duplicated_rows` (exact; a few rows at most), then:

    - identical ASB rows of one file (same first id): the n-th in line order (n > 1) gets
      ``ASB-`` + the first 20 hex digits of SHA-256 of ``"<first id>|<n>"``;
    - an id still seen more than once (a Crime ID in two files, or the same ASB row in two
      files of the same name) keeps the copy read first: the first file by name, then the
      first line. The others are dropped and counted (the return value).
    """
    import hashlib

    from kcpp_analysis.data.schemas import duplicated_rows

    fno = df.pop("fno").to_numpy()
    rep = duplicated_rows(df["incident_id"], keep=False)
    if not rep.any():
        return df, 0
    pos = np.flatnonzero(rep)
    sub = pd.DataFrame(
        {
            "pos": pos,
            "fno": fno[pos],
            "id": _values_at(df["incident_id"], pos),
            "asb": (df["source"].iloc[pos] == "police_asb").to_numpy(),
        }
    )
    n = sub.groupby(["fno", "id"], sort=False).cumcount().to_numpy() + 1
    renum = sub["asb"].to_numpy() & (n > 1)
    if renum.any():
        new = [
            "ASB-" + hashlib.sha256(f"{i}|{k}".encode()).hexdigest()[:20]
            for i, k in zip(sub["id"][renum], n[renum], strict=True)
        ]
        sub.loc[renum, "id"] = new
        _overwrite_same_length(df, "incident_id", sub["pos"][renum].to_numpy(), new)
    sub = sub.sort_values(["fno", "pos"], kind="stable")
    drop = sub["pos"].to_numpy()[sub["id"].duplicated().to_numpy()]
    if not drop.size:
        return df, 0
    keep = np.ones(len(df), dtype=bool)
    keep[drop] = False
    return keep_rows(df, keep), int(drop.size)


def _chunks(col: pd.Series) -> list:
    """The Arrow chunks behind a text column (a list the caller may consume)."""
    import pyarrow as pa

    arr = col.array.__arrow_array__()
    return list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]


def _by_chunk(chunks: list, pos: np.ndarray):
    """For each chunk, consumed from ``chunks`` (so the caller's list lets it go): the
    chunk, the slice ``lo:hi`` of ascending row positions ``pos`` that fall in it, and the
    row position of its first row."""
    first = 0
    while chunks:
        ch = chunks.pop(0)
        lo, hi = np.searchsorted(pos, [first, first + len(ch)])
        yield ch, int(lo), int(hi), first
        first += len(ch)


def _values_at(col: pd.Series, pos: np.ndarray) -> np.ndarray:
    """The text values at ascending positions ``pos``, taken chunk by chunk (``iloc`` on a
    chunked Arrow column first joins the chunks: a 320 MB copy on 5 million police.uk ids)."""
    import pyarrow as pa

    out: list = []
    for ch, lo, hi, first in _by_chunk(_chunks(col), pos):
        if hi > lo:
            out += ch.take(pa.array(pos[lo:hi] - first)).to_pylist()
    return np.array(out, dtype=object)


def _overwrite_same_length(df: pd.DataFrame, column: str, pos: np.ndarray, new: list[str]) -> None:
    """Replace, in place, the values of text ``column`` at positions ``pos`` (ascending) by
    ``new``, each as long in bytes as the value it replaces (an ASB id by another): the
    bytes are patched in a copy of each affected chunk's data buffer, the offsets and
    validity kept, and each old chunk is freed once patched (the column is taken out of
    ``df`` first). pandas' own ``iloc`` assignment rebuilds the whole array through a mask
    (0.8 s on 5 million rows, against 0.1-0.5 s)."""
    import pyarrow as pa

    def spans(ch, lo: int, hi: int, first: int) -> tuple[np.ndarray, np.ndarray]:
        p = pos[lo:hi] - first + ch.offset
        width = np.int64 if pa.types.is_large_string(ch.type) else np.int32
        offs = np.frombuffer(ch.buffers()[1], dtype=width)
        return offs[p].astype(np.int64), (offs[p + 1] - offs[p]).astype(np.int64)

    vals = [v.encode() for v in new]
    for ch, lo, hi, first in _by_chunk(_chunks(df[column]), pos):  # checked before any change
        if hi > lo and [len(v) for v in vals[lo:hi]] != spans(ch, lo, hi, first)[1].tolist():
            raise ValueError("replacement values must have the length of the values replaced")
    where = df.columns.get_loc(column)
    col = df.pop(column)
    name, dtype, kind = col.name, col.dtype, col.array.__arrow_array__().type
    old = _chunks(col)
    del col  # the column is out of the frame: each old chunk goes once patched
    chunks = []
    for ch, lo, hi, first in _by_chunk(old, pos):
        if lo == hi:
            chunks.append(ch)
            continue
        begin, _ = spans(ch, lo, hi, first)
        validity, offsets, data = ch.buffers()
        mine = vals[lo:hi]
        # the copy comes from Arrow's pool, where the old chunk's buffer returns once freed
        patched = pa.allocate_buffer(data.size)
        buf = np.frombuffer(patched, dtype=np.uint8)
        buf[:] = np.frombuffer(data, dtype=np.uint8)
        del data
        w = len(mine[0])
        if all(len(v) == w for v in mine):  # the usual case: one width, one fancy index
            buf[begin[:, None] + np.arange(w)] = np.frombuffer(b"".join(mine), np.uint8).reshape(
                -1, w
            )
        else:
            for b0, v in zip(begin.tolist(), mine, strict=True):
                buf[b0 : b0 + len(v)] = np.frombuffer(v, np.uint8)
        chunks.append(
            pa.Array.from_buffers(ch.type, len(ch), [validity, offsets, patched], offset=ch.offset)
        )
    pa.default_memory_pool().release_unused()
    out = pa.chunked_array(chunks, kind).to_pandas()  # wraps the buffers, no copy
    out.name = name
    df.insert(where, column, out.astype(dtype))


DUCKDB_MEMORY = "1GB"


def _fetch_compact(rel):
    """The query's rows as an Arrow table, fetched in batches, the low-cardinality text
    (crime type, LSOA code) dictionary-encoded batch by batch (codes, not copies), the
    other columns copied into Arrow's memory pool: memory DuckDB hands over is returned to
    DuckDB's allocator when freed, not to Arrow's, so later copies (a filter) would not
    reuse it; copied, each batch's DuckDB memory is reused for the next (peak RSS on 5
    million rows: 1.5 GB instead of 1.8 GB)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def compact(columns: list, names: list[str]):
        return pa.RecordBatch.from_arrays(
            [
                pc.dictionary_encode(c) if n in ("ctype", "lsoa_code") else pa.concat_arrays([c])
                for c, n in zip(columns, names, strict=True)
            ],
            names=names,
        )

    reader = rel.to_arrow_reader(1 << 20)
    names = reader.schema.names
    batches = []
    for b in reader:
        columns = b.columns
        del b
        batches.append(compact(columns, names))
        del columns
    if not batches:  # no rows: the same columns and types, empty
        batches = [compact([pa.array([], f.type) for f in reader.schema], names)]
    return pa.Table.from_batches(batches)


def _to_pandas(table) -> pd.DataFrame:
    """The compact Arrow table as pandas: one dictionary per text column (categoricals),
    Arrow memory released as it is converted."""
    import pyarrow as pa

    table = table.unify_dictionaries()
    df = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    pa.default_memory_pool().release_unused()
    return df


def _crime_types(params: Params) -> dict[str, tuple[str, str]]:
    """police.uk crime type (stripped, lower case) -> (category, source), from the
    ``police_uk`` names of ``categories.yaml``."""
    return {
        n.strip().lower(): (code, c.source)
        for code, c in params.categories.items()
        for n in c.raw.get("police_uk", [])
    }


def _canonical(df: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The canonical incident columns from the compact read: ``Crime type`` mapped to
    category and source through the ``police_uk`` names of ``categories.yaml`` (on its
    distinct values: the column is categorical), the constant and empty columns added."""
    import pyarrow as pa

    to_cat = _crime_types(params)
    ctype = df.pop("ctype")
    pairs = [to_cat[str(v).strip().lower()] for v in ctype.cat.categories]
    codes = ctype.cat.codes.to_numpy()
    n = len(df)

    def categorical(values: list[str]) -> pd.Categorical:
        uniq = sorted(set(values))
        lookup = np.array([uniq.index(v) for v in values], dtype=np.int32)
        return pd.Categorical.from_codes(lookup[codes] if n else codes, categories=uniq)

    def empty() -> pd.Series:
        return pa.chunked_array([pa.nulls(n, pa.large_string())]).to_pandas()

    cols = {
        "incident_id": df["incident_id"],
        "date": df["date"],
        "category": categorical([p[0] for p in pairs]),
        "source": categorical([p[1] for p in pairs]),
        "lsoa_code": df["lsoa_code"],
        "_lon": df["_lon"],
        "_lat": df["_lat"],
        "fno": df["fno"],
        "date_precision": pd.Categorical.from_codes(np.zeros(n, np.int8), ["month"]),
        "victim_id": empty(),
        "hate_strand": empty(),
        "severity": empty(),
    }
    cols = {k: (v.to_numpy() if k == "date" else v) for k, v in cols.items()}
    return pd.DataFrame(cols, copy=False)  # the columns as they are: no second copy


def read_policeuk_street(paths: list[Path], params: Params) -> tuple[pd.DataFrame, dict]:
    """Read police.uk street files into canonical incident rows plus quality counts.

    One streaming DuckDB pass reads every file with an explicit schema (in parallel) and
    writes the compact columns to a temporary parquet file in reading order: ids (ASB ids
    derived by SHA-256 in SQL), dates (a month that is not ``YYYY-MM`` gives none), crime
    type, LSOA code as published, coordinates and the file's rank. pandas reads it back
    with the text as categories, checks months and crime types (on distinct values), maps
    crime types and resolves the few repeated ids (:func:`_resolve_repeats`). Rows come
    back in reading order: files by name (within a header layout), lines in file order.
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
        for f in sorted(files, key=str):  # reading order: by name (within a header layout)
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
        # files in name order: a file's number orders copies of a duplicated Crime ID
        names = sorted({str(f) for f in files})
        rank = {n: i for i, n in enumerate(names)}
        # only the columns used are read (DuckDB parses the others without building them)
        sel = ", ".join(f'"{c}"' for c in ("Crime ID", *ASB_ID_FIELDS))
        content = ", ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in ASB_ID_FIELDS)
        # One scan per header layout, no joins (a join would not keep the reading order):
        # the file's number and name come from DuckDB's file_index, looked up in constant
        # lists. ASB rows have no Crime ID: their id hashes the file name, the row's
        # ASB_ID_FIELDS and its occurrence number among rows of the file with the same
        # values (1 here; the repeats are renumbered in _resolve_repeats).
        scans = []
        for h, fs in groups.items():
            cols = {c: TYPES.get(c, "VARCHAR") for c in h}
            fno = f"list_extract({[rank[str(f)] for f in fs]}, CAST(file_index AS BIGINT) + 1)"
            scans.append(
                f"SELECT nullif(trim(\"Crime ID\"), '') AS cid, {sel}, {fno} AS fno "
                f"FROM read_csv({_sql_list(fs)}, header=true, columns={cols}, "
                f"auto_detect=false, quote='\"', escape='\"', delim=',')"
            )
        base = f"list_extract({_sql_list(Path(n).name for n in names)}, fno + 1)"
        q: dict[str, int] = {"files": len(files)}
        # One streaming pass, CSV to Arrow batches in reading order (files by name within
        # each header layout, lines in file order: DuckDB keeps insertion order through
        # scans and projections): no table is held in DuckDB, no sort. A month that is not
        # YYYY-MM gives no date (checked below). The ASB id is computed only for rows with
        # no Crime ID (coalesce evaluates it for those rows alone; a CASE on a trimmed id
        # cost 1 s more in 5 million rows). LSOA codes are trimmed by the crosswalk.
        # every byte of every file (not only the columns DuckDB reads) is checked for NUL
        # and UTF-8 while DuckDB reads, in a thread (both read the same cached pages); a
        # problem found stops DuckDB and is the error reported
        from concurrent.futures import ThreadPoolExecutor

        def check_files() -> SourceError | None:
            for f in files:
                try:
                    check_text(f)
                except SourceError as exc:
                    con.interrupt()
                    return exc
            return None

        pool = ThreadPoolExecutor(1)
        nul = pool.submit(check_files)
        try:
            rel = con.sql(rf"""
                WITH raw AS ({" UNION ALL ".join(scans)})
                SELECT coalesce(cid, 'ASB-' || substr(sha256(
                         concat_ws('|', {base}, {content}, '1')), 1, 20)) AS incident_id,
                       CASE WHEN regexp_full_match(coalesce("Month", ''),
                                                   '\d{{4}}-(0[1-9]|1[0-2])')
                            THEN CAST(CAST("Month" || '-01' AS DATE) AS TIMESTAMP_NS) END
                         AS date,
                       "Crime type" AS ctype, "LSOA code" AS lsoa_code,
                       "Longitude" AS _lon, "Latitude" AS _lat, fno
                FROM raw""")
            table = _fetch_compact(rel)
        except duckdb.Error as exc:
            raise (nul.result() or _duck_error(exc, files)) from None
        finally:
            pool.shutdown(wait=True)
        if nul.result():
            raise nul.result()
        con.close()
        step("scan")
        res = _to_pandas(table)
        del table
    step("to pandas")
    q["rows_read"] = len(res)
    bad = res["date"].isna().to_numpy()
    if bad.any():
        f = names[int(res["fno"].iloc[int(bad.argmax())])]
        line, v = _first_bad_month(f)
        raise SourceError(
            f"{f}: column 'Month' line {line}: {shown(v)} is not a YYYY-MM month "
            f"({int(bad.sum())} such row(s))"
        )
    known = _crime_types(params)
    for i, v in enumerate(res["ctype"].cat.categories):
        if str(v).strip().lower() not in known:
            f = names[int(res["fno"].iloc[int((res["ctype"].cat.codes == i).to_numpy().argmax())])]
            raise SourceError(
                f"{f}: column 'Crime type' line {_line_of(f, 'Crime type', v)}: "
                f"unknown crime type {shown(v)} (not in categories.yaml police_uk names)"
            )
    if res["ctype"].hasnans:
        f = names[int(res["fno"].iloc[int(res["ctype"].isna().to_numpy().argmax())])]
        raise SourceError(
            f"{f}: column 'Crime type' line {_line_of(f, 'Crime type', None)}: "
            "empty crime type (not in categories.yaml police_uk names)"
        )
    step("checks")
    out = _canonical(res, params)
    del res
    out, q["duplicates_dropped"] = _resolve_repeats(out)
    out = with_default_flags(out)
    q["rows_kept"] = len(out)
    step("canonical frame")
    return out, q


class PoliceUkStreet(Entry):
    kind: Literal["policeuk_street"]
    path: str  # the downloaded zip, its folder tree of YYYY-MM/*-street.csv, a file or a glob


def _read(e: PoliceUkStreet, rc: ReadContext) -> ReadResult:
    paths = rc.resolve(e.path)
    df, q = read_policeuk_street(paths, rc.params)
    return ReadResult(df, q, tuple(paths))


register(
    SourceKind(
        "policeuk_street",
        PoliceUkStreet,
        "incidents",
        _read,
        produces=("police_crime", "police_asb"),
        description="police.uk street-level CSVs as downloaded: the zip, the folder tree, "
        "a file or a glob",
    )
)
