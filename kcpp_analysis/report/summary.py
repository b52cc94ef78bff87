"""The overview's executive summary, the decision method and the SIA framing.

- :func:`key_messages`: plain-English messages from the typed assessments (the classes, what
  changed since the last assessment, where the partnership's proposals differ, where, who,
  KPI delivery, the decision asked of the board);
- :func:`intelligence_gaps`: every gap rolled up once with the data owner to ask
  (``params/sia.yaml: data_owners``): missing or partial sources, priorities without data
  or with thin evidence, KPIs with no data or untestable changes, missing profile fields,
  insight not supplied and concerns the data cannot test;
- :func:`method_block`: the method's classes and criteria with their printed rules (numbers
  rendered from the parameters) and the evidence score's rules and every priority's scores;
- :func:`framing_sections`: the analysts' Markdown (``params/framing/*.md``), raw HTML
  escaped, or a prompt saying what is missing.

Every number in a message is an aggregate already published elsewhere in the set.
"""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.analysis.assessment import PriorityAssessment
from kcpp_analysis.analysis.insight import untestable_concerns
from kcpp_analysis.config.scoring import EVIDENCE
from kcpp_analysis.core.periods import fy_bounds
from kcpp_analysis.presentation import narrative, recommendation
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

#: the order classes are listed in (highest concern first)
CLASS_ORDER = ["high focus", "cross-cutting", "continue to monitor", "no data"]


def ordered(assessments: list[PriorityAssessment]) -> list[PriorityAssessment]:
    """By class (high focus first), then evidence score (highest first), then name."""
    return sorted(
        assessments,
        key=lambda a: (
            CLASS_ORDER.index(a.final_status) if a.final_status in CLASS_ORDER else 9,
            -(a.total if a.total is not None else -1),
            a.priority,
        ),
    )


def key_messages(ctx, assessments: list[PriorityAssessment], kpis: pd.DataFrame, where) -> list:
    """5-8 plain-English messages from the assessments (no new numbers)."""
    by: dict[str, list[str]] = {}
    for a in ordered(assessments):
        by.setdefault(a.final_status, []).append(a.priority)
    n = len(assessments)
    msgs = []
    hf = by.get("high focus", [])
    msgs.append(
        f"{len(hf)} of {n} priorities are recommended for high focus: {narrative.join_names(hf)}."
        if hf
        else f"None of the {n} priorities is recommended for high focus."
    )
    rest = [
        f"{recommendation.status_label(s).lower()}: {narrative.join_names(by[s])}"
        for s in ("cross-cutting", "continue to monitor")
        if by.get(s)
    ]
    if rest:  # each class its own sentence: the lists themselves hold "and" and ";"
        msgs.append(" ".join(narrative.capitalise(r) + "." for r in rest))
    if by.get("no data"):
        nd = by["no data"]
        one = len(nd) == 1
        msgs.append(
            f"{narrative.plural(len(nd), 'priority', 'priorities')} ({narrative.join_names(nd)}) cannot be "
            f"assessed from the data held: {'it is' if one else 'they are'} listed as "
            f"{'an intelligence gap' if one else 'intelligence gaps'}."
        )
    up = [a.priority for a in assessments if a.movement == "up"]
    down = [a.priority for a in assessments if a.movement == "down"]
    if up or down:
        bits = []
        if up:
            bits.append(f"Since the last assessment, more concern for {narrative.join_names(up)}.")
        if down:
            bits.append(
                f"{'Less' if up else 'Since the last assessment, less'} concern for {narrative.join_names(down)}."
            )
        msgs.append(" ".join(bits))
    differ = [a for a in assessments if a.agrees is False]
    if differ:
        msgs.append(
            f"The data-led recommendation differs from the partnership's proposal for "
            f"{narrative.join_names([a.priority for a in differ])} (reasons in the priority table)."
        )
    if where:
        msgs.append(where)
    k = kpis[kpis["status"] != "no data"]
    if len(k):
        msgs.append(
            f"{int((k['status'] == 'met').sum())} of {narrative.plural(len(k), 'KPI')} with "
            f"data met their target; {int((k['rag'] == 'red').sum())} are red (missed and "
            "not improving)."
        )
    ask = "The board is asked to agree the recommended class for each priority"
    if any(a.overridden for a in assessments):
        ask += " and the overrides recorded"
    msgs.append(ask + ", and to commission the evidence listed under intelligence gaps.")
    return msgs[:8]


def _owner(ctx, key: str) -> str:
    return ctx.params.sia.data_owners.get(key, "the partnership analyst")


def _indicator_owners(ctx, ids) -> list[str]:
    """Who publishes each partner indicator (the indicators table's ``source``), else the
    configured owner of partner indicators."""
    ind = ctx.dataset.indicators
    known = {}
    if ind is not None and len(ind) and "source" in ind.columns:
        known = ind.dropna(subset=["source"]).groupby("indicator_id")["source"].first().to_dict()
    return [str(known[i]) if i in known else _owner(ctx, "indicators") for i in ids]


def _ask(ctx, owners, fallback: str) -> str:
    """Everyone to ask, each once, in the order given (the configured ``fallback`` owner
    when there is none)."""
    return narrative.join_list(list(dict.fromkeys(owners))) or _owner(ctx, fallback)


def _priority_owners(ctx, priority_id: str) -> list[str]:
    """Everyone who holds the data a priority is assessed on: its incident sources' owners,
    its partner indicators' publishers and the survey's owner, each once, in that order."""
    pr = ctx.params.priority(priority_id)
    cats = ctx.params.priority_categories(pr) or []
    sources = {ctx.params.categories[c].source for c in cats}
    sel = pr.selection
    if sel is not None and sel.sources:
        sources |= set(sel.sources)
    elif sel is not None and not cats:  # a flag alone (hate crime): flagged crime records
        sources.add("police_crime")
    owners = [_owner(ctx, s) for s in sorted(sources)]
    owners += _indicator_owners(ctx, pr.indicators)
    if pr.survey_questions:
        owners.append(_owner(ctx, "survey"))
    return list(dict.fromkeys(owners))


def intelligence_gaps(ctx, assessments: list[PriorityAssessment], kpis: pd.DataFrame) -> list[dict]:
    """Every gap once, with who to ask: ``{"gap", "owner"}`` items."""
    gaps: list[dict] = []

    def add(text: str, owner_key: str) -> None:
        gaps.append({"gap": text, "owner": _owner(ctx, owner_key)})

    meta = ctx.dataset.meta
    synth = meta.get("synthetic_sources") or []
    if meta.get("kind") == "demo":
        gaps.append(
            {
                "gap": "Every incident, survey, insight and indicator figure here is synthetic "
                "(demonstration data): a real assessment needs the partners' own extracts.",
                "owner": "each partner that holds the data",
            }
        )
    elif synth:
        for s in synth:
            add(f"No real data for {s.replace('_', ' ')} (synthetic data stands in).", s)
    end = pd.Period(fy_bounds(ctx.year)[1], "M")
    start = pd.Period(fy_bounds(ctx.year)[0], "M")
    for src, c in sorted(ctx.source_coverage.items()):
        first, last = pd.Period(c["first_month"], "M"), pd.Period(c["last_month"], "M")
        name = src.replace("_", " ")
        if last < start or first > end:
            add(
                f"The {name} data do not cover {ctx.year} ({first.strftime('%B %Y')} to "
                f"{last.strftime('%B %Y')}).",
                src,
            )
        elif last < end:
            add(
                f"The {name} data end in {last.strftime('%B %Y')}: comparisons for {ctx.year} "
                "are year to date.",
                src,
            )
        if c.get("gap_months"):
            add(
                f"The {name} data have {narrative.plural(len(c['gap_months']), 'month')} with no records.",
                src,
            )
    inc = ctx.dataset.incidents
    missing = [
        what
        for cols, what in (
            (("time_from",), "time of occurrence"),
            (("victim_age_band", "victim_sex"), "victim age and sex"),
            (("offender_id",), "offender references"),
            (("location_type",), "location type"),
            (("x", "y"), "coordinates (for near repeats)"),
        )
        if not all(c in inc.columns and inc[c].notna().any() for c in cols)
    ]
    if missing:
        add(
            f"The data hold no {narrative.join_list(missing)}, so the matching victim, "
            "offender, location and time profiles cannot be produced.",
            "profiles",
        )
    # one line per owner to ask: a commissioning list, not one row per priority or KPI
    by_owner: dict[str, list[str]] = {}
    for a in (a for a in assessments if not a.has_data):
        who = _ask(ctx, _priority_owners(ctx, a.priority_id), "survey")
        by_owner.setdefault(who, []).append(a.priority)
    for who, names in by_owner.items():
        gaps.append({"gap": f"No data are held for {narrative.join_names(names)}.", "owner": who})
    thin = [a for a in assessments if a.has_data and (a.confidence == "C" or a.thin_evidence)]
    if thin:
        owners = [o for a in thin for o in _priority_owners(ctx, a.priority_id)]
        gaps.append(
            {
                "gap": f"The evidence for {narrative.join_names([a.priority for a in thin])} is thin "
                "(confidence C): the data cover too few of the criteria to support a firm "
                "rating.",
                "owner": _ask(ctx, owners, "indicators"),
            }
        )
    nd = kpis[kpis["status"] == "no data"]
    kpis_by_owner: dict[str, list[str]] = {}
    for r in nd.itertuples():
        kpis_by_owner.setdefault(_owner(ctx, _kpi_owner_key(ctx, r)), []).append(r.label)
    for who, labels in kpis_by_owner.items():
        what = (
            f"the KPI '{labels[0]}'"
            if len(labels) == 1
            else f"{len(labels)} KPIs: " + narrative.join_list([f"'{x}'" for x in labels])
        )
        gaps.append({"gap": f"No data this year for {what}.", "owner": who})
    untested = kpis[(~kpis["tested"]) & (kpis["status"] != "no data")]
    if len(untested):
        by_id = {k.id: k for k in ctx.params.kpis}
        ids = [by_id[k].indicator_id for k in untested["kpi_id"] if k in by_id]
        gaps.append(
            {
                "gap": f"Changes in {narrative.plural(len(untested), 'KPI')} ("
                f"{narrative.join_list(list(untested['label']))}) cannot be tested: each is a "
                "single published figure; ask for the counts behind it.",
                "owner": _ask(ctx, _indicator_owners(ctx, [i for i in ids if i]), "indicators"),
            }
        )
    if ctx.insight is None:
        add(
            "No community insight was supplied (councillor, officer and community "
            "engagement feedback), so community impact rests on the survey alone.",
            "insight",
        )
    else:
        u = untestable_concerns(ctx.insight, ctx.params.insight.topics)
        if len(u) <= 2:
            for r in u.itertuples():
                gaps.append(
                    {
                        "gap": f"'{r.label}' was raised {narrative.plural(r.mentions, 'time')} "
                        "but no recorded data here can test it.",
                        "owner": r.could_be_tested_by or "the partnership analyst",
                    }
                )
        else:  # one line for all of them: the overview's insight section lists each
            top = u.sort_values("mentions", ascending=False)
            names = [f"{r.label} ({r.mentions})" for r in top.head(4).itertuples()]
            more = len(top) - len(names)
            owners = sorted({o for o in top["could_be_tested_by"].dropna() if o})
            gaps.append(
                {
                    "gap": f"{narrative.plural(len(top), 'concern')} raised in community "
                    "insight cannot be tested with the data held: "
                    + narrative.join_list(
                        names + ([f"{more} more (listed under community insight)"] if more else [])
                    )
                    + ".",
                    "owner": narrative.join_list(owners[:3]) or "the partnership analyst",
                }
            )
    return gaps


def _kpi_owner_key(ctx, r) -> str:
    if r.measure == "indicator":
        return "indicators"
    if r.measure == "survey_share":
        return "survey"
    k = next(k for k in ctx.params.kpis if k.id == r.kpi_id)
    cats = k.select.categories if k.select else None
    if isinstance(cats, list) and cats:
        return ctx.params.categories[cats[0]].source
    return (k.select.sources or ["police_crime"])[0] if k.select else "police_crime"


def executive_summary_block(ctx, assessments, kpis: pd.DataFrame, where) -> Block:
    sc = ctx.params.scoring
    hf = [a for a in ordered(assessments) if a.final_status == "high focus"]
    high = [
        {
            "priority": a.priority,
            "why": narrative.join_list(
                [sc.method.criteria[k].label.lower() for k in a.reasons if k in sc.method.criteria]
            ),
            "score": recommendation.score_phrase(a, sc.bands),
        }
        for a in hf
    ]
    return Block(
        "executive_summary.html.j2",
        {
            "messages": key_messages(ctx, assessments, kpis, where),
            "high_focus": high,
            "movements": movements(assessments),
            "previous_source": ctx.previous_ratings[1],
            "gaps": intelligence_gaps(ctx, assessments, kpis),
            "caveats": CAVEATS,
            "framing": framing_sections(ctx),
        },
    )


def movements(assessments) -> list[dict]:
    """Every priority rated last time or this time, with the direction of travel."""
    out = []
    for a in ordered(assessments):
        if a.previous_rating is None and a.movement == "not recorded":
            continue
        out.append(
            {
                "priority": a.priority,
                "previous": (a.previous_rating or "not rated").upper(),
                "now": recommendation.rag_label(a.rag),
                "class": recommendation.status_label(a.final_status),
                "movement": a.movement,
                "changed": ", ".join(a.criteria_changed),
            }
        )
    return out


def method_block(ctx, assessments: list[PriorityAssessment]) -> Block:
    """The decision method and the evidence score, with every priority's scores."""
    sc = ctx.params.scoring
    fill = {
        "high_focus": f"{sc.bands.high_focus:g}",
        "amber": f"{sc.bands.amber:g}",
        "high_focus_min_confidence": sc.bands.high_focus_min_confidence,
    }
    criteria = []
    for key, c in sc.method.criteria.items():
        values = {
            **fill,
            **{k: f"{v:g}" if isinstance(v, float) else v for k, v in c.settings.items()},
        }
        criteria.append(
            {
                "label": c.label,
                "rule": c.rule.format(**values),
                "leads_to": "high focus"
                if key in sc.method.high_focus_when
                else "continue to monitor"
                if key in sc.method.monitor_when
                else "cross-cutting"
                if key == "cross_cutting"
                else "",
            }
        )
    cols = {"priority": "Priority", "harm": "Harm"}
    for c in EVIDENCE:
        if c in sc.criteria:
            cols[f"score_{c}"] = sc.criteria[c].label
    cols.update(
        {"concern": "Concern (0-100)", "total": "Score (0-100)", "confidence": "Confidence"}
    )
    rows = []
    for a in ordered(assessments):
        r = {
            "priority": a.priority,
            "harm": a.harm,
            "concern": a.concern,
            "total": a.total,
            "confidence": a.confidence,
        }
        r.update({f"score_{k}": v for k, v in a.scores.items()})
        rows.append(r)
    t = pd.DataFrame(rows)[[c for c in cols]].rename(columns=cols)
    fmt = {v: ".0f" for k, v in cols.items() if k.startswith("score_")}
    fmt.update({"Concern (0-100)": ".0f", "Score (0-100)": ".0f", "Harm": ".0f"})
    pub = ctx.gate.table(t, "overview_scores", formats=fmt, caption=f"Evidence scores, {ctx.year}")
    rules = [
        {"label": c.label, "weight": c.weight, "rule": c.rule}
        for k, c in sc.criteria.items()
        if k in EVIDENCE
    ]
    return Block(
        "scoring.html.j2",
        {
            "classes": [
                {"label": v.label, "description": v.description} for v in sc.method.classes.values()
            ],
            "criteria": criteria,
            "rules": rules,
            "bands": sc.bands,
            "confidence": sc.confidence,
            "harm": [(ctx.params.priority(pid).title, g) for pid, g in sc.harm.items()],
        },
        tables=(pub,),
    )


def framing_sections(ctx) -> list[dict]:
    """Analyst-supplied sections from ``params/framing/<name>.md`` (or a prompt)."""
    import mistune

    md = mistune.create_markdown(escape=True)
    out = []
    for key, (title, what) in FRAMING.items():
        text = ctx.params.framing.get(key, "")
        if text.strip():
            out.append({"id": key, "title": title, "html": md(text)})
        else:
            out.append(
                {
                    "id": key,
                    "title": title,
                    "missing": f"To be written by the partnership analyst. {what}",
                    "where": f"params/framing/{key}.md",
                }
            )
    return out
