"""The overview's executive summary, scoring matrix and SIA framing.

- :func:`scoring_block`: the published rules (``params/prioritisation.yaml``) and every
  priority's criterion scores, concern, harm factor, total, confidence, duty and
  recommendation, so a reader can recompute any recommendation.
- :func:`executive_summary_block`: 5-8 key messages generated from the scored results
  (recommended high-focus list; what is rising; where; who; KPI delivery; the decision the
  board is asked for), intelligence gaps detected from the dataset, data caveats on
  police-recorded crime, and the analyst-supplied framing sections read from
  ``params/framing/*.md`` (horizon scanning (PESTELO), consultation and public-meeting
  findings, partnership activity), each replaced by a placeholder saying what is missing when
  the file is absent. Markdown is rendered with raw HTML escaped.

Every number in a message is an aggregate already published elsewhere in the set (rates,
percentages and counts of at least the disclosure threshold).
"""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.analysis.prioritisation import CRITERIA
from kcpp_analysis.presentation import narrative
from kcpp_analysis.report.results import Block

FRAMING = {
    "horizon_scanning": (
        "Horizon scanning (PESTELO)",
        "Political, economic, social, technological, environmental, legal and organisational "
        "changes expected to affect community safety in the coming year.",
    ),
    "consultation": (
        "Consultation and public-meeting findings",
        "What residents, councillors and partners said in consultations, surveys and "
        "public meetings this year.",
    ),
    "partnership_activity": (
        "Partnership activity",
        "What the partnership and its theme groups did this year and what changed as a result.",
    ),
}

CAVEATS = [
    "Police-recorded crime counts what is reported to and recorded by the police: changes in "
    "recording practice (for example the improvements to violence and stalking recording "
    "since 2018) move the figures without any change in victimisation.",
    "Much crime is never reported (the Crime Survey for England and Wales estimates that "
    "fewer than half of incidents reach the police), and under-reporting is greatest for "
    "domestic abuse, sexual offences and hate crime.",
    "Drugs, weapons possession and some public-order offences are largely found by police "
    "activity: more recorded offences can mean more enforcement, not more offending.",
    "police.uk locations are anonymised to a nearby point and the month; small-area "
    "figures carry that imprecision.",
]


def scoring_block(ctx, assessment: pd.DataFrame) -> Block:
    """The scoring rules and the scored table (published through the gate: no counts)."""
    sc = ctx.params.scoring
    a = assessment.copy()
    cols = {"priority": "Priority", "harm": "Harm"}
    for c in CRITERIA:
        if c in sc.criteria:
            cols[f"score_{c}"] = sc.criteria[c].label
    cols.update(
        {
            "concern": "Concern (0-100)",
            "total": "Total (0-100)",
            "confidence": "Confidence",
            "duty": "Duty",
            "recommendation": "Recommendation",
        }
    )
    a["duty"] = [
        (
            f"assured by {r.connected_partnership or 'the partnership board'}"
            if r.statutory_duty
            else ""
        )
        for r in a.itertuples()
    ]
    a["recommendation"] = [
        r.recommendation + (" (override)" if r.overridden else "") for r in a.itertuples()
    ]
    t = a[[c for c in cols if c in a.columns]].rename(columns=cols)
    t = t.sort_values("Total (0-100)", ascending=False, na_position="last")
    fmt = {v: ".0f" for k, v in cols.items() if k.startswith("score_")}
    fmt.update({"Concern (0-100)": ".0f", "Total (0-100)": ".0f", "Harm": ".0f"})
    pub = ctx.gate.table(t, "overview_scores", formats=fmt, caption=f"Priority scores, {ctx.year}")
    rules = [
        {"label": c.label, "weight": c.weight, "rule": c.rule}
        for k, c in sc.criteria.items()
        if k in CRITERIA
    ]
    return Block(
        "scoring.html.j2",
        {
            "rules": rules,
            "bands": sc.bands,
            "confidence": sc.confidence,
            "harm": [
                (ctx.params.priority(pid).title, grade)
                for pid, grade in sc.harm.items()
                if any(pid == p.id for th in ctx.params.themes.values() for p in th.priorities)
            ],
        },
        tables=(pub,),
    )


def _top_criteria(r, scoring) -> list[str]:
    out = []
    for c in CRITERIA:
        v = r.get(f"score_{c}")
        if c in scoring.criteria and v is not None and not pd.isna(v) and v >= 3:
            out.append(narrative.lower_first(scoring.criteria[c].label))
    return out


def key_messages(ctx, assessment: pd.DataFrame, kpis: pd.DataFrame, where: str | None) -> list:
    """5-8 plain-English messages from the scored results (no new numbers)."""
    a = assessment
    msgs = []
    hf = a[a["recommendation"] == "high focus"].sort_values("total", ascending=False)
    if len(hf):
        msgs.append(
            f"{len(hf)} of {len(a)} priorities are recommended for high focus: "
            f"{narrative.join_list(hf['priority'])}."
        )
    else:
        msgs.append(f"None of the {len(a)} priorities scores in the high-focus band this year.")
    worse = a[
        a["yoy_label"].isin(["rose significantly", "fell significantly"]) & (a["score_change"] == 3)
    ]
    if len(worse):
        msgs.append(
            "Changed significantly in the wrong direction on last year: "
            f"{narrative.join_list(worse['priority'])}."
        )
    else:
        msgs.append("No priority changed significantly in the wrong direction on last year.")
    trend = a[a["score_trend"] == 3]
    if len(trend):
        msgs.append(
            "Moving the wrong way over the last three years: "
            f"{narrative.join_list(trend['priority'])}."
        )
    if where:
        msgs.append(where)
    rep = a[a["repeat_pct"].notna()].sort_values("repeat_pct", ascending=False)
    if len(rep):
        r = rep.iloc[0]
        msgs.append(
            f"Repeat victims: {narrative.fmt_pct(r.repeat_pct)} of {narrative.lower_first(r.priority)} "
            "incidents were against a victim with another incident in the previous 12 months."
        )
    k = kpis[kpis["status"] != "no data"]
    if len(k):
        msgs.append(
            f"{int((k['status'] == 'met').sum())} of {len(k)} KPIs with data met their target; "
            f"{int((k['rag'] == 'red').sum())} are red (missed and not improving)."
        )
    thin = a[a.get("thin_evidence", False) == True]  # noqa: E712
    gaps = a[a["recommendation"] == "insufficient evidence"]
    ask = "The board is asked to confirm the high-focus list"
    if a["overridden"].any():
        ask += f" and the {int(a['overridden'].sum())} analyst override(s)"
    if len(thin) or len(gaps):
        ask += (
            ", and to commission the evidence missing for "
            f"{narrative.join_list(list(thin['priority']) + list(gaps['priority']))}"
        )
    msgs.append(ask + ".")
    return msgs[:8]


def executive_summary_block(ctx, assessment: pd.DataFrame, kpis: pd.DataFrame, where) -> Block:
    sc = ctx.params.scoring
    hf = assessment[assessment["recommendation"] == "high focus"].sort_values(
        "total", ascending=False
    )
    high = [
        {
            "priority": r["priority"],
            "total": r["total"],
            "confidence": r["confidence"],
            "why": (
                "highest concern on " + narrative.join_list(_top_criteria(r, sc))
                if _top_criteria(r, sc)
                else ""
            ),
        }
        for r in hf.to_dict("records")
    ]
    return Block(
        "executive_summary.html.j2",
        {
            "messages": key_messages(ctx, assessment, kpis, where),
            "high_focus": high,
            "gaps": intelligence_gaps(ctx, assessment, kpis),
            "caveats": CAVEATS,
            "framing": framing_sections(ctx),
        },
    )


def intelligence_gaps(ctx, assessment: pd.DataFrame, kpis: pd.DataFrame) -> list[str]:
    """Sources missing or partial, priorities without evidence, KPIs without data."""
    gaps = []
    meta = ctx.dataset.meta
    synth = meta.get("synthetic_sources") or []
    if meta.get("kind") == "demo":
        gaps.append(
            "Every incident, survey and indicator figure here is synthetic (demo data): a real "
            "assessment needs the partner extracts listed in the README."
        )
    elif synth:
        gaps.append(f"No real data for: {', '.join(synth)} (synthetic data stands in).")
    from kcpp_analysis.core.periods import fy_bounds

    end = pd.Period(fy_bounds(ctx.year)[1], "M")
    for src, c in sorted(ctx.source_coverage.items()):
        last = pd.Period(c["last_month"], "M")
        if last < end:
            gaps.append(
                f"Source {src} ends in {last.strftime('%B %Y')}, before the end of {ctx.year}: "
                "its comparisons are year to date."
            )
        if c.get("gap_months"):
            gaps.append(f"Source {src} has {len(c['gap_months'])} month(s) with no records.")
    inc = ctx.dataset.incidents
    missing = [
        what
        for cols, what in (
            (("time_from",), "time of occurrence"),
            (("victim_age_band", "victim_sex"), "victim age and sex"),
            (("offender_id",), "offender references"),
            (("location_type",), "location type"),
            (("x", "y"), "coordinates (near repeats)"),
        )
        if not all(c in inc.columns and inc[c].notna().any() for c in cols)
    ]
    if missing:
        gaps.append(
            f"The data hold no {narrative.join_list(missing)}: the matching victim, offender, "
            "location and time profiles cannot be produced (optional extract columns, "
            "docs/data_dictionary.md)."
        )
    none = assessment[assessment["recommendation"] == "insufficient evidence"]
    if len(none):
        gaps.append(
            f"No evidence held for {narrative.join_list(none['priority'])}: these priorities "
            "cannot be scored."
        )
    thin = assessment[assessment.get("thin_evidence", False) == True]  # noqa: E712
    if len(thin):
        gaps.append(
            f"Too little evidence for a high-focus decision on {narrative.join_list(thin['priority'])} "
            "(confidence C)."
        )
    nd = kpis[kpis["status"] == "no data"]
    if len(nd):
        gaps.append(f"{len(nd)} KPI(s) have no data this year: {narrative.join_list(nd['label'])}.")
    return gaps


def framing_sections(ctx) -> list[dict]:
    """Analyst-supplied sections from ``params/framing/<name>.md`` (or placeholders)."""
    import mistune

    md = mistune.create_markdown(escape=True)
    folder = ctx.params.root / "framing"
    out = []
    for key, (title, what) in FRAMING.items():
        p = folder / f"{key}.md"
        if p.is_file() and p.read_text(encoding="utf-8").strip():
            out.append({"id": key, "title": title, "html": md(p.read_text(encoding="utf-8"))})
        else:
            out.append(
                {
                    "id": key,
                    "title": title,
                    "missing": f"Not yet supplied. {what} Add it as params/framing/{key}.md "
                    "(Markdown) and rebuild.",
                }
            )
    return out
