"""Reference extracts: a local authority's real open geography, built from the national files.

``kcpp reference build --lad E08000034 --from <folder>`` (:func:`build_reference`) reads the
national open files (the names in :data:`NATIONAL_FILES`, as published; see
``../shared/data/real/PROVENANCE.md``) and writes a small extract for one local authority
district (LAD 2024 code) into ``kcpp_analysis/resources/reference/<LAD>/``:

- ``areas.csv``: one row per LSOA 2021 of the district: ward (2024) code and name, the
  English Indices of Deprivation 2025 (IMD score, national rank and decile; each domain's
  score and national rank), Census 2021 usual residents (total and six age bands), and the
  2021 rural-urban class;
- ``crime_12m.csv``: police.uk counts by LSOA 2021 and crime type over the 12 months in the
  national file (aggregated open data, no records), when the file covers the district;
- ``iod2025_crime_indicators.csv``: the IoD2025 police-recorded crime rates per LSOA;
- ``lsoa11_lsoa21.csv``: the ONS LSOA 2011 -> 2021 lookup rows of the district (for the
  crosswalk, :mod:`kcpp_analysis.data.crosswalk`), when the folder holds it;
- ``lsoa21.geojson`` / ``wards.geojson``: generalised boundaries (coordinates rounded to
  5 decimal places, about 1 metre), when the folder holds boundaries for the district;
- ``ATTRIBUTION.md`` (sources and licence) and ``manifest.json`` (input and output SHA-256).

The partnership's ward -> place assignment is configuration, not reference data: it comes
from ``params/wards.yaml`` when :func:`reference_areas` builds the canonical ``areas`` table.
The Kirklees extract shipped with the package is built by this same function, and the test
suite rebuilds it from the national files and compares.

Licence: all inputs are Open Government Licence v3.0 (MHCLG, ONS, police.uk); boundaries
contain OS data (c) Crown copyright and database right.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.hashing import sha256_file
from kcpp_analysis.core.paths import REFERENCE_DIR

DEFAULT_LAD = "E08000034"  # Kirklees

NATIONAL_FILES = {
    "iod_file7": "iod2025_england_lsoa21_file7_scores_ranks_deciles.csv",
    "iod_indicators": "iod2025_england_lsoa21_indicators.csv",
    "census": "census2021_lsoa21_usual_residents_by_age_england_wales.csv",
    "lookup": "ons_lsoa21_ward24_ltla24_lookup_england_wales.csv",
    "ruc": "ons_ruc21_lsoa21_rural_urban_classification_2021.csv",
    "policeuk_12m": "policeuk_westyorks_lsoa21_by_crimetype_12m_2025-05_2026-04.csv",
    "lookup_11_21": "ons_lsoa11_lsoa21_lad22_lookup_west_yorkshire.csv",
    "iod2019": "iod2019_kirklees_lsoa_all_domains.csv",
}
OPTIONAL = {"iod_indicators", "policeuk_12m", "lookup_11_21", "iod2019"}

#: IoD2025 File 7 headings -> canonical names (domain score, national rank).
FILE7 = {
    "imd": ("Index of Multiple Deprivation (IMD) Score", "imd_score"),
    "imd_rank": ("Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)", "imd_rank"),
    "imd_decile": (
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
        "imd_decile",
    ),
}
DOMAINS = {
    "income": ("Income Score (rate)", "Income Rank (where 1 is most deprived)", "income"),
    "employment": (
        "Employment Score (rate)",
        "Employment Rank (where 1 is most deprived)",
        "employment",
    ),
    "education": (
        "Education, Skills and Training Score",
        "Education, Skills and Training Rank (where 1 is most deprived)",
        "education",
    ),
    "health": (
        "Health Deprivation and Disability Score",
        "Health Deprivation and Disability Rank (where 1 is most deprived)",
        "health",
    ),
    "crime": ("Crime Score", "Crime Rank (where 1 is most deprived)", "crime"),
    "barriers": (
        "Barriers to Housing and Services Score",
        "Barriers to Housing and Services Rank (where 1 is most deprived)",
        "barriers",
    ),
    "living_environment": (
        "Living Environment Score",
        "Living Environment Rank (where 1 is most deprived)",
        "living_env",
    ),
}
#: canonical national domain-rank columns, for :func:`kcpp_analysis.analysis.deprivation.recompute_imd`
RANK_COLUMNS = {d: f"{v[2]}_rank" for d, v in DOMAINS.items()}
AGE_BANDS = {
    "Aged 15 years and under": "pop_0_15",
    "Aged 16 to 24 years": "pop_16_24",
    "Aged 25 to 34 years": "pop_25_34",
    "Aged 35 to 49 years": "pop_35_49",
    "Aged 50 to 64 years": "pop_50_64",
    "Aged 65 years and over": "pop_65_plus",
}
N_LSOA_IOD2025 = 33755
COORD_DECIMALS = 5

ATTRIBUTION = """# Reference extract for {lad_name} ({lad})

Built by `kcpp reference build --lad {lad} --from <folder of the national files>`
(`kcpp_analysis.data.reference.build_reference`) from these national open files:

| file | publisher | licence |
|---|---|---|
{rows}

Contains public sector information licensed under the Open Government Licence v3.0
(https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/).
Boundaries: Source: Office for National Statistics licensed under the Open Government
Licence v3.0. Contains OS data (c) Crown copyright and database right {year}.
Police data: police.uk, Open Government Licence v3.0 (counts aggregated by LSOA and crime
type; no record-level data). IoD2025: Ministry of Housing, Communities and Local
Government. Census 2021: Office for National Statistics.

The ward -> place assignment is not part of this extract (it is the partnership's own
configuration, `params/wards.yaml`).
"""
PUBLISHERS = {
    "iod_file7": "MHCLG, English Indices of Deprivation 2025, File 7",
    "iod_indicators": "MHCLG, English Indices of Deprivation 2025, underlying indicators",
    "census": "ONS, Census 2021 usual residents by LSOA and age",
    "lookup": "ONS, LSOA (2021) to ward (2024) to LAD (2024) lookup",
    "ruc": "ONS/Defra, Rural-Urban Classification 2021 (LSOA)",
    "policeuk_12m": "police.uk street-level crime, aggregated by LSOA 2021 and crime type",
    "lookup_11_21": "ONS, LSOA (2011) to LSOA (2021) lookup (exact fit, change indicator)",
    "iod2019": "MHCLG, English Indices of Deprivation 2019, File 7 (2011 LSOAs)",
    "boundaries_lsoa": "ONS Open Geography Portal, LSOA (2021) boundaries, generalised",
    "boundaries_wards": "ONS Open Geography Portal, ward boundaries, generalised",
}


def need_national(folder: Path, key: str) -> Path:
    """The path of one national open file in ``folder``, or a SourceError naming it."""
    p = folder / NATIONAL_FILES[key]
    if not p.is_file():
        raise SourceError(f"{p}: national file not found (kcpp reference build needs it)")
    return p


def _round_coords(coords):
    if isinstance(coords[0], (int, float)):
        return [round(float(c), COORD_DECIMALS) for c in coords]
    return [_round_coords(c) for c in coords]


def _boundaries(folder: Path, codes: set[str], key_fields: tuple[str, ...]) -> tuple[dict, str]:
    """The GeoJSON file in ``folder`` whose features cover ``codes`` (by one of
    ``key_fields``), cut to those features with only a ``code`` and ``name`` property."""
    for p in sorted(folder.glob("*.geojson")):
        with open(p, encoding="utf-8") as f:
            d = json.load(f)
        feats = d.get("features", [])
        if not feats:
            continue
        props = feats[0].get("properties", {})
        field = next((k for k in key_fields if k in props), None)
        if field is None:
            continue
        have = {ft["properties"][field]: ft for ft in feats}
        if not codes <= set(have):
            continue
        name_field = field[:-2] + "NM"
        out = {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
            "features": [
                {
                    "type": "Feature",
                    "properties": {
                        "code": c,
                        "name": have[c]["properties"].get(name_field, c),
                    },
                    "geometry": {
                        "type": have[c]["geometry"]["type"],
                        "coordinates": _round_coords(have[c]["geometry"]["coordinates"]),
                    },
                }
                for c in sorted(codes)
            ],
        }
        return out, p.name
    return {}, ""


def _iod2019_carried(folder: Path, codes: set[str]) -> pd.DataFrame | None:
    """IoD2019 IMD score and decile carried onto 2021 LSOAs through the ONS lookup, for
    comparison (None when the folder lacks IoD2019 or the lookup for these LSOAs).

    Unchanged (``U``) and split (``S``: each 2021 part inherits its 2011 parent) LSOAs take
    the parent's score and decile; a 2021 LSOA merged (``M``) from several 2011 LSOAs takes
    their mean score weighted by the IoD2019 mid-2015 population and the decile of the most
    populous parent (a merged area has no published decile); ``X`` (irregular) rows are
    treated as merges of every listed parent.
    """
    iod_p, lk_p = folder / NATIONAL_FILES["iod2019"], folder / NATIONAL_FILES["lookup_11_21"]
    if not (iod_p.is_file() and lk_p.is_file()):
        return None
    lk = pd.read_csv(lk_p, dtype=str)
    c11 = "F_LSOA11CD" if "F_LSOA11CD" in lk else "LSOA11CD"
    lk = lk[lk["LSOA21CD"].isin(codes)][[c11, "LSOA21CD"]].rename(
        columns={c11: "lsoa11", "LSOA21CD": "lsoa_code"}
    )
    iod = pd.read_csv(iod_p)
    iod = iod.rename(
        columns={
            "LSOA code (2011)": "lsoa11",
            "Index of Multiple Deprivation (IMD) Score": "s",
            "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)": "d",
            "Total population: mid 2015 (excluding prisoners)": "w",
        }
    )[["lsoa11", "s", "d", "w"]]
    m = lk.merge(iod, on="lsoa11", how="inner")
    if set(m["lsoa_code"]) != codes:
        return None
    m["sw"] = m["s"] * m["w"]
    g = m.groupby("lsoa_code")
    out = pd.DataFrame({"imd2019_score": (g["sw"].sum() / g["w"].sum()).round(3)})
    out["imd2019_decile"] = m.sort_values("w", ascending=False).groupby("lsoa_code")["d"].first()
    return out.reset_index()


def _force_area_12m(pu: pd.DataFrame, folder: Path, lad: str) -> pd.DataFrame:
    """The police.uk 12-month counts of every district and ward in the file (the force
    area), by crime type, with Census 2021 residents: for West Yorkshire comparisons on
    real counts (aggregates of open data, no records)."""
    lk = pd.read_csv(need_national(folder, "lookup"), dtype=str)
    m = pu.merge(lk, left_on="lsoa21cd", right_on="lsoa21_code", how="inner")
    types = [c for c in pu.columns if c.startswith("n12m_")]
    parts = []
    for level, code, name in (
        ("district", "ltla24_code", "ltla24_name"),
        ("ward", "ward24_code", "ward24_name"),
    ):
        g = m.groupby([code, name, "ltla24_code"] if level == "ward" else [code, name])
        t = g[["pop_census2021", *types]].sum().reset_index()
        t = t.rename(columns={code: "code", name: "name", "pop_census2021": "population"})
        if level == "district":
            t["ltla24_code"] = t["code"]
        t.insert(0, "level", level)
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    out.columns = [c.removeprefix("n12m_") for c in out.columns]
    out["is_target"] = out["ltla24_code"] == lad
    return out.sort_values(["level", "code"]).reset_index(drop=True)


def build_reference(lad: str, folder: Path, out: Path | None = None) -> Path:
    """Write the reference extract for local authority ``lad`` from the national files in
    ``folder`` (see the module docstring); returns the extract's folder.

    Writes into a temporary sibling and renames it into place, so a failure leaves the
    previous extract untouched. Raises :class:`SourceError` naming a missing file or an
    unknown LAD code.
    """
    folder = Path(folder)
    out = Path(out) if out else REFERENCE_DIR / lad
    lk = pd.read_csv(need_national(folder, "lookup"), dtype=str)
    lk = lk[lk["ltla24_code"] == lad]
    if lk.empty:
        raise SourceError(
            f"{folder / NATIONAL_FILES['lookup']}: column 'ltla24_code' has no row for {lad!r}"
        )
    lad_name = lk["ltla24_name"].iloc[0]
    codes = set(lk["lsoa21_code"])
    f7 = pd.read_csv(need_national(folder, "iod_file7"))
    f7 = f7[f7["LSOA code (2021)"].isin(codes)]
    missing = codes - set(f7["LSOA code (2021)"])
    if missing:
        raise SourceError(
            f"{folder / NATIONAL_FILES['iod_file7']}: {len(missing)} LSOA(s) of {lad} missing"
        )
    a = pd.DataFrame(
        {
            "lsoa_code": f7["LSOA code (2021)"].to_numpy(),
            "lsoa_name": f7["LSOA name (2021)"].to_numpy(),
        }
    )
    for heading, name in FILE7.values():
        a[name] = f7[heading].to_numpy()
    for score_h, rank_h, stem in DOMAINS.values():
        a[f"{stem}_score"] = f7[score_h].to_numpy()
        a[f"{stem}_rank"] = f7[rank_h].to_numpy()
    a = a.merge(
        lk[["lsoa21_code", "ward24_code", "ward24_name"]].rename(
            columns={
                "lsoa21_code": "lsoa_code",
                "ward24_code": "ward_code",
                "ward24_name": "ward_name",
            }
        ),
        on="lsoa_code",
    )
    census = pd.read_csv(need_national(folder, "census"), dtype={"usual_residents": "int64"})
    census = census[census["lsoa21_code"].isin(codes)]
    pop = census.pivot_table(
        index="lsoa21_code", columns="age_group", values="usual_residents", aggfunc="sum"
    ).rename(columns=AGE_BANDS)
    pop = pop[list(AGE_BANDS.values())]
    pop.insert(0, "population", pop.sum(axis=1))
    a = a.merge(pop, left_on="lsoa_code", right_index=True, how="left")
    ruc = pd.read_csv(need_national(folder, "ruc"), dtype=str)
    ruc = ruc[ruc["lsoa21_code"].isin(codes)].rename(
        columns={"lsoa21_code": "lsoa_code", "ruc21_code": "ruc21", "ruc": "urban_rural"}
    )
    a = a.merge(ruc[["lsoa_code", "ruc21", "urban_rural"]], on="lsoa_code", how="left")
    if a["population"].isna().any():
        raise SourceError(f"{folder / NATIONAL_FILES['census']}: LSOA(s) of {lad} missing")
    a["population"] = a["population"].astype("int64")
    a = a.sort_values("lsoa_code").reset_index(drop=True)
    carried = _iod2019_carried(folder, codes)
    if carried is not None:
        a = a.merge(carried, on="lsoa_code", how="left")

    tmp = out.parent / f".{out.name}.tmp-build"
    if tmp.exists():
        for p in tmp.iterdir():
            p.unlink()
    tmp.mkdir(parents=True, exist_ok=True)
    used = {"lookup", "iod_file7", "census", "ruc"} | (
        {"iod2019", "lookup_11_21"} if carried is not None else set()
    )
    a.to_csv(tmp / "areas.csv", index=False, lineterminator="\n")
    ind_path = folder / NATIONAL_FILES["iod_indicators"]
    if ind_path.is_file():
        ind = pd.read_csv(ind_path)
        crime_cols = [c for c in ind.columns if "_rate_per_1_000_" in c]
        ind = ind[ind["LSOA code (2021)"].isin(codes)][["LSOA code (2021)", *crime_cols]]
        ind = ind.rename(columns={"LSOA code (2021)": "lsoa_code"}).sort_values("lsoa_code")
        ind.to_csv(tmp / "iod2025_crime_indicators.csv", index=False, lineterminator="\n")
        used.add("iod_indicators")
    pu_path = folder / NATIONAL_FILES["policeuk_12m"]
    if pu_path.is_file():
        pu = pd.read_csv(pu_path)
        pu = pu[pu["lsoa21cd"].isin(codes)]
        if len(pu):
            types = [c for c in pu.columns if c.startswith("n12m_")]
            long = pu.melt(id_vars="lsoa21cd", value_vars=types, var_name="crime_type")
            long["crime_type"] = long["crime_type"].str.removeprefix("n12m_")
            long = long.rename(columns={"lsoa21cd": "lsoa_code", "value": "count"})
            long = long.sort_values(["lsoa_code", "crime_type"])
            long.to_csv(tmp / "crime_12m.csv", index=False, lineterminator="\n")
            used.add("policeuk_12m")
            _force_area_12m(pd.read_csv(pu_path), folder, lad).to_csv(
                tmp / "force_area_12m.csv", index=False, lineterminator="\n"
            )
    lk_path = folder / NATIONAL_FILES["lookup_11_21"]
    if lk_path.is_file():
        l11 = pd.read_csv(lk_path, dtype=str)
        c11 = "F_LSOA11CD" if "F_LSOA11CD" in l11 else "LSOA11CD"
        l11 = l11[l11["LSOA21CD"].isin(codes)]
        if len(l11):
            l11 = l11.rename(columns={c11: "LSOA11CD"})[["LSOA11CD", "LSOA21CD", "CHGIND"]]
            l11.sort_values(["LSOA21CD", "LSOA11CD"]).to_csv(
                tmp / "lsoa11_lsoa21.csv", index=False, lineterminator="\n"
            )
            used.add("lookup_11_21")
    inputs = {k: NATIONAL_FILES[k] for k in sorted(used)}
    lsoa_geo, lsoa_src = _boundaries(folder, codes, ("LSOA21CD",))
    if lsoa_geo:
        (tmp / "lsoa21.geojson").write_text(json.dumps(lsoa_geo, separators=(",", ":")))
        inputs["boundaries_lsoa"] = lsoa_src
    ward_codes = set(a["ward_code"])
    ward_geo, ward_src = _boundaries(folder, ward_codes, ("WD25CD", "WD24CD"))
    if ward_geo:
        (tmp / "wards.geojson").write_text(json.dumps(ward_geo, separators=(",", ":")))
        inputs["boundaries_wards"] = ward_src
    rows = "\n".join(f"| `{f}` | {PUBLISHERS[k]} | OGL v3.0 |" for k, f in inputs.items())
    (tmp / "ATTRIBUTION.md").write_text(
        ATTRIBUTION.format(lad=lad, lad_name=lad_name, rows=rows, year=2025)
    )
    manifest = {
        "lad": lad,
        "lad_name": lad_name,
        "iod_version": "IoD2025",
        "n_lsoas": int(len(a)),
        "n_wards": int(a["ward_code"].nunique()),
        "population_census2021": int(a["population"].sum()),
        "inputs": {f: sha256_file(folder / f) for f in inputs.values()},
        "outputs": {
            p.name: sha256_file(p) for p in sorted(tmp.iterdir()) if p.name != "manifest.json"
        },
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise SourceError(f"{out}: not a reference extract (no manifest.json); not replaced")
    if out.exists():
        old = out.parent / f".{out.name}.tmp-old"
        out.rename(old)
        tmp.rename(out)
        for p in old.iterdir():
            p.unlink()
        old.rmdir()
    else:
        tmp.rename(out)
    return out


def reference_dir(lad: str = DEFAULT_LAD) -> Path:
    d = REFERENCE_DIR / lad
    if not (d / "areas.csv").is_file():
        raise SourceError(
            f"{d}: no reference extract for {lad}; build it with "
            f"`kcpp reference build --lad {lad} --from <folder of the national files>`"
        )
    return d


def reference_areas(params, lad: str = DEFAULT_LAD) -> pd.DataFrame:
    """The canonical ``areas`` table from the reference extract, with the partnership's
    places from ``params/wards.yaml`` (every ward must have one)."""
    from kcpp_analysis.data.dataset import normalise_table

    d = reference_dir(lad)
    a = pd.read_csv(d / "areas.csv", dtype={"ruc21": str, "urban_rural": str})
    place = params.ward_place()
    a["place"] = a["ward_code"].map(place)
    if a["place"].isna().any():
        bad = sorted(set(a.loc[a["place"].isna(), "ward_name"]))
        raise SourceError(f"{d / 'areas.csv'}: ward(s) missing from params/wards.yaml: {bad[:10]}")
    a["iod_version"] = "IoD2025"
    return normalise_table(a, "areas")


def reference_crime_12m(lad: str = DEFAULT_LAD) -> pd.DataFrame | None:
    """police.uk 12-month counts by LSOA and crime type (None when not in the extract)."""
    p = reference_dir(lad) / "crime_12m.csv"
    return pd.read_csv(p) if p.is_file() else None


def reference_boundaries(kind: str = "lsoa21", lad: str = DEFAULT_LAD) -> dict | None:
    """GeoJSON dict of ``lsoa21`` or ``wards`` boundaries (None when not in the extract)."""
    p = reference_dir(lad) / f"{kind}.geojson"
    return json.loads(p.read_text()) if p.is_file() else None


def compare_extracts(a: Path, b: Path) -> list[str]:
    """Files that differ between two extracts (by SHA-256; manifest input hashes too)."""
    diffs = []
    names = {p.name for p in Path(a).iterdir()} | {p.name for p in Path(b).iterdir()}
    for n in sorted(names):
        pa_, pb_ = Path(a) / n, Path(b) / n
        if not (pa_.is_file() and pb_.is_file()) or sha256_file(pa_) != sha256_file(pb_):
            diffs.append(n)
    return diffs


__all__ = [
    "build_reference",
    "reference_areas",
    "reference_boundaries",
    "reference_crime_12m",
    "compare_extracts",
    "RANK_COLUMNS",
    "N_LSOA_IOD2025",
]


def geometries(geojson: dict) -> dict:
    """``code -> shapely geometry`` from a GeoJSON FeatureCollection whose features carry a
    ``code`` property (the reference extract's layout)."""
    from shapely.geometry import shape

    return {f["properties"]["code"]: shape(f["geometry"]) for f in geojson["features"]}
