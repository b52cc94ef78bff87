"""Blocks shared by the theme pages and the overview: the KPI table and the appendix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.kpis import KPI_COLUMNS
from kcpp_analysis.analysis.labels import chance_labels
from kcpp_analysis.core.periods import fy_labels, previous_fy
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.context import ReportContext
from kcpp_analysis.report.results import Block

# aggregates; the trajectory is written as one text cell "year: value; ..."
KPI_CSV_COLUMNS = [
    c
    for c in KPI_COLUMNS
    if c not in ("trajectory_years", "target_note", "baseline_note", "ytd_share", "ytd_months")
]


def sparkline(values, *, width: int = 90, height: int = 22) -> str:
    """An inline SVG polyline of a KPI's yearly values (no script; prints). Empty when fewer
    than two values are known. The last point is marked.

    >>> sparkline([1, 2, 3]).startswith('<svg')
    True
    >>> sparkline([1, float("nan")])
    ''
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    if ok.sum() < 2:
        return ""
    lo, hi = np.nanmin(v), np.nanmax(v)
    span = hi - lo or 1.0
    xs = np.linspace(3, width - 3, len(v))
    ys = height - 3 - (v - lo) / span * (height - 6)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y, k in zip(xs, ys, ok, strict=True) if k)
    lx, ly = xs[ok][-1], ys[ok][-1]
    return (
        f'<svg class="kcpp-spark" width="{width}" height="{height}" role="img" '
        f'aria-hidden="true" viewBox="0 0 {width} {height}"><polyline fill="none" '
        f'stroke="#0072B2" stroke-width="1.5" points="{pts}"/><circle cx="{lx:.1f}" '
        f'cy="{ly:.1f}" r="2.2" fill="#0072B2"/></svg>'
    )


METHODS = [
    (
        "Trends",
        "Log-linear Poisson model of monthly counts with month-of-year seasonality and "
        "the Covid-19 lockdowns as level changes; negative binomial when the Cameron-Trivedi test "
        "finds over-dispersion. A series starts at its sources' first month with data and stops at "
        "their last; it needs 24 months and 12 months with incidents. A trend is reported as "
        "rising or falling only when its 95% interval excludes zero.",
    ),
    (
        "Year-on-year change",
        "The same months of this year and last (year to date when a source ends early). The test "
        "allows for extra-Poisson variation: the variance of the log rate ratio is the Poisson "
        "variance times the dispersion of the monthly counts around a seasonal model (never "
        "below 1); exact conditional test for small counts. 'Significant' means p < 0.05. On "
        "simulated stable seasonal series at 4,000 a month with 5% extra variation it flags 5% "
        "(a plain Poisson test: 53%).",
    ),
    (
        "SPC",
        "NHS Making Data Count XmR chart of seasonally adjusted monthly values (each month divided "
        "by its seasonal factor from the trend model): mean +/- 2.66 x mean moving range, after "
        "screening out moving ranges above 3.267 x their mean; special causes as NHSRplotthedots: "
        "a point outside the limits, 7 points one side of the mean, 7 points rising or falling, "
        "2 of 3 points near a limit with all 3 on the same side of the mean.",
    ),
    (
        "Deprivation",
        "Rates per 1,000 residents by national IMD decile with exact Poisson "
        "intervals; rate ratio most vs least deprived fifth from a Poisson/negative binomial model "
        "with a population offset; Spearman correlation with a Fisher-z interval; slope index of "
        "inequality and relative index of inequality (the modelled rate at the most deprived "
        "end over that at the least deprived end; PHE method, simulated intervals).",
    ),
    (
        "Concentration",
        "Gini coefficient across LSOAs, adjusted for the concentration expected by "
        "chance at the same total (Mohler et al. 2019); called 'concentrated' only when the "
        "adjusted Gini reaches the threshold in params/sia.yaml; hotspots need at least one "
        "incident; persistence over the last five financial years.",
    ),
    (
        "Repeat victimisation",
        "Incident repeat rate: share of incidents whose victim had another "
        "in the previous 365 days (look-back before the year counts). Victim repeat rate: share of "
        "victims with 2+ incidents in the year. Wilson 95% intervals.",
    ),
    (
        "Surveys",
        "Weighted shares with Wilson intervals on Kish's effective sample size; change "
        "between waves by a two-sample z-test.",
    ),
    (
        "KPI status",
        "Met / not met against the target rule; RAG: green met and not significantly "
        "worsening; amber met but worsening, or missed but within 5% or significantly improving; "
        "red missed and not improving; no data when a year or source is missing. A baseline marked "
        "'measured' is computed from the data for the baseline year; otherwise it is the plan's.",
    ),
    (
        "Disclosure control",
        "Counts of 1-4 are shown as [c]. Linked publications (a priority's "
        "borough totals, places and wards; decile counts with the quintile totals a rate ratio "
        "reveals; repeat-victimisation rows with their total and within-row differences) are "
        "protected together, and an integer-programming audit checks that no suppressed count can "
        "be worked out; rates and changes derived from a suppressed count are hidden; charts draw "
        "only published values (by quarter or year when a month is suppressed).",
    ),
]


def kpi_block(ctx: ReportContext, kt: pd.DataFrame, name: str, *, heading: str) -> Block:
    """KPI table: baseline, previous, current, target, status, direction of travel and RAG.

    Count KPIs below the disclosure threshold are suppressed (with their changes).
    """
    gate = ctx.gate
    rows, hidden, traj_hidden = [], [], []
    for r in kt.itertuples():
        small = r.measure == "count" and any(gate.small(v) for v in (r.current, r.previous))
        hidden.append(small)

        def val(v, _small=small, _unit=r.unit):
            return gate.marker if _small else narrative.fmt_value(v, _unit)

        base = narrative.fmt_value(r.baseline, r.unit)
        if r.baseline_source == "measured" and base != "n/a":
            base += " *"
        traj = list(r.trajectory) if isinstance(r.trajectory, (list, tuple, np.ndarray)) else []
        # a trajectory with any small count is not drawn (its shape would reveal it)
        spark_ok = not small and not (r.measure == "count" and any(gate.small(v) for v in traj))
        traj_hidden.append(not spark_ok)
        if small:
            chg = gate.marker
        elif r.unit == "%":
            chg = (
                f"{r.change_vs_baseline:+.1f} points"
                if np.isfinite(r.change_vs_baseline)
                else "n/a"
            )
        else:
            chg = (
                narrative.fmt_pct(r.change_vs_baseline_pct, 0, True)
                if np.isfinite(r.change_vs_baseline_pct)
                else "n/a"
            )
        rows.append(
            {
                "label": r.label,
                "baseline": base,
                "previous": val(r.previous),
                "current": val(r.current),
                "since": chg,
                "since_label": r.since_baseline,
                "target": narrative.target_in_words(r),
                "status": r.status,
                "travel": r.direction_of_travel,
                "rag": r.rag,
                "spark": sparkline(traj) if spark_ok else "",
                "spark_alt": (
                    f"{r.label} from {r.trajectory_years[0]} to {r.trajectory_years[-1]}: "
                    + ", ".join(narrative.fmt_value(v, r.unit) for v in traj if np.isfinite(v))
                    if spark_ok and len(traj)
                    else ""
                ),
            }
        )
    csv = kt[KPI_CSV_COLUMNS].copy()
    csv["trajectory"] = [
        "; ".join(
            f"{y}: {narrative.fmt_value(v, u) if np.isfinite(v) else 'n/a'}"
            for y, v in zip(ys, vs, strict=True)
        )
        for ys, vs, u in zip(kt["trajectory_years"], kt["trajectory"], kt["unit"], strict=True)
    ]
    hid = pd.Series(hidden, index=csv.index, dtype=bool)
    mask = {
        c: hid.to_numpy()
        for c in (
            "previous",
            "current",
            "change_vs_baseline",
            "change_vs_baseline_pct",
            "travel_p_value",
            "since_baseline_p_value",
        )
    }
    mask["trajectory"] = np.asarray(traj_hidden, dtype=bool)
    pub = gate.table(csv, name, mask=mask)
    notes = sorted(
        {
            f"{r.label}: {' '.join(narrative.kpi_notes(r, ctx.year))}"
            for r in kt.itertuples()
            if narrative.kpi_notes(r, ctx.year)
        }
    )
    return Block(
        "kpi_table.html.j2",
        {
            "heading": heading,
            "rows": rows,
            "year": ctx.year,
            "previous": ctx.previous,
            "baseline_period": ctx.params.sia.baseline_period,
            "notes": notes,
            "any_measured": bool((kt["baseline_source"] == "measured").any()),
        },
        tables=(pub,),
    )


#: One definition per measure, used on every page (printed in every appendix).
GLOSSARY = [
    (
        "ASB (police-recorded)",
        "Anti-social behaviour incidents recorded by the police (personal, nuisance and "
        "environmental types). The overview's place profiles count these.",
    ),
    (
        "Environmental ASB",
        "Fly-tipping (council), deliberate primary and secondary fires (fire service) and "
        "FixMyStreet environmental reports.",
    ),
    (
        "Anti-social behaviour priority",
        "Police-recorded ASB plus environmental ASB: the ASB priority's trend, maps and "
        "tables count both, so its totals are larger than police-recorded ASB alone.",
    ),
    (
        "Crime",
        "A notifiable offence recorded by the police under the Home Office Counting Rules.",
    ),
    (
        "Incident",
        "Any record counted in a section: a crime, an ASB incident, a fly-tipping report, a "
        "deliberate fire or a road casualty. Sections of priorities that mix sources say "
        "incidents.",
    ),
    (
        "Domestic abuse",
        "Crimes and incidents flagged as domestic abuse (Domestic Abuse Act 2021 definition).",
    ),
    (
        "Rate per 1,000",
        "Per 1,000 usual residents of all ages (Census 2021 for the 2021 geography). Rates "
        "for VAWG and youth measures use the same all-resident base: Census 2021 counts by "
        "sex are not in the reference extract, so rates per 1,000 women and girls are not "
        "shown.",
    ),
    (
        "Repeat victim",
        "A victim with another incident of the same kind in the previous 12 months (Home "
        "Office repeat-victimisation definition).",
    ),
    ("LSOA", "Lower-layer Super Output Area (about 1,500 residents), 2021 codes."),
    ("Place", "One of the partnership's four places; wards map to places in params/wards.yaml."),
]


def tests_table(ctx: ReportContext):
    """The labels behind the report's tests, with their false-alarm rates (or None)."""
    labels = chance_labels(ctx.tests)
    if not len(labels):
        return labels, None
    return labels, ctx.gate.table(
        labels.drop(columns=["kind"]).rename(columns={"words": "label"}),
        "appendix_tests",
        formats={"false_alarm_pct": ".1f", "expected_by_chance": ".1f", "labels": ",.0f"},
        caption="Every label that rests on a test: how often it appears when nothing has "
        "changed, and how many to expect by chance in this report",
    )


def pack_appendix_block(ctx: ReportContext, theme_id: str) -> Block:
    """A theme pack's closing section: what the pack leaves out and where it is, the rule
    for each section, the tests behind its labels and the suppression applied."""
    from kcpp_analysis.report.packs import MAX_FULL, MAX_FULL_MONITOR, rules_table

    labels, _ = tests_table(ctx)
    tests_t = None
    if len(labels):
        tests_t = ctx.gate.table(
            labels[["kind", "labels", "false_alarm_pct", "expected_by_chance"]],
            "pack_tests",
            formats={"false_alarm_pct": ".1f", "expected_by_chance": ".1f", "labels": ",.0f"},
            caption="Labels from a test, how often each appears when nothing has changed, and "
            "how many to expect by chance",
        )
    return Block(
        "pack_appendix.html.j2",
        {
            "theme_id": theme_id,
            "rules": rules_table(),
            "max_full": MAX_FULL,
            "max_monitor": MAX_FULL_MONITOR,
            "n_tests": int(labels["labels"].sum()) if len(labels) else 0,
            "chance": float(labels["expected_by_chance"].sum()) if len(labels) else 0.0,
            "suppressed": ctx.gate.suppressed_cells,
            "threshold": ctx.params.sia.disclosure.threshold,
            "marker": ctx.gate.marker,
            "synthetic": ctx.synthetic,
        },
        tables=(tests_t,) if tests_t is not None else (),
    )


def appendix_block(ctx: ReportContext, *, tests: bool = True) -> Block:
    """Sources, coverage, records by source and year, data quality, methods, suppression
    (and, with ``tests``, the labels this document's tests produced)."""
    ds = ctx.dataset
    inc = ds.incidents
    counts = (
        inc.assign(fy=fy_labels(inc["date"])).groupby(["source", "fy"]).size().unstack(fill_value=0)
    )
    counts = counts[[c for c in counts.columns if previous_fy(ctx.year, 4) <= c <= ctx.year]]
    counts = counts.reset_index()
    by_year = ctx.gate.table(
        counts,
        "appendix_records_by_source",
        counts=[c for c in counts.columns if c != "source"],
        row_totals=True,
        column_totals=True,
        caption="Records by source and financial year",
    )
    cov = ds.meta.get("source_coverage") or {}
    cov_t = pd.DataFrame(
        [
            {
                "source": k,
                "first_month": v["first_month"],
                "last_month": v["last_month"],
                "gap_months": ", ".join(v["gap_months"]) or "none",
            }
            for k, v in cov.items()
        ],
        columns=["source", "first_month", "last_month", "gap_months"],
    )
    coverage_t = ctx.gate.table(
        cov_t, "appendix_source_coverage", caption="Months each source holds data (from the data)"
    )
    q = ds.meta.get("quality", {})
    quality = [
        (k.replace("_", " "), narrative.fmt_count(v))
        for k, v in q.items()
        if not isinstance(v, dict)
    ]
    # a source is named by its description or its file name, never a machine path
    sources = [
        (
            s.get("kind", ""),
            s.get("description") or Path(str(s.get("path", ""))).name,
            narrative.fmt_count(s.get("rows", 0)),
        )
        for s in ds.meta.get("sources", [])
    ]
    lo, hi = ds.coverage
    labels, tests_t = tests_table(ctx)
    return Block(
        "appendix.html.j2",
        {
            "doc": ctx.document_control(),
            "n_incidents": narrative.fmt_count(len(inc)),
            "n_areas": len(ds.areas),
            "n_survey": narrative.fmt_count(len(ds.survey)),
            "n_indicators": len(ds.indicators),
            "sources": sources,
            "quality": quality,
            "methods": METHODS,
            "glossary": GLOSSARY,
            "suppressed": ctx.gate.suppressed_cells,
            "tests": labels,
            "n_tests": int(labels["labels"].sum()) if len(labels) else 0,
            "chance": float(labels["expected_by_chance"].sum()) if len(labels) else 0.0,
            "show_tests": tests,
            "threshold": ctx.params.sia.disclosure.threshold,
            "marker": ctx.gate.marker,
            "coverage": f"{lo:%d %b %Y} to {hi:%d %b %Y}",
            "synthetic": ctx.synthetic,
        },
        tables=(coverage_t, by_year) + ((tests_t,) if tests_t is not None else ()),
    )
