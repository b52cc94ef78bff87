"""Home Office recorded crime by Community Safety Partnership: the partnership against its
comparator CSPs, year by year, with a funnel plot of the latest year.

Runs when the prepared dataset holds the Home Office CSP table (``kcpp prepare`` source kind
``home_office_csp``, read by :func:`kcpp_analysis.data.sources.homeoffice.read_home_office_csp`)
and ``params/benchmark.yaml`` names the priority's Home Office offence groups
(``home_office_groups``). Comparators: the partnership's own comparators
(``params/benchmark.yaml: partnership_comparators``), the CSPs of the force area's other
districts and of the nearest neighbours (:func:`kcpp_analysis.analysis.benchmark.nearest_neighbours`); populations are
Census 2021 residents of each CSP's district (districts holding several CSPs are left out,
as their population cannot be split). Rates per 1,000 residents; the funnel plot uses exact
Poisson limits around the group's pooled rate (as PHEindicatormethods), widened by the
between-partnership variance (:mod:`kcpp_analysis.analysis.funnel`). These are real published
counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.funnel import between_area_variance, classify, funnel_frame
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import SectionSettings, anchor, table_name

KIND = "csp_trend"
TITLE = "Home Office recorded crime: comparator partnerships"


class Settings(SectionSettings):
    years_shown: int


def applies(ctx, pr) -> bool:
    spec = ctx.params.benchmark.priorities.get(pr.id)
    return (
        "csp_counts" in ctx.dataset.extras
        and spec is not None
        and bool(spec.home_office_groups)
        and ctx.comparators() is not None
    )


def _key(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.lower()


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    gate = ctx.gate
    groups = ctx.params.benchmark.priorities[pr.id].home_office_groups
    la, _ = ctx.benchmark_tables()
    cg = ctx.comparators()
    me, nn, force = cg.me, cg.nearest, cg.force
    single = la[~la["csp24_name"].astype(str).str.contains(";")]
    pop = dict(zip(_key(single["csp24_name"]), single["population"], strict=True))
    target = str(me["csp24_name"]).strip().lower()
    comp = {str(x).strip().lower() for x in pd.concat([cg.family, nn, force])["csp24_name"]} - {
        target
    }
    comp = {c for c in comp if c in pop}
    t = ctx.dataset.extras["csp_counts"]
    t = t[t["offence_group"].isin(groups)]
    t = t.assign(key=_key(t["csp"]))
    t = t[t["key"].isin(comp | {target})]
    if t.empty or target not in set(t["key"]):
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (
                f"The Home Office table holds no {narrative.join_list(groups)} counts for "
                f"{me['csp24_name']}.",
            ),
        )
    weights = ctx.params.severity_weights
    if weights is not None:
        t = t.assign(harm=t["count"] * t["offence_code"].str.strip().map(weights).fillna(0.0))
    else:
        t = t.assign(harm=np.nan)
    y = t.groupby(["financial_year", "key"], as_index=False).agg(
        count=("count", "sum"), csp=("csp", "first"), harm=("harm", "sum")
    )
    y["harm_rate"] = 1000 * y["harm"] / y["key"].map(pop)
    y["population"] = y["key"].map(pop)
    y["rate"] = 1000 * y["count"] / y["population"]
    years = sorted(y["financial_year"].unique())[-settings.years_shown :]
    rows = []
    for fy in years:
        g = y[y["financial_year"] == fy]
        mine = g[g["key"] == target]
        other = g[g["key"] != target]
        rows.append(
            {
                "financial_year": fy,
                "count": float(mine["count"].sum()) if len(mine) else np.nan,
                "rate": float(mine["rate"].iloc[0]) if len(mine) else np.nan,
                "group_rate": 1000 * other["count"].sum() / other["population"].sum()
                if len(other)
                else np.nan,
                "group_min": other["rate"].min(),
                "group_max": other["rate"].max(),
                "n_csps": len(other),
            }
        )
        if weights is not None:
            rows[-1]["harm_per_1000"] = float(mine["harm_rate"].iloc[0]) if len(mine) else np.nan
            rows[-1]["group_harm_per_1000"] = (
                1000 * other["harm"].sum() / other["population"].sum() if len(other) else np.nan
            )
    s = pd.DataFrame(rows)
    table = gate.table(
        s,
        table_name(ctx, pr.id, "csp_series"),
        counts=["count"],
        derived={"count": ["rate"]},
        column_totals=False,
        formats={
            c: ",.1f"
            for c in (
                "rate",
                "group_rate",
                "group_min",
                "group_max",
                "harm_per_1000",
                "group_harm_per_1000",
            )
        }
        | {"n_csps": ".0f"},
        caption=(
            f"{me['csp24_name']} against {len(comp)} comparator partnerships: "
            f"{narrative.join_list(groups)} (Home Office police recorded crime)"
        ),
    )
    last = y[y["financial_year"] == years[-1]].copy()
    pooled = 1000 * last["count"].sum() / last["population"].sum()
    expected = pooled * last["population"] / 1000
    bav = between_area_variance(last["count"], expected)
    cls = classify(last["count"], expected, bav.tau2)
    last["outside"] = np.where(
        cls == "above 99.8%", "above", np.where(cls == "below 99.8%", "below", "")
    )
    m = last[last["key"] == target].iloc[0]
    where = {"above": "above", "below": "below", "": "inside"}[m["outside"]]
    sentence = (
        f"In {years[-1]}, {me['csp24_name']} recorded {narrative.fmt_count(m['count'])} "
        f"{narrative.lower_first(narrative.join_list(groups))} offences "
        f"({m['rate']:,.1f} per 1,000 residents) against {pooled:,.1f} for the comparator "
        f"partnerships taken together: {where} the 99.8% funnel limits"
        + (
            f" (widened for the real spread between partnerships, about {bav.tau_pct:.0f}% "
            "of the pooled rate)"
            if bav.tau2 > 0
            else ""
        )
        + "."
    )
    if weights is not None and pd.notna(s["harm_per_1000"].iloc[-1]):
        sentence += (
            f" Weighted by the ONS Crime Severity Score, its harm rate is "
            f"{s['harm_per_1000'].iloc[-1]:,.0f} per 1,000 against "
            f"{s['group_harm_per_1000'].iloc[-1]:,.0f} for the comparators."
        )
    lim = funnel_frame(
        last["population"].min() * 0.9, last["population"].max() * 1.05, pooled, tau2=bav.tau2
    )
    pts = last.assign(
        highlight=last["key"] == target,
        named=last["key"] == target,
        label=me["csp24_name"],
    )
    chart = charts.funnel_chart(
        pts[["population", "rate", "highlight", "named", "label"]],
        lim,
        title=f"{pr.title}: comparator partnerships, {years[-1]} (Home Office)",
        alt=f"Funnel plot of {len(last)} community safety partnerships' rates. {sentence}",
        name=table_name(ctx, pr.id, "csp_funnel"),
    )
    data = gate.table(
        last[["csp", "count", "population", "rate", "outside"]],
        table_name(ctx, pr.id, "csp_funnel"),
        counts=["count"],
        derived={"count": ["rate"]},
        column_totals=False,
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        (sentence,),
        (table,),
        (Figure.from_chart(chart, data),),
        (
            "Real published counts (Home Office police recorded crime by CSP); rates per 1,000 "
            "Census 2021 residents of each partnership's district. Comparators: the "
            "partnership's own comparators, the force area's other partnerships and those of "
            "the nearest neighbours.",
        ),
        signals={"outside": m["outside"] != ""},
    )
