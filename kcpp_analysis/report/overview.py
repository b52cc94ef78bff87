"""The overview ("plan on a page"): every priority's rating, the KPI dashboard, places.

It reads each theme's saved results (``results/<theme>_{kpis,assessment}.parquet``, written
by the theme runs of the same report set) instead of refitting; a theme whose results are
absent (e.g. the overview opened on its own in JupyterLab) is assessed here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.kpis import evaluate_kpis
from kcpp_analysis.analysis.surveys import weighted_share
from kcpp_analysis.analysis.trends import compare_periods
from kcpp_analysis.core.periods import fy_labels
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.context import ReportContext
from kcpp_analysis.report.results import Block, Figure
from kcpp_analysis.report.summary import executive_summary_block, scoring_block
from kcpp_analysis.report.tables import appendix_block, kpi_block
from kcpp_analysis.report.theme import assess_theme, load_results, publish

log = logging.getLogger(__name__)


@dataclass
class OverviewReport:
    """The overview's inputs: every theme's KPI table and assessment."""

    ctx: ReportContext
    kpis: pd.DataFrame
    assessment: pd.DataFrame
    reused: list[str]

    def header(self) -> Block:
        a = self.assessment
        n_hf = int((a["recommendation"] == "high focus").sum())
        return Block(
            "overview_header.html.j2",
            {
                "doc": self.ctx.document_control(),
                "synthetic": self.ctx.synthetic,
                "n_hf": n_hf,
                "n": len(a),
                "n_themes": a["theme"].nunique(),
                "rag_counts": a["rag"].value_counts().to_dict(),
            },
        )

    def executive_summary(self) -> Block:
        """Key messages, the high-focus list, intelligence gaps, caveats and framing."""
        return executive_summary_block(self.ctx, self.assessment, self.kpis, self._where())

    def scoring(self) -> Block:
        """The published scoring rules and every priority's scores."""
        b = scoring_block(self.ctx, self.assessment)
        publish(self.ctx, b)
        return b

    def _where(self) -> str | None:
        """Where: the place with the highest recorded crime rate (counts >= threshold)."""
        ctx = self.ctx
        a = ctx.dataset.areas
        inc = ctx.dataset.incidents
        inc = inc[(inc["source"] == "police_crime") & (fy_labels(inc["date"]) == ctx.year)]
        if inc.empty or a.empty:
            return None
        n = inc.merge(a[["lsoa_code", "place"]], on="lsoa_code")["place"].value_counts()
        pop = a.groupby("place")["population"].sum()
        rate = (1000 * n / pop).dropna()
        rate = rate[n.reindex(rate.index).fillna(0) >= ctx.gate.threshold]
        if rate.empty:
            return None
        top = rate.idxmax()
        return (
            f"Where: {top} has the highest recorded crime rate ({rate[top]:,.0f} per 1,000 "
            f"residents in {ctx.year}, against {1000 * n.sum() / pop.sum():,.0f} for {ctx.params.sia.local_authority})."
        )

    def plan_on_a_page(self) -> Block:
        a = self.assessment
        t = self.ctx.gate.table(
            a[["theme_title", "priority", "rag", "recommendation", "rationale"]],
            "overview_priorities",
        )
        b = Block("plan_on_a_page.html.j2", {"rows": a.to_dict("records")}, tables=(t,))
        publish(self.ctx, b)
        return b

    def kpi_dashboard(self) -> Block:
        b = kpi_block(
            self.ctx,
            self.kpis,
            "overview_kpis",
            heading=f"KPI dashboard (against the {self.ctx.params.sia.baseline_period} baselines)",
        )
        publish(self.ctx, b)
        return b

    def benchmark(self) -> Block:
        """How the area compares on every national crime indicator (real open data)."""
        from kcpp_analysis.analysis.benchmark import (
            INDICATOR_LABELS,
            england_rate,
            load_benchmark,
            load_benchmark_config,
            nearest_neighbours,
            rank_and_percentile,
        )

        ctx = self.ctx
        try:
            la, _ = load_benchmark()
        except Exception:
            return Block("benchmark_overview.html.j2", {"available": False})
        code = ctx.params.sia.lad_code
        if code not in set(la["ltla24_code"]):
            return Block("benchmark_overview.html.j2", {"available": False})
        cfg = load_benchmark_config(ctx.params.root / "benchmark.yaml")
        me = la[la["ltla24_code"] == code].iloc[0]
        nn = nearest_neighbours(
            la,
            code,
            variables=cfg["nearest_neighbours"]["variables"],
            k=cfg["nearest_neighbours"]["k"],
        )
        force = la[(la["pfa24_code"] == me["pfa24_code"]) & (la["ltla24_code"] != code)]
        rows = []
        for ind, label in INDICATOR_LABELS.items():
            rank, pct = rank_and_percentile(la[ind], float(me[ind]))
            rows.append(
                {
                    "indicator": label,
                    "rate": float(me[ind]),
                    "rank": rank,
                    "of": int(la[ind].notna().sum()),
                    "england": england_rate(la, ind),
                    "force_mean": force[ind].mean(),
                    "nn_mean": nn[ind].mean(),
                }
            )
        t = pd.DataFrame(rows)
        fmt = {c: ",.1f" for c in ("rate", "england", "force_mean", "nn_mean")}
        fmt.update({"rank": ".0f", "of": ".0f"})
        pub = ctx.gate.table(
            t,
            "overview_benchmark",
            formats=fmt,
            caption=(
                f"{ctx.params.sia.local_authority} on the IoD2025 police-recorded crime "
                "indicators (per 1,000 at-risk population; rank 1 = highest of England's "
                "local authorities)"
            ),
        )
        high = [narrative.lower_first(x) for x in t[t["rank"] <= t["of"] / 4]["indicator"]]
        low = [narrative.lower_first(x) for x in t[t["rank"] > 3 * t["of"] / 4]["indicator"]]
        sentence = (
            f"Among England's {int(t['of'].max())} local authorities, "
            f"{ctx.params.sia.local_authority} is in the highest quarter for "
            f"{narrative.join_list(high) if high else 'none of these indicators'}"
            + (f" and the lowest quarter for {narrative.join_list(low)}" if low else "")
            + f". Its nearest neighbours: {', '.join(nn['ltla24_name'].head(5))} and "
            f"{len(nn) - 5} more (listed in each theme report)."
        )
        b = Block(
            "benchmark_overview.html.j2", {"available": True, "sentence": sentence}, tables=(pub,)
        )
        publish(ctx, b)
        return b

    def place_profiles(self) -> Block:
        """Crime, ASB and domestic abuse by place, with deprivation and feeling safe."""
        ctx = self.ctx
        ds = ctx.dataset
        a = ds.areas
        inc = ds.incidents.merge(a[["lsoa_code", "place"]], on="lsoa_code", how="left")
        fy = fy_labels(inc["date"])
        y, yp = inc[fy == ctx.year], inc[fy == ctx.previous]
        safe = weighted_share(
            ds.survey, "feel_safe_area", by="place", wave=ctx.year, survey_name="residents"
        )
        rows = []
        for place in ctx.params.sia.places:
            ap = a[a["place"] == place]
            pop = ap["population"].sum()
            cur, prv = y[y["place"] == place], yp[yp["place"] == place]
            crime = int((cur["source"] == "police_crime").sum())
            crime_p = int((prv["source"] == "police_crime").sum())
            asb = int((cur["source"] == "police_asb").sum())
            s = safe[(safe["place"] == place) & (safe["n"] >= ctx.gate.threshold)]["share"]
            rows.append(
                {
                    "place": place,
                    "population": pop,
                    "lsoas": len(ap),
                    "pct_lsoas_most_deprived_decile": 100 * (ap["imd_decile"] == 1).mean()
                    if len(ap)
                    else np.nan,
                    "crimes": crime,
                    "crime_rate_per_1000": 1000 * crime / pop if pop else np.nan,
                    "crime_change_pct": compare_periods(crime, crime_p).iloc[0].change_pct,
                    "crimes_previous": crime_p,
                    "asb": asb,
                    "asb_rate_per_1000": 1000 * asb / pop if pop else np.nan,
                    "domestic_abuse": int(cur["domestic_abuse"].sum()),
                    "feel_safe_pct": 100 * s.iloc[0] if len(s) else np.nan,
                }
            )
        t = pd.DataFrame(rows)
        pub = ctx.gate.table(
            t.drop(columns=["crimes_previous"]),
            "overview_places",
            counts=["crimes", "asb", "domestic_abuse"],
            derived={
                "crimes": ["crime_rate_per_1000", "crime_change_pct"],
                "asb": ["asb_rate_per_1000"],
            },
            formats={
                "population": ",.0f",
                "lsoas": ",.0f",
                "pct_lsoas_most_deprived_decile": ".0f",
                "crime_rate_per_1000": ",.1f",
                "crime_change_pct": "+.1f",
                "asb_rate_per_1000": ",.1f",
                "feel_safe_pct": ".1f",
            },
            caption=f"Places in {ctx.year}",
        )
        # a change with a small previous count would reveal it: hide the change then
        small_prev = t["crimes_previous"].map(ctx.gate.small).to_numpy()
        pub.data.loc[small_prev, "crime_change_pct"] = ctx.gate.marker
        pub.display.loc[small_prev, "crime_change_pct"] = ctx.gate.marker
        sentences = []
        shown = np.array([not pub.hidden(i, "crimes") for i in range(len(t))], dtype=bool)
        vis = t[shown & (t["crimes"] > 0).to_numpy()]
        if len(vis):
            hi = vis.sort_values("crime_rate_per_1000", ascending=False).iloc[0]
            sentences.append(
                f"{hi.place} has the highest recorded crime rate "
                f"({hi.crime_rate_per_1000:,.0f} per 1,000 residents in {ctx.year})."
            )
        dep = t.sort_values("pct_lsoas_most_deprived_decile", ascending=False).iloc[0]
        if dep.pct_lsoas_most_deprived_decile > 0:
            sentences.append(
                f"{dep.place} has the largest share of neighbourhoods in England's "
                f"most deprived 10% ({dep.pct_lsoas_most_deprived_decile:.0f}%)."
            )
        if t["feel_safe_pct"].notna().any():
            lo = t.sort_values("feel_safe_pct").iloc[0]
            sentences.append(
                f"Residents of {lo.place} are least likely to feel safe ({lo.feel_safe_pct:.0f}%)."
            )
        b = Block(
            "place_profiles.html.j2",
            {"sentences": sentences},
            tables=(pub,),
            figures=self._reference_map(),
        )
        publish(ctx, b)
        return b

    def _reference_map(self) -> tuple:
        """The wards coloured by place (when the reference boundaries are the dataset's)."""
        from kcpp_analysis.data.reference import reference_boundaries
        from kcpp_analysis.presentation.maps import geometries, reference_map

        a = self.ctx.dataset.areas
        try:
            g = reference_boundaries("wards")
        except Exception:
            return ()
        if g is None:
            return ()
        geoms = geometries(g)
        if set(geoms) != set(a["ward_code"]):
            return ()
        wp = a[["ward_code", "ward_name", "place"]].drop_duplicates("ward_code")
        counts = wp["place"].value_counts()
        alt = (
            f"Reference map of Kirklees' {len(wp)} wards coloured by the partnership's "
            f"{len(counts)} places: "
            + "; ".join(
                f"{p}: {narrative.join_list(sorted(wp.loc[wp['place'] == p, 'ward_name']))}"
                for p in self.ctx.params.sia.places
            )
            + "."
        )
        chart = reference_map(
            geoms, wp, title="Wards and places", alt=alt, name="overview_places_map"
        )
        return (Figure.from_chart(chart, self.ctx.gate.table(chart.data, "overview_places_map")),)

    def appendix(self) -> Block:
        """Data quality and methods; the tests counted are those behind the ratings shown."""
        a, k = self.assessment, self.kpis
        if "yoy_label" in a:
            self.ctx.record_test(
                "year on year",
                int(
                    a["yoy_label"]
                    .isin(["rose significantly", "fell significantly", "no clear change"])
                    .sum()
                ),
            )
        self.ctx.record_test(
            "underlying trend",
            int(a["trend_direction"].isin(["increasing", "decreasing", "no clear change"]).sum()),
        )
        self.ctx.record_test("KPI direction of travel", int(k["travel_p_value"].notna().sum()))
        return appendix_block(self.ctx)


def assess_overview(ctx: ReportContext) -> OverviewReport:
    """Every theme's results: read from this report set's saved results where present."""
    kpis, assess, reused = [], [], []
    for tid in ctx.params.themes:
        saved = load_results(ctx, tid)
        if saved is None:
            log.info("overview: no saved results for theme %s; assessing it here", tid)
            rep = assess_theme(ctx, tid, save=False)
            k, a = rep.kpis, rep.assessment
        else:
            k, a = saved
            reused.append(tid)
        kpis.append(k)
        assess.append(a)
    wide = ctx.params.kpis_for_theme("partnership")
    if wide:  # partnership-wide KPIs (e.g. total recorded crime) belong to the overview only
        kpis.insert(0, evaluate_kpis(ctx.dataset, wide, period=ctx.year, params=ctx.params))
    return OverviewReport(
        ctx, pd.concat(kpis, ignore_index=True), pd.concat(assess, ignore_index=True), reused
    )
