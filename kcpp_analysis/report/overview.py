"""The overview ("plan on a page"): every priority's recommendation, the KPI dashboard,
insight against data, benchmarking and the places.

It reads each theme's saved results (``results/<theme>_kpis.parquet`` and
``<theme>_assessment.json``, written by the theme runs of the same report set) instead of
recomputing; a theme whose results are absent (e.g. the overview opened on its own in
JupyterLab) is assessed here.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.assessment import PriorityAssessment
from kcpp_analysis.analysis.insight import (
    concern_by_place,
    dig_deeper,
    signal_by_place,
    untestable_concerns,
)
from kcpp_analysis.analysis.kpis import evaluate_kpis
from kcpp_analysis.analysis.places import place_profiles
from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.periods import in_fy
from kcpp_analysis.presentation import charts, narrative, recommendation
from kcpp_analysis.report.brief import brief_block
from kcpp_analysis.report.context import ReportContext
from kcpp_analysis.report.documents import write_document
from kcpp_analysis.report.links import links_block, links_membership
from kcpp_analysis.report.methods_annex import methods_block
from kcpp_analysis.report.place_packs import write_place_packs
from kcpp_analysis.report.public import write_public
from kcpp_analysis.report.results import Block, Figure
from kcpp_analysis.report.summary import executive_summary_block, method_block, ordered
from kcpp_analysis.report.tables import appendix_block, kpi_block
from kcpp_analysis.report.theme import assess_theme, load_results, publish

#: untestable insight concerns listed on the overview's page (all of them in the CSV)
UNTESTABLE_SHOWN = 6

log = logging.getLogger(__name__)


@dataclass
class OverviewReport:
    """The overview's inputs: every theme's KPI table and assessments."""

    ctx: ReportContext
    kpis: pd.DataFrame
    assessments: list[PriorityAssessment]
    reused: list[str]

    def header(self) -> Block:
        a = self.assessments
        counts = {
            s: sum(x.final_status == s for x in a)
            for s in ("high focus", "cross-cutting", "continue to monitor", "no data")
        }
        return Block(
            "overview_header.html.j2",
            {
                "doc": self.ctx.document_control(),
                "synthetic": self.ctx.synthetic,
                "n": len(a),
                "n_themes": len({x.theme for x in a}),
                "counts": [(recommendation.status_label(k), v) for k, v in counts.items() if v],
                "n_proposed": sum(x.proposed_status is not None for x in a),
                "n_agree": sum(bool(x.agrees) for x in a),
            },
        )

    def executive_summary(self) -> Block:
        """Key messages, the high-focus list, change since last time, gaps, caveats."""
        return executive_summary_block(self.ctx, self.assessments, self.kpis, self._where())

    def scoring(self) -> Block:
        """The decision method, the evidence score and every priority's scores."""
        b = method_block(self.ctx, self.assessments)
        publish(self.ctx, b)
        return b

    def _where(self) -> str | None:
        """Where: the place with the highest recorded crime rate (counts >= threshold)."""
        t = self._places()
        ok = t[(t["crimes"] >= self.ctx.gate.threshold)].dropna(subset=["crime_rate_per_1000"])
        if ok.empty:
            return None
        top = ok.sort_values("crime_rate_per_1000", ascending=False).iloc[0]
        total = 1000 * t["crimes"].sum() / t["population"].sum()
        return (
            f"Where: {top.place} has the highest recorded crime rate ({top.crime_rate_per_1000:,.0f} "
            f"per 1,000 residents in {self.ctx.year}, against {total:,.0f} for "
            f"{self.ctx.params.sia.local_authority})."
        )

    def plan_on_a_page(self) -> Block:
        """Every priority: class, why, the partnership's proposal, last time, score,
        confidence and what would change it; ordered by class and score."""
        ctx = self.ctx
        sc = ctx.params.scoring
        rows = []
        for a in ordered(self.assessments):
            why = recommendation.reason_sentences(
                a, threshold=ctx.gate.threshold, labels=ctx.params.surveys.label
            )
            rows.append(
                {
                    "theme": a.theme_title,
                    "priority": a.priority,
                    "recommended": recommendation.status_label(a.status),
                    "adopted": recommendation.status_label(a.final_status)
                    + (" (board override)" if a.overridden else ""),
                    "criteria_fired": "; ".join(
                        sc.method.criteria[k].label for k in a.reasons if k in sc.method.criteria
                    ),
                    "evidence": " ".join(why),
                    "proposed": recommendation.status_label(a.proposed_status)
                    if a.proposed_status
                    else "",
                    "agrees": "" if a.agrees is None else ("yes" if a.agrees else "no"),
                    "last_assessment": (a.previous_rating or "not rated").upper(),
                    "this_year": recommendation.rag_label(a.rag),
                    "movement": a.movement,
                    "score": a.total,
                    "confidence": a.confidence,
                    "what_would_change_it": recommendation.sensitivity_sentence(a),
                    "sensitivity": recommendation.sensitivity_short(a),
                    "status": a.final_status,
                    "rag": a.rag,
                }
            )
        t = pd.DataFrame(rows)
        pub = ctx.gate.table(
            t.drop(columns=["status", "rag", "sensitivity"]),
            "overview_priorities",
            formats={"score": ".0f"},
            caption=f"Every priority, {ctx.year}: recommendation, evidence, proposal, last assessment and sensitivity",
        )
        chart_rows = t[["priority", "score", "confidence", "status"]].copy()
        n_hf = int((t["status"] == "high focus").sum())
        chart = charts.priority_chart(
            chart_rows,
            band=sc.bands.high_focus,
            title=f"Evidence score of every priority, {ctx.year}",
            alt=(
                f"Bar chart of the {len(t)} priorities' evidence scores from 0 to 100, "
                f"coloured by recommended class ({n_hf} high focus), with each confidence "
                f"grade and the high-focus band at {sc.bands.high_focus:.0f}. The highest is "
                + (
                    f"{t.loc[t['score'].idxmax(), 'priority']} ({t['score'].max():.0f})."
                    if t["score"].notna().any()
                    else "not available: no priority is scored."
                )
            ),
            name="overview_priority_scores",
        )
        b = Block(
            "plan_on_a_page.html.j2",
            {"rows": t.to_dict("records")},
            tables=(pub,),
            figures=(
                Figure.from_chart(chart, ctx.gate.table(chart.data, "overview_priority_scores")),
            ),
        )
        publish(ctx, b)
        return b

    def links(self) -> Block:
        """Links between priorities: exact overlap, shared victims, multi-priority
        neighbourhoods (:mod:`kcpp_analysis.report.links`)."""
        b = links_block(self.ctx)
        publish(self.ctx, b)
        return b

    def _insight_frames(self) -> dict | None:
        """Concern by place and where concern and data disagree (:func:`insight_frames`)."""
        return insight_frames(self.ctx)

    def insight(self) -> Block:
        """Community insight against the data, and where to dig deeper."""
        ctx = self.ctx
        ins = ctx.insight
        if ins is None:
            return Block(
                "insight.html.j2",
                {"supplied": False, "owner": ctx.params.sia.data_owners.get("insight", "")},
            )
        topics = ctx.params.insight.topics
        places = ctx.params.sia.places
        frames = self._insight_frames()
        concern, digs = frames["concern"], frames["digs"]
        title = {pr.id: pr.title for pr in ctx.params.priorities}
        grid = concern.pivot_table(
            index="priority_id", columns="place", values="share_pct", aggfunc="sum"
        ).reindex(columns=places)
        grid = grid.fillna(0.0).reset_index()
        grid.insert(0, "priority", grid["priority_id"].map(title))
        grid = grid.drop(columns=["priority_id"]).sort_values("priority")
        g_pub = ctx.gate.table(
            grid,
            "overview_insight_share",
            formats=dict.fromkeys(places, ".0f"),
            caption=f"Share of each place's insight mentions by priority, {ctx.year} (%)",
        )
        # the ratio is to the rest of the borough (not the place packs' "times the borough
        # rate", which includes the place itself): the heading says so
        digs = digs.assign(priority=digs["priority_id"].map(title)).rename(
            columns={"rate_ratio": "rate_ratio_rest", "share_pct": "place_share_pct"}
        )
        d_pub = ctx.gate.table(
            digs[["priority", "place", "kind", "place_share_pct", "rate_ratio_rest", "signal"]],
            "overview_dig_deeper",
            formats={"place_share_pct": ".0f", "rate_ratio_rest": ".2f"},
            caption="Where concern and data disagree (dig deeper)",
        )
        un = untestable_concerns(ins, topics)
        shown = UNTESTABLE_SHOWN if len(un) > UNTESTABLE_SHOWN + 1 else len(un)
        u_pub = ctx.gate.table(
            un[["label", "mentions", "could_be_tested_by"]],
            "overview_untestable_concerns",
            caption="Concerns the recorded data cannot test, and the source that could"
            + (
                f": the {shown} most mentioned of {len(un)}, all of them in the CSV"
                if shown < len(un)
                else ""
            ),
        )
        u_pub = replace(u_pub, display=u_pub.display.head(shown))
        b = Block(
            "insight.html.j2",
            {
                "supplied": True,
                "total": int(ins["mentions"].sum()),
                "places": places,
                "n_dig": len(digs),
                "thresholds": ctx.params.insight.dig_deeper,
            },
            tables=(g_pub, d_pub, u_pub),
        )
        publish(ctx, b)
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
        from kcpp_analysis.analysis.benchmark import england_rate, rank_and_percentile
        from kcpp_analysis.data.national import INDICATOR_LABELS

        ctx = self.ctx
        g = ctx.comparators()
        if g is None:
            return Block("benchmark_overview.html.j2", {"available": False})
        la, _ = ctx.benchmark_tables()
        me, nn, force, fam = g.me, g.nearest, g.force, g.family
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
                    "group_mean": fam[ind].mean() if len(fam) else np.nan,
                    "nn_mean": nn[ind].mean(),
                }
            )
        t = pd.DataFrame(rows)
        fmt = {c: ",.1f" for c in ("rate", "england", "force_mean", "group_mean", "nn_mean")}
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
            + (
                f" {g.family_label}: {narrative.join_list(list(fam['ltla24_name']))}"
                + (f"; no data here for {'; '.join(g.family_missing)}" if g.family_missing else "")
                + "."
                if len(fam) or g.family_missing
                else ""
            )
        )
        b = Block(
            "benchmark_overview.html.j2", {"available": True, "sentence": sentence}, tables=(pub,)
        )
        publish(ctx, b)
        return b

    def _places(self) -> pd.DataFrame:
        return places_table(self.ctx)

    def place_profiles(self) -> Block:
        """Crime, ASB and domestic abuse by place (like for like with the theme pages),
        with deprivation and feeling safe; one publication through the gate."""
        ctx = self.ctx
        t = self._places()
        counts = ["crimes", "crimes_previous", "asb", "domestic_abuse"]
        pub = ctx.gate.table(
            t.drop(columns=["crime_change_p_value", "feel_safe_n"]),
            "overview_places",
            counts=counts,
            derived={
                "crimes": ["crime_rate_per_1000", "crime_change_pct"],
                "crimes_previous": ["crime_change_pct"],
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
            caption=f"Places in {ctx.year} (each count over the months its source covers, against the same months a year earlier)",
        )
        sentences = []
        shown = np.array([not pub.hidden(i, "crimes") for i in range(len(t))], dtype=bool)
        vis = t[shown & (t["crimes"] > 0).to_numpy()]
        if len(vis):
            hi = vis.sort_values("crime_rate_per_1000", ascending=False).iloc[0]
            sentences.append(
                f"{hi.place} has the highest recorded crime rate "
                f"({hi.crime_rate_per_1000:,.0f} per 1,000 residents in {ctx.year})."
            )
        elif t["crimes"].isna().all():
            sentences.append(f"The police-recorded crime data do not cover {ctx.year}.")
        dep = t.sort_values("pct_lsoas_most_deprived_decile", ascending=False).iloc[0]
        if dep.pct_lsoas_most_deprived_decile > 0:
            sentences.append(
                f"{dep.place} has the largest share of neighbourhoods in England's "
                f"most deprived 10% ({dep.pct_lsoas_most_deprived_decile:.0f}%)."
            )
        ok = t[t["feel_safe_n"] >= ctx.gate.threshold].dropna(subset=["feel_safe_pct"])
        if len(ok):
            lo = ok.sort_values("feel_safe_pct").iloc[0]
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
        from kcpp_analysis.data.reference import geometries, reference_boundaries
        from kcpp_analysis.presentation.maps import reference_map

        a = self.ctx.dataset.areas
        try:
            g = reference_boundaries("wards")
        except (SourceError, OSError, ValueError) as exc:
            log.warning("no ward boundaries for the overview map: %s", exc)
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
        """Where the rest is: the methods annex, the theme packs and annexes, the tables."""
        return Block(
            "overview_appendix.html.j2",
            {"themes": [(t.id, t.title) for t in self.ctx.params.themes.values()]},
        )

    # -- the other documents of the set ------------------------------------------------------
    def brief(self) -> Block:
        """The board brief (at most two A4 pages)."""
        return brief_block(self.ctx, self.assessments, self.kpis)

    def write_brief(self) -> Path:
        """Write ``brief.html``, the board brief, beside the overview."""
        return write_document(
            self.ctx,
            self.ctx.output_dir / "brief.html",
            f"Strategic Intelligence Assessment {self.ctx.year}: board brief",
            self.brief()._repr_html_(),
        )

    def write_methods(self) -> Path:
        """Write ``methods.html``: the decision method and scores, when a pack shows a
        section, how often each label is wrong, glossary, methods, sources and quality."""
        parts = [methods_block(self.ctx), self.scoring(), appendix_block(self.ctx, tests=False)]
        return write_document(
            self.ctx,
            self.ctx.output_dir / "methods.html",
            f"Strategic Intelligence Assessment {self.ctx.year}: methods annex",
            "".join(p._repr_html_() for p in parts),
        )

    def write_place_packs(self) -> list[Path]:
        """Write one place pack per place, ``place_<slug>.html``, from the set's published
        tables (:mod:`kcpp_analysis.report.place_packs`)."""
        return write_place_packs(self.ctx, self.assessments, self._insight_frames())

    def write_public(self) -> Path:
        """Write the public summary into ``public/`` (places only, public threshold)."""
        return write_public(self.ctx, self.assessments, self.ctx.output_dir / "public")


def insight_frames(ctx: ReportContext) -> dict | None:
    """Concern by place and where concern and data disagree (cached; None without
    insight): shared by the insight section and the place packs. Reads the dataset and
    the parameters only, never the themes' results."""
    ins = ctx.insight
    if ins is None:
        return None

    def build():
        topics = ctx.params.insight.topics
        places = ctx.params.sia.places
        concern = concern_by_place(ins, topics, places)
        counts = []
        a = ctx.dataset.areas
        for pr in ctx.params.priorities:
            if pr.selection is None:
                continue
            inc = ctx.incidents(pr)
            y = inc[in_fy(inc["date"], ctx.year)].merge(a[["lsoa_code", "place"]], on="lsoa_code")
            if y.empty:
                continue
            n = y["place"].value_counts()
            counts += [
                {"priority_id": pr.id, "place": p, "count": int(n.get(p, 0))} for p in places
            ]
        signal = signal_by_place(
            pd.DataFrame(counts, columns=["priority_id", "place", "count"]),
            a.groupby("place")["population"].sum(),
        )
        dd = ctx.params.insight.dig_deeper
        digs = dig_deeper(
            concern,
            signal,
            concern_share_pct=dd.concern_share_pct,
            quiet_share_pct=dd.quiet_share_pct,
            places=places,
        )
        return {"concern": concern, "digs": digs}

    return ctx._cached("overview_insight_frames", build)


def places_table(ctx: ReportContext) -> pd.DataFrame:
    """Crime, ASB and domestic abuse by place (:func:`kcpp_analysis.analysis.places.
    place_profiles`, cached); the dataset only."""
    return ctx._cached(
        "place_profiles", lambda: place_profiles(ctx.dataset, ctx.params.sia.places, ctx.year)
    )


def partnership_kpis(ctx: ReportContext) -> pd.DataFrame | None:
    """The partnership-wide KPIs (e.g. total recorded crime), which belong to the overview
    only (cached; None when there are none)."""
    wide = ctx.params.kpis_for_theme("partnership")
    if not wide:
        return None
    return ctx._cached(
        "partnership_kpis",
        lambda: evaluate_kpis(ctx.dataset, wide, period=ctx.year, params=ctx.params),
    )


def prepare_overview(ctx: ReportContext) -> None:
    """Compute what the overview needs from the dataset and parameters alone (each
    priority's incidents, the partnership-wide KPIs, place profiles, the insight frames and
    the links between priorities), into the context's caches. Under ``kcpp report`` this
    runs while the last theme is still running, on the worker that would otherwise wait;
    nothing here reads a theme's results or publishes anything."""
    for pr in ctx.params.priorities:
        if pr.selection is not None:
            ctx.incidents(pr)
    partnership_kpis(ctx)
    places_table(ctx)
    insight_frames(ctx)
    links_membership(ctx)


def wait_for_themes(timeout: float = 6 * 3600) -> None:
    """Under ``kcpp report``, wait until every theme notebook has ended.

    The run starts the overview while the last theme is still running (its kernel and
    imports need nothing from the themes) and names, in ``KCPP_THEMES_DONE``, the file it
    writes when the last theme has ended. Without that variable (JupyterLab, papermill by
    hand) this returns at once. Raises RuntimeError when the run that started this kernel
    has gone (its working folder was removed, or this kernel's parent process changed) or
    after ``timeout`` seconds.
    """
    flag = os.environ.get("KCPP_THEMES_DONE")
    if not flag:
        return
    flag, parent, deadline = Path(flag), os.getppid(), time.monotonic() + timeout
    while not flag.exists():
        if not flag.parent.is_dir() or os.getppid() != parent:
            raise RuntimeError("the kcpp report run that started this overview has stopped")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the theme notebooks did not end within {timeout:.0f} s")
        time.sleep(0.05)


def assess_overview(ctx: ReportContext) -> OverviewReport:
    """Every theme's results: read from this report set's saved results where present
    (under ``kcpp report``, once every theme has ended: :func:`wait_for_themes`; what
    needs no theme is computed first, while they run: :func:`prepare_overview`)."""
    prepare_overview(ctx)
    wait_for_themes()
    kpis, assess, reused = [], [], []
    for tid in ctx.params.themes:
        saved = load_results(ctx, tid)
        if saved is None:
            log.info("overview: no saved results for theme %s; assessing it here", tid)
            rep = assess_theme(ctx, tid, save=False)
            k, a = rep.kpis, rep.assessments
        else:
            k, a = saved
            reused.append(tid)
        kpis.append(k)
        assess.extend(a)
    wide = partnership_kpis(ctx)
    if wide is not None:
        kpis.insert(0, wide)
    return OverviewReport(ctx, pd.concat(kpis, ignore_index=True), assess, reused)
