"""Recommendations in words: the class, each criterion with its evidence, the strength of
the data case, last assessment's rating and what would change it (British English, plain
words on every board-facing page).

Written from a :class:`kcpp_analysis.analysis.assessment.PriorityAssessment` only; numbers
come from its facts (counts are quoted only when both may be published).
"""

from __future__ import annotations

import math

from kcpp_analysis.presentation.narrative import (
    capitalise,
    fmt_count,
    fmt_pct,
    join_list,
    lower_first,
    plural,
)

STATUS_LABELS = {
    "high focus": "High focus",
    "continue to monitor": "Continue to monitor",
    "cross-cutting": "Cross-cutting high priority focus",
    "no data": "No data",
}


def rag_label(r) -> str:
    """How a RAG band reads on a page.

    >>> rag_label("grey"), rag_label("unscored"), rag_label("red")
    ('NO DATA', 'NOT SCORED', 'RED')
    """
    return {"grey": "NO DATA", "unscored": "NOT SCORED"}.get(str(r), str(r).upper())


def status_label(status: str) -> str:
    """The reader's name for a recommendation class."""
    return STATUS_LABELS.get(status, status.capitalize())


def count_pair(cur, prv, threshold: int) -> str | None:
    """'1,088 to 1,134' when both counts may be published, else None."""
    vals = [v for v in (cur, prv) if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if len(vals) < 2 or any(1 <= v < threshold for v in vals):
        return None
    return f"{fmt_count(prv)} to {fmt_count(cur)}"


def recent_phrase(direction, annual_pct, months) -> str | None:
    """The last three years' significant direction in the words every document uses, or
    None when there is no clear direction (or no estimate).

    >>> recent_phrase("increasing", 2.74, 36)
    'recorded incidents have risen over the last 3 years (about 2.7% a year)'
    >>> recent_phrase("no clear change", 0.4, 36) is None
    True
    """
    if direction not in ("increasing", "decreasing") or annual_pct is None:
        return None
    if isinstance(annual_pct, float) and math.isnan(annual_pct):
        return None
    word = "risen" if direction == "increasing" else "fallen"
    return (
        f"recorded incidents have {word} over the last {round((months or 36) / 12)} years "
        f"(about {fmt_pct(abs(annual_pct), 1)} a year)"
    )


def criterion_sentence(key: str, fired, facts: dict, *, threshold: int = 5) -> str:
    """One plain sentence of evidence for one criterion of the method (what the data show,
    whether or not the criterion fired)."""
    f = facts
    if key == "emerging_concern":
        if fired is None:
            return "There are no data to judge whether there is a current or emerging concern."
        why = []
        if f.get("change_rose"):
            nums = count_pair(f.get("yoy_current"), f.get("yoy_previous"), threshold)
            why.append(
                "recorded incidents rose significantly on last year"
                + (f" ({nums}, {fmt_pct(f['yoy_change_pct'], sign=True)})" if nums else "")
            )
        if f.get("trend_rose"):
            why.append(
                recent_phrase(
                    f.get("recent_direction"), f.get("recent_annual_pct"), f.get("recent_months")
                )
                or "recorded incidents have risen over the last three years"
            )
        if f.get("in_band"):
            why.append(
                f"the evidence score is {f['total']:.0f} of 100, in the high-focus band "
                f"({f['band']:.0f} or more)"
            )
        if fired:
            return "There is a current or emerging concern: " + join_list(why) + "."
        if f.get("thin_evidence"):
            return (
                f"The evidence score ({f['total']:.0f} of 100) is in the high-focus band but "
                f"rests on too little evidence (confidence {f['confidence']}): an intelligence "
                "gap, not yet a concern."
            )
        return (
            f"No current or emerging concern in the data: the evidence score is "
            f"{f['total']:.0f} of 100, below the high-focus band ({f['band']:.0f}), with no "
            "significant rise on last year or over the last three years."
        )
    if key == "statutory_duty":
        return (
            f"It is subject to a statutory duty for the partnership: {f['duty']}."
            if fired
            else "No statutory duty for the partnership is recorded for it."
        )
    if key in ("community_impact", "community_impact_not_escalating"):
        escalating = fired if key == "community_impact" else (None if fired is None else not fired)
        if escalating is None:
            return "No survey or community insight evidence on its community impact is held."
        parts = [
            f"{m['label']} went from {fmt_pct(m['first_pct'], 1)} ({m['first_wave']}) to "
            f"{fmt_pct(m['last_pct'], 1)} ({m['last_wave']}), a significant trend"
            for m in f.get("survey_worse", [])
        ]
        share = f.get("insight_share_pct")
        places = f.get("insight_places") or []
        if (
            share is not None
            and share >= f["share_threshold_pct"]
            and len(places) >= f["places_threshold"]
        ):
            parts.append(
                f"it drew {fmt_pct(share, 0)} of this year's community insight mentions and was "
                f"raised in {len(places)} places ({join_list(places)})"
            )
        if escalating:
            return "Community impact is escalating: " + "; ".join(parts) + "."
        bits = []
        if f.get("survey_tested"):
            bits.append(
                f"{plural(f['survey_tested'], 'survey measure')} show no significant worsening"
            )
        if share is not None and not share > 0:  # none (or no mentions at all: NaN)
            bits.append("no community insight mentions this year")
        elif share is not None:
            pct = "under 1%" if share < 0.5 else fmt_pct(share, 0)
            where = f"from {plural(len(places), 'place')}" if places else "from no named place"
            bits.append(f"{pct} of community insight mentions, {where}")
        return "Community impact is not escalating: " + "; ".join(bits) + "."
    if key == "stable_or_improving":
        if fired is None:
            return "There are no data to judge whether performance is stable or improving."
        if fired:
            return (
                "Performance is stable or improving: no significant rise on last year or over "
                "the last three years, and no KPI rated red."
            )
        return "Performance is not stable: see the concern above."
    if key == "connected_partnership":
        return (
            f"The {f['partnership']} already has it in view."
            if fired and not str(f["partnership"]).lower().startswith("the ")
            else f"{str(f['partnership'])[:1].upper() + str(f['partnership'])[1:]} already have it in view."
            if fired
            else "No connected partnership is named for it."
        )
    if key == "cross_cutting":
        return "The plan designates it cross-cutting." if fired else ""
    return ""


def evidence_strength(total, bands) -> str:
    """'strong', 'moderate' or 'limited' evidence of concern from the score bands."""
    if total is None or (isinstance(total, float) and math.isnan(total)):
        return "no"
    return (
        "strong" if total >= bands.high_focus else "moderate" if total >= bands.amber else "limited"
    )


def score_phrase(a, bands, *, score_said: bool = False) -> str:
    """'Strong evidence of concern: score 79 of 100, confidence A.' (with ``score_said``,
    when the sentences before it already gave the score: 'Strong evidence of concern
    (confidence A).')"""
    if a.total is None and a.has_data:
        return (
            "The data held (partner indicators or survey measures only) cannot be scored: an "
            "intelligence gap."
        )
    if a.total is None:
        return "No evidence to score: an intelligence gap."
    strength = f"{evidence_strength(a.total, bands).capitalize()} evidence of concern"
    if score_said:
        return f"{strength} (confidence {a.confidence})" + (
            "; too little evidence for a high rating: an intelligence gap."
            if a.thin_evidence
            else "."
        )
    return f"{strength}: score {a.total:.0f} of 100, confidence {a.confidence}" + (
        " (too little evidence for a high rating: an intelligence gap)." if a.thin_evidence else "."
    )


def reason_sentences(a, *, threshold: int = 5, labels=None) -> list[str]:
    """The evidence behind a recommendation, one sentence per criterion that explains it
    (for a priority continued to monitor, first why it is not high focus)."""
    crit = {c.key: c for c in a.criteria}
    parts = []
    for k in a.reasons:
        c = crit.get(k)
        if c is not None:
            s = criterion_sentence(
                k, c.fired, with_survey_labels(c.facts, labels), threshold=threshold
            )
            if s:
                parts.append(s)
    if a.status == "no data":
        parts.append(
            "The method cannot be applied: no incident data are held for this priority."
            if a.has_data  # partner indicators or survey measures only (said below)
            else "No data are held for this priority, so the method cannot be applied."
        )
    elif a.status == "continue to monitor":
        parts = why_not_high_focus(a, threshold=threshold, labels=labels) + parts
        held = [k for k in a.reasons if crit.get(k) and k in ("community_impact",)]
        if held and "connected_partnership" in a.reasons:
            parts.append(
                "Under the partnership's method, community concern alone does not make a "
                "priority high focus while a connected partnership has it in view."
            )
    # a criterion the class was tested against can also be one of its reasons (community
    # impact not escalating is both): say each thing once
    return list(dict.fromkeys(parts))


def rationale(a, bands, *, threshold: int = 5, labels=None) -> str:
    """The recommendation in words: the class, the evidence behind it
    (:func:`reason_sentences`), then the strength of the data case (a
    :class:`PriorityAssessment`)."""
    parts = reason_sentences(a, threshold=threshold, labels=labels)
    said = a.total is not None and f"{a.total:.0f} of 100" in " ".join(parts)
    text = (
        f"{status_label(a.status)}. "
        + " ".join(parts)
        + " "
        + score_phrase(a, bands, score_said=said)
    )
    if a.overridden:
        text += (
            f" The board decided {status_label(a.final_status).lower()} on {a.override_date} "
            f"({a.override_by}): {a.override_reason}"
        )
    return text


def why_not_high_focus(a, *, threshold: int = 5, labels=None) -> list[str]:
    """For a priority continued to monitor: the high-focus criteria the evidence was tested
    against (a concern, community impact), each in one sentence, so the reader sees why."""
    crit = {c.key: c for c in a.criteria}
    out = []
    for k in ("emerging_concern", "community_impact"):
        c = crit.get(k)
        if c is not None and c.fired is False:
            out.append(
                criterion_sentence(
                    k, False, with_survey_labels(c.facts, labels), threshold=threshold
                )
            )
    if a.kpis_red:
        out.append(
            f"{plural(len(a.kpis_red), 'KPI')} missed and not improving "
            f"({join_list([lower_first(x) for x in a.kpis_red])})."
        )
    return out


def with_survey_labels(facts: dict, labels) -> dict:
    """Survey facts with the question's reader label (never the question code)."""
    if not facts.get("survey_worse"):
        return facts
    f = dict(facts)
    f["survey_worse"] = [
        {**m, "label": labels(m["survey"], m["question"]) if labels else m["question"]}
        for m in facts["survey_worse"]
    ]
    return f


def movement_sentence(a) -> str:
    """This year's rating against the last assessment's, in words.

    >>> from types import SimpleNamespace as A
    >>> movement_sentence(A(previous_rating="amber", rag="red", movement="up",
    ...                     previous_label="SIA 2024"))
    'RED this year, AMBER at SIA 2024: more concern.'
    >>> movement_sentence(A(previous_rating="amber", rag="amber", movement="same",
    ...                     previous_label="SIA 2024"))
    'AMBER this year, as at SIA 2024.'
    """
    if a.previous_rating is None:
        return "Not rated in the last assessment."
    prev = a.previous_rating.upper()
    now = rag_label(a.rag)
    if a.movement == "no data":
        return f"No data this year; {a.previous_label} rated it {prev}."
    if a.movement == "same":
        return f"{now} this year, as at {a.previous_label}."
    if a.movement == "not comparable":
        return (
            f"{now} this year on thin evidence (confidence {a.confidence}), {prev} at "
            f"{a.previous_label}: not compared, since a band that moves because data are "
            "missing is not a change in concern."
        )
    word = {"up": "more concern", "down": "less concern"}.get(a.movement, a.movement)
    return f"{now} this year, {prev} at {a.previous_label}: {word}."


def sensitivity_sentence(a) -> str:
    """What would change the recommendation (from :func:`kcpp_analysis.analysis.sensitivity`)."""
    parts = []
    for s in a.sensitivity:
        k = s["kind"]
        if k == "fixed":
            why = {
                "statutory_duty": "its statutory duty",
                "cross_cutting": "the plan's designation",
            }
            return (
                f"Fixed by {join_list([why.get(b, b) for b in s['by']])}, whatever the data show."
            )
        if k == "pivotal":
            what = {
                "band": "its score staying in the high-focus band",
                "change": "one label: the significant rise on last year",
                "trend": "one label: the rise over the last three years",
            }[s["signal"]]
            parts.append(f"depends on {what}")
        if k == "labels":
            parts.append(
                "rests on the significant rises (on last year and over the last three years): "
                "without both it would not be high focus"
            )
        if k == "band_margin":
            pts = s["points"]
            if a.status in ("continue to monitor",) or pts < 0:
                parts.append(f"{abs(pts):.0f} points below the high-focus band")
            else:
                parts.append(f"{pts:.0f} points above the high-focus band")
        if k == "harm":
            parts.append(
                f"would {'enter' if s['total'] >= a.total else 'leave'} the band with a harm "
                f"grade of {s['grade']}"
            )
    if not parts:
        return "No single change in the evidence would alter it." if a.has_data else "Needs data."
    out = "; ".join(parts)
    return out[:1].upper() + out[1:] + "."


def headline(
    theme_title: str, period: str, assessments, kpi_table, key_sentences: list[str]
) -> list[str]:
    """4-8 headline sentences for a theme from its assessments, KPIs and key findings."""
    out = []
    n = len(assessments)
    by = {}
    for a in assessments:
        by.setdefault(a.final_status, []).append(a.priority)
    hf = by.get("high focus", [])
    first = f"Of the {plural(n, 'priority', 'priorities')} of {lower_first(theme_title)}"
    if hf:
        first += (
            f", {len(hf)} {'is' if len(hf) == 1 else 'are'} recommended for high focus in {period}: "
            f"{join_list([lower_first(x) for x in hf])}"
        )
    else:
        first += f", none is recommended for high focus in {period}"
    out.append(first + ".")
    for status in ("cross-cutting", "continue to monitor"):
        if by.get(status):
            out.append(
                f"{status_label(status)}: {join_list([lower_first(x) for x in by[status]])}."
            )
    if by.get("no data"):
        names = join_list([lower_first(x) for x in by["no data"]])
        out.append(
            f"{capitalise(names)} cannot be assessed from the data held (an intelligence gap)."
        )
    k = kpi_table[kpi_table["status"] != "no data"]
    if len(k):
        met = int((k["status"] == "met").sum())
        out.append(f"{met} of {plural(len(k), 'KPI')} with data are meeting their targets.")
    out.extend(s for s in key_sentences if s)
    return out[:8]


def sensitivity_short(a) -> str:
    """The nearest change that would alter the class, in a few words (for tables).

    The same facts as :func:`sensitivity_sentence`.
    """
    kinds = {s["kind"]: s for s in a.sensitivity}
    if "fixed" in kinds:
        why = {"statutory_duty": "statutory duty", "cross_cutting": "plan designation"}
        return "Fixed: " + " and ".join(why.get(b, b) for b in kinds["fixed"]["by"])
    if a.total is None:  # nothing scorable: data would change it, nothing else
        return "Needs data" if not a.has_data else "Needs incident data"
    bits = []
    piv = [s["signal"] for s in a.sensitivity if s["kind"] == "pivotal"]
    if piv:
        names = {"band": "its score", "change": "the rise on last year", "trend": "the 3-year rise"}
        bits.append("Rests on " + join_list([names[p] for p in piv]))
    if "labels" in kinds:
        bits.append("Rests on both rises")
    if "band_margin" in kinds:
        pts = kinds["band_margin"]["points"]
        bits.append(f"{abs(pts):.0f} points {'below' if pts < 0 else 'above'} the high-focus band")
    if "harm" in kinds:
        bits.append(f"a harm grade of {kinds['harm']['grade']} would change it")
    return "; ".join(bits) or "Stable"
