"""A theme's report: assessed once, then rendered part by part.

:func:`assess_theme` evaluates the theme's KPIs and assesses each priority by the
partnership's method (:mod:`kcpp_analysis.analysis.assessment`), reusing each priority's
series, trend fit, year-on-year test and recent trend from the context (so the sections and
the rating read the same results), and writes the KPI table (parquet with its schema) and
the typed assessments (JSON) under ``<output_dir>/results/`` for the overview to read
instead of recomputing. The returned :class:`ThemeReport` hands out result objects: the
header (document control, table of contents, headline), the KPI table, each priority
(heading, recommendation and its sections) and the appendix.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kcpp_analysis.analysis.assessment import (
    PriorityAssessment,
    assess_theme_priorities,
    load_assessments,
    save_assessments,
)
from kcpp_analysis.analysis.kpis import evaluate_kpis, load_kpis, save_kpis
from kcpp_analysis.config.models import Priority, Theme
from kcpp_analysis.core.ledger import record_written
from kcpp_analysis.presentation import narrative, recommendation
from kcpp_analysis.report import packs
from kcpp_analysis.report import sections as section_registry
from kcpp_analysis.report.context import ReportContext
from kcpp_analysis.report.documents import write_document
from kcpp_analysis.report.results import Block, SectionResult
from kcpp_analysis.report.tables import appendix_block, kpi_block, pack_appendix_block

log = logging.getLogger(__name__)


@dataclass
class PriorityReport:
    """One priority: its heading block and its section results, displayed in order; in a
    pack, the sections not shown in full follow as one line each (``also``)."""

    heading: Block
    sections: list[SectionResult]
    also: list[tuple[str, str, str]] = field(default_factory=list)  # (title, sentence, anchor)

    def _repr_html_(self) -> str:
        from kcpp_analysis.report.render import render

        html = self.heading._repr_html_() + "".join(s._repr_html_() for s in self.sections)
        if self.also:
            html += render("also_checked.html.j2", also=self.also)
        return html

    @property
    def publications(self):
        return [t for s in self.sections for t in s.publications]


@dataclass
class ThemeReport:
    """A theme's assessment and the result objects built from it."""

    ctx: ReportContext
    theme: Theme
    kpis: pd.DataFrame
    assessments: list[PriorityAssessment]
    timings: dict = field(default_factory=dict)
    done: dict = field(default_factory=dict)
    computed: dict = field(default_factory=dict)
    seen_notes: set = field(default_factory=set)

    def section_results(self) -> list[SectionResult]:
        """Every section result computed so far, in page order (for inspection)."""
        return [s for rs in self.computed.values() for s in rs]

    @property
    def priorities(self) -> list[Priority]:
        return list(self.theme.priorities)

    def row(self, pr: Priority) -> PriorityAssessment:
        return next(a for a in self.assessments if a.priority_id == pr.id)

    def applicable(self, pr: Priority) -> list[str]:
        """Section types that apply to a priority (for the table of contents)."""
        reg = section_registry.REGISTRY
        return [k for k in self.ctx.sections_for(pr) if reg[k].applies(self.ctx, pr)]

    # -- top of the page -------------------------------------------------------------------
    def header(self, annex: bool = False) -> Block:
        """Title, document control, table of contents and headline summary."""
        toc = [
            {
                "id": pr.id,
                "title": pr.title,
                "rag": self.row(pr).rag,
                "sections": [
                    (f"{pr.id}-{k.replace('_', '-')}", section_registry.REGISTRY[k].TITLE)
                    for k in self.applicable(pr)
                ]
                if annex
                else [],
            }
            for pr in self.priorities
        ]
        return Block(
            "theme_header.html.j2",
            {
                "theme": self.theme,
                "doc": self.ctx.document_control(),
                "toc": toc,
                "headline": self.headline(),
                "synthetic": self.ctx.synthetic,
                "annex": annex,
            },
        )

    def headline(self) -> list[str]:
        """4-8 sentences: priorities needing high focus, KPIs met, significant changes."""
        gate = self.ctx.gate
        key = []
        for r in self.assessments:
            if (
                r.yoy_current is not None
                and r.yoy_previous is not None
                and r.yoy_previous > 0
                and not gate.pair_hidden(r.yoy_current, r.yoy_previous)
            ):
                key.append(
                    (
                        r.yoy_label not in ("rose significantly", "fell significantly"),
                        narrative.change_sentence(
                            r.priority,
                            r.yoy_current,
                            r.yoy_previous,
                            test_label=r.yoy_label,
                            period=r.yoy_period or self.ctx.year,
                        ),
                    )
                )
        key.sort(key=lambda x: x[0])
        return recommendation.headline(
            self.theme.title, self.ctx.year, self.assessments, self.kpis, [s for _, s in key[:5]]
        )

    def kpi_table(self) -> Block:
        """The theme's KPIs against baseline and target."""
        b = kpi_block(
            self.ctx, self.kpis, f"{self.theme.id}_kpis", heading="Key performance indicators"
        )
        publish(self.ctx, b)
        return b

    # -- priorities ------------------------------------------------------------------------
    def _resolve(self, pr: Priority | str) -> Priority:
        return next(p for p in self.priorities if p.id == pr) if isinstance(pr, str) else pr

    def sections_of(self, pr: Priority | str) -> list[SectionResult]:
        """Every applicable section of a priority, computed once (pack and annex share them)
        and published (CSV) as it is computed."""
        pr = self._resolve(pr)
        if pr.id not in self.computed:
            t0 = time.perf_counter()
            results = []
            for kind in self.applicable(pr):
                r = section_registry.compute(kind, self.ctx, pr)
                if r is not None:
                    publish(self.ctx, r)
                    results.append(r)
            self.computed[pr.id] = results
            self.timings[pr.id] = time.perf_counter() - t0
        return self.computed[pr.id]

    def _heading(self, pr: Priority, pack: bool) -> Block:
        kt = self.kpis[self.kpis["priority"] == pr.id]
        kpi_sentences = [narrative.kpi_sentence(r) for r in kt.itertuples()]
        values = priority_header(self.ctx, pr, self.row(pr), kpi_sentences)
        values["pack"] = pack
        return Block("priority_header.html.j2", values)

    def priority(self, pr: Priority | str) -> PriorityReport:
        """A priority as the theme pack shows it: its finding, the theme lead's "so what /
        what next", the sections that carry a finding (:mod:`kcpp_analysis.report.packs`)
        and one line for each other section with something to say."""
        pr = self._resolve(pr)
        shown, also = [], []
        full = packs.choose(self.sections_of(pr), self.row(pr).final_status)
        for r in self.sections_of(pr):
            if r.anchor in full:
                shown.append(packs.pack_view(r, self.seen_notes))
            elif (line := packs.one_line(r)) is not None:
                also.append((r.heading, line, r.anchor))
        self.done[pr.id] = PriorityReport(self._heading(pr, pack=True), shown, also)
        return self.done[pr.id]

    def priority_annex(self, pr: Priority | str) -> PriorityReport:
        """A priority as the evidence annex shows it: every section in full."""
        pr = self._resolve(pr)
        return PriorityReport(self._heading(pr, pack=False), list(self.sections_of(pr)))

    def appendix(self) -> Block:
        """The pack's closing page: what the pack leaves out and where it is, the rules,
        the tests behind its labels and the suppression applied."""
        return pack_appendix_block(self.ctx, self.theme.id)

    def annex_appendix(self) -> Block:
        """The annex's full appendix: data quality, sources, glossary and methods."""
        return appendix_block(self.ctx)

    def write_annex(self) -> Path:
        """Write the theme's evidence annex (every section of every priority, the full
        appendix) as a page of the set, ``<theme>_annex.html``, beside the pack."""
        parts = [self.header(annex=True), self.kpi_table()]
        parts += [self.priority_annex(pr) for pr in self.priorities]
        parts.append(self.annex_appendix())
        path = self.ctx.output_dir / f"{self.theme.id}_annex.html"
        write_document(
            self.ctx,
            path,
            f"{self.theme.title}: evidence annex",
            "".join(p._repr_html_() for p in parts),
        )
        return path


def publish(ctx: ReportContext, result) -> None:
    """Write every table and chart data of a result as CSV (once per name)."""
    for t in result.publications:
        ctx.write_once(t)


def priority_header(
    ctx: ReportContext, pr: Priority, a: PriorityAssessment, kpi_sentences: list[str]
) -> dict:
    """What a priority's heading shows: class, rationale, last assessment, sensitivity."""
    bands = ctx.params.scoring.bands
    import mistune

    text = ctx.params.framing.get(pr.id, "")
    return {
        "pr": pr,
        "a": a,
        "so_what": mistune.create_markdown(escape=True)(text) if text.strip() else "",
        "pack": True,
        "status": recommendation.status_label(a.final_status),
        "rationale": recommendation.rationale(
            a, bands, threshold=ctx.gate.threshold, labels=ctx.params.surveys.label
        ),
        "movement": recommendation.movement_sentence(a),
        "sensitivity": recommendation.sensitivity_sentence(a),
        "kpi_sentences": kpi_sentences,
        "synthetic": ctx.synthetic,
    }


def assess_theme(ctx: ReportContext, theme_id: str, *, save: bool = True) -> ThemeReport:
    """Evaluate a theme's KPIs and assess its priorities, once.

    Each priority's evidence comes from the context's caches (series, trend fit, the
    year-on-year test and recent trend with the report's settings), so the rating and the
    sections share one set of results. With ``save``, the KPI table and the assessments are
    written to ``<output_dir>/results/<theme>_kpis.parquet`` and
    ``<theme>_assessment.json``, which the overview (and next year's run) reads.
    """
    t0 = time.perf_counter()
    p = ctx.params
    th = p.theme(theme_id)
    kpis = evaluate_kpis(ctx.dataset, p.kpis_for_theme(theme_id), period=ctx.year, params=p)
    with_sel = [pr for pr in th.priorities if pr.selection is not None]
    assessments = assess_theme_priorities(
        ctx.dataset,
        th,
        period=ctx.year,
        params=p,
        kpis=kpis,
        series={pr.id: ctx.series(pr) for pr in with_sel},
        fits={pr.id: ctx.fit(pr) for pr in with_sel if ctx.series(pr)["count"].sum() > 0},
        yoys={pr.id: ctx.yoy(pr) for pr in with_sel},
        recents={pr.id: ctx.recent(pr) for pr in with_sel},
        insight=ctx.insight,
        previous=ctx.previous_ratings[0],
    )
    if save:
        save_results(ctx, theme_id, kpis, assessments)
    record_labels(ctx, th, kpis, assessments)
    rep = ThemeReport(ctx, th, kpis, assessments)
    rep.timings["assessment"] = time.perf_counter() - t0
    return rep


#: which label kind a KPI measure's tests are (its change on last year, since its baseline)
KPI_LABELS = {
    "count": ("KPI change on last year", "since baseline"),
    "repeat_incident_rate": ("KPI change by intervals", "KPI change by intervals"),
    "repeat_victim_rate": ("KPI change by intervals", "KPI change by intervals"),
    "survey_share": ("survey change", "survey change"),
}
UNTESTED = ("no data", "insufficient data")


def record_labels(ctx: ReportContext, th: Theme, kpis: pd.DataFrame, assessments) -> None:
    """Count every tested label the theme's ratings and KPI table show (the appendix's
    count of tests): each priority's year on year, whole-period trend and 36-month
    direction, and each tested KPI's change on last year and since its baseline."""
    by_id = {pr.id: pr for pr in th.priorities}
    for a in assessments:
        pr = by_id.get(a.priority_id)
        rho = None
        if pr is not None and pr.selection is not None and ctx.series(pr)["count"].sum() > 0:
            rho = ctx.fit(pr).rho
        if a.yoy_label not in UNTESTED:
            ctx.record_test("year on year", rho=rho)
        if a.trend_direction not in UNTESTED:
            ctx.record_test("whole-period trend", rho=rho)
        if a.recent_direction not in UNTESTED:
            ctx.record_test("36-month direction", rho=rho)
    for r in kpis.itertuples():
        kinds = KPI_LABELS.get(r.measure)
        if not kinds or not r.tested:
            continue
        if r.direction_of_travel not in UNTESTED:
            ctx.record_test(kinds[0])
        if not str(r.since_baseline).startswith(("no data", "not tested")):
            ctx.record_test(kinds[1])


def save_results(
    ctx: ReportContext, theme_id: str, kpis: pd.DataFrame, assessments: list[PriorityAssessment]
) -> None:
    """Write a theme's results for the overview (aggregates only, no record-level data)."""
    d = ctx.results_dir
    save_kpis(kpis, d / f"{theme_id}_kpis.parquet")
    save_assessments(assessments, d / f"{theme_id}_assessment.json")
    record_written(d / f"{theme_id}_kpis.parquet")
    record_written(d / f"{theme_id}_assessment.json")


def load_results(
    ctx: ReportContext, theme_id: str
) -> tuple[pd.DataFrame, list[PriorityAssessment]] | None:
    """A theme's saved KPI table and assessments, or None when this run has not saved them."""
    d = ctx.output_dir / "results"
    k, a = d / f"{theme_id}_kpis.parquet", d / f"{theme_id}_assessment.json"
    if not (k.exists() and a.exists()):
        return None
    return load_kpis(k), load_assessments(a)
