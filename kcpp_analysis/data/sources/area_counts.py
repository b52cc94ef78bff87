"""Aggregated counts by area and category (kind ``area_counts``): published small-area
tables such as police.uk 12-month counts by LSOA and crime type, or ONS and Home Office
small-area tables.

Two layouts:

- ``long``: one row per area and category, columns ``area_column``, ``category_column`` and
  ``count_column``;
- ``wide``: one row per area, one column per category named ``<prefix><category>`` (e.g.
  ``n12m_Burglary``); other columns are ignored.

Categories are the raw names of one scheme of ``params/categories.yaml`` (``scheme``,
default ``police_uk``), so each count lands in a canonical category and, through it, a
priority and a canonical source (police.uk "Anti-social behaviour" is ``police_asb``). A
category the scheme does not know is an error naming the file and column, unless listed in
``ignore``. Area codes of either LSOA vintage are placed through the crosswalk by
``kcpp prepare``; a count of a 2011 LSOA split into several 2021 LSOAs goes whole to one of
them, drawn by population share.

The counts cover ``first_month`` to ``last_month``: sections that work from counts by
area (maps, rates, deprivation gradients, concentration) use them for that period; sections
that need monthly or record-level data (trends, year on year, SPC, profiles) say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import Field

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.data.sources.common import numeric, read_csv_checked
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register

AREA_COUNT_COLUMNS = ["lsoa_code", "category", "source", "count", "first_month", "last_month"]
MAX_COUNT = 10_000_000


class AreaCounts(Entry):
    kind: Literal["area_counts"]
    path: str
    first_month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    last_month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    layout: Literal["long", "wide"] = "wide"
    area_column: str = "lsoa21cd"
    category_column: str = "category"
    count_column: str = "count"
    prefix: str = ""
    scheme: Literal[
        "police_uk", "home_office", "asb_type", "council", "fire", "stats19", "fixmystreet"
    ] = "police_uk"
    ignore: list[str] = []


def read_area_counts(path: Path, e: AreaCounts, params) -> tuple[pd.DataFrame, dict]:
    """Read one file into :data:`AREA_COUNT_COLUMNS` rows (raw area codes; placed later)."""
    if e.last_month < e.first_month:
        raise SourceError(
            f"{path}: last_month {e.last_month} is before first_month {e.first_month}"
        )
    mapping = {
        n.lower(): code for code, c in params.categories.items() for n in c.raw.get(e.scheme, [])
    }
    ignore = {x.lower() for x in e.ignore}
    if e.layout == "long":
        df = read_csv_checked(
            path, [e.area_column, e.category_column, e.count_column], kind="area counts"
        )
        n = numeric(
            df, e.count_column, path, integer=True, minimum=0, maximum=MAX_COUNT, required=True
        )
        raw = df[e.category_column].fillna("").str.strip()
        keep = ~raw.str.lower().isin(ignore)
        cat = raw.str.lower().map(mapping)
        bad = keep & cat.isna()
        if bad.any():
            i = bad.idxmax()
            raise SourceError(
                f"{path}: column '{e.category_column}' line {df.loc[i, '_line']}: a category "
                f"that is not a {e.scheme} name of params/categories.yaml (list it under "
                "'ignore' to leave it out)"
            )
        long = pd.DataFrame({"area": df[e.area_column], "category": cat, "count": n})[keep]
    else:
        df = read_csv_checked(path, [e.area_column], kind="area counts")
        cols = [
            c
            for c in df.columns
            if e.prefix and c.startswith(e.prefix) or (not e.prefix and c.lower() in mapping)
        ]
        if not cols:
            raise SourceError(f"{path}: no column named '{e.prefix}<category>'")
        parts = []
        for c in cols:
            name = c[len(e.prefix) :].strip()
            if name.lower() in ignore:
                continue
            code = mapping.get(name.lower())
            if code is None:
                raise SourceError(
                    f"{path}: column '{c}': '{name[:40]}' is not a {e.scheme} name of "
                    "params/categories.yaml (list it under 'ignore' to leave it out)"
                )
            n = numeric(df, c, path, integer=True, minimum=0, maximum=MAX_COUNT, required=True)
            parts.append(pd.DataFrame({"area": df[e.area_column], "category": code, "count": n}))
        long = pd.concat(parts, ignore_index=True)
    long = long.groupby(["area", "category"], as_index=False, sort=True)["count"].sum()
    long = long[long["count"] > 0]
    out = pd.DataFrame(
        {
            "lsoa_code": long["area"].astype("str"),
            "category": long["category"].astype("str"),
            "source": long["category"].map(lambda c: params.categories[c].source).astype("str"),
            "count": long["count"].astype("int64"),
            "first_month": e.first_month,
            "last_month": e.last_month,
        }
    ).reset_index(drop=True)
    return out, {"rows": len(out), "count": int(out["count"].sum())}


def _read(e: AreaCounts, rc: ReadContext) -> ReadResult:
    files = rc.resolve(e.path)
    parts = [read_area_counts(f, e, rc.params) for f in files]
    df = pd.concat([d for d, _ in parts], ignore_index=True)
    placed = rc.place(df["lsoa_code"], keys=df["lsoa_code"] + "|" + df["category"])
    q = {"files": len(files), "rows": len(df), "count_read": int(df["count"].sum())}
    codes, how = placed
    q["outside_area"] = int((how == "outside_area").sum())
    q["count_outside_area"] = int(df.loc[(how == "outside_area").to_numpy(), "count"].sum())
    bad = how.isin(["malformed_code", "no_location"]).to_numpy()
    if bad.any():
        raise SourceError(
            f"{files[0]}: {int(bad.sum())} row(s) with a missing or malformed area code in "
            f"column '{e.area_column}'"
        )
    df = df.assign(lsoa_code=codes.astype("str"))[codes.notna().to_numpy()]
    df = df.groupby(AREA_COUNT_COLUMNS[:3] + ["first_month", "last_month"], as_index=False)[
        "count"
    ].sum()
    df = df[AREA_COUNT_COLUMNS].reset_index(drop=True)
    q["count_kept"] = int(df["count"].sum())
    if df.empty:
        raise SourceError(f"{files[0]}: no counts for areas of the partnership")
    return ReadResult(df, q, tuple(files))


register(
    SourceKind(
        "area_counts",
        AreaCounts,
        "extra",
        _read,
        target="area_counts",
        description="aggregated counts by area and category (e.g. police.uk 12-month counts "
        "by LSOA and crime type)",
    )
)
