"""Partner indicators: annual figures supplied by partners (no test of change is possible
on a single annual figure, so none is claimed). Counts in a count unit below the disclosure
threshold are suppressed like any other count."""

from __future__ import annotations

from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import SectionSettings, anchor, table_name

KIND = "indicators"
TITLE = "Partner indicators"


class Settings(SectionSettings):
    years_shown: int


def applies(ctx, pr) -> bool:
    return bool(pr.indicators)


def indicator_labels(ctx) -> dict[str, str]:
    """Each partner indicator's reader-facing name: its KPI's label where there is one."""
    out = {}
    for k in ctx.params.kpis:
        if k.indicator_id:
            out.setdefault(k.indicator_id, k.label)
    for i in ctx.dataset.indicators["indicator_id"].unique():
        out.setdefault(i, str(i).replace("_", " ").capitalize())
    return out


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    ind = ctx.dataset.indicators
    t = ind[ind["indicator_id"].isin(pr.indicators) & (ind["period"] <= ctx.year)]
    t = t.sort_values(["indicator_id", "period"])
    if t.empty:
        return SectionResult(KIND, pr.id, TITLE, a, ("No partner returns for this priority.",))
    gate = ctx.gate
    is_count = t["unit"] != "%"
    small = is_count & t["value"].map(gate.small)
    labels = indicator_labels(ctx)
    latest = []
    for ind_id, g in t[~small].groupby("indicator_id"):
        g = g.set_index("period")["value"]
        if ctx.year in g.index and ctx.previous in g.index:
            latest.append(
                f"{labels.get(ind_id, ind_id)}: {narrative.fmt_figure(g[ctx.year])} in "
                f"{ctx.year} against {narrative.fmt_figure(g[ctx.previous])} the year before"
            )
    sent = ("; ".join(latest) + ".") if latest else f"No partner figure for {ctx.year}."
    sent = sent[:1].upper() + sent[1:]
    keep = sorted(t["period"].unique())[-settings.years_shown :]
    shown = t[t["period"].isin(keep)]
    pub = gate.table(
        shown.assign(indicator=shown["indicator_id"].map(lambda i: labels.get(i, i)))[
            ["indicator", "period", "value", "unit", "source"]
        ],
        table_name(ctx, pr.id, "indicators"),
        mask={"value": (shown["unit"] != "%") & shown["value"].map(gate.small)},
        formats={"value": "value"},
    )
    drawn = t[~small]
    chart = charts.indicator_chart(
        drawn,
        title=f"{pr.title}: partner indicators",
        ylabel=", ".join(sorted(set(t["unit"]))),
        name=table_name(ctx, pr.id, "indicators_chart"),
        alt=f"Line chart of annual partner indicators for {pr.title.lower()}. {sent}",
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        (sent,),
        (pub,),
        (Figure.from_chart(chart),),
        (
            "Single annual figures from partner returns; no test of change is possible. Sources: "
            + "; ".join(sorted(set(t["source"])))
            + ".",
        ),
        signals={"values": True},
    )
