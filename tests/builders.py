"""Small, readable builders shared by the tests (tests never import each other).

- :func:`incident_rows` / :func:`incidents_by_lsoa` / :func:`incidents_by_year`: canonical
  incident rows placed by hand;
- :func:`small_areas`: two places x two wards x two LSOAs, 1,000 residents each, IMD deciles
  1..8;
- :func:`dataset`: a :class:`Dataset` from the tables given (empty tables for the rest);
- :func:`report_context`: a report context over it, writing into a temporary folder.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.data.dataset import Dataset, empty_table, normalise_table
from kcpp_analysis.data.schemas import AREA_COLUMNS

WARDS = [
    ("E05000001", "Ward A", "Batley & Spen"),
    ("E05000002", "Ward B", "Batley & Spen"),
    ("E05000003", "Ward C", "Huddersfield"),
    ("E05000004", "Ward D", "Huddersfield"),
]
COVERAGE = {"start": "2017-04-01", "end": "2026-03-31"}


def incident_row(incident_id: str, date, lsoa: str = "E01011004", **kw) -> dict:
    """One canonical incident (police crime, robbery, no flags) with ``kw`` overriding."""
    row = {
        "incident_id": incident_id,
        "date": pd.Timestamp(date),
        "date_precision": "day",
        "source": "police_crime",
        "category": "robbery",
        "lsoa_code": lsoa,
        "victim_id": None,
        "domestic_abuse": False,
        "hate_crime": False,
        "vawg": False,
        "knife_crime": False,
        "drug_related": False,
        "alcohol_related": False,
        "hate_strand": None,
        "severity": None,
    }
    row.update(kw)
    return row


def incidents(rows: list[dict]) -> pd.DataFrame:
    return normalise_table(pd.DataFrame(rows), "incidents") if rows else empty_table("incidents")


def incidents_by_year(n_by_fy: dict, category: str = "robbery", lsoa: str = "E01011004"):
    """``n`` incidents in each financial year, spread evenly over its days."""
    rows = []
    for fy, n in n_by_fy.items():
        start = pd.Timestamp(int(fy[:4]), 4, 1)
        for i in range(n):
            day = start + pd.Timedelta(days=(i * 360) // max(n, 1))
            rows.append(incident_row(f"{fy}-{i}", day, lsoa, category=category))
    return incidents(rows)


def incidents_by_month(
    n_by_fy: dict, category: str = "robbery", lsoa: str = "E01011004", seed: int = 1
):
    """Monthly Poisson counts around a level that moves smoothly between the financial
    years' totals in ``n_by_fy`` (linear between year midpoints), as real series do; each
    incident on a day of its month. Deterministic for a ``seed``."""
    rng = np.random.default_rng(seed)
    years = list(n_by_fy)
    mids = np.array([12 * i + 5.5 for i in range(len(years))])
    level = np.array([n_by_fy[y] / 12 for y in years], dtype=float)
    rows = []
    start = pd.Timestamp(int(years[0][:4]), 4, 1)
    for k in range(12 * len(years)):
        n = int(rng.poisson(np.interp(k, mids, level)))
        month = start + pd.DateOffset(months=k)
        for i in range(n):
            day = month + pd.Timedelta(days=(i * 27) // max(n, 1))
            rows.append(incident_row(f"m{k}-{i}", day, lsoa, category=category))
    return incidents(rows)


def incidents_by_lsoa(counts: dict, category: str = "robbery", victims=None) -> pd.DataFrame:
    """``{(lsoa_code, financial year): n}``, spread over the year's months."""
    rows = []
    for (lsoa, fy), n in counts.items():
        start = pd.Timestamp(int(fy[:4]), 4, 1)
        for i in range(n):
            rows.append(
                incident_row(
                    f"{lsoa}-{fy}-{i}",
                    start + pd.Timedelta(days=(i * 29) % 360),
                    lsoa,
                    category=category,
                    victim_id=victims(lsoa, fy, i) if victims else None,
                )
            )
    return incidents(rows)


def small_areas() -> pd.DataFrame:
    """Eight LSOAs in four wards and two places; decile i+1 for LSOA i."""
    rows = []
    for i in range(8):
        code, name, place = WARDS[i // 2]
        row = dict.fromkeys(AREA_COLUMNS, np.nan)
        row.update(
            lsoa_code=f"E0100000{i}",
            lsoa_name=f"Kirklees 00{i}A",
            ward_code=code,
            ward_name=name,
            place=place,
            population=1000,
            imd_score=float(40 - 4 * i),
            imd_rank=100 + i,
            imd_decile=i + 1,
        )
        rows.append(row)
    return normalise_table(pd.DataFrame(rows), "areas")


def dataset(inc=None, *, areas=None, survey=None, indicators=None, extras=None, meta=None):
    """A dataset with the tables given and empty ones for the rest (never validated)."""
    return Dataset(
        incidents=inc if inc is not None else empty_table("incidents"),
        areas=areas if areas is not None else empty_table("areas"),
        survey=survey if survey is not None else empty_table("survey"),
        indicators=indicators if indicators is not None else empty_table("indicators"),
        meta=meta or {"coverage": COVERAGE, "fingerprint": "f" * 64, "synthetic_tables": []},
        extras=extras or {},
    )


def report_context(params, inc, tmp_path, year: str = "2025/26", **kw):
    """A report context on :func:`small_areas` (or ``areas=``) writing into ``tmp_path``."""
    from kcpp_analysis.report.context import ReportContext

    kw.setdefault("areas", small_areas())
    return ReportContext(params=params, dataset=dataset(inc, **kw), year=year, output_dir=tmp_path)


OVERVIEW_PARTS = (
    "header",
    "executive_summary",
    "plan_on_a_page",
    "insight",
    "scoring",
    "kpi_dashboard",
    "benchmark",
    "place_profiles",
    "appendix",
)


def render_set_in_process(data_dir, out_dir, year: str = "2025/26") -> dict[str, str]:
    """Every page of a report set rendered in this process through the calls the notebooks
    make (no kernels): ``{theme id or "overview": html}``."""
    from kcpp_analysis.report import assess_overview, assess_theme, open_report

    pages = {}
    ctx = open_report(data_dir, year, out_dir)
    for th in ctx.params.themes:
        rep = assess_theme(ctx, th)
        parts = [rep.header(), rep.kpi_table()]
        parts += [rep.priority(pr) for pr in rep.priorities]
        parts.append(rep.appendix())
        pages[th] = "".join(p._repr_html_() for p in parts)
    ov = assess_overview(ctx)
    pages["overview"] = "".join(getattr(ov, m)()._repr_html_() for m in OVERVIEW_PARTS)
    return pages


def plain(html_text: str) -> str:
    """Page text as a reader sees it (tags removed, entities decoded, spaces collapsed)."""
    import html as html_lib
    import re

    t = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html_text, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", t)))
