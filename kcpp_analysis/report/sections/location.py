"""Where, by kind of place: the share of offences by location type, this year and last.

The location types are the documented vocabulary (``config.LOCATION_TYPES``). Change is in
percentage points of share; counts pass the disclosure gate. For serious violence the
section also gives its kinds (offence, domestic or not, knife-enabled, victim age), as the
Serious Violence Duty's strategic needs assessment asks (Police, Crime, Sentencing and
Courts Act 2022, s.8).
"""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.config.models import LOCATION_TYPES
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.results import SectionResult
from kcpp_analysis.report.sections.common import (
    SectionSettings,
    anchor,
    gap,
    has,
    has_incidents,
    table_name,
    year_incidents,
)

KIND = "location"
TITLE = "Where: kinds of place"


class Settings(SectionSettings):
    kinds_for: str  # priority id that also gets the "kinds of serious violence" table


def applies(ctx, pr) -> bool:
    return has_incidents(ctx, pr)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    gate = ctx.gate
    title = narrative.lower_first(pr.title)
    cur = year_incidents(ctx, pr)
    if not has(cur, "location_type"):
        return SectionResult(
            KIND, pr.id, TITLE, a, (gap(title, "location type", "`location_type`"),)
        )
    prev = year_incidents(ctx, pr, ctx.previous)
    c = cur["location_type"].value_counts().reindex(list(LOCATION_TYPES), fill_value=0)
    p = prev["location_type"].value_counts().reindex(list(LOCATION_TYPES), fill_value=0)
    t = pd.DataFrame(
        {"location_type": list(LOCATION_TYPES), "previous": p.to_numpy(), "current": c.to_numpy()}
    )
    t = t[(t["previous"] > 0) | (t["current"] > 0)].reset_index(drop=True)
    t["share_pct"] = 100 * t["current"] / t["current"].sum()
    t["change_pp"] = t["share_pct"] - 100 * t["previous"] / max(t["previous"].sum(), 1)
    pub = gate.table(
        t,
        table_name(ctx, pr.id, "location_types"),
        counts=["previous", "current"],
        derived={"current": ["share_pct", "change_pp"]},
        formats={"share_pct": ".1f", "change_pp": "+.1f"},
        caption=f"{pr.title} by location type, {ctx.previous} and {ctx.year}",
    )
    sentences = []
    vis = [i for i in range(len(t)) if not pub.hidden(i, "share_pct")]
    if vis:
        top = t.iloc[vis].sort_values("share_pct", ascending=False).iloc[0]
        sentences.append(
            f"Most {title} incidents happen in or at "
            f"{ {'dwelling': 'a dwelling', 'street': 'the street'}.get(top.location_type, top.location_type) } "
            f"({narrative.fmt_pct(top.share_pct)} of located offences in {ctx.year})."
        )
    tables = [pub]
    if pr.id == settings.kinds_for:
        k = cur.assign(
            offence=cur["category"].map(lambda x: ctx.params.categories[x].label),
            setting=cur["domestic_abuse"].map({True: "domestic", False: "non-domestic"}),
            knife=cur["knife_crime"].map(
                {True: "knife or sharp instrument", False: "no knife recorded"}
            ),
        )
        kt = k.groupby(["offence", "setting", "knife"]).size().rename("count").reset_index()
        tables.append(
            gate.table(
                kt,
                table_name(ctx, pr.id, "kinds"),
                counts=["count"],
                caption=f"Kinds of serious violence, {ctx.year} (Serious Violence Duty)",
            )
        )
        dom = float(cur["domestic_abuse"].mean()) if len(cur) else 0
        knife = float(cur["knife_crime"].mean()) if len(cur) else 0
        sentences.append(
            f"Of serious violence in {ctx.year}, {narrative.fmt_pct(100 * dom)} was domestic "
            f"and {narrative.fmt_pct(100 * knife)} involved a knife or sharp instrument."
        )
    return SectionResult(KIND, pr.id, TITLE, a, tuple(sentences), tuple(tables))
