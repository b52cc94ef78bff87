"""Loaders for the area layer: IoD2019 File 7, ONS LSOA->ward lookup, populations.

The published IoD2019 File 7 ("All IoD2019 Scores, Ranks, Deciles and Population
Denominators", MHCLG 2019) is read by its exact column headings, into the canonical
``areas`` table together with the ONS LSOA (2011) -> ward (2019) best-fit lookup and the
ward -> place mapping of ``params/wards.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from kcpp_analysis.config.params import Params
from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.data.dataset import normalise_table
from kcpp_analysis.data.sources.common import numeric, read_csv_checked
from kcpp_analysis.data.sources.registry import Entry, SourceKind, register

FILE7_COLUMNS = {
    "LSOA code (2011)": "lsoa_code",
    "LSOA name (2011)": "lsoa_name",
    "Local Authority District code (2019)": "lad_code",
    "Index of Multiple Deprivation (IMD) Score": "imd_score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)": "imd_rank",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)": "imd_decile",
    "Income Score (rate)": "income_score",
    "Employment Score (rate)": "employment_score",
    "Education, Skills and Training Score": "education_score",
    "Health Deprivation and Disability Score": "health_score",
    "Crime Score": "crime_score",
    "Barriers to Housing and Services Score": "barriers_score",
    "Living Environment Score": "living_env_score",
    "Total population: mid 2015 (excluding prisoners)": "population",
}


def read_iod2019_file7(path: str | Path, *, lad_code: str | None = None) -> pd.DataFrame:
    """Read IoD2019 File 7 (published headings) into area columns.

    Returns ``lsoa_code``, ``lsoa_name``, ``lad_code``, ``imd_score``, ``imd_rank``,
    ``imd_decile``, the seven domain scores and ``population`` (mid-2015 total, excluding
    prisoners, the IoD denominator). With ``lad_code`` only that district's LSOAs are kept.
    """
    path = Path(path)
    df = read_csv_checked(path, list(FILE7_COLUMNS), kind="IoD2019 File 7")
    out = pd.DataFrame({new: df[old] for old, new in FILE7_COLUMNS.items()})
    out["_line"] = df["_line"]
    for c in ("imd_rank", "imd_decile", "population"):
        out[c] = numeric(out, c, path, integer=True).astype("int64")
    for c in (
        "imd_score",
        "income_score",
        "employment_score",
        "education_score",
        "health_score",
        "crime_score",
        "barriers_score",
        "living_env_score",
    ):
        out[c] = numeric(out, c, path).astype(float)
    if lad_code:
        out = out[out["lad_code"] == lad_code]
    dup = out["lsoa_code"].duplicated()
    if dup.any():
        i = dup.idxmax()
        raise SourceError(
            f"{path}: column 'LSOA code (2011)' line {out.loc[i, '_line']}: "
            f"duplicate LSOA {out.loc[i, 'lsoa_code']!r}"
        )
    return out.drop(columns="_line").reset_index(drop=True)


def read_ons_lsoa_ward(path: str | Path, *, lad_code: str | None = None) -> pd.DataFrame:
    """ONS LSOA (2011) -> ward (2019) best-fit lookup: ``lsoa_code``, ``ward_code``, ``ward_name``."""
    path = Path(path)
    df = read_csv_checked(
        path, ["LSOA11CD", "WD19CD", "WD19NM", "LAD19CD"], kind="ONS LSOA to ward lookup"
    )
    if lad_code:
        df = df[df["LAD19CD"] == lad_code]
    return df.rename(
        columns={"LSOA11CD": "lsoa_code", "WD19CD": "ward_code", "WD19NM": "ward_name"}
    )[["lsoa_code", "ward_code", "ward_name"]]


def read_population(path: str | Path) -> pd.DataFrame:
    """ONS mid-year LSOA population estimates (SAPE layout): ``lsoa_code``, ``population``.

    Accepts the columns ``LSOA11CD`` (or ``LSOA Code``) and one population column named
    ``mid2018_population``, ``All Ages`` or ``population``.
    """
    path = Path(path)
    head = read_csv_checked(path, [], kind="population estimates")
    code = next((c for c in ("LSOA11CD", "LSOA Code", "LSOA21CD", "lsoa_code") if c in head), None)
    pop = next(
        (c for c in ("mid2018_population", "All Ages", "population", "Total") if c in head), None
    )
    if code is None or pop is None:
        raise SourceError(
            f"{path}: needs an LSOA code column (LSOA11CD) and a population column "
            f"(mid2018_population / All Ages); found {list(head.columns)[:10]}"
        )
    out = pd.DataFrame({"lsoa_code": head[code], "_line": head["_line"]})
    out["population"] = numeric(head.assign(_line=head["_line"]), pop, path, integer=True)
    return out.drop(columns="_line")


def build_areas(
    iod: pd.DataFrame,
    lsoa_ward: pd.DataFrame,
    params: Params,
    population: pd.DataFrame | None = None,
    *,
    source: str = "",
) -> pd.DataFrame:
    """Join IoD rows, the LSOA->ward lookup, the ward->place map (and newer populations).

    Every IoD LSOA must have a ward, and every ward a place; otherwise :class:`SourceError`
    lists the LSOAs or wards. ``population``, when given, replaces the IoD mid-2015
    denominators for the LSOAs it covers.
    """
    a = iod.merge(lsoa_ward, on="lsoa_code", how="left")
    no_ward = a[a["ward_code"].isna()]
    if len(no_ward):
        raise SourceError(
            f"{source}: {len(no_ward)} LSOA(s) have no ward in the LSOA->ward "
            f"lookup: {no_ward['lsoa_code'].head(10).tolist()}"
        )
    place = params.ward_place()
    a["place"] = a["ward_code"].map(place)
    no_place = a[a["place"].isna()][["ward_code", "ward_name"]].drop_duplicates()
    if len(no_place):
        raise SourceError(
            f"{source}: ward(s) missing from params/wards.yaml: "
            f"{no_place.to_records(index=False).tolist()[:10]}"
        )
    if population is not None:
        p = population.set_index("lsoa_code")["population"]
        a["population"] = a["lsoa_code"].map(p).fillna(a["population"]).astype("int64")
    cols = [
        "lsoa_code",
        "lsoa_name",
        "ward_code",
        "ward_name",
        "place",
        "population",
        "imd_score",
        "imd_rank",
        "imd_decile",
        "income_score",
        "employment_score",
        "education_score",
        "health_score",
        "crime_score",
        "barriers_score",
        "living_env_score",
    ]
    return normalise_table(a[cols], "areas")


def read_lookup(path) -> pd.DataFrame:
    """The ONS LSOA 2011 -> 2021 lookup as ``lsoa11``, ``lsoa21``, ``chgind`` (published
    headings ``LSOA11CD``/``F_LSOA11CD``, ``LSOA21CD``, ``CHGIND``)."""
    head = read_csv_checked(path, [], kind="ONS LSOA11 to LSOA21 lookup")
    c11 = "F_LSOA11CD" if "F_LSOA11CD" in head else "LSOA11CD"
    for c in (c11, "LSOA21CD"):
        if c not in head:
            raise SourceError(f"{path}: missing column {c!r} (ONS LSOA11 to LSOA21 lookup)")
    return pd.DataFrame(
        {
            "lsoa11": head[c11].str.strip().str.upper(),
            "lsoa21": head["LSOA21CD"].str.strip().str.upper(),
            "chgind": head["CHGIND"] if "CHGIND" in head else "",
        }
    )


class Iod2019(Entry):
    kind: Literal["iod2019"]
    path: str  # IoD2019 File 7 with its published headings


class OnsLsoaWard(Entry):
    kind: Literal["ons_lsoa_ward"]
    path: str  # ONS LSOA (2011) -> ward (2019) lookup


class WardPlace(Entry):
    kind: Literal["ward_place"]
    path: str  # CSV with WD19CD, place (default mapping: params/wards.yaml)


class Population(Entry):
    kind: Literal["population"]
    path: str


class Lsoa11To21(Entry):
    kind: Literal["lsoa11_lsoa21"]
    path: str  # ONS LSOA (2011) to LSOA (2021) lookup


for _kind, _model, _what in (
    ("iod2019", Iod2019, "IoD2019 File 7 (the 2011 geography; with ons_lsoa_ward)"),
    ("ons_lsoa_ward", OnsLsoaWard, "ONS LSOA (2011) to ward lookup (with iod2019)"),
    ("ward_place", WardPlace, "ward to place mapping (2011 geography)"),
    ("population", Population, "population by LSOA (2011 geography)"),
    ("lsoa11_lsoa21", Lsoa11To21, "ONS LSOA 2011 to 2021 lookup"),
):
    register(SourceKind(_kind, _model, "geography", description=_what))
