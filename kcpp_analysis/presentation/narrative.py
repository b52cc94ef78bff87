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

import pandas as pd


def fmt_count(v) -> str:
    """A count with thousands separators; 'n/a' for missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{float(v):,.0f}"


def fmt_number(v, spec: str = ",.0f") -> str:
    """Format a number for a page: thousands separators, and never ``+0`` / ``-0``. The
    spec ``"value"`` shows whole numbers without decimals and others with one
    (:func:`fmt_figure`).

    >>> fmt_number(1234.4), fmt_number(-0.04, "+.1f"), fmt_number(2.5, "+.1f")
    ('1,234', '0.0', '+2.5')
    >>> fmt_number(146.0, "value"), fmt_number(33.84, "value")
    ('146', '33.8')
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
    if spec == "value":
        return fmt_figure(f)
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
    """``a``, ``a and b``, ``a, b and c``; ``a; b; c; and d`` when an item of three or more
    holds a comma or an "and" of its own (so "Batley, Birstall and Birkby" and "public order
    and weapons" each stay one item).

    >>> join_list(["Batley East", "Dewsbury West", "Greenhead"])
    'Batley East, Dewsbury West and Greenhead'
    >>> join_list(["serious violence", "fly-tipping, deliberate fires", "Prevent"])
    'serious violence; fly-tipping, deliberate fires; and Prevent'
    >>> join_list(["criminal damage", "public order and weapons", "theft"])
    'criminal damage; public order and weapons; and theft'
    >>> join_list(["serious violence", "violence against women and girls"])
    'serious violence and violence against women and girls'
    """
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    if any("," in i for i in items) or (len(items) > 2 and any(" and " in i for i in items)):
        return "; ".join(items[:-1]) + "; and " + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def capitalise(s: str) -> str:
    """First letter upper case, the rest unchanged (unlike ``str.capitalize``).

    >>> capitalise("continue to monitor: ASB")
    'Continue to monitor: ASB'
    """
    return s[:1].upper() + s[1:]


#: first words of titles that are names, kept capitalised mid-sentence (the Prevent duty, the
#: Channel programme, places)
PROPER_NOUNS = frozenset(
    {"Prevent", "Channel", "Kirklees", "England", "West", "Batley", "Dewsbury", "Huddersfield"}
)


def lower_first(s: str) -> str:
    """A title as it reads mid-sentence: first letter lower case, unless the title starts
    with an acronym or a name (:data:`PROPER_NOUNS`).

    >>> lower_first("Serious violence"), lower_first("ASB hotspots"), lower_first("Prevent")
    ('serious violence', 'ASB hotspots', 'Prevent')
    """
    if not s or s[:2].isupper() or s.split(" ", 1)[0].rstrip(",:;") in PROPER_NOUNS:
        return s
    return s[:1].lower() + s[1:]


def join_names(items) -> str:
    """Titles listed mid-sentence: each as :func:`lower_first` reads it, joined by
    :func:`join_list`.

    >>> join_names(["Serious violence", "Prevent", "Hate crime"])
    'serious violence, Prevent and hate crime'
    """
    return join_list([lower_first(x) for x in items])


def fmt_figure(v) -> str:
    """A figure as a reader reads it: a whole number without decimals, otherwise one.

    >>> fmt_figure(481.0), fmt_figure(1234.56), fmt_figure(float("nan"))
    ('481', '1,234.6', 'n/a')
    """
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f != f:
        return "n/a"
    return f"{f:,.0f}" if f.is_integer() else f"{f:,.1f}"


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
    # the period the slope covers, so it is not read as the last three years' rate
    since = f" since {fit.fitted['month'].min():%B %Y}" if len(fit.fitted) else ""
    if fit.direction == "increasing":
        return (
            f"Allowing for seasonality and the Covid-19 lockdowns, {lower_first(label)} has been "
            f"rising by about {fmt_pct(fit.annual_change_pct, 1)} a year{since} ({ci})."
        )
    if fit.direction == "decreasing":
        return (
            f"Allowing for seasonality and the Covid-19 lockdowns, {lower_first(label)} has been "
            f"falling by about {fmt_pct(-fit.annual_change_pct, 1)} a year{since} ({ci})."
        )
    return (
        f"Allowing for seasonality and the Covid-19 lockdowns, there is no clear underlying "
        f"trend in {lower_first(label)} ({ci})."
    )


def recent_sentence(label: str, fit, recent) -> str:
    """The last three years' direction and rate: "however" when it differs from the
    whole-period trend; when both rise (or both fall) the recent rate is still given, since
    the priority's finding quotes it.

    ``recent`` is a :func:`kcpp_analysis.analysis.trends.recent_trend` row. Nothing is said when
    both show no clear change, or when either could not be estimated.
    """
    rd, td = recent.direction, fit.direction
    if rd == "insufficient data" or td == "insufficient data" or rd == td == "no clear change":
        return ""
    years = round(recent.months / 12)
    if rd == "no clear change":
        return f"Over the last {years} years there is no clear direction."
    word = "rising" if rd == "increasing" else "falling"
    return (
        f"Over the last {years} years{'' if rd == td else ', however,'} it has been {word} by about "
        f"{fmt_pct(abs(recent.annual_change_pct), 1)} a year (95% CI "
        f"{fmt_pct(recent.ci_low_pct, 1, True)} to {fmt_pct(recent.ci_high_pct, 1, True)})."
    )


def _since(fit) -> str:
    """The first month a trend fit covers ("2017"), as its chart title gives it."""
    return f"{fit.fitted['month'].min():%Y}" if len(fit.fitted) else "the first month"


def trend_title(label: str, fit, recent=None) -> str:
    """Chart title stating the finding (the recent direction too when it differs), with the
    rate to the same decimal place as the trend sentence beneath it (a title of "about 5% a
    year" over a sentence of "about 4.5% a year" read as two findings)."""
    if (
        recent is not None
        and fit.direction in ("increasing", "decreasing")
        and (recent.direction in ("increasing", "decreasing"))
        and recent.direction != fit.direction
    ):
        word = "rising" if recent.direction == "increasing" else "falling"
        return f"{label}: {word} over the last {round(recent.months / 12)} years"
    if fit.direction == "increasing":
        return (
            f"{label}: rising about {fmt_pct(fit.annual_change_pct, 1)} a year since {_since(fit)}"
        )
    if fit.direction == "decreasing":
        return f"{label}: falling about {fmt_pct(-fit.annual_change_pct, 1)} a year since {_since(fit)}"
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
    return s + f"; the Spearman correlation with the IMD score is {rho:.2f} ({strength})."


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


def fmt_versus(value: float, target: float, unit: str) -> tuple[str, str]:
    """Format a value and its target with enough decimals that they differ when they are
    not equal (74.95% against 75.00% is never printed as "75.0%, not meeting 75.0%").

    >>> fmt_versus(74.95, 75.0, "%"), fmt_versus(74.0, 75.0, "%")
    (('74.95%', '75.00%'), ('74.0%', '75.0%'))
    >>> fmt_versus(1000.4, 1000.0, "count")
    ('1,000.4', '1,000.0')
    """
    if (
        value is None
        or target is None
        or any(isinstance(v, float) and math.isnan(v) for v in (value, target))
    ):
        return fmt_value(value, unit), fmt_value(target, unit)
    base = 1 if unit == "%" else 0
    for dp in range(base, base + 4):
        spec = f",.{dp}f"
        a, b = fmt_number(value, spec), fmt_number(target, spec)
        if a != b or value == target:
            break
    suffix = "%" if unit == "%" else ""
    return a + suffix, b + suffix


def target_in_words(row) -> str:
    """A KPI's target as a reader would say it (a KPI table row)."""
    t, unit, rule = row.target, row.unit, row.target_rule
    if t is None or (isinstance(t, float) and math.isnan(t)):
        return "n/a"
    v = fmt_value(t, unit)
    if rule == "below_baseline":
        return f"below the baseline ({v})"
    if rule == "above_baseline":
        return f"above the baseline ({v})"
    if rule == "at_most":
        return f"at most {v}"
    if rule == "at_least":
        return f"at least {v}"
    return f"{fmt_value(row.target_value, unit)} fewer each year than the baseline ({v} this year)"


def kpi_notes(row, period: str) -> list[str]:
    """The notes a KPI row needs: year to date, the target's and baseline's own notes, and a
    fixed target on the wrong side of the baseline."""
    out = []
    months = row.ytd_months
    if months is not None and not (isinstance(months, float) and math.isnan(months)):
        months = int(months)
        end = (pd.Timestamp(int(period[:4]), 4, 1) + pd.DateOffset(months=months - 1)).strftime(
            "%B"
        )
        measured = " and the baseline" if row.baseline_source == "measured" else ""
        note = (
            f"Year to date (April to {end}): the data end part-way through {period}, so this "
            f"year, the previous year{measured} are counted over the same months"
        )
        if row.baseline_source == "plan" or row.target_rule in (
            "at_most",
            "at_least",
            "reduce_by_per_year",
        ):
            note += (
                f"; the plan's whole-year figures are scaled by "
                f"{fmt_pct(100 * row.ytd_share, 1)}, the share of a year's incidents falling "
                "in those months in the years the data cover in full."
            )
        else:
            note += "."
        out.append(note)
    for n in (row.target_note, row.baseline_note):
        if n:
            out.append(n)
    if row.target_wrong_side:
        out.append(
            f"The target ({fmt_number(row.target_value, 'g')}) is on the wrong side of the "
            f"baseline ({fmt_number(row.baseline, ',.1f')}): a worse value than the baseline "
            "would still meet it."
        )
    return out


def kpi_sentence(row) -> str:
    """One KPI against its target, with only tested changes called improving or worsening."""
    if row.status == "no data":
        return f"{row.label}: no data for this year."
    val, tgt = fmt_versus(row.current, row.target, row.unit)
    met = "meeting" if row.status == "met" else "not meeting"
    travel = {
        "improving": ", and improving significantly on last year",
        "worsening": ", and worsening significantly on last year",
        "no significant change": ", with no significant change on last year",
    }.get(row.direction_of_travel, "")
    return f"{row.label}: {val}, {met} the target ({tgt}){travel}."


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 priority``, ``2 priorities``.

    >>> plural(1, "KPI"), plural(3, "KPI"), plural(2, "priority", "priorities")
    ('1 KPI', '3 KPIs', '2 priorities')
    """
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def spread_sentence(name: str, value: float, group: pd.Series, group_label: str) -> str:
    """A hedged sentence on where ``value`` sits in ``group``'s spread (z-score bands:
    within 1 sd "similar to", 1-2 sd "higher/lower than most", beyond 2 sd "well above/below";
    "every member" when it is also outside the group's range).

    >>> g = pd.Series([11.0, 11.4, 11.6, 12.4])
    >>> spread_sentence("Kirklees", 10.7, g, "that group").split(", ")[1]
    'lower than every member of that group (mean 11.6'
    """
    g = group.dropna().astype(float)
    if len(g) < 3 or g.std() == 0:
        return ""
    z = (value - g.mean()) / g.std()
    if abs(z) < 1:
        where = "similar to"
    elif abs(z) < 2:
        where = "higher than most of" if z > 0 else "lower than most of"
    else:
        where = "well above" if z > 0 else "well below"
    if value > g.max() and z >= 1:  # outside the range: every member, not "most"
        where = "higher than every member of" if z < 2 else "well above every member of"
    elif value < g.min() and z <= -1:
        where = "lower than every member of" if z > -2 else "well below every member of"
    return (
        f"{name}: {value:,.1f} per 1,000, {where} {group_label} (mean {g.mean():,.1f}, "
        f"range {g.min():,.1f} to {g.max():,.1f})."
    )
