from types import SimpleNamespace

import pandas as pd

from kcpp_analysis.analysis.trends import fit_trend
from kcpp_analysis.presentation import narrative as n


def test_numbers_as_analysts_write_them():
    assert n.fmt_count(4404) == "4,404" and n.fmt_count(float("nan")) == "n/a"
    assert n.fmt_pct(47.94, 1) == "47.9%" and n.fmt_pct(-3.2, sign=True) == "-3%"
    assert n.fmt_pct(0.2, sign=True) == "0%"
    assert n.fmt_value(25.93, "%") == "25.9%" and n.fmt_value(1054.0, "incidents") == "1,054"


def test_change_language_is_hedged_by_significance():
    assert "rose significantly" in n.change_sentence(
        "Burglary", 150, 100, p_value=0.001, period="2025/26"
    )
    assert "fell significantly" in n.change_sentence(
        "Burglary", 60, 100, p_value=0.002, period="2025/26"
    )
    s = n.change_sentence("Burglary", 108, 100, p_value=0.6, period="2025/26")
    assert "no clear change" in s and "rose" not in s


def test_trend_sentence_follows_the_interval():
    months = pd.date_range("2018-01-01", periods=60, freq="MS")
    up = fit_trend(
        pd.DataFrame({"month": months, "count": [int(100 * 1.01**i) for i in range(60)]}),
        seasonal=False,
    )
    assert up.direction == "increasing" and "rising" in n.trend_sentence("Robbery", up)
    flat = fit_trend(pd.DataFrame({"month": months, "count": [100, 104] * 30}), seasonal=False)
    assert "no clear underlying trend" in n.trend_sentence("Robbery", flat)


def test_headline_between_4_and_8_sentences_with_no_data_counted_apart():
    from kcpp_analysis.presentation.recommendation import headline

    a = [
        SimpleNamespace(priority="Road safety", final_status="high focus"),
        SimpleNamespace(priority="Water safety", final_status="continue to monitor"),
        SimpleNamespace(priority="Reoffending", final_status="no data"),
    ]
    k = pd.DataFrame({"status": ["met", "not met", "no data"]})
    out = headline("Reducing risk", "2025/26", a, k, [f"Finding {i}." for i in range(10)])
    assert 4 <= len(out) <= 8
    assert out[0] == (
        "Of the 3 priorities of reducing risk, 1 is recommended for high focus in 2025/26: "
        "road safety."
    )
    assert out[1] == "Continue to monitor: water safety."
    assert out[2] == "Reoffending cannot be assessed from the data held (an intelligence gap)."
    assert out[3] == "1 of 2 KPIs with data are meeting their targets."
    assert not any("maintained and monitored" in s for s in out)


def test_kpi_sentence():
    r = SimpleNamespace(
        label="Fly-tipping incidents",
        current=6022.0,
        target=6017.0,
        unit="incidents",
        status="not met",
        direction_of_travel="no significant change",
    )
    assert n.kpi_sentence(r) == (
        "Fly-tipping incidents: 6,022, not meeting the target (6,017), "
        "with no significant change on last year."
    )


def test_the_trend_says_its_period_and_the_recent_rate_the_finding_quotes():
    """The whole-series slope names the month it starts from, and when the last three years
    rise too their own rate is given: a finding that quotes the recent rate (2.7% a year)
    never sits beside an unexplained different one (4.5% a year)."""
    months = pd.date_range("2017-04-01", periods=108, freq="MS")
    fit = SimpleNamespace(
        direction="increasing",
        annual_change_pct=4.5,
        ci_low_pct=3.8,
        ci_high_pct=5.2,
        fitted=pd.DataFrame({"month": months}),
    )
    assert n.trend_sentence("Serious violence", fit) == (
        "Allowing for seasonality and the Covid-19 lockdowns, serious violence has been rising "
        "by about 4.5% a year since April 2017 (95% CI +3.8% to +5.2% a year)."
    )
    recent = SimpleNamespace(
        direction="increasing", months=36, annual_change_pct=2.7, ci_low_pct=0.4, ci_high_pct=5.1
    )
    assert n.recent_sentence("Serious violence", fit, recent) == (
        "Over the last 3 years it has been rising by about 2.7% a year (95% CI +0.4% to +5.1%)."
    )
    flat = SimpleNamespace(direction="no clear change")
    assert n.recent_sentence("x", SimpleNamespace(direction="no clear change"), flat) == ""
