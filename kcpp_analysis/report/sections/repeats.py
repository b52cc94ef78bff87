"""Repeat victimisation: incident and victim repeat rates, by place or hate-crime strand.

Definitions (:func:`kcpp_analysis.analysis.repeats.repeat_victimisation`): incident repeat rate =
share of incidents whose victim had another in the previous 365 days; victim repeat rate =
share of victims with two or more incidents in the year; Wilson 95% intervals.

Disclosure: every row's four counts, the "All" row, and the relations between them are one
linked publication (:class:`kcpp_analysis.presentation.disclosure.LinkedCells`): incidents add up over
groups, victims at least add up, and within a row ``repeat victims <= incidents - victims``
(each repeat victim has at least two incidents), so ``incidents - victims`` is itself a
count that is protected. Rates are hidden with their counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.repeats import repeat_victimisation, time_to_repeat
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.results import SectionResult
from kcpp_analysis.report.sections.common import SectionSettings, anchor, has_incidents, table_name

KIND = "repeats"
TITLE = "Repeat victimisation"
COUNTS = ["n_incidents", "n_victims", "n_repeat_incidents", "n_repeat_victims"]


class Settings(SectionSettings):
    group_by: str


def applies(ctx, pr) -> bool:
    return pr.victims and has_incidents(ctx, pr)


def protect_rows(gate, table: pd.DataFrame) -> np.ndarray:
    """Mask (rows x COUNTS) for group rows followed by one "All" row."""
    L = gate.linked()
    v = table[COUNTS].to_numpy(dtype=float)
    ids = np.array([[L.cell((i, c), v[i, j]) for j, c in enumerate(COUNTS)] for i in range(len(v))])
    for i in range(len(v)):
        inc, vic, ri, rv = ids[i]
        L.relate({vic: 1, inc: -1}, "at_most")
        L.relate({ri: 1, inc: -1}, "at_most")
        L.relate({rv: 1, vic: -1}, "at_most")
        d = L.difference((i, "incidents-victims"), inc, vic)
        L.relate({rv: 1, d: -1}, "at_most")
    groups, allrow = ids[:-1], ids[-1]
    if len(groups):
        # incidents add up exactly over groups; a victim may appear in several groups, so
        # the total number of victims is at most the sum over groups (repeat counts depend on
        # history across groups and give no such relation)
        for j, kind in ((0, "equal"), (1, "at_most")):
            L.relate({**{int(x): -1 for x in groups[:, j]}, int(allrow[j]): 1}, kind)
    mask = L.protect()
    gate.count_linked(mask, ids.ravel().tolist())
    return mask[ids]


def compute(ctx, pr, settings: Settings) -> SectionResult:
    a = anchor(pr.id, KIND)
    inc = ctx.incidents(pr)
    if inc["victim_id"].notna().sum() == 0:
        return SectionResult(
            KIND,
            pr.id,
            TITLE,
            a,
            (
                "The dataset holds no victim references for this priority, so repeat "
                "victimisation cannot be measured (an intelligence gap).",
            ),
        )
    by = pr.repeat_by or settings.group_by
    if by == "place":
        inc = inc.merge(ctx.dataset.areas[["lsoa_code", "place"]], on="lsoa_code", how="left")
    cols = [by, *COUNTS, "incident_repeat_rate", "victim_repeat_rate"]
    groups = repeat_victimisation(inc, period=ctx.year, by=by)
    total = repeat_victimisation(inc, period=ctx.year).assign(**{by: "All"})
    t = pd.concat([groups, total], ignore_index=True)[cols]
    t[by] = t[by].fillna("Not known").astype(str)
    t["incident_repeat_rate"] *= 100
    t["victim_repeat_rate"] *= 100
    m = protect_rows(ctx.gate, t)
    mask = {c: m[:, j] for j, c in enumerate(COUNTS)}
    mask["incident_repeat_rate"] = m[:, 0] | m[:, 2]
    mask["victim_repeat_rate"] = m[:, 1] | m[:, 3]
    pub = ctx.gate.table(
        t,
        table_name(ctx, pr.id, "repeats"),
        counts=COUNTS,
        mask=mask,
        formats={"incident_repeat_rate": ".1f", "victim_repeat_rate": ".1f"},
        caption=f"Repeat victimisation by {by.replace('_', ' ')}, {ctx.year}",
    )
    last = len(t) - 1
    sentences = []
    if not (m[last, 0] or m[last, 2]):
        r = total.iloc[0]
        sentences.append(narrative.repeat_sentence(pr.title, r, "incident"))
        if not (m[last, 1] or m[last, 3]):
            sentences.append(narrative.repeat_sentence(pr.title, r, "victim"))
        prevr = repeat_victimisation(inc, period=ctx.previous).iloc[0]
        if not any(ctx.gate.small(prevr[c]) for c in COUNTS) and prevr.n_incidents > 0:
            sentences.append(
                f"The year before, the incident repeat rate was "
                f"{narrative.fmt_pct(100 * prevr.incident_repeat_rate, 1)}."
            )
    else:
        sentences.append(
            f"Too few {narrative.lower_first(pr.title)} incidents with a victim "
            f"reference in {ctx.year} to publish repeat rates."
        )
    ttr = time_to_repeat(inc, period=ctx.year).iloc[0]
    if ttr.n_gaps >= 2 * ctx.gate.threshold:
        sentences.append(
            f"Half of repeat incidents came within {ttr.median_days:.0f} days of the victim's "
            f"previous one; {narrative.fmt_pct(100 * ttr.share_within_30)} within 30 days and "
            f"{narrative.fmt_pct(100 * ttr.share_within_90)} within 90 days."
        )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        a,
        tuple(sentences),
        (pub,),
        (),
        (
            "Incident repeat rate: share of incidents whose victim had another in the previous 12 "
            "months. Victim repeat rate: share of victims with two or more incidents in the year. "
            "Victims are counted once per group, so group victims may add to more than the total.",
        ),
        signals={"published": True},
    )
