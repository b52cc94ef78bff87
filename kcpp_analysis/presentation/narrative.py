"""Plain-English sentences generated from results (British English, hedged by significance).

Numbers are formatted as analysts write them: counts with thousands separators
("4,404"), percentages to whole numbers unless small ("47.9%" for rates), changes with a
sign. Language follows the statistics: a change is described as a rise or fall only when
its test is significant at 5%; otherwise "no clear change" / "broadly stable".

Examples
--------
>>> fmt_count(45418)
'45,418'
>>> change_sentence("Residential burglary", 1088, 1134, p_value=0.33, period="2025/26")
'Residential burglary showed no clear change in 2025/26 (1,088 against 1,134 the year before, -4%; the difference is within what chance alone would produce).'
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def fmt_count(v) -> str:
    """A count with thousands separators; 'n/a' for missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{float(v):,.0f}"


def fmt_number(v, spec: str = ",.0f") -> str:
    """Format a number for a page: thousands separators, and never ``+0`` / ``-0``.

    >>> fmt_number(1234.4), fmt_number(-0.04, "+.1f"), fmt_number(2.5, "+.1f")
    ('1,234', '0.0', '+2.5')
    """
    if v is None or isinstance(v, str):
        return "" if v is None else v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return ""
    if math.isinf(f):
        return "n/a"
    s = format(f, spec)
    stripped = s.lstrip("+-")
    if stripped.replace("0", "").replace(".", "").replace(",", "").replace("%", "") == "":
        return stripped  # a value that rounds to zero carries no sign
    return s


def fmt_pct(v, dp: int = 0, sign: bool = False) -> str:
    """A percentage, e.g. ``fmt_pct(12.34) -> '12%'``, ``fmt_pct(-3.2, sign=True) -> '-3%'``.

    A value that rounds to zero carries no sign (never "+0%" or "-0.0%").

    >>> fmt_pct(0.04, 1, sign=True), fmt_pct(-0.3, sign=True), fmt_pct(2.5, 1, sign=True)
    ('0.0%', '0%', '+2.5%')
    """
    if (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or (isinstance(v, float) and math.isinf(v))
    ):
        return "n/a"
    return fmt_number(v, f"+.{dp}f" if sign else f".{dp}f") + "%"


def fmt_value(v, unit: str) -> str:
    """A KPI value in its unit (percentages to 1 decimal place)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return fmt_pct(v, 1) if unit == "%" else fmt_count(v)


def possessive(name: str) -> str:
    """``Kirklees'`` / ``Leeds'`` / ``Bradford's``.

    >>> possessive("Kirklees"), possessive("Bradford")
    ("Kirklees'", "Bradford's")
    """
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def join_list(items) -> str:
    """``a``, ``a and b``, ``a, b and c``.

    >>> join_list(["Batley East", "Dewsbury West", "Greenhead"])
    'Batley East, Dewsbury West and Greenhead'
    """
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s and not s[:2].isupper() else s


def change_sentence(
    label: str,
    current: float,
    previous: float,
    *,
    period: str,
    p_value: float | None = None,
    alpha: float = 0.05,
    test_label: str | None = None,
) -> str:
    """Year-on-year change, hedged by its test.

    Pass the test's ``test_label`` (from :func:`kcpp_analysis.analysis.trends.year_on_year`: "rose
    significantly", "fell significantly", "no clear change") or a ``p_value``.
    """
    if previous == 0 and current == 0:
        return f"No {lower_first(label)} incidents were recorded in {period} or the year before."
    pct = 100 * (current - previous) / previous if previous else float("nan")
    nums = f"{fmt_count(current)} against {fmt_count(previous)} the year before, {fmt_pct(pct, sign=True)}"
    if test_label is None:
        sig = p_value is not None and p_value < alpha
        test_label = (
            ("rose significantly" if current > previous else "fell significantly")
            if sig
            else "no clear change"
        )
    if test_label in ("rose significantly", "fell significantly"):
        return f"{label} {test_label} in {period} ({nums})."
    return (
        f"{label} showed no clear change in {period} ({nums}; the difference is within what "
        "chance alone would produce)."
    )


def trend_sentence(label: str, fit) -> str:
    """The underlying trend of a :class:`~kcpp_analysis.analysis.trends.TrendFit`."""
    if fit.direction == "insufficient data":
        why = f" ({fit.notes[0]})" if getattr(fit, "notes", ()) else ""
        return f"No trend is reported for {lower_first(label)}: the data are too sparse{why}."
    ci = f"95% CI {fmt_pct(fit.ci_low_pct, 1, True)} to {fmt_pct(fit.ci_high_pct, 1, True)} a year"
    if fit.direction == "increasing":
        return (
            f"Allowing for seasonality and the Covid-19 lockdowns, {lower_first(label)} has been "
            f"rising by about {fmt_pct(fit.annual_change_pct, 1)} a year ({ci})."
        )
    if fit.direction == "decreasing":
        return (
            f"Allowing for seasonality and the Covid-19 lockdowns, {lower_first(label)} has been "
            f"falling by about {fmt_pct(-fit.annual_change_pct, 1)} a year ({ci})."
        )
    return (
        f"Allowing for seasonality and the Covid-19 lockdowns, there is no clear underlying "
        f"trend in {lower_first(label)} ({ci})."
    )


def recent_sentence(label: str, fit, recent) -> str:
    """The last three years' direction, when it differs from the whole-period trend.

    ``recent`` is a :func:`kcpp_analysis.analysis.trends.recent_trend` row. Nothing is said when
    both agree, or when either could not be estimated.
    """
    rd, td = recent.direction, fit.direction
    if rd == "insufficient data" or td == "insufficient data" or rd == td:
        return ""
    years = round(recent.months / 12)
    if rd == "no clear change":
        return f"Over the last {years} years there is no clear direction."
    word = "rising" if rd == "increasing" else "falling"
    return (
        f"Over the last {years} years, however, it has been {word} by about "
        f"{fmt_pct(abs(recent.annual_change_pct), 1)} a year (95% CI "
        f"{fmt_pct(recent.ci_low_pct, 1, True)} to {fmt_pct(recent.ci_high_pct, 1, True)})."
    )


def trend_title(label: str, fit, recent=None) -> str:
    """Chart title stating the finding (the recent direction too when it differs)."""
    if (
        recent is not None
        and fit.direction in ("increasing", "decreasing")
        and (recent.direction in ("increasing", "decreasing"))
        and recent.direction != fit.direction
    ):
        word = "rising" if recent.direction == "increasing" else "falling"
        return f"{label}: {word} over the last {round(recent.months / 12)} years"
    if fit.direction == "increasing":
        return f"{label}: rising about {fmt_pct(fit.annual_change_pct, 0)} a year"
    if fit.direction == "decreasing":
        return f"{label}: falling about {fmt_pct(-fit.annual_change_pct, 0)} a year"
    if fit.direction == "no clear change":
        return f"{label}: no clear underlying trend"
    return f"{label}: monthly counts"


def forecast_sentence(label: str, fc_row, current: float, period: str) -> str:
    """Next-12-months expectation from :func:`kcpp_analysis.analysis.trends.forecast_total`."""
    return (
        f"If the underlying trend and seasonal pattern continue, about "
        f"{fmt_count(fc_row.expected)} {lower_first(label)} incidents would be expected in the "
        f"next 12 months (95% range {fmt_count(fc_row.lower)} to {fmt_count(fc_row.upper)}), "
        f"against {fmt_count(current)} in {period}. This is a projection, not a prediction of "
        "the effect of any action."
    )


def peak_sentence(fit) -> str:
    if fit.peak_month is None:
        return ""
    si = fit.seasonal_index.set_index("month_of_year")["multiplier"]
    amp = 100 * (si.max() - 1)
    if amp < 5:
        return "There is little seasonal variation."
    month = pd.Timestamp(2000, fit.peak_month, 1).strftime("%B")
    return f"Incidents peak in {month}, about {fmt_pct(amp)} above an average month."


def gradient_sentence(label: str, rr_row, corr_row) -> str:
    """Deprivation gradient from a rate-ratio row and a correlation row."""
    if rr_row is None or pd.isna(rr_row.rate_ratio):
        return (
            f"There are too few {lower_first(label)} incidents in the most or least deprived "
            f"fifth of neighbourhoods to compare them; the Spearman correlation with the IMD "
            f"score is {corr_row.rho:.2f}."
        )
    ratio = rr_row.rate_ratio
    sig = rr_row.ci_low > 1 or rr_row.ci_high < 1
    rho = corr_row.rho
    strength = (
        "strong"
        if abs(rho) >= 0.6
        else "moderate"
        if abs(rho) >= 0.4
        else "weak"
        if abs(rho) >= 0.2
        else "very weak"
    )
    if sig and ratio > 1:
        s = (
            f"The rate of {lower_first(label)} in the most deprived fifth of neighbourhoods is "
            f"{ratio:.1f} times that in the least deprived fifth (95% CI {rr_row.ci_low:.1f} to "
            f"{rr_row.ci_high:.1f})"
        )
    elif sig:
        s = (
            f"{label} is less common in the most deprived fifth of neighbourhoods than in the "
            f"least deprived (rate ratio {ratio:.2f})"
        )
    else:
        s = (
            f"There is no clear difference in {lower_first(label)} between the most and least "
            f"deprived fifths of neighbourhoods (rate ratio {ratio:.1f})"
        )
    return s + f"; the {strength} Spearman correlation with the IMD score is {rho:.2f}."


def repeat_sentence(label: str, r, definition: str = "incident") -> str:
    """Repeat-victimisation sentence from a :func:`repeat_victimisation` row."""
    if r.n_incidents == 0:
        return f"No {lower_first(label)} incidents with a victim were recorded."
    if definition == "incident":
        return (
            f"{fmt_pct(100 * r.incident_repeat_rate, 1)} of {lower_first(label)} incidents "
            f"involved a victim with another incident in the previous 12 months "
            f"({fmt_count(r.n_repeat_incidents)} of {fmt_count(r.n_incidents)})."
        )
    return (
        f"{fmt_pct(100 * r.victim_repeat_rate, 1)} of {lower_first(label)} victims had two or "
        f"more incidents in the year ({fmt_count(r.n_repeat_victims)} of "
        f"{fmt_count(r.n_victims)} victims)."
    )


def concentration_sentence(label: str, conc) -> str:
    t = conc.top_shares.set_index("top_pct")["share"]
    if np.isnan(conc.gini):
        return ""
    return (
        f"{label} is concentrated: the 10% of neighbourhoods with most incidents account for "
        f"{fmt_pct(100 * t.get(10, np.nan))} of them (Gini {conc.gini:.2f}; "
        f"{conc.gini_adjusted:.2f} after allowing for chance)."
    )


def kpi_sentence(row) -> str:
    """One KPI against its target."""
    val = fmt_value(row.current, row.unit)
    tgt = fmt_value(row.target, row.unit)
    if row.status == "no data":
        return f"{row.label}: no data for this year."
    met = "meeting" if row.status == "met" else "not meeting"
    travel = {
        "improving": ", and improving",
        "worsening": ", and worsening",
        "no significant change": ", with no significant change on last year",
    }.get(row.direction_of_travel, "")
    return f"{row.label} was {val}, {met} the target ({tgt}){travel}."


def headline(
    theme_title: str,
    period: str,
    assessments: pd.DataFrame,
    kpi_table: pd.DataFrame,
    key_sentences: list[str],
) -> list[str]:
    """4-8 headline sentences for a theme from its assessment, KPIs and key findings."""
    out = []
    n = len(assessments)
    hf = assessments[assessments["recommendation"] == "high focus"]
    names = ", ".join(hf["priority"].str.lower()) if len(hf) else ""
    if len(hf):
        out.append(
            f"Of the {n} priorities of {lower_first(theme_title)}, {len(hf)} "
            f"{'needs' if len(hf) == 1 else 'need'} high focus in {period}: {names}."
        )
    else:
        out.append(
            f"None of the {n} priorities of {lower_first(theme_title)} needs high focus in "
            f"{period}; all can be maintained and monitored."
        )
    k = kpi_table[kpi_table["status"] != "no data"]
    if len(k):
        met = int((k["status"] == "met").sum())
        out.append(f"{met} of {len(k)} KPIs with data are meeting their targets.")
    out.extend(s for s in key_sentences if s)
    return out[:8]


def _lower_labels(labels: str) -> str:
    return ", ".join(lower_first(x) for x in labels.split("; ") if x)


def rationale(row, *, threshold: int = 5) -> str:
    """The rationale of a priority rating from its evidence (a ``priority_assessment`` row).

    Year-on-year counts are quoted only when both are 0 or at least ``threshold`` (the
    disclosure rule: a change with one count published reveals the other); a change is
    called a rise or fall only when its test is significant.

    Examples
    --------
    >>> rationale({"recommendation": "maintain and monitor", "has_data": True,
    ...            "current": 90.0, "previous": 100.0, "yoy_change_pct": -10.0,
    ...            "yoy_significant": False, "trend_direction": "no clear change",
    ...            "annual_change_pct": -1.0, "kpis_total": 0, "kpis_not_met": 0,
    ...            "kpis_red": "", "kpis_near": "", "survey_worsening": False,
    ...            "statutory_duty": "", "connected_partnership": ""})
    'Maintain and monitor: No clear change year on year (100 to 90, -10%); no clear underlying trend.'
    """
    r = row if isinstance(row, dict) else row._asdict()
    ev: list[str] = []
    if not r.get("has_data", True):
        ev.append("no data held for this priority in the dataset")
    cur, prv = r.get("current"), r.get("previous")
    if cur is not None and not pd.isna(cur) and (cur > 0 or (prv or 0) > 0):
        small = any(1 <= v < threshold for v in (cur, prv) if v is not None and not pd.isna(v))
        if small:
            ev.append(f"too few incidents to compare years (fewer than {threshold} in one year)")
        elif prv and prv > 0:
            nums = (
                f"{fmt_count(prv)} to {fmt_count(cur)}, {fmt_pct(r['yoy_change_pct'], sign=True)}"
            )
            if r.get("yoy_significant"):
                ev.append(
                    f"incidents {'rose' if cur > prv else 'fell'} significantly year on "
                    f"year ({nums})"
                )
            else:
                ev.append(f"no clear change year on year ({nums})")
        else:
            ev.append(f"{fmt_count(cur)} incidents this year and none the year before")
    td = r.get("trend_direction")
    rd = r.get("recent_direction")
    if td in ("increasing", "decreasing"):
        s = f"the underlying trend is {td} ({fmt_pct(r['annual_change_pct'], 1, True)} a year)"
        if rd in ("increasing", "decreasing", "no clear change") and rd != td:
            s += (
                f", but over the last three years it is {rd} "
                f"({fmt_pct(r.get('recent_change_pct'), 1, True)} a year)"
                if rd != "no clear change"
                else ", but with no clear direction over the last three years"
            )
        ev.append(s)
    elif td == "no clear change":
        ev.append("no clear underlying trend")
    n_with = int(r.get("kpis_total") or 0)
    if n_with:
        red, near = r.get("kpis_red") or "", r.get("kpis_near") or ""
        if red:
            ev.append(
                f"{len(red.split('; '))} of {n_with} KPI(s) missed and not improving "
                f"({_lower_labels(red)})"
            )
        if near:
            ev.append(
                f"{len(near.split('; '))} KPI(s) missed but within 5% of target or "
                f"improving significantly ({_lower_labels(near)})"
            )
        if not int(r.get("kpis_not_met") or 0):
            amber = r.get("kpis_amber_met") or ""
            ev.append(
                f"all {n_with} KPI(s) met"
                + (
                    f", but {len(amber.split('; '))} significantly worsening (AMBER: "
                    f"{_lower_labels(amber)})"
                    if amber
                    else ""
                )
            )
    if r.get("survey_worsening"):
        ev.append(
            "residents' perceptions have worsened significantly (community impact escalating)"
        )
    if r.get("statutory_duty"):
        ev.append(
            f"statutory duty ({r['statutory_duty']}), assured by "
            f"{'the ' + r['connected_partnership'] if r.get('connected_partnership') else 'the partnership board'}"
            "; a duty does not change the score"
        )
    elif r.get("connected_partnership"):
        ev.append(f"in view of the {r['connected_partnership']}")
    why = "; ".join(ev) or "no evidence available"
    out = f"{r['recommendation'].capitalize()}: {why[0].upper() + why[1:]}."
    total = r.get("total")
    if total is not None and not pd.isna(total):
        out += (
            f" Score {total:.0f}/100 = concern {r['concern']:.0f} x harm "
            f"{(1 + int(r['harm'])) / 4:.2f}; confidence {r['confidence']}"
            + (
                " (high-focus band, but too little evidence: an intelligence gap)."
                if r.get("thin_evidence")
                else "."
            )
        )
    elif "total" in r:
        out += " No evidence to score: an intelligence gap."
    return out
