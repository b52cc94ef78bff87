"""The board brief: the assessment on at most two A4 pages, findings first.

What it holds, in order: the recommended classes (how many priorities in each, and every
priority in one compact table with its rating, its movement since the last assessment and
whether the method agrees with the partnership's proposal); what changed since the last
assessment; the three to five findings that matter most, one number each (significant
changes first, high-focus priorities first); the decisions asked of the board with owners
and dates (``params/decisions.yaml``); and the intelligence gaps to commission (the five
first, the rest in the overview). Every number comes from the assessments the overview
reads (already through the disclosure gate); nothing is computed afresh.
"""

from __future__ import annotations

import logging

from kcpp_analysis.core.periods import as_period
from kcpp_analysis.presentation import narrative, recommendation
from kcpp_analysis.report.results import Block
from kcpp_analysis.report.summary import intelligence_gaps, ordered

log = logging.getLogger(__name__)

MAX_FINDINGS = 5
MAX_GAPS = 5
MOVEMENT_WORDS = {
    "up": "more concern",
    "down": "less concern",
    "same": "no change",
    "no data": "no data this year",
    "not recorded": "not rated last time",
    "not comparable": "not compared (thin evidence)",
}


def findings(ctx, assessments) -> list[str]:
    """Three to five findings, each a priority's change: first the priorities whose count
    changed significantly on last year, then those whose last three years show a significant
    direction (the trend the method scores), then the other high-focus priorities (no clear
    change); high focus first within each. A finding gives this year's count and its change on
    last year (when both counts may be published) and the three-year direction when it is
    significant, in the words of the priority's own finding in its theme pack."""
    gate = ctx.gate
    out: list[tuple[int, str]] = []
    for a in ordered(assessments):
        yoy = (
            a.yoy_current is not None
            and bool(a.yoy_previous)
            and not gate.pair_hidden(a.yoy_current, a.yoy_previous)
        )
        sig = yoy and a.yoy_label in ("rose significantly", "fell significantly")
        recent = recommendation.recent_phrase(
            a.recent_direction, a.recent_annual_pct, a.recent_months
        )
        high = a.final_status == "high focus"
        if not (sig or recent or (high and yoy)):
            continue
        name = f"{a.priority} ({recommendation.status_label(a.final_status).lower()})"
        count = ""
        if yoy:
            pct = narrative.fmt_pct(
                100 * (a.yoy_current - a.yoy_previous) / a.yoy_previous, sign=True
            )
            count = f"{narrative.fmt_count(a.yoy_current)} incidents in {ctx.year}, {pct}"
        if sig:
            text = f"{name} {a.yoy_label} on last year: {count}"
            text += f"; {recent}." if recent else "."
            rank = 0
        elif recent:
            text = f"{name}: {recent}"
            if yoy:
                chance = a.yoy_label == "no clear change"
                text += f"; {count} on last year" + (
                    ", within what chance alone would produce." if chance else "."
                )
            else:
                text += "."
            rank = 2
        else:
            text = f"{name} showed no clear change on last year: {count}."
            rank = 4
        out.append((rank + (0 if high else 1), text))
    out.sort(key=lambda x: x[0])
    return [s for _, s in out[:MAX_FINDINGS]]


def brief_block(ctx, assessments, kpis) -> Block:
    """The board brief's content (rendered by ``brief.html.j2``)."""
    a = ordered(assessments)
    counts = [
        (recommendation.status_label(s), sum(x.final_status == s for x in a))
        for s in ("high focus", "cross-cutting", "continue to monitor", "no data")
    ]
    rows = [
        {
            "priority": x.priority,
            "class": recommendation.status_label(x.final_status),
            "rag": x.rag,
            "movement": MOVEMENT_WORDS.get(x.movement, x.movement),
            "agrees": ("yes" if x.agrees else "no" if x.agrees is False else "no proposal"),
        }
        for x in a
    ]
    # mid-sentence, as the overview writes them: "serious violence", but "Prevent"
    up = [x.priority for x in a if x.movement == "up"]
    down = [x.priority for x in a if x.movement == "down"]
    changed = []
    if up:
        changed.append(f"More concern than at the last assessment: {narrative.join_names(up)}.")
    if down:
        changed.append(f"Less concern: {narrative.join_names(down)}.")
    if not changed:
        changed.append("No priority's rating moved since the last assessment.")
    differ = [x.priority for x in a if x.agrees is False]
    if differ:
        changed.append(
            "The method's recommendation differs from the partnership's proposal for "
            f"{narrative.join_names(differ)}; the overview gives the reasons."
        )
    gaps = intelligence_gaps(ctx, assessments, kpis)
    k = kpis[kpis["status"] != "no data"]
    year_end = as_period(ctx.year).end.date()
    early = [d for d in ctx.params.decisions if d.due <= year_end]
    if early:  # a board cannot decide on an assessment before the year it covers has ended
        log.warning(
            "params/decisions.yaml: %d of %d decisions are due on or before %s, the end of "
            "the year this brief assesses (%s); update their dates",
            len(early),
            len(ctx.params.decisions),
            year_end.strftime("%d %B %Y"),
            ctx.year,
        )
    return Block(
        "brief.html.j2",
        {
            "doc": ctx.document_control(),
            "synthetic": ctx.synthetic,
            "n": len(a),
            "counts": [(c, n) for c, n in counts if n],
            "n_proposed": sum(x.proposed_status is not None for x in a),
            "n_agree": sum(bool(x.agrees) for x in a),
            "rows": rows,
            "changed": changed,
            "previous_source": ctx.previous_ratings[1],
            "findings": findings(ctx, assessments),
            "kpis": (int((k["status"] == "met").sum()), len(k), int((k["rag"] == "red").sum())),
            "decisions": ctx.params.decisions,
            "gaps": gaps[:MAX_GAPS],
            "more_gaps": max(0, len(gaps) - MAX_GAPS),
        },
    )
