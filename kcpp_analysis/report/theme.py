"""A theme's report: assessed once, then rendered part by part.

:func:`assess_theme` evaluates the theme's KPIs and rates its priorities, reusing each
priority's trend fit from the context (so the sections and the rating share one fit), and
writes the results as parquet under ``<output_dir>/results/`` for the overview to read
instead of refitting. The returned :class:`ThemeReport` hands out result objects: the
header (document control, table of contents, headline), the KPI table, each priority
(heading, rating and its sections) and the appendix.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import pandas as pd

from kcpp_analysis.analysis.kpis import evaluate_kpis, priority_assessment
from kcpp_analysis.config.params import Priority, Theme
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report import sections as section_registry
from kcpp_analysis.report.context import ReportContext, record_written
from kcpp_analysis.report.results import Block, SectionResult
from kcpp_analysis.report.tables import appendix_block, kpi_block

log = logging.getLogger(__name__)


@dataclass
class PriorityReport:
    """One priority: its heading block and its section results, displayed in order."""

    heading: Block
    sections: list[SectionResult]

    def _repr_html_(self) -> str:
        return self.heading._repr_html_() + "".join(s._repr_html_() for s in self.sections)

    @property
    def publications(self):
        return [t for s in self.sections for t in s.publications]


@dataclass
class ThemeReport:
    """A theme's assessment and the result objects built from it."""

    ctx: ReportContext
    theme: Theme
    kpis: pd.DataFrame
    assessment: pd.DataFrame
    timings: dict = field(default_factory=dict)
    done: dict = field(default_factory=dict)

    def section_results(self) -> list[SectionResult]:
        """Every section result computed so far, in page order (for inspection)."""
        return [s for pr in self.done.values() for s in pr.sections]

    @property
    def priorities(self) -> list[Priority]:
        return list(self.theme.priorities)

    def row(self, pr: Priority) -> pd.Series:
        return self.assessment.set_index("priority_id").loc[pr.id]

    def applicable(self, pr: Priority) -> list[str]:
        """Section types that apply to a priority (for the table of contents)."""
        reg = section_registry.REGISTRY
        return [k for k in self.ctx.sections_for(pr) if reg[k].applies(self.ctx, pr)]

    # -- top of the page -------------------------------------------------------------------
    def header(self) -> Block:
        """Title, document control, table of contents and headline summary."""
        toc = [
            {
                "id": pr.id,
                "title": pr.title,
                "rag": self.row(pr).rag,
                "sections": [
                    (f"{pr.id}-{k.replace('_', '-')}", section_registry.REGISTRY[k].TITLE)
                    for k in self.applicable(pr)
                ],
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
            },
        )

    def headline(self) -> list[str]:
        """4-8 sentences: priorities needing high focus, KPIs met, significant changes."""
        gate = self.ctx.gate
        key = []
        for r in self.assessment.itertuples():
            if (
                pd.notna(r.current)
                and pd.notna(r.previous)
                and r.previous > 0
                and not gate.pair_hidden(r.current, r.previous)
            ):
                key.append(
                    (
                        not r.yoy_significant,
                        narrative.change_sentence(
                            r.priority,
                            r.current,
                            r.previous,
                            test_label=r.yoy_label,
                            period=self.ctx.year,
                        ),
                    )
                )
        key.sort(key=lambda x: x[0])
        return narrative.headline(
            self.theme.title, self.ctx.year, self.assessment, self.kpis, [s for _, s in key[:5]]
        )

    def kpi_table(self) -> Block:
        """The theme's KPIs against baseline and target."""
        b = kpi_block(
            self.ctx, self.kpis, f"{self.theme.id}_kpis", heading="Key performance indicators"
        )
        publish(self.ctx, b)
        return b

    # -- priorities ------------------------------------------------------------------------
    def priority(self, pr: Priority | str) -> PriorityReport:
        """A priority's heading (rating, recommendation, rationale) and every section."""
        if isinstance(pr, str):
            pr = next(p for p in self.priorities if p.id == pr)
        t0 = time.perf_counter()
        results = []
        for kind in self.applicable(pr):
            r = section_registry.compute(kind, self.ctx, pr)
            if r is not None:
                publish(self.ctx, r)
                results.append(r)
        kt = self.kpis[self.kpis["priority"] == pr.id]
        kpi_sentences = [narrative.kpi_sentence(r) for r in kt.itertuples()]
        heading = Block(
            "priority_header.html.j2",
            {
                "pr": pr,
                "a": self.row(pr),
                "synthetic": self.ctx.synthetic,
                "kpi_sentences": kpi_sentences,
            },
        )
        self.timings[pr.id] = time.perf_counter() - t0
        self.done[pr.id] = PriorityReport(heading, results)
        return self.done[pr.id]

    def appendix(self) -> Block:
        return appendix_block(self.ctx)


def publish(ctx: ReportContext, result) -> None:
    """Write every table and chart data of a result as CSV (once per name)."""
    for t in result.publications:
        if t.name not in ctx._cache.setdefault("written", set()):
            ctx.write(t)
            ctx._cache["written"].add(t.name)


def assess_theme(ctx: ReportContext, theme_id: str, *, save: bool = True) -> ThemeReport:
    """Evaluate a theme's KPIs and rate its priorities, once.

    Trend fits come from the context's cache (:meth:`ReportContext.fit`), so the rating and
    the trend sections share one model per priority. With ``save``, the KPI table and the
    assessment are written to ``<output_dir>/results/<theme>_{kpis,assessment}.parquet``,
    which the overview reads.
    """
    t0 = time.perf_counter()
    p = ctx.params
    th = p.theme(theme_id)
    kpis = evaluate_kpis(ctx.dataset, p.kpis_for_theme(theme_id), period=ctx.year, params=p)
    with_data = [pr for pr in th.priorities if pr.selection is not None]
    series = {pr.id: ctx.series(pr) for pr in with_data}
    fits = {pr.id: ctx.fit(pr) for pr in with_data if series[pr.id]["count"].sum() > 0}
    assessment = priority_assessment(
        ctx.dataset, th, period=ctx.year, params=p, kpi_table=kpis, series=series, fits=fits
    )
    assessment["theme_title"] = th.short_title
    if save:
        save_results(ctx, theme_id, kpis, assessment)
    rep = ThemeReport(ctx, th, kpis, assessment)
    rep.timings["assessment"] = time.perf_counter() - t0
    return rep


def save_results(
    ctx: ReportContext, theme_id: str, kpis: pd.DataFrame, assessment: pd.DataFrame
) -> None:
    """Write a theme's results for the overview (aggregates only, no record-level data)."""
    d = ctx.results_dir
    for name, df in (("kpis", kpis), ("assessment", assessment)):
        tmp = d / f"{theme_id}_{name}.parquet.tmp"
        df.to_parquet(tmp, index=False)
        tmp.replace(d / f"{theme_id}_{name}.parquet")
        record_written(d / f"{theme_id}_{name}.parquet")


def load_results(ctx: ReportContext, theme_id: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """A theme's saved KPI table and assessment, or None when this run has not saved them."""
    d = ctx.output_dir / "results"
    k, a = d / f"{theme_id}_kpis.parquet", d / f"{theme_id}_assessment.parquet"
    if not (k.exists() and a.exists()):
        return None
    return pd.read_parquet(k), pd.read_parquet(a)
