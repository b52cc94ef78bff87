"""``kcpp prepare --sources FILE``: real inputs into the canonical tables.

Order of work (:func:`prepare_from_sources`, one function per step): validate the sources
file (kinds from the registry, keys, every path exists); build ``areas`` and the crosswalk
(the shipped reference geography, or IoD2019 File 7 + the ONS LSOA->ward lookup); read
every incident source through its registered reader and place its rows (:func:`_incidents`:
losses counted, and an error above the loss threshold); read the tables and extra tables;
optionally fill the sources and tables that have no real rows with synthetic data
generated on the real geography (``--synthesise-missing``); validate everything and write
the prepared dataset atomically. Any error leaves no dataset behind (the previous one, if
any, is kept).

Synthesis is per canonical source and per table: a source with any real rows is never
topped up with synthetic ones, so real and synthetic records never mix within a source.
``dataset.json`` lists the synthetic sources, and every report built from the dataset
carries the synthetic-data banner.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kcpp_analysis.config.params import Params, load_params
from kcpp_analysis.core.errors import ConfigError, SourceError
from kcpp_analysis.core.paths import PROJECT_ROOT
from kcpp_analysis.core.periods import fy_bounds, fy_start_year
from kcpp_analysis.data.crosswalk import Crosswalk
from kcpp_analysis.data.dataset import Dataset, empty_table, normalise_table, write_dataset
from kcpp_analysis.data.demo.generator import DEFAULT_SEED, FIRST_FY, LAST_FY, generate_demo
from kcpp_analysis.data.schemas import duplicated_rows
from kcpp_analysis.data.sources import REGISTRY
from kcpp_analysis.data.sources.common import keep_rows, read_csv_checked
from kcpp_analysis.data.sources.geography import (
    build_areas,
    read_iod2019_file7,
    read_lookup,
    read_ons_lsoa_ward,
    read_population,
)
from kcpp_analysis.data.sources.registry import ReadContext
from kcpp_analysis.data.sources.sourcesfile import load_sources, resolve

log = logging.getLogger(__name__)

LOSS_WARNING = 0.01  # rows with no location above this share of a source: warned
LOSS_ERROR = 0.01  # rows lost (no location, future dates) above this share: an error
#: quality counts summed across sources in dataset.json
QUALITY_KEYS = (
    "no_location",
    "outside_area",
    "duplicates_dropped",
    "lsoa21_remapped",
    "outside_coverage",
    "unmapped_category_rows",
)


@dataclass
class Run:
    """The state of one prepare: settings, what has been read, and the metadata."""

    params: Params
    base: Path
    entries: list
    cov_start: pd.Timestamp
    cov_end: pd.Timestamp
    allow_loss: bool
    loss_threshold: float
    src_meta: list[dict] = field(default_factory=list)
    quality: dict[str, int] = field(default_factory=dict)

    def record(self, kind: str, label, path_desc: str, q: dict, rows: int) -> None:
        self.src_meta.append(
            {"kind": kind, "label": label, "path": path_desc, "rows": rows, "quality": q}
        )
        for k in QUALITY_KEYS:
            if k in q:
                self.quality[k] = self.quality.get(k, 0) + int(q[k])

    def one(self, kind: str):
        es = [e for e in self.entries if e.kind == kind]
        return es[0] if es else None


def _check_once(entries, sources_file: Path) -> None:
    for kind, k in REGISTRY.items():
        if k.once and sum(e.kind == kind for e in entries) > 1:
            raise ConfigError(f"{sources_file}: kind {kind!r} may appear only once")


def _ward_place_csv(path: Path) -> dict[str, str]:
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
    (default 1%): rows with no location or a malformed area code, and rows dated after today
    (a mistyped year). Rows outside the chosen coverage years are documented filtering:
    counted and logged. A source that ends with no rows at all is an error too.
    ``allow_loss`` turns both into warnings (``kcpp prepare --allow-loss``).

    ``force`` lets ``out`` replace a non-empty folder that is not a prepared dataset.
    """
    t0 = time.perf_counter()
    params = params or load_params()
    sources_file = Path(sources_file).resolve()
    sf, base = load_sources(sources_file)
    out = (Path(out) if out else PROJECT_ROOT / "data" / "prepared" / sources_file.stem).resolve()
    entries = list(sf.sources)
    _check_once(entries, sources_file)
    first = sf.coverage.first_year if sf.coverage else params.sia.trend_start
    last = sf.coverage.last_year if sf.coverage else params.sia.sia_year
    if fy_start_year(last) < fy_start_year(first):
        raise ConfigError(f"{sources_file}: coverage last_year {last} is before first_year {first}")
    run = Run(
        params, base, entries, fy_bounds(first)[0], fy_bounds(last)[1], allow_loss, loss_threshold
    )
    areas, cw = _geography(run, sources_file)
    rc = ReadContext(
        base=base,
        params=params,
        areas=areas,
        resolve=lambda v: resolve(base, v),
        place=lambda codes, keys=None: cw.place(codes, keys=keys),
    )
    incidents = _incidents(run, rc, cw)
    tables, extras = _tables_and_extras(run, rc)
    synthetic_sources, synthetic_tables = _marked_synthetic(run, incidents)
    if synthesise_missing:
        incidents, tables, extras, filled_sources, filled_tables = _synthesise(
            run, areas, incidents, tables, extras, first, last, seed
        )
        synthetic_sources = sorted({*synthetic_sources, *filled_sources})
        synthetic_tables = sorted({*synthetic_tables, *filled_tables})
    meta = {
        "kind": "prepared",
        "title": f"Prepared from {sources_file.name}",
        "sources_file": str(sources_file),
        "synthetic_tables": synthetic_tables,
        "synthetic_sources": synthetic_sources,
        "coverage": {"start": str(run.cov_start.date()), "end": str(run.cov_end.date())},
        "sources": [_described(s) for s in run.src_meta],
        "quality": run.quality,
        "timing_seconds": {"prepare": round(time.perf_counter() - t0, 2)},
    }
    ds = Dataset(
        incidents=normalise_table(incidents, "incidents", keep_categories=True),
        areas=normalise_table(areas, "areas"),
        survey=normalise_table(tables["survey"], "survey"),
        indicators=normalise_table(tables["indicators"], "indicators"),
        meta=meta,
        extras=extras,
    )
    return write_dataset(ds, out, params=params, force=force)


def _marked_synthetic(run: Run, incidents) -> tuple[list[str], list[str]]:
    """Sources and tables the sources file marks ``synthetic: true``."""
    sources, tables = set(), set()
    for e in run.entries:
        if not getattr(e, "synthetic", False):
            continue
        k = REGISTRY[e.kind]
        if k.role == "incidents":
            sources |= set(k.produces) & set(incidents["source"].unique() if len(incidents) else [])
            tables.add("incidents")
        elif k.role in ("table", "extra"):
            tables.add(k.target)
    return sorted(sources), sorted(tables)


def _described(s: dict) -> dict:
    if s["kind"] == "synthetic":
        return {**s, "description": s["path"]}
    names = ", ".join(Path(x.strip()).name for x in str(s["path"]).split(" + "))
    return {**s, "description": (s.get("label") + ": " if s.get("label") else "") + names}


def _geography(run: Run, sources_file: Path) -> tuple[pd.DataFrame, Crosswalk]:
    """The areas table and the crosswalk every source is placed through."""
    iod_e, ward_e = run.one("iod2019"), run.one("ons_lsoa_ward")
    if iod_e is None and ward_e is None:
        return _reference_geography(run)
    if iod_e is None or ward_e is None:
        raise ConfigError(
            f"{sources_file}: an IoD2019 (2011 LSOA) areas table needs both an 'iod2019' and "
            "an 'ons_lsoa_ward' entry; leave both out to use the shipped reference geography "
            "(LSOA 2021, IoD2025, Census 2021)"
        )
    return _iod2019_geography(run, iod_e, ward_e)


def _incidents(run: Run, rc: ReadContext, cw: Crosswalk) -> pd.DataFrame:
    """Every incident source read by its registered reader and placed in the area."""
    frames = []
    placement: dict[str, dict] = {}
    for e in run.entries:
        k = REGISTRY[e.kind]
        if k.role != "incidents":
            continue
        res = k.read(e, rc)
        df, q = res.frame, dict(res.quality)
        name = e.label or e.kind
        df = _place_and_filter(run, df, q, cw, name, e.kind)
        placement[name] = q["placement"]
        frames.append(df)
        run.record(e.kind, e.label, " + ".join(str(x) for x in res.files), q, len(df))
    _log_placement(placement)
    several = len(frames) > 1
    if len(frames) == 1:
        incidents = frames.pop()
    elif frames:
        incidents = pd.concat(frames, ignore_index=True)
        frames.clear()
    else:
        incidents = empty_table("incidents")
    # each reader returns unique ids; the same id from two sources is kept once, counted
    dup = duplicated_rows(incidents["incident_id"]) if several else np.zeros(0, bool)
    if dup.any():
        run.quality["duplicates_dropped"] = run.quality.get("duplicates_dropped", 0) + int(
            dup.sum()
        )
        incidents = incidents[~dup]
    return incidents


def _place_and_filter(run: Run, df, q: dict, cw: Crosswalk, name: str, kind: str):
    """Place a source's rows, count what is lost and why, and apply the loss rule."""
    df, how, placed = _locate(df, cw)
    summ = cw.summary(how)
    q.update(no_location=summ["no_location"], outside_area=summ["outside_area"])
    q["malformed_code"] = summ.get("malformed_code", 0)
    q["placement"] = summ
    read = int(len(how))
    if read and summ["no_location"] / read > LOSS_WARNING:
        log.warning(
            "%s: %d of %d rows (%.1f%%) have no location and were dropped",
            name,
            summ["no_location"],
            read,
            100 * summ["no_location"] / read,
        )
    dates = df["date"].to_numpy()
    inside = (dates >= run.cov_start.to_datetime64()) & (dates <= run.cov_end.to_datetime64())
    q["outside_coverage"] = int((placed & ~inside).sum())
    # a date after today is a data error (a mistyped year), not a choice of coverage
    future = int((placed & (dates > pd.Timestamp.now().normalize().to_datetime64())).sum())
    q["future_dates"] = future
    df = keep_rows(df, placed & inside)
    # police.uk publishes some records with "No Location" by design (documented and
    # counted); for every other source a row without a location is a loss, and a malformed
    # area code is a loss for every source
    no_loc = summ["no_location"] if kind != "policeuk_street" else 0
    # rows a reader itself had to drop (e.g. STATS19 casualties with no collision)
    reader_lost = {k: int(v) for k, v in q.pop("lost", {}).items() if v}
    q.update({f"lost: {k}": v for k, v in reader_lost.items()})
    lost = no_loc + q["malformed_code"] + future + sum(reader_lost.values())
    total = read + sum(reader_lost.values())
    problems = []
    if total and lost / total > run.loss_threshold:
        why = [
            f"{summ['no_location']:,} with no location",
            f"{q['malformed_code']:,} with a malformed area code",
            f"{future:,} dated in the future",
            *(f"{v:,} {k}" for k, v in reader_lost.items()),
        ]
        problems.append(
            f"{lost:,} of {total:,} rows ({100 * lost / total:.1f}%) lost: " + ", ".join(why)
        )
    if len(df) == 0:  # the files held no rows, or none survived placing and coverage
        problems.append(
            "no rows left after placing and the coverage years"
            if read
            else "the files hold no rows (a header only?)"
        )
    for msg in problems:
        if run.allow_loss:
            log.warning("%s: %s (allowed by --allow-loss)", name, msg)
        else:
            raise SourceError(f"{name}: {msg}; check the file, or pass --allow-loss to accept it")
    return df


def _tables_and_extras(run: Run, rc: ReadContext) -> tuple[dict, dict]:
    """The survey and indicators tables and the extra tables (e.g. ``csp_counts``,
    ``insight``), each read by its registered reader."""
    tables = {"survey": empty_table("survey"), "indicators": empty_table("indicators")}
    extras: dict[str, pd.DataFrame] = {}
    for e in run.entries:
        k = REGISTRY[e.kind]
        if k.role not in ("table", "extra"):
            continue
        res = k.read(e, rc)
        df, q = res.frame, dict(res.quality)
        if "date" in df.columns and not df.empty:  # dated extras keep the coverage years only
            inside = (df["date"] >= run.cov_start) & (df["date"] <= run.cov_end)
            q["outside_coverage"] = int((~inside).sum())
            df = df[inside].reset_index(drop=True)
        if k.role == "table":
            tables[k.target] = df
        else:
            extras[k.target] = df
        run.record(e.kind, e.label, " + ".join(str(x) for x in res.files), q, len(df))
    return tables, extras


def _synthesise(run: Run, areas, incidents, tables, extras, first, last, seed):
    """Fill the incident sources and tables with no real rows with synthetic data."""
    if fy_start_year(first) < fy_start_year(FIRST_FY) or fy_start_year(last) > fy_start_year(
        LAST_FY
    ):
        raise ConfigError(
            f"synthetic data covers {FIRST_FY} to {LAST_FY}; the coverage "
            f"{first} to {last} is outside it"
        )
    present = set(incidents["source"].unique()) if len(incidents) else set()
    demo_sources = ("police_crime", "police_asb", "council", "fire", "roads")
    missing = [s for s in demo_sources if s not in present]
    fill_tables = [t for t in ("survey", "indicators") if tables[t].empty]
    fill_extras = [t for t in ("insight",) if t not in extras]
    if not (missing or fill_tables or fill_extras):
        return incidents, tables, extras, [], []
    synth = generate_demo(
        seed=seed if seed is not None else DEFAULT_SEED, params=run.params, areas=areas
    )
    si = synth.incidents
    si = si[
        si["source"].isin(missing) & (si["date"] >= run.cov_start) & (si["date"] <= run.cov_end)
    ]
    sources = []
    if len(si):
        incidents = pd.concat([incidents, si], ignore_index=True)
        sources = missing
    years = range(fy_start_year(first), fy_start_year(last) + 1)
    if "survey" in fill_tables:
        tables["survey"] = synth.survey[synth.survey["wave"].map(fy_start_year).isin(years)]
    if "indicators" in fill_tables:
        ind = synth.indicators
        tables["indicators"] = ind[ind["period"].map(fy_start_year).isin(years)]
    for t in fill_extras:
        if t in synth.extras:
            x = synth.extras[t]
            extras[t] = x[(x["date"] >= run.cov_start) & (x["date"] <= run.cov_end)].reset_index(
                drop=True
            )
    synthetic_tables = (
        (["incidents"] if sources else []) + fill_tables + [t for t in fill_extras if t in extras]
    )
    run.src_meta.append(
        {
            "kind": "synthetic",
            "label": "--synthesise-missing",
            "path": f"generated on the real geography (seed {seed or DEFAULT_SEED})",
            "rows": int(len(si)),
            "sources": sources,
            "tables": synthetic_tables,
        }
    )
    return incidents, tables, extras, sources, synthetic_tables


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


def _reference_geography(run: Run) -> tuple[pd.DataFrame, Crosswalk]:
    """Areas from the shipped reference extract (LSOA 2021) and its crosswalk."""
    from kcpp_analysis.data.reference import (
        geometries,
        reference_areas,
        reference_boundaries,
        reference_dir,
    )

    params, base = run.params, run.base
    lad = params.sia.lad_code
    areas = reference_areas(params, lad)
    d = reference_dir(lad)
    l21_e = run.one("lsoa11_lsoa21")
    lk_path = resolve(base, l21_e.path)[0] if l21_e else d / "lsoa11_lsoa21.csv"
    lookup = read_lookup(lk_path) if lk_path.is_file() else None
    g = reference_boundaries("lsoa21", lad)
    cw = Crosswalk(areas, lookup=lookup, boundaries=geometries(g) if g else None)
    run.record(
        "reference",
        f"reference extract {lad}",
        str(d.relative_to(d.parents[3])) if len(d.parents) > 3 else str(d),
        {"lsoas": len(areas), "iod": "IoD2025", "population": "Census 2021"},
        len(areas),
    )
    return areas, cw


def _iod2019_geography(run: Run, iod_e, ward_e) -> tuple[pd.DataFrame, Crosswalk]:
    """Areas from IoD2019 File 7 + the ONS LSOA->ward lookup (2011 LSOAs)."""
    params, base = run.params, run.base
    iod_path = resolve(base, iod_e.path)[0]
    iod = read_iod2019_file7(iod_path, lad_code=params.sia.lad_code)
    if iod.empty:
        raise SourceError(
            f"{iod_path}: no LSOAs of {params.sia.lad_code} ({params.sia.local_authority})"
        )
    lw = read_ons_lsoa_ward(resolve(base, ward_e.path)[0], lad_code=params.sia.lad_code)
    pop_e = run.one("population")
    pop = read_population(resolve(base, pop_e.path)[0]) if pop_e else None
    wp_e = run.one("ward_place")
    p_for_areas = params
    if wp_e is not None:
        mapping = _ward_place_csv(resolve(base, wp_e.path)[0])
        bad = sorted(set(mapping.values()) - set(params.sia.places))
        if bad:
            raise SourceError(f"{wp_e.path}: places {bad} are not the places of params/sia.yaml")
        from dataclasses import replace

        from kcpp_analysis.config.models import Ward

        names = dict(zip(lw["ward_code"], lw["ward_name"], strict=False))
        p_for_areas = replace(
            params,
            wards=[
                Ward(ward_code=c, ward_name=names.get(c, c), place=pl) for c, pl in mapping.items()
            ],
        )
    areas = build_areas(iod, lw, p_for_areas, pop, source=str(iod_path))
    run.record(iod_e.kind, iod_e.label, str(iod_path), {"lsoas": len(areas)}, len(areas))
    lookup = None
    l21_e = run.one("lsoa11_lsoa21")
    if l21_e is not None:
        lk_path = resolve(base, l21_e.path)[0]
        lookup = read_lookup(lk_path)
        known = lookup[lookup["lsoa11"].isin(set(areas["lsoa_code"]))]
        run.record(
            l21_e.kind,
            l21_e.label,
            str(lk_path),
            {"lsoa21_merged_codes": int((known["chgind"] == "M").sum())},
            len(known),
        )
    return areas, Crosswalk(areas, lookup=lookup)
