"""``kcpp prepare --sources FILE``: real inputs into the canonical tables.

Order of work: validate the sources file (kinds, keys, every path exists); build ``areas``
from IoD2019 File 7 + the ONS LSOA->ward lookup (+ the ward->place map and newer populations
when given); read every incident source; read survey and indicators; drop and count
incidents outside the coverage years; optionally fill the sources that have no real rows
with synthetic data generated on the real geography (``--synthesise-missing``); validate
everything and write the prepared dataset atomically. Any error leaves no dataset behind
(the previous one, if any, is kept).

Synthesis is per canonical source (``police_crime``, ``police_asb``, ``council``, ``fire``,
``roads``) and per table (``survey``, ``indicators``): a source with any real rows is never
topped up with synthetic ones, so real and synthetic records never mix within a source.
``dataset.json`` lists the synthetic sources, and every report built from the dataset
carries the synthetic-data banner.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kcpp_analysis.config.params import Params, load_params
from kcpp_analysis.core.errors import ConfigError, SourceError
from kcpp_analysis.core.paths import PROJECT_ROOT
from kcpp_analysis.core.periods import fy_bounds, fy_start_year
from kcpp_analysis.data.crosswalk import Crosswalk, read_lookup
from kcpp_analysis.data.dataset import Dataset, empty_table, normalise_table, write_dataset
from kcpp_analysis.data.demo.generator import DEFAULT_SEED, FIRST_FY, LAST_FY, generate_demo
from kcpp_analysis.data.schemas import duplicated_rows
from kcpp_analysis.data.sources.common import keep_rows
from kcpp_analysis.data.sources.fixmystreet import read_fixmystreet
from kcpp_analysis.data.sources.geography import (
    build_areas,
    read_iod2019_file7,
    read_ons_lsoa_ward,
    read_population,
)
from kcpp_analysis.data.sources.partner import read_partner_extract
from kcpp_analysis.data.sources.policeuk import read_policeuk_street
from kcpp_analysis.data.sources.sourcesfile import load_sources, resolve
from kcpp_analysis.data.sources.stats19 import read_stats19
from kcpp_analysis.data.sources.tables import read_indicators_csv, read_survey_csv

log = logging.getLogger(__name__)

INCIDENT_SOURCES = ("police_crime", "police_asb", "council", "fire", "roads")
LOSS_WARNING = 0.01  # rows with no location above this share of a source: warned
LOSS_ERROR = 0.01  # rows lost (no location, future dates) above this share: an error


def _one(entries, kind):
    es = [e for e in entries if e.kind == kind]
    if len(es) > 1:
        raise ConfigError(f"sources file: kind {kind!r} may appear only once")
    return es[0] if es else None


def _ward_place_csv(path: Path) -> dict[str, str]:
    from kcpp_analysis.data.sources.common import read_csv_checked

    df = read_csv_checked(path, ["WD19CD", "place"], kind="ward to place mapping")
    return dict(zip(df["WD19CD"], df["place"], strict=True))


def prepare_from_sources(
    sources_file: str | Path,
    out: str | Path | None = None,
    *,
    synthesise_missing: bool = False,
    seed: int | None = None,
    params: Params | None = None,
    force: bool = False,
    allow_loss: bool = False,
    loss_threshold: float = LOSS_ERROR,
) -> Path:
    """Prepare a dataset from a sources file; returns the output folder.

    Rows lost for reasons other than documented filtering (the area, the years before the
    coverage, de-duplication) are errors when they exceed ``loss_threshold`` of a source
    (default 1%): rows with no location, and rows dated after today (a mistyped year). Rows
    outside the chosen coverage years are documented filtering: counted and logged. A source
    that ends with no rows at all is an error too. ``allow_loss``
    turns both into warnings (``kcpp prepare --allow-loss``).

    ``force`` lets ``out`` replace a non-empty folder that is not a prepared dataset.
    """
    t0 = time.perf_counter()
    params = params or load_params()
    sf, base = load_sources(sources_file)
    sources_file = Path(sources_file).resolve()
    out = (Path(out) if out else PROJECT_ROOT / "data" / "prepared" / sources_file.stem).resolve()
    entries = list(sf.sources)
    first = sf.coverage.first_year if sf.coverage else params.sia.trend_start
    last = sf.coverage.last_year if sf.coverage else params.sia.sia_year
    if fy_start_year(last) < fy_start_year(first):
        raise ConfigError(f"{sources_file}: coverage last_year {last} is before first_year {first}")
    cov_start, _ = fy_bounds(first)
    _, cov_end = fy_bounds(last)
    src_meta: list[dict] = []
    quality: dict[str, int] = {}

    def record(entry, path_desc: str, q: dict, rows: int) -> None:
        src_meta.append(
            {
                "kind": entry.kind,
                "label": entry.label,
                "path": path_desc,
                "rows": rows,
                "quality": q,
            }
        )
        for k, v in q.items():
            if k in (
                "no_location",
                "outside_area",
                "duplicates_dropped",
                "lsoa21_remapped",
                "outside_coverage",
                "unmapped_category_rows",
            ):
                quality[k] = quality.get(k, 0) + int(v)

    # --- areas ---------------------------------------------------------------------------
    iod_e, ward_e = _one(entries, "iod2019"), _one(entries, "ons_lsoa_ward")
    if iod_e is None and ward_e is None:
        areas, cw = _reference_geography(params, entries, base, record)
    elif iod_e is None or ward_e is None:
        raise ConfigError(
            f"{sources_file}: an IoD2019 (2011 LSOA) areas table needs both an 'iod2019' and "
            "an 'ons_lsoa_ward' entry; leave both out to use the shipped reference geography "
            "(LSOA 2021, IoD2025, Census 2021)"
        )
    else:
        areas, cw = _iod2019_geography(params, entries, base, record, iod_e, ward_e)

    # --- incidents -------------------------------------------------------------------------
    frames = []
    placement: dict[str, dict] = {}
    for e in entries:
        if e.kind == "policeuk_street":
            paths = resolve(base, e.path)
            df, q = read_policeuk_street(paths, params)
        elif e.kind == "partner_extract":
            # every file a glob matches (unique real files), not just the first
            parts = [
                read_partner_extract(x, e.extract, params, key_env=e.victim_key_env)
                for x in resolve(base, e.path)
            ]
            df = pd.concat([d for d, _ in parts], ignore_index=True)
            q = {k: sum(int(qq.get(k, 0)) for _, qq in parts) for k in parts[0][1]}
            q["files"] = len(parts)
            dup = df["incident_id"].duplicated()
            if dup.any():  # the same reference in two files: kept once, counted
                q["duplicates_dropped"] = q.get("duplicates_dropped", 0) + int(dup.sum())
                df = df[~dup].reset_index(drop=True)
        elif e.kind == "stats19":
            df, q = read_stats19(
                resolve(base, e.collisions)[0],
                resolve(base, e.casualties)[0],
                params.sia.lad_code,
            )
        elif e.kind == "fixmystreet":
            df, q = read_fixmystreet(resolve(base, e.path)[0], params)
        else:
            continue
        df, how, placed = _locate(df, cw)
        summ = cw.summary(how)
        q.update(no_location=summ["no_location"], outside_area=summ["outside_area"])
        q["placement"] = summ
        name = e.label or e.kind
        placement[name] = summ
        # rows that could not be placed in the area: a source losing more than 1% (other
        # than to "outside the area", which is expected for force-wide files) is named
        lost = summ["no_location"]
        if len(how) and lost / len(how) > LOSS_WARNING:
            log.warning(
                "%s: %d of %d rows (%.1f%%) have no location and were dropped",
                name,
                lost,
                len(how),
                100 * lost / len(how),
            )
        dates = df["date"].to_numpy()
        inside = (dates >= cov_start.to_datetime64()) & (dates <= cov_end.to_datetime64())
        q["outside_coverage"] = int((placed & ~inside).sum())
        # a date after today is a data error (a mistyped year), not a choice of coverage
        future = int((placed & (dates > pd.Timestamp.now().normalize().to_datetime64())).sum())
        q["future_dates"] = future
        df = keep_rows(df, placed & inside)
        name = e.label or e.kind
        read = int(len(how))
        # police.uk publishes some records with "No Location" by design (documented and
        # counted); for every other source a row without a location is a loss
        lost = (summ["no_location"] if e.kind != "policeuk_street" else 0) + future
        problems = []
        if read and lost / read > loss_threshold:
            problems.append(
                f"{lost:,} of {read:,} rows ({100 * lost / read:.1f}%) lost: "
                f"{summ['no_location']:,} with no location, {future:,} dated in the future"
            )
        if len(df) == 0:  # the files held no rows, or none survived placing and coverage
            problems.append(
                "no rows left after placing and the coverage years"
                if read
                else "the files hold no rows (a header only?)"
            )
        for msg in problems:
            if allow_loss:
                log.warning("%s: %s (allowed by --allow-loss)", name, msg)
            else:
                raise SourceError(
                    f"{name}: {msg}; check the file, or pass --allow-loss to accept it"
                )
        frames.append(df)
        where = (
            " + ".join(str(resolve(base, v)[0]) for v in (e.collisions, e.casualties))
            if e.kind == "stats19"
            else " + ".join(str(x) for x in resolve(base, e.path))
        )
        record(e, where, q, len(df))
    _log_placement(placement)
    several = len(frames) > 1
    if len(frames) == 1:
        incidents = frames.pop()
    elif frames:
        incidents = pd.concat(frames, ignore_index=True)
        frames.clear()
    else:
        incidents = empty_table("incidents")
    # each loader returns unique ids; the same id from two sources is kept once, counted
    dup = duplicated_rows(incidents["incident_id"]) if several else np.zeros(0, bool)
    if dup.any():
        quality["duplicates_dropped"] = quality.get("duplicates_dropped", 0) + int(dup.sum())
        incidents = incidents[~dup]
    extras = {}
    ho_e = _one(entries, "home_office_csp")
    if ho_e is not None:
        from kcpp_analysis.data.sources.homeoffice import read_home_office_csp

        ho_paths = []
        for x in resolve(base, ho_e.path):
            ho_paths += sorted(x.glob("*.csv")) if x.is_dir() else [x]
        csp, q = read_home_office_csp(ho_paths)
        extras["csp_counts"] = csp
        record(ho_e, " + ".join(str(x) for x in ho_paths), q, len(csp))
    survey_e, ind_e = _one(entries, "survey"), _one(entries, "indicators")
    survey = read_survey_csv(resolve(base, survey_e.path)[0]) if survey_e else empty_table("survey")
    indicators = (
        read_indicators_csv(resolve(base, ind_e.path)[0]) if ind_e else empty_table("indicators")
    )
    # --- synthesise what is missing --------------------------------------------------------
    synthetic_sources: list[str] = []
    synthetic_tables: list[str] = []
    if synthesise_missing:
        if fy_start_year(first) < fy_start_year(FIRST_FY) or fy_start_year(last) > fy_start_year(
            LAST_FY
        ):
            raise ConfigError(
                f"synthetic data covers {FIRST_FY} to {LAST_FY}; the coverage "
                f"{first} to {last} is outside it"
            )
        present = set(incidents["source"]) if len(incidents) else set()
        missing = [s for s in INCIDENT_SOURCES if s not in present]
        fill_tables = [t for t, df in (("survey", survey), ("indicators", indicators)) if df.empty]
        if missing or fill_tables:
            synth = generate_demo(
                seed=seed if seed is not None else DEFAULT_SEED, params=params, areas=areas
            )
            si = synth.incidents
            si = si[
                si["source"].isin(missing) & (si["date"] >= cov_start) & (si["date"] <= cov_end)
            ]
            if len(si):
                incidents = pd.concat([incidents, si], ignore_index=True)
                synthetic_sources = missing
            if "survey" in fill_tables:
                survey = synth.survey[
                    synth.survey["wave"]
                    .map(fy_start_year)
                    .between(fy_start_year(first), fy_start_year(last))
                ]
            if "indicators" in fill_tables:
                indicators = synth.indicators[
                    synth.indicators["period"]
                    .map(fy_start_year)
                    .between(fy_start_year(first), fy_start_year(last))
                ]
            synthetic_tables = (["incidents"] if synthetic_sources else []) + fill_tables
            src_meta.append(
                {
                    "kind": "synthetic",
                    "label": "--synthesise-missing",
                    "path": f"generated on the real geography (seed {seed or DEFAULT_SEED})",
                    "rows": int(len(si)),
                    "sources": missing,
                    "tables": fill_tables,
                }
            )
    meta = {
        "kind": "prepared",
        "title": f"Prepared from {sources_file.name}",
        "sources_file": str(sources_file.resolve()),
        "synthetic_tables": synthetic_tables,
        "synthetic_sources": synthetic_sources,
        "coverage": {"start": str(cov_start.date()), "end": str(cov_end.date())},
        "sources": [
            {
                **s,
                "description": (s.get("label") + ": " if s.get("label") else "")
                + ", ".join(Path(x.strip()).name for x in str(s["path"]).split(" + ")),
            }
            if s["kind"] != "synthetic"
            else {**s, "description": s["path"]}
            for s in src_meta
        ],
        "quality": quality,
        "timing_seconds": {"prepare": round(time.perf_counter() - t0, 2)},
    }
    ds = Dataset(
        incidents=normalise_table(incidents, "incidents", keep_categories=True),
        areas=normalise_table(areas, "areas"),
        survey=normalise_table(survey, "survey"),
        indicators=normalise_table(indicators, "indicators"),
        meta=meta,
        extras=extras,
    )
    return write_dataset(ds, out, params=params, force=force)


def _place(df: pd.DataFrame, cw: Crosswalk) -> tuple[pd.DataFrame, pd.Series]:
    """Place a loader's rows in the areas table; drop (and return the reasons for) the rest."""
    df, how, placed = _locate(df, cw)
    return df[placed].reset_index(drop=True), how


def _locate(df: pd.DataFrame, cw: Crosswalk) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Place a loader's rows in the areas table: the rows with their areas-table code, how
    each was placed, and which were placed (``kcpp prepare`` drops the rest together with
    its own filters, in one copy)."""
    lon = df["_lon"] if "_lon" in df else None
    lat = df["_lat"] if "_lat" in df else None
    codes, how = cw.place(df["lsoa_code"], lon=lon, lat=lat, keys=df["incident_id"])
    df = df.assign(lsoa_code=codes).drop(columns=["_lon", "_lat"], errors="ignore")
    return df, how, codes.notna().to_numpy()


def _log_placement(placement: dict[str, dict]) -> None:
    """One console line per source: rows placed and how, rows dropped and why."""
    for name, s in placement.items():
        placed = sum(v for k, v in s.items() if k not in ("no_location", "outside_area"))
        moved = [
            f"{k.replace('_', ' ')} {v}"
            for k, v in s.items()
            if k not in ("exact", "no_location", "outside_area") and v
        ]
        log.info(
            "%s: %d rows placed%s; %d with no location, %d outside the area",
            name,
            placed,
            f" ({', '.join(moved)})" if moved else "",
            s["no_location"],
            s["outside_area"],
        )


def _reference_geography(params, entries, base, record):
    """Areas from the shipped reference extract (LSOA 2021) and its crosswalk."""
    from kcpp_analysis.data.reference import reference_areas, reference_boundaries, reference_dir
    from kcpp_analysis.presentation.maps import geometries

    lad = params.sia.lad_code
    areas = reference_areas(params, lad)
    d = reference_dir(lad)
    l21_e = _one(entries, "lsoa11_lsoa21")
    lk_path = resolve(base, l21_e.path)[0] if l21_e else d / "lsoa11_lsoa21.csv"
    lookup = read_lookup(lk_path) if lk_path.is_file() else None
    g = reference_boundaries("lsoa21", lad)
    cw = Crosswalk(areas, lookup=lookup, boundaries=geometries(g) if g else None)
    src_meta_entry = type("E", (), {"kind": "reference", "label": f"reference extract {lad}"})
    record(
        src_meta_entry,
        str(d.relative_to(d.parents[3])) if len(d.parents) > 3 else str(d),
        {"lsoas": len(areas), "iod": "IoD2025", "population": "Census 2021"},
        len(areas),
    )
    return areas, cw


def _iod2019_geography(params, entries, base, record, iod_e, ward_e):
    """Areas from IoD2019 File 7 + the ONS LSOA->ward lookup (2011 LSOAs)."""
    iod_path = resolve(base, iod_e.path)[0]
    iod = read_iod2019_file7(iod_path, lad_code=params.sia.lad_code)
    if iod.empty:
        raise SourceError(
            f"{iod_path}: no LSOAs of {params.sia.lad_code} ({params.sia.local_authority})"
        )
    lw = read_ons_lsoa_ward(resolve(base, ward_e.path)[0], lad_code=params.sia.lad_code)
    pop_e = _one(entries, "population")
    pop = read_population(resolve(base, pop_e.path)[0]) if pop_e else None
    wp_e = _one(entries, "ward_place")
    p_for_areas = params
    if wp_e is not None:
        mapping = _ward_place_csv(resolve(base, wp_e.path)[0])
        bad = sorted(set(mapping.values()) - set(params.sia.places))
        if bad:
            raise SourceError(f"{wp_e.path}: places {bad} are not the places of params/sia.yaml")
        from dataclasses import replace

        from kcpp_analysis.config.params import Ward

        names = dict(zip(lw["ward_code"], lw["ward_name"], strict=False))
        p_for_areas = replace(
            params,
            wards=[
                Ward(ward_code=c, ward_name=names.get(c, c), place=pl) for c, pl in mapping.items()
            ],
        )
    areas = build_areas(iod, lw, p_for_areas, pop, source=str(iod_path))
    record(iod_e, str(iod_path), {"lsoas": len(areas)}, len(areas))
    lookup = None
    l21_e = _one(entries, "lsoa11_lsoa21")
    if l21_e is not None:
        lk_path = resolve(base, l21_e.path)[0]
        lookup = read_lookup(lk_path)
        known = lookup[lookup["lsoa11"].isin(set(areas["lsoa_code"]))]
        record(
            l21_e,
            str(lk_path),
            {"lsoa21_merged_codes": int((known["chgind"] == "M").sum())},
            len(known),
        )
    return areas, Crosswalk(areas, lookup=lookup)
