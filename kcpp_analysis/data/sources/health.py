"""Health data on violence: A&E assault attendances and hospital admissions for assault.

The Serious Violence Duty's guidance names health data as a partner source, and the
Information Sharing to Tackle Violence (ISTV) standard gives emergency departments a minimum
dataset for assault attendances. Two source kinds:

``hospital_assaults`` (kind): one row per A&E attendance for assault (ISTV minimum dataset).

| column | content |
|---|---|
| ``attendance_date`` | ``YYYY-MM-DD`` |
| ``attendance_time`` | optional ``HH:MM`` (24-hour) |
| ``assault_location`` | ``home``, ``street``, ``licensed premises``, ``school or college``, ``other`` or ``unknown`` |
| ``weapon`` | ``knife or sharp instrument``, ``firearm``, ``bottle or glass``, ``blunt instrument``, ``body`` (fist, foot), ``other`` or ``unknown`` |
| ``age_band`` | a Census 2021 band: ``0-15``, ``16-24``, ``25-34``, ``35-49``, ``50-64``, ``65+`` |
| ``sex`` | ``female``, ``male`` or ``not recorded`` |
| ``lsoa_code`` | the assault location's LSOA (2011 or 2021), or leave it blank and give |
| ``postcode_district`` | e.g. ``HD1``: counted in the borough's totals, placed in no neighbourhood |

No name, NHS number, date of birth or free text is accepted: any other column is refused.

``hospital_admissions`` (kind): admitted patients with a cause of assault (ICD-10 X85-Y09),
as counts.

| column | content |
|---|---|
| ``month`` | ``YYYY-MM`` |
| ``area_code`` | an LSOA (2011 or 2021) or a 2024 ward code of the area |
| ``icd10`` | the external-cause code, X85 to Y09 (``X99``, ``Y04.0`` ...) |
| ``age_band`` | as above |
| ``count`` | a whole number of at least 1 |

Errors name the file, column and line and never echo a value that is not in the
vocabulary's form. The tables stay in the prepared dataset (``hospital_assaults``,
``hospital_admissions``); reports publish only counts through the disclosure gate.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from kcpp_analysis.config.models import AGE_BANDS
from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.messages import shown
from kcpp_analysis.data.sources.common import numeric, read_csv_checked, vocabulary
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register

LOCATIONS = ("home", "street", "licensed premises", "school or college", "other", "unknown")
WEAPONS = (
    "knife or sharp instrument",
    "firearm",
    "bottle or glass",
    "blunt instrument",
    "body",
    "other",
    "unknown",
)
SEXES = ("female", "male", "not recorded")
ASSAULT_COLUMNS = ["date", "hour", "location", "weapon", "age_band", "sex", "lsoa_code"]
ADMISSION_COLUMNS = ["month", "lsoa_code", "ward_code", "icd10", "age_band", "count"]
MAX_COUNT = 100_000
ICD10 = re.compile(r"^(X8[5-9]|X9\d|Y0\d)(\.\d)?$")


def _read_strict(path: Path, req: list, opt: list, kind: str, why: str) -> pd.DataFrame:
    """Read a health file with exactly the allowed columns (no personal data can come in
    through an extra column) and at least one row."""
    df = read_csv_checked(path, req, kind=kind, optional=opt)
    extra = [c for c in df.columns if c not in (*req, *opt, "_line")]
    if extra:
        raise SourceError(
            f"{path}: column(s) {extra[:5]} are not allowed in {why}; allowed: "
            f"{', '.join(req + opt)}"
        )
    if df.empty:
        raise SourceError(f"{path}: file has a header but no rows")
    return df


def read_assaults(path: Path, place) -> tuple[pd.DataFrame, dict]:
    """Read one ISTV file into :data:`ASSAULT_COLUMNS` rows (``lsoa_code`` placed)."""
    req = ["attendance_date", "assault_location", "weapon", "age_band", "sex"]
    opt = ["attendance_time", "lsoa_code", "postcode_district"]
    df = _read_strict(
        path,
        req,
        opt,
        "A&E assault attendances",
        "an A&E assault file (the ISTV minimum dataset only; no personal data)",
    )
    lines = df["_line"]
    date = pd.to_datetime(
        df["attendance_date"].fillna("").str.strip(), format="%Y-%m-%d", errors="coerce"
    )
    if date.isna().any():
        i = date.isna().idxmax()
        raise SourceError(
            f"{path}: column 'attendance_date' line {lines[i]}: "
            f"{shown(df.loc[i, 'attendance_date'])} is not a YYYY-MM-DD date"
        )
    hour = pd.Series(np.nan, index=df.index)
    if "attendance_time" in df.columns:
        t = df["attendance_time"].fillna("").str.strip()
        parsed = pd.to_datetime(t, format="%H:%M", errors="coerce")
        bad = (t != "") & parsed.isna()
        if bad.any():
            i = bad.idxmax()
            raise SourceError(
                f"{path}: column 'attendance_time' line {lines[i]}: "
                f"{shown(df.loc[i, 'attendance_time'])} is not a 24-hour HH:MM time"
            )
        hour = parsed.dt.hour.astype("float64")
    location = vocabulary(df, "assault_location", LOCATIONS, path, lines, "the ISTV locations")
    weapon = vocabulary(df, "weapon", WEAPONS, path, lines, "the ISTV weapons")
    age = vocabulary(df, "age_band", AGE_BANDS, path, lines, "the Census 2021 age bands")
    sex = vocabulary(df, "sex", SEXES, path, lines, "the values")
    lsoa = (
        df["lsoa_code"].fillna("").str.strip()
        if "lsoa_code" in df.columns
        else pd.Series("", index=df.index)
    )
    district = (
        df["postcode_district"].fillna("").str.strip()
        if "postcode_district" in df.columns
        else pd.Series("", index=df.index)
    )
    nowhere = (lsoa == "") & (district == "")
    if nowhere.any():
        i = nowhere.idxmax()
        raise SourceError(
            f"{path}: line {lines[i]}: neither 'lsoa_code' nor 'postcode_district' is given"
        )
    codes, how = place(lsoa.where(lsoa != "", None), keys=None)
    q = {"rows": len(df), "placed": int(codes.notna().sum())}
    bad = (lsoa != "").to_numpy() & how.isin(["malformed_code"]).to_numpy()
    if bad.any():
        i = df.index[bad][0]
        raise SourceError(f"{path}: column 'lsoa_code' line {lines[i]}: not an LSOA code")
    outside = (lsoa != "").to_numpy() & (how == "outside_area").to_numpy()
    q["outside_area"] = int(outside.sum())
    q["by_postcode_district"] = int(((lsoa == "") & (district != "")).sum())
    out = pd.DataFrame(
        {
            "date": date.astype("datetime64[ns]"),
            "hour": hour.astype("float64"),
            "location": location.astype("str"),
            "weapon": weapon.astype("str"),
            "age_band": age.astype("str"),
            "sex": sex.astype("str"),
            "lsoa_code": pd.Series(codes.to_numpy(), index=df.index).astype("str"),
        }
    )[~outside]
    return out.reset_index(drop=True), q


def read_admissions(path: Path, place, areas: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Read one admissions file into :data:`ADMISSION_COLUMNS` rows."""
    req = ["month", "area_code", "icd10", "age_band", "count"]
    df = _read_strict(path, req, [], "hospital admissions for assault", "an admissions file")
    lines = df["_line"]
    month = pd.to_datetime(df["month"].fillna("").str.strip(), format="%Y-%m", errors="coerce")
    if month.isna().any():
        i = month.isna().idxmax()
        raise SourceError(
            f"{path}: column 'month' line {lines[i]}: {shown(df.loc[i, 'month'])} is not a "
            "YYYY-MM month"
        )
    icd = df["icd10"].fillna("").str.strip().str.upper()
    bad = ~icd.str.match(ICD10)
    if bad.any():
        i = bad.idxmax()
        raise SourceError(
            f"{path}: column 'icd10' line {lines[i]}: {shown(df.loc[i, 'icd10'])} is not an "
            "assault code X85 to Y09"
        )
    age = vocabulary(df, "age_band", AGE_BANDS, path, lines, "the Census 2021 age bands")
    n = numeric(df, "count", path, integer=True, minimum=1, maximum=MAX_COUNT, required=True)
    area = df["area_code"].fillna("").str.strip().str.upper()
    is_ward = area.str.match(r"^E05\d{6}$")
    wards = set(areas["ward_code"])
    bad_ward = is_ward & ~area.isin(wards)
    codes, how = place(area.where(~is_ward, None), keys=None)
    lsoa_bad = ~is_ward.to_numpy() & how.isin(["malformed_code", "no_location"]).to_numpy()
    if lsoa_bad.any():
        i = df.index[lsoa_bad][0]
        raise SourceError(f"{path}: column 'area_code' line {lines[i]}: not an LSOA or ward code")
    outside = (~is_ward.to_numpy() & (how == "outside_area").to_numpy()) | bad_ward.to_numpy()
    out = pd.DataFrame(
        {
            "month": month.astype("datetime64[ns]"),
            "lsoa_code": pd.Series(codes.to_numpy(), index=df.index, dtype="str").where(~is_ward),
            "ward_code": area.astype("str").where(is_ward),
            "icd10": icd.str[:3].astype("str"),
            "age_band": age.astype("str"),
            "count": n.astype("int64"),
        }
    )[~outside]
    q = {"rows": len(df), "count": int(out["count"].sum()), "outside_area": int(outside.sum())}
    return out.reset_index(drop=True), q


class HospitalAssaults(Entry):
    kind: Literal["hospital_assaults"]
    path: str


class HospitalAdmissions(Entry):
    kind: Literal["hospital_admissions"]
    path: str


def _read_files(files: list[Path], read, what: str) -> ReadResult:
    """Every file of an entry read with ``read``, the rows together and the counts summed."""
    parts = [read(f) for f in files]
    df = pd.concat([d for d, _ in parts], ignore_index=True)
    q = {k: sum(p[1].get(k, 0) for p in parts) for k in parts[0][1]}
    if df.empty:
        raise SourceError(f"{files[0]}: no {what} for the partnership's area")
    return ReadResult(df, q, tuple(files))


def _read_assaults(e: HospitalAssaults, rc: ReadContext) -> ReadResult:
    return _read_files(rc.resolve(e.path), lambda f: read_assaults(f, rc.place), "attendances")


def _read_admissions(e: HospitalAdmissions, rc: ReadContext) -> ReadResult:
    return _read_files(
        rc.resolve(e.path), lambda f: read_admissions(f, rc.place, rc.areas), "admissions"
    )


register(
    SourceKind(
        "hospital_assaults",
        HospitalAssaults,
        "extra",
        _read_assaults,
        target="hospital_assaults",
        description="A&E attendances for assault (ISTV minimum dataset)",
    )
)
register(
    SourceKind(
        "hospital_admissions",
        HospitalAdmissions,
        "extra",
        _read_admissions,
        target="hospital_admissions",
        description="hospital admissions for assault (ICD-10 X85-Y09), counts",
    )
)
