"""Report sections for the theme and overview notebooks.

The notebooks stay thin: they open a :class:`ReportContext`, build a :class:`ThemeReport`
(or :class:`OverviewReport`) and display its sections. Every section here is computed by
the analysis modules; every published table passes through
:func:`kcpp_analysis.disclosure.suppress_small_counts` and is written as CSV under
``<output_dir>/tables/``, as is the data behind every chart.

Disclosure policy applied to every table: counts 1-4 are shown as ``[c]`` with secondary
suppression; where a count is suppressed, the rates and intervals derived from it are
suppressed too (a rate times a published population would reveal it). Victim identifiers
never appear: repeat-victimisation results are aggregates only.
"""

from __future__ import annotations

import html
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import charts, narrative
from .config import Params, Priority, load_params
from .dataset import Dataset, load_dataset
from .deprivation import (
    concentration,
    deprivation_correlation,
    hotspots,
    imd_without_crime,
    inequality_indices,
    lsoa_counts_by_year,
    lsoa_rates,
    rate_ratio,
    rates_by_decile,
    ward_rates,
)
from .disclosure import protect, suppress_small_counts
from .kpis import evaluate_kpis, priority_assessment, priority_series
from .periods import fy_bounds, fy_label, fy_labels, fy_range, previous_fy
from .repeats import repeat_victimisation, time_to_repeat
from .selection import select_incidents
from .surveys import compare_shares, weighted_share
from .trends import compare_periods, fit_trend, forecast_total, spc_xmr

log = logging.getLogger(__name__)

CSS = """
<style>
.kcpp-banner{position:sticky;top:0;z-index:10;background:#F0E442;color:#000;border:2px solid #000;
 padding:6px 10px;font-weight:bold;margin:4px 0 10px 0}
.kcpp-rag{display:inline-block;padding:1px 8px;border-radius:3px;color:#fff;font-weight:bold;font-size:0.85em}
.kcpp-rag-red{background:#D55E00}.kcpp-rag-amber{background:#E69F00;color:#000}
.kcpp-rag-green{background:#009E73}.kcpp-rag-grey{background:#999}
.kcpp-rec{font-weight:bold;margin-left:6px}
table.kcpp-table{border-collapse:collapse;font-size:0.9em;margin:6px 0 12px 0}
table.kcpp-table th,table.kcpp-table td{border:1px solid #ccc;padding:3px 7px;text-align:right}
table.kcpp-table th{background:#eee}
table.kcpp-table td:first-child,table.kcpp-table th:first-child{text-align:left}
.kcpp-alt{font-size:0.8em;color:#555}
.kcpp-note{font-size:0.85em;color:#333}
.kcpp-headline li{margin-bottom:4px}
@media print{.kcpp-banner{position:static}}
</style>
"""


COLUMN_LABELS = {
    "measure": "Measure", "previous": "Previous year", "current": "This year",
    "change_pct": "Change (%)", "rate_ratio": "Rate ratio", "ci_low": "95% CI low",
    "ci_high": "95% CI high", "p_value": "p-value", "place": "Place", "ward_name": "Ward",
    "count": "Incidents", "population": "Population", "rate": "Rate per 1,000",
    "rate_per_1000": "Rate per 1,000", "imd_decile": "IMD decile (1 = most deprived)",
    "n_lsoas": "LSOAs", "rank": "Rank", "lsoa_name": "LSOA", "years_in_top": "Years in top 10%",
    "n_incidents": "Incidents", "n_victims": "Victims", "n_repeat_incidents": "Repeat incidents",
    "incident_repeat_rate": "Repeat incident rate (%)", "n_repeat_victims": "Repeat victims",
    "victim_repeat_rate": "Repeat victim rate (%)", "hate_strand": "Strand",
    "lsoas": "LSOAs", "pct_lsoas_most_deprived_decile": "% LSOAs in most deprived decile",
    "crimes": "Crimes", "crime_rate_per_1000": "Crime rate per 1,000",
    "crime_change_pct": "Crime change (%)", "asb": "ASB incidents",
    "asb_rate_per_1000": "ASB rate per 1,000", "domestic_abuse": "Domestic abuse crimes",
    "feel_safe_pct": "Feel safe (%)",
}


def _e(s) -> str:
    return html.escape(str(s))


def _display(fragment: str) -> None:
    try:
        from IPython.display import HTML, display

        display(HTML(fragment))
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(fragment)


@dataclass
class ReportContext:
    """Everything a report notebook needs: parameters, dataset, year and output folder."""

    params: Params
    dataset: Dataset
    year: str
    output_dir: Path
    suppressed_cells: int = 0
    tables: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def tables_dir(self) -> Path:
        d = self.output_dir / "tables"
        d.mkdir(parents=True, exist_ok=True)
        return d

    @property
    def interruptions(self) -> list[tuple]:
        return [(i.start, i.end) for i in self.params.sia.interruptions]

    @property
    def previous(self) -> str:
        return previous_fy(self.year)

    def banner(self) -> str:
        """The synthetic-data banner (empty string for an all-real dataset)."""
        synth = self.dataset.meta.get("synthetic_tables") or []
        if not synth:
            return ""
        what = ", ".join(synth)
        return (f'<div class="kcpp-banner" role="note">SYNTHETIC DATA - NOT A REAL ASSESSMENT. '
                f'This report was built from synthetic data ({_e(what)}); its figures describe no '
                f'real people or places.</div>')

    def suppress(self, table: pd.DataFrame, *, counts: list[str],
                 derived: dict[str, list[str]] | None = None, row_totals: bool = False,
                 column_totals: bool = True, mask=None) -> pd.DataFrame:
        """Small-number suppression of ``counts`` and of the ``derived`` columns (rates, CIs)
        computed from a suppressed count; counts the suppressed cells for the appendix."""
        marker = self.params.sia.disclosure.marker
        t = table.reset_index(drop=True)
        if mask is not None:  # suppression decided elsewhere (linked tables), one count column
            out = t.copy()
            out[counts[0]] = [marker if m else f"{v:.0f}" for v, m in zip(t[counts[0]], mask, strict=True)]
            self.suppressed_cells += int(np.sum(mask))
        else:
            out = suppress_small_counts(t, columns=counts,
                                        threshold=self.params.sia.disclosure.threshold,
                                        marker=marker, row_totals=row_totals and len(counts) > 1,
                                        column_totals=column_totals)
            self.suppressed_cells += out.attrs.get("suppressed", 0)
        for cnt, cols in (derived or {}).items():
            hidden = out[cnt] == marker
            for c in cols:
                out[c] = out[c].astype(object)
                out.loc[hidden, c] = marker
        return out

    def publish(self, table: pd.DataFrame, name: str, *, counts: list[str],
                derived: dict[str, list[str]] | None = None, row_totals: bool = False,
                column_totals: bool = True, formats: dict[str, str] | None = None,
                mask=None, total_row: pd.DataFrame | None = None) -> str:
        """Suppress, write ``tables/<name>.csv`` and return the table as HTML.

        ``derived`` maps a count column to columns computed from it (rates, CIs) that are
        hidden whenever that count is suppressed. ``formats`` maps columns to format specs.
        ``total_row`` (the table's published total) is appended after suppressing it on its
        own; the body is then protected with ``column_totals`` so no cell can be recovered as
        the total minus the others.
        """
        marker = self.params.sia.disclosure.marker
        t = table.reset_index(drop=True)
        out = self.suppress(t, counts=counts, derived=derived, row_totals=row_totals,
                            column_totals=column_totals, mask=mask)
        if total_row is not None:
            tot = self.suppress(total_row, counts=counts, derived=derived, row_totals=row_totals,
                                column_totals=False)
            out = pd.concat([out, tot], ignore_index=True)
        for c in out.columns:
            if c in counts:
                out[c] = [marker if v == marker else narrative.fmt_count(float(v)) for v in out[c]]
            elif formats and c in formats:
                out[c] = [v if isinstance(v, str) else
                          f"{v:{formats[c]}}" if isinstance(v, (int, float)) and not pd.isna(v)
                          else "" for v in out[c]]
        csv = self.tables_dir / f"{name}.csv"
        out.to_csv(csv, index=False)
        self.tables.append(csv.name)
        shown = out.rename(columns=lambda col: COLUMN_LABELS.get(col, col))
        return shown.to_html(index=False, classes="kcpp-table", border=0, na_rep="", escape=True)

    def chart(self, ch: charts.Chart, *, counts: list[str] | None = None,
              derived: dict[str, list[str]] | None = None, mask=None) -> str:
        """Write the chart's data as CSV (suppressed like a table) and return the img HTML.

        Without ``counts``, a whole-number ``observed`` / ``count`` / ``value`` column is
        treated as the count column (borough-wide series: primary suppression only).
        """
        data = ch.data.copy()
        if counts is None:
            counts = [c for c in ("observed", "count", "value") if c in data.columns
                      and pd.api.types.is_numeric_dtype(data[c])
                      and np.allclose(data[c].dropna() % 1, 0)][:1]
        if counts:
            before = self.suppressed_cells
            data = self.suppress(data, counts=counts, derived=derived, mask=mask)
            self.suppressed_cells = before  # the chart repeats a table's cells: count them once
        csv = self.tables_dir / f"chart_{ch.name}.csv"
        data.to_csv(csv, index=False)
        self.tables.append(csv.name)
        return ch.to_html()


def open_report(data_dir: str | Path = "", year: str = "", output_dir: str | Path = "",
                params_dir: str | Path | None = None) -> ReportContext:
    """Load parameters and the prepared dataset for a report notebook.

    Empty arguments take the defaults an analyst needs in JupyterLab: ``data_dir`` the demo
    dataset (prepared on first use), ``year`` the SIA year of ``params/sia.yaml`` and
    ``output_dir`` ``outputs/interactive/`` (never the published report folder).
    """
    from .paths import default_outputs_dir, default_prepared_dir

    params = load_params(params_dir)
    year = year or params.sia.sia_year
    if not str(data_dir):
        from .prepare import prepare_demo

        data_dir = prepare_demo(default_prepared_dir(), params=params)
    ds = load_dataset(data_dir, params=params)
    out = Path(output_dir) if str(output_dir) else default_outputs_dir() / "interactive"
    out.mkdir(parents=True, exist_ok=True)
    return ReportContext(params=params, dataset=ds, year=year, output_dir=out)


def _rag_badge(rag: str) -> str:
    return f'<span class="kcpp-rag kcpp-rag-{_e(rag)}">{_e(rag.upper())}</span>'


def kpi_html_table(ctx: ReportContext, kt: pd.DataFrame, name: str) -> str:
    """KPI table: baseline, previous, current, target, status, direction of travel and RAG."""
    if kt.empty:
        return "<p>No KPIs are defined for this theme.</p>"
    rows = []
    for r in kt.itertuples():
        base = narrative.fmt_value(r.baseline, r.unit) + (" (measured)" if r.baseline_source == "measured" else "")
        rows.append({
            "KPI": r.label, f"Baseline {r.baseline_period}": base,
            ctx.previous: narrative.fmt_value(r.previous, r.unit),
            ctx.year: narrative.fmt_value(r.current, r.unit),
            "Target": narrative.fmt_value(r.target, r.unit), "Status": r.status,
            "Direction of travel": r.direction_of_travel, "RAG": r.rag.upper()})
    t = pd.DataFrame(rows)
    csv = ctx.tables_dir / f"{name}.csv"
    kt.drop(columns=["note"]).to_csv(csv, index=False)  # aggregate figures only
    ctx.tables.append(csv.name)
    body = t.to_html(index=False, classes="kcpp-table", border=0, escape=True)
    for rag in ("RED", "AMBER", "GREEN", "GREY"):
        body = body.replace(f"<td>{rag}</td>", f"<td>{_rag_badge(rag.lower())}</td>")
    notes = [f"{r.label}: {r.note}" for r in kt.itertuples() if r.note]
    if notes:
        body += "<p class='kcpp-note'>" + "<br>".join(_e(n) for n in notes) + "</p>"
    return body


class ThemeReport:
    """All sections of one theme's report."""

    def __init__(self, ctx: ReportContext, theme_id: str):
        t0 = time.perf_counter()
        self.ctx = ctx
        self.theme = ctx.params.theme(theme_id)
        p = ctx.params
        self.kpis = evaluate_kpis(ctx.dataset, p.kpis_for_theme(theme_id), period=ctx.year, params=p)
        self.assessment = priority_assessment(ctx.dataset, self.theme, period=ctx.year, params=p,
                                              kpi_table=self.kpis)
        self.key_sentences: dict[str, list[str]] = {}
        ctx.timings["assessment"] = time.perf_counter() - t0

    @property
    def priorities(self) -> list[str]:
        return [pr.id for pr in self.theme.priorities]

    # --- top of report -------------------------------------------------------------
    def header(self) -> str:
        c = self.ctx
        lo, hi = c.dataset.coverage
        return (CSS + c.banner() + f"<h1>{_e(self.theme.title)}</h1>"
                f"<p><b>{_e(c.params.sia.partnership)} - Strategic Intelligence Assessment "
                f"{_e(c.year)}</b>. Data from {lo:%d %B %Y} to {hi:%d %B %Y}. "
                f"{_e(self.theme.context)}</p>")

    def headline(self) -> str:
        key = []
        for pr in self.theme.priorities:
            a = self.assessment.set_index("priority_id").loc[pr.id]
            if pd.notna(a.current) and pd.notna(a.previous) and a.previous > 0:
                key.append(narrative.change_sentence(pr.title, a.current, a.previous,
                                                     p_value=a.yoy_p_value, period=self.ctx.year))
        # prefer sentences about significant changes, then the rest
        key.sort(key=lambda s: "significantly" not in s)
        sentences = narrative.headline(self.theme.title, self.ctx.year, self.assessment,
                                       self.kpis, key[:5])
        items = "".join(f"<li>{_e(s)}</li>" for s in sentences)
        return f"<h2>Headline summary</h2><ul class='kcpp-headline'>{items}</ul>"

    def kpi_table(self) -> str:
        return ("<h2>Key performance indicators</h2>"
                + kpi_html_table(self.ctx, self.kpis, f"{self.theme.id}_kpis"))

    def ratings(self) -> str:
        rows = "".join(
            f"<tr><td>{_e(r.priority)}</td><td>{_rag_badge(r.rag)}</td><td>{_e(r.recommendation)}"
            f"{' (analyst override)' if r.overridden else ''}</td></tr>"
            for r in self.assessment.itertuples())
        return ("<h2>Priority ratings</h2><table class='kcpp-table'><tr><th>Priority</th>"
                f"<th>RAG</th><th>Recommendation</th></tr>{rows}</table>")

    # --- per priority ----------------------------------------------------------------
    def priority_section(self, priority_id: str) -> str:
        pr = next(p for p in self.theme.priorities if p.id == priority_id)
        a = self.assessment.set_index("priority_id").loc[pr.id]
        c = self.ctx
        parts = [c.banner(), f"<h2 id='{_e(pr.id)}'>{_e(pr.title)} {_rag_badge(a.rag)}"
                 f"<span class='kcpp-rec'>{_e(a.recommendation.capitalize())}</span></h2>",
                 f"<p><b>Rationale.</b> {_e(a.rationale)}</p>"]
        if pr.context:
            parts.append(f"<p class='kcpp-note'>{_e(pr.context)}</p>")
        if pr.selection is not None:
            inc = select_incidents(c.dataset.incidents, pr.selection, c.params, pr)
            if len(inc):
                parts += self._incident_sections(pr, inc)
            else:
                parts.append("<p>No incidents of this kind are in the dataset.</p>")
        if pr.victims and pr.selection is not None:
            parts += self._repeat_section(pr)
        if pr.survey_questions:
            parts += self._survey_section(pr)
        if pr.indicators:
            parts += self._indicator_section(pr)
        kt = self.kpis[self.kpis["priority"] == pr.id]
        if len(kt):
            parts.append("<h3>KPIs for this priority</h3>"
                         + "<ul>" + "".join(f"<li>{_e(narrative.kpi_sentence(r))}</li>"
                                            for r in kt.itertuples()) + "</ul>")
        return "".join(parts)

    def _incident_sections(self, pr: Priority, inc: pd.DataFrame) -> list[str]:
        c, p = self.ctx, self.ctx.params
        out: list[str] = []
        series = priority_series(c.dataset, pr, p, c.year)
        fit = fit_trend(series, interruptions=c.interruptions)
        labels = [(i.start, i.end, i.label) for i in p.sia.interruptions]
        trend_txt = narrative.trend_sentence(pr.title, fit)
        alt = f"Line chart of monthly {pr.title.lower()} incidents. {trend_txt} {narrative.peak_sentence(fit)}"
        out.append("<h3>Trend</h3>")
        out.append(c.chart(charts.trend_chart(
            fit.fitted, title=narrative.trend_title(pr.title, fit), ylabel="Incidents per month",
            interruptions=labels, alt=alt, name=f"{self.theme.id}_{pr.id}_trend")))
        # year on year
        fy = fy_labels(series["month"])
        cur = float(series.loc[fy == c.year, "count"].sum())
        prev = float(series.loc[fy == c.previous, "count"].sum())
        fc = forecast_total(fit, horizon=12)
        fc_txt = (narrative.forecast_sentence(pr.title, fc.iloc[0], cur, c.year)
                  if len(fc) and cur >= 20 else "")
        out.append(f"<p>{_e(trend_txt)} {_e(narrative.peak_sentence(fit))} {_e(fc_txt)}</p>")
        cmp_ = compare_periods(cur, prev).iloc[0]
        out.append("<h3>Change on the previous year</h3>")
        out.append(f"<p>{_e(narrative.change_sentence(pr.title, cur, prev, p_value=cmp_.p_value if pd.notna(cmp_.p_value) else 1.0, period=c.year))}</p>")
        yoy = pd.DataFrame([{"measure": pr.title, "previous": prev, "current": cur,
                             "change_pct": cmp_.change_pct, "rate_ratio": cmp_.rate_ratio,
                             "ci_low": cmp_.ci_low, "ci_high": cmp_.ci_high, "p_value": cmp_.p_value}])
        out.append(c.publish(yoy, f"{self.theme.id}_{pr.id}_yoy", counts=["previous", "current"],
                             derived={"current": ["change_pct", "rate_ratio", "ci_low", "ci_high", "p_value"]},
                             column_totals=False,
                             formats={"change_pct": "+.1f", "rate_ratio": ".2f", "ci_low": ".2f",
                                      "ci_high": ".2f", "p_value": ".3f"}))
        # SPC on the last 36 months
        recent = series.tail(36)
        if len(recent) >= 12 and recent["count"].sum() > 0:
            improvement = pr.improvement
            spc = spc_xmr(recent, improvement=improvement)
            out.append("<h3>Statistical process control (last 36 months)</h3>")
            title = {"concern": "latest month signals concern",
                     "improvement": "latest month signals improvement"}.get(
                         spc.latest_variation, "latest month within normal variation")
            out.append(c.chart(charts.spc_chart(
                spc.points, title=f"{pr.title}: {title}", ylabel="Incidents per month",
                alt=f"XmR chart of monthly {pr.title.lower()} incidents. {spc.summary()}",
                name=f"{self.theme.id}_{pr.id}_spc")))
            out.append(f"<p>{_e(spc.summary())}</p>")
        # places and wards
        out += self._place_section(pr, inc)
        # deprivation and concentration
        out += self._deprivation_section(pr, inc)
        return out

    def _place_section(self, pr: Priority, inc: pd.DataFrame) -> list[str]:
        c = self.ctx
        areas = c.dataset.areas
        cur = lsoa_rates(inc, areas, period=c.year)
        prev = lsoa_rates(inc, areas, period=c.previous)
        pl = cur.groupby("place").agg(count=("count", "sum"), population=("population", "sum"))
        pl["previous"] = prev.groupby("place")["count"].sum()
        pl = pl.reindex(c.params.sia.places).fillna(0).reset_index()
        pl["rate_per_1000"] = pl["count"] / pl["population"] * 1000
        pl["change_pct"] = np.where(pl["previous"] > 0, 100 * (pl["count"] - pl["previous"]) / pl["previous"].where(pl["previous"] > 0), np.nan)
        top_place = pl.sort_values("rate_per_1000", ascending=False).iloc[0]
        out = ["<h3>Places and wards</h3>",
               f"<p>The highest rate was in {_e(top_place.place)} "
               f"({top_place.rate_per_1000:.1f} per 1,000 residents in {_e(c.year)}).</p>"]
        tbl = pl[["place", "previous", "count", "change_pct", "rate_per_1000"]].rename(
            columns={"count": "current"})
        out.append(c.publish(tbl, f"{self.theme.id}_{pr.id}_places", counts=["previous", "current"],
                             derived={"current": ["rate_per_1000", "change_pct"]},
                             row_totals=True, formats={"rate_per_1000": ".1f", "change_pct": "+.0f"}))
        w = ward_rates(cur).head(10)
        out.append(f"<p>Wards with the highest rates in {_e(c.year)} (top 10 of {areas['ward_code'].nunique()}):</p>")
        out.append(c.publish(w[["ward_name", "place", "count", "population", "rate", "ci_low", "ci_high"]],
                             f"{self.theme.id}_{pr.id}_wards", counts=["count"],
                             derived={"count": ["rate", "ci_low", "ci_high"]}, column_totals=False,
                             formats={"rate": ".1f", "ci_low": ".1f", "ci_high": ".1f",
                                      "population": ",.0f"}))
        return out

    def _deprivation_section(self, pr: Priority, inc: pd.DataFrame) -> list[str]:
        c, p = self.ctx, self.ctx.params
        areas = c.dataset.areas
        t = lsoa_rates(inc, areas, period=c.year)
        out = ["<h3>Deprivation</h3>"]
        if t["count"].sum() == 0:
            return out + ["<p>No incidents in the year to analyse by deprivation.</p>"]
        dec = rates_by_decile(t)
        rr = rate_ratio(t).iloc[0]
        q_tot = dec["count"].to_numpy().reshape(5, 2).sum(axis=1)
        if any(1 <= q_tot[i] < c.params.sia.disclosure.threshold for i in (0, 4)):
            rr = None  # a small quintile count would be revealed by the ratio: not published
        corr = deprivation_correlation(t).iloc[0]
        ii = inequality_indices(t).set_index("index")
        sent = narrative.gradient_sentence(pr.title, rr, corr)
        sii = ii.loc["SII", "value"]
        if pd.notna(sii):
            sent += (f" The slope index of inequality is {sii:.1f} per 1,000 residents (95% CI "
                     f"{ii.loc['SII', 'ci_low']:.1f} to {ii.loc['SII', 'ci_high']:.1f}); relative to "
                     f"the average rate that is {ii.loc['RII', 'value']:.2f} (RII).")
        if {"income_score", "crime_score"}.issubset(areas.columns) and areas["income_score"].notna().all():
            nc = imd_without_crime(areas).merge(t[["lsoa_code", "rate"]], on="lsoa_code")
            c2 = deprivation_correlation(nc, x="imd_score_no_crime").iloc[0]
            sent += (f" Against an IMD recomputed without its crime domain the correlation is "
                     f"{c2.rho:.2f}, so the gradient is not an artefact of crime being part of the IMD."
                     if c2.rho > 0.2 else
                     f" Against an IMD recomputed without its crime domain the correlation is {c2.rho:.2f}.")
        title = (f"{pr.title}: {rr.rate_ratio:.1f} times higher in the most deprived fifth"
                 if rr is not None and pd.notna(rr.rate_ratio) and rr.ci_low > 1
                 else f"{pr.title}: rate by deprivation decile")
        # Linked tables: the quintile rate ratio publishes each quintile's total in effect, so
        # the decile counts are protected as a 5 x 2 table whose row (quintile) totals are
        # published; their sum, the grand total, adds nothing further.
        thr = c.params.sia.disclosure.threshold
        pairs = dec["count"].to_numpy().reshape(5, 2)
        hidden2 = protect(pairs, threshold=thr, row_totals=True, column_totals=False)[0]
        hidden2[hidden2.any(axis=1)] = True  # a quintile whose own total is small: hide both
        hidden = hidden2.ravel()
        out.append(c.chart(charts.decile_chart(
            dec, title=title, ylabel=f"Incidents per 1,000 residents, {c.year}",
            alt=f"Bar chart of {pr.title.lower()} rates by IMD decile with 95% intervals. {sent}",
            name=f"{self.theme.id}_{pr.id}_deciles", suppressed=hidden),
            counts=["count"], derived={"count": ["rate", "ci_low", "ci_high"]}, mask=hidden))
        out.append(f"<p>{_e(sent)}</p>")
        out.append(c.publish(dec[["quantile", "n_lsoas", "count", "population", "rate", "ci_low", "ci_high"]].rename(columns={"quantile": "imd_decile"}),
                             f"{self.theme.id}_{pr.id}_deciles", counts=["count"],
                             derived={"count": ["rate", "ci_low", "ci_high"]}, mask=hidden,
                             formats={"rate": ".1f", "ci_low": ".1f", "ci_high": ".1f",
                                      "population": ",.0f"}))
        conc = concentration(t)
        out.append("<h3>Concentration and hotspots</h3>")
        out.append(f"<p>{_e(narrative.concentration_sentence(pr.title, conc))}</p>")
        n_hist = p.sia.hotspots.persistence_years
        years = [y for y in fy_range(narrative_first_fy(c), c.year)][-n_hist:]
        hist = lsoa_counts_by_year(inc, areas, years)
        hs = hotspots(t, top=p.sia.hotspots.top, min_population=p.sia.hotspots.min_population,
                      history=hist)
        persistent = int((hs.lsoas["years_in_top"] >= max(1, len(years) - 1)).sum())
        out.append(f"<p>Of the {len(hs.lsoas)} neighbourhoods with the highest rates in {_e(c.year)}, "
                   f"{persistent} were in the top 10% in at least {max(1, len(years) - 1)} of the "
                   f"last {len(years)} years: hotspots persist.</p>" if len(hs.lsoas) else "")
        tbl = hs.lsoas[["rank", "lsoa_name", "ward_name", "place", "imd_decile", "count", "rate",
                        "years_in_top"]]
        out.append(c.publish(tbl, f"{self.theme.id}_{pr.id}_hotspots", counts=["count"],
                             derived={"count": ["rate"]}, column_totals=False,
                             formats={"rate": ".1f"}))
        return out

    def _repeat_section(self, pr: Priority) -> list[str]:
        c = self.ctx
        inc = select_incidents(c.dataset.incidents, pr.selection, c.params, pr)
        out = ["<h3>Repeat victimisation</h3>"]
        if inc["victim_id"].notna().sum() == 0:
            return out + ["<p>The dataset holds no victim identifiers for this priority.</p>"]
        allr = repeat_victimisation(inc, period=c.year).iloc[0]
        prevr = repeat_victimisation(inc, period=c.previous).iloc[0]
        out.append(f"<p>{_e(narrative.repeat_sentence(pr.title, allr, 'incident'))} "
                   f"{_e(narrative.repeat_sentence(pr.title, allr, 'victim'))} The year before, "
                   f"the incident repeat rate was {narrative.fmt_pct(100 * prevr.incident_repeat_rate, 1)}.</p>")
        by = pr.repeat_by or "place"
        if by == "place":
            inc = inc.merge(c.dataset.areas[["lsoa_code", "place"]], on="lsoa_code", how="left")
        cols = [by, "n_incidents", "n_victims", "n_repeat_incidents", "incident_repeat_rate",
                "n_repeat_victims", "victim_repeat_rate"]

        def pct(t: pd.DataFrame) -> pd.DataFrame:
            t = t[cols].copy()
            t["incident_repeat_rate"] *= 100
            t["victim_repeat_rate"] *= 100
            return t

        groups = pct(repeat_victimisation(inc, period=c.year, by=by))
        total = pct(repeat_victimisation(inc, period=c.year).assign(**{by: "All"}))
        out.append(c.publish(groups, f"{self.theme.id}_{pr.id}_repeats",
                             counts=["n_incidents", "n_victims", "n_repeat_incidents", "n_repeat_victims"],
                             derived={"n_repeat_incidents": ["incident_repeat_rate"],
                                      "n_repeat_victims": ["victim_repeat_rate"],
                                      "n_incidents": ["incident_repeat_rate"],
                                      "n_victims": ["victim_repeat_rate"]},
                             row_totals=False, column_totals=True, total_row=total,
                             formats={"incident_repeat_rate": ".1f", "victim_repeat_rate": ".1f"}))
        ttr = time_to_repeat(inc, period=c.year).iloc[0]
        if ttr.n_gaps > 0:
            out.append(f"<p>Half of repeat incidents came within {ttr.median_days:.0f} days of the "
                       f"victim's previous one; {narrative.fmt_pct(100 * ttr.share_within_30)} within "
                       f"30 days and {narrative.fmt_pct(100 * ttr.share_within_90)} within 90 days.</p>")
        return out

    def _survey_section(self, pr: Priority) -> list[str]:
        c = self.ctx
        out = ["<h3>Perception (residents' surveys)</h3>"]
        for ref in pr.survey_questions:
            ws = weighted_share(c.dataset.survey, ref.question, survey_name=ref.survey)
            if ws.empty:
                out.append(f"<p>No responses to {_e(ref.question)} in the dataset.</p>")
                continue
            cmp_ = compare_shares(c.dataset.survey, ref.question, current_wave=c.year,
                                  previous_wave=c.previous, survey_name=ref.survey).iloc[0]
            label = ref.question.replace("_", " ")
            kpi = next((k for k in c.params.kpis if k.question == ref.question and k.survey == ref.survey), None)
            if kpi is not None:
                label = kpi.label
            target = kpi.target.value if kpi is not None and kpi.target.rule in ("at_least", "at_most") else None
            if pd.notna(cmp_.current):
                sig = ("a significant " + ("rise" if cmp_.difference > 0 else "fall")) if cmp_.significant else "no significant change"
                sent = (f"{label}: {narrative.fmt_pct(100 * cmp_.current, 1)} in {c.year}, "
                        f"{sig} on {narrative.fmt_pct(100 * cmp_.previous, 1)} in {c.previous}.")
            else:
                sent = f"{label}: no survey wave in {c.year}."
            out.append(c.chart(charts.share_chart(
                ws, title=label, target=target,
                alt=f"Line chart of the weighted share by survey wave with 95% intervals. {sent}",
                name=f"{self.theme.id}_{pr.id}_{ref.question}")))
            out.append(f"<p>{_e(sent)}</p>")
        return out

    def _indicator_section(self, pr: Priority) -> list[str]:
        c = self.ctx
        ind = c.dataset.indicators
        t = ind[ind["indicator_id"].isin(pr.indicators)].sort_values(["indicator_id", "period"])
        if t.empty:
            return ["<h3>Partner indicators</h3><p>No partner returns for this priority.</p>"]
        t = t[t["period"] <= c.year]
        units = sorted(set(t["unit"]))
        latest = []
        for ind_id, g in t.groupby("indicator_id"):
            g = g.set_index("period")["value"]
            if c.year in g.index and c.previous in g.index:
                latest.append(f"{ind_id.replace('_', ' ')}: {g[c.year]:,.1f} in {c.year} against "
                              f"{g[c.previous]:,.1f} the year before")
        sent = ("; ".join(latest) + ". Single annual figures from partner returns; no test of "
                "change is possible.") if latest else "No partner figure for this year."
        w = t.pivot_table(index="period", columns="indicator_id", values="value").tail(5)
        srcs = "; ".join(sorted(set(t["source"])))
        ch = charts.indicator_chart(
            t, title=f"{pr.title}: partner indicators", ylabel=", ".join(units),
            alt=f"Line chart of annual partner indicators for {pr.title.lower()}. {sent}",
            name=f"{self.theme.id}_{pr.id}_indicators")
        return ["<h3>Partner indicators</h3>", c.chart(ch), f"<p>{_e(sent[:1].upper() + sent[1:])}</p>",
                w.reset_index().to_html(index=False, classes="kcpp-table", border=0,
                                        float_format=lambda v: f"{v:,.1f}"),
                f"<p class='kcpp-note'>Sources: {_e(srcs)}.</p>"]

    # --- appendix --------------------------------------------------------------------
    def appendix(self) -> str:
        return data_quality_appendix(self.ctx)


def next_fy(label: str) -> str:
    return previous_fy(label, -1)


def narrative_first_fy(ctx: ReportContext) -> str:
    """First financial year that lies wholly inside the data's coverage."""
    lo, _ = ctx.dataset.coverage
    first = fy_label(lo)
    return first if fy_bounds(first)[0] >= lo else next_fy(first)


METHODS = [
    ("Trends", "Log-linear Poisson model of monthly counts with month-of-year seasonality and "
     "the Covid-19 lockdowns as level changes; negative binomial when the Cameron-Trivedi test "
     "finds over-dispersion. A trend is reported as rising or falling only when its 95% interval "
     "excludes zero."),
    ("Year-on-year change", "Exact conditional (binomial) test for two Poisson counts; 'significant' "
     "means p < 0.05."),
    ("SPC", "NHS Making Data Count XmR chart: mean +/- 2.66 x mean moving range; special causes: a "
     "point outside the limits, 7 points one side of the mean, 7 points rising or falling, 2 of 3 "
     "points beyond two-thirds of the way to a limit."),
    ("Deprivation", "Rates per 1,000 residents by IMD 2019 decile with exact Poisson intervals; rate "
     "ratio most vs least deprived fifth from a Poisson/negative binomial model with a population "
     "offset; Spearman correlation with a Fisher-z interval; slope and relative index of "
     "inequality by the PHE method (simulated intervals)."),
    ("Concentration", "Gini coefficient across LSOAs, adjusted for the concentration expected by "
     "chance at the same total (Mohler et al. 2019); share of incidents in the top 10% of LSOAs; "
     "hotspot persistence over the last five financial years."),
    ("Repeat victimisation", "Incident repeat rate: share of incidents whose victim had another in "
     "the previous 365 days (look-back before the year counts). Victim repeat rate: share of victims "
     "with 2+ incidents in the year. Wilson 95% intervals."),
    ("Surveys", "Weighted shares with Wilson intervals on Kish's effective sample size; change "
     "between waves by a two-sample z-test."),
    ("Disclosure control", "Counts of 1-4 in published tables are shown as [c], with secondary "
     "suppression audited by linear programming so no suppressed value can be recovered from "
     "totals; rates derived from a suppressed count are suppressed too."),
]


def data_quality_appendix(ctx: ReportContext) -> str:
    """Sources, coverage, record counts, unmatched LSOAs, definitions and suppression."""
    ds = ctx.dataset
    meta = ds.meta
    lo, hi = ds.coverage
    inc = ds.incidents
    counts = (inc.assign(fy=fy_labels(inc["date"])).groupby(["source", "fy"]).size()
              .unstack(fill_value=0))
    counts = counts[[c for c in counts.columns if c >= previous_fy(ctx.year, 4)]]
    q = meta.get("quality", {})
    src_rows = "".join(f"<li>{_e(s.get('kind'))}: {_e(s.get('description', s.get('path', '')))} "
                       f"({narrative.fmt_count(s.get('rows', 0))} rows)</li>"
                       for s in meta.get("sources", []))
    qrows = "".join(f"<li>{_e(k.replace('_', ' '))}: {narrative.fmt_count(v)}</li>"
                    for k, v in q.items() if not isinstance(v, dict))
    methods = "".join(f"<li><b>{_e(k)}.</b> {_e(v)}</li>" for k, v in METHODS)
    synth = meta.get("synthetic_tables") or []
    return (
        ctx.banner() + "<h2>Appendix: data quality and methodology</h2>"
        f"<p>Dataset fingerprint <code>{_e(ds.fingerprint[:16])}</code>; coverage {lo:%d %b %Y} to "
        f"{hi:%d %b %Y}; {narrative.fmt_count(len(inc))} incidents, {len(ds.areas)} LSOAs, "
        f"{narrative.fmt_count(len(ds.survey))} survey answers, {len(ds.indicators)} partner "
        f"indicator values.{' Synthetic tables: ' + _e(', '.join(synth)) + '.' if synth else ''}</p>"
        f"<h3>Sources</h3><ul>{src_rows}</ul>"
        f"<h3>Records by source and financial year</h3>"
        + counts.to_html(classes="kcpp-table", border=0)
        + f"<h3>Data quality</h3><ul>{qrows or '<li>No records were dropped.</li>'}</ul>"
        f"<h3>Definitions and methods</h3><ul>{methods}</ul>"
        f"<h3>Suppression applied</h3><p>{ctx.suppressed_cells} table cell(s) were suppressed "
        f"in this report (threshold: counts below {ctx.params.sia.disclosure.threshold}). "
        f"Tables behind every chart and table are in <code>tables/</code>.</p>"
        + ctx.banner())


class OverviewReport:
    """The "plan on a page": every priority's rating, the KPI dashboard, place profiles."""

    def __init__(self, ctx: ReportContext):
        self.ctx = ctx
        p = ctx.params
        self.kpis = evaluate_kpis(ctx.dataset, p, period=ctx.year, params=p)
        frames = []
        for tid, th in p.themes.items():
            a = priority_assessment(ctx.dataset, th, period=ctx.year, params=p,
                                    kpi_table=self.kpis[self.kpis["theme"] == tid])
            frames.append(a.assign(theme_title=th.short_title))
        self.assessment = pd.concat(frames, ignore_index=True)

    def header(self) -> str:
        c = self.ctx
        n_hf = int((self.assessment["recommendation"] == "high focus").sum())
        n = len(self.assessment)
        return (CSS + c.banner() + f"<h1>Strategic Intelligence Assessment {_e(c.year)}: plan on a page</h1>"
                f"<p>{_e(c.params.sia.partnership)}. {n_hf} of {n} priorities across "
                f"{len(c.params.themes)} themes are recommended for high focus.</p>")

    def plan_on_a_page(self) -> str:
        c = self.ctx
        ch = charts.rag_chart(self.assessment, title="Priority ratings by theme",
                              alt="Stacked bar chart of the number of priorities rated red, amber "
                                  "and green in each theme.", name="overview_rag")
        rows = []
        for r in self.assessment.itertuples():
            rows.append(f"<tr><td>{_e(r.theme_title)}</td><td>{_e(r.priority)}</td>"
                        f"<td>{_rag_badge(r.rag)}</td><td>{_e(r.recommendation)}"
                        f"{' (override)' if r.overridden else ''}</td><td style='text-align:left'>"
                        f"{_e(r.rationale)}</td></tr>")
        self.assessment.drop(columns=[]).to_csv(c.tables_dir / "overview_priorities.csv", index=False)
        c.tables.append("overview_priorities.csv")
        return ("<h2>Priorities</h2>" + c.chart(ch) +
                "<table class='kcpp-table'><tr><th>Theme</th><th>Priority</th><th>RAG</th>"
                "<th>Recommendation</th><th>Rationale</th></tr>" + "".join(rows) + "</table>")

    def kpi_dashboard(self) -> str:
        return ("<h2>KPI dashboard (against the 2021/22 baselines)</h2>"
                + kpi_html_table(self.ctx, self.kpis, "overview_kpis"))

    def place_profiles(self) -> str:
        c = self.ctx
        ds = c.dataset
        a = ds.areas
        inc = ds.incidents
        y = inc[fy_labels(inc["date"]) == c.year].merge(a[["lsoa_code", "place"]], on="lsoa_code")
        yp = inc[fy_labels(inc["date"]) == c.previous].merge(a[["lsoa_code", "place"]], on="lsoa_code")
        rows = []
        for place in c.params.sia.places:
            ap = a[a["place"] == place]
            pop = ap["population"].sum()
            if pop == 0:
                continue
            cur = y[y["place"] == place]
            prv = yp[yp["place"] == place]
            crime = int((cur["source"] == "police_crime").sum())
            crime_p = int((prv["source"] == "police_crime").sum())
            cmp_ = compare_periods(crime, crime_p).iloc[0]
            safe = weighted_share(ds.survey, "feel_safe_area", by="place", wave=c.year,
                                  survey_name="residents")
            safe = safe[safe["place"] == place]["share"]
            rows.append({
                "place": place, "population": pop, "lsoas": len(ap),
                "pct_lsoas_most_deprived_decile": 100 * (ap["imd_decile"] == 1).mean(),
                "crimes": crime, "crime_rate_per_1000": 1000 * crime / pop,
                "crime_change_pct": cmp_.change_pct,
                "asb": int((cur["source"] == "police_asb").sum()),
                "asb_rate_per_1000": 1000 * (cur["source"] == "police_asb").sum() / pop,
                "domestic_abuse": int(cur["domestic_abuse"].sum()),
                "feel_safe_pct": 100 * safe.iloc[0] if len(safe) else np.nan,
            })
        t = pd.DataFrame(rows)
        if t.empty:
            return "<h2>Place profiles</h2><p>No areas in the dataset.</p>"
        hi = t.sort_values("crime_rate_per_1000", ascending=False).iloc[0]
        sentences = [f"{hi.place} has the highest recorded crime rate ({hi.crime_rate_per_1000:.0f} "
                     f"per 1,000 residents in {c.year})."]
        dep = t.sort_values("pct_lsoas_most_deprived_decile", ascending=False).iloc[0]
        sentences.append(f"{dep.place} has the largest share of neighbourhoods in England's most "
                         f"deprived 10% ({dep.pct_lsoas_most_deprived_decile:.0f}%).")
        if t["feel_safe_pct"].notna().any():
            lo_ = t.sort_values("feel_safe_pct").iloc[0]
            sentences.append(f"Residents of {lo_.place} are least likely to feel safe "
                             f"({lo_.feel_safe_pct:.0f}%).")
        return ("<h2>Place profiles</h2><p>" + _e(" ".join(sentences)) + "</p>"
                + c.publish(t, "overview_places", counts=["crimes", "asb", "domestic_abuse"],
                            derived={"crimes": ["crime_rate_per_1000", "crime_change_pct"],
                                     "asb": ["asb_rate_per_1000"]},
                            row_totals=False,
                            formats={"population": ",.0f", "pct_lsoas_most_deprived_decile": ".0f",
                                     "crime_rate_per_1000": ".1f", "crime_change_pct": "+.1f",
                                     "asb_rate_per_1000": ".1f", "feel_safe_pct": ".1f"}))

    def appendix(self) -> str:
        return data_quality_appendix(self.ctx)


def show(fragment: str) -> None:
    """Display an HTML fragment in the notebook."""
    _display(fragment)
