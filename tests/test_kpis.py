import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kcpp_analysis.analysis.kpis import evaluate_kpis
from kcpp_analysis.config.models import Kpi
from kcpp_analysis.data.dataset import Dataset, empty_table, normalise_table
from kcpp_analysis.presentation.narrative import kpi_notes


def _incidents(n_by_fy: dict, category="robbery"):
    rows = []
    for fy, n in n_by_fy.items():
        start = pd.Timestamp(int(fy[:4]), 4, 1)
        for i in range(n):
            rows.append(
                {
                    "incident_id": f"{fy}-{i}",
                    # spread evenly over the year (the year-on-year test allows for
                    # extra-Poisson variation, so bunching all incidents into a few months
                    # would, rightly, weaken it)
                    "date": start + pd.Timedelta(days=(i * 360) // max(n, 1)),
                    "date_precision": "day",
                    "source": "police_crime",
                    "category": category,
                    "lsoa_code": "E01011004",
                    "victim_id": None,
                    "domestic_abuse": False,
                    "hate_crime": False,
                    "vawg": False,
                    "knife_crime": False,
                    "drug_related": False,
                    "alcohol_related": False,
                    "hate_strand": None,
                    "severity": None,
                }
            )
    return normalise_table(pd.DataFrame(rows), "incidents") if rows else empty_table("incidents")


def _ds(inc, survey=None, indicators=None, areas=None):
    return Dataset(
        incidents=inc,
        areas=areas if areas is not None else empty_table("areas"),
        survey=survey if survey is not None else empty_table("survey"),
        indicators=indicators if indicators is not None else empty_table("indicators"),
        meta={"coverage": {"start": "2017-04-01", "end": "2026-03-31"}},
    )


def _kpi(**kw):
    base = dict(
        id="k",
        label="Robbery",
        theme="asb",
        priority="neighbourhood_crime",
        measure="count",
        select={"categories": ["robbery"]},
        unit="crimes",
        baseline=100,
        direction="lower",
        target={"rule": "below_baseline"},
    )
    base.update(kw)
    return Kpi.model_validate(base)


def test_count_kpi_met_and_travel_from_exact_test(params):
    # evenly spread months are less variable than Poisson, so the dispersion floors at 1 and
    # year_on_year uses the exact conditional test
    years = {f"{y}/{(y + 1) % 100:02d}": 100 for y in range(2017, 2023)}
    ds = _ds(_incidents({**years, "2023/24": 120, "2024/25": 80}))
    r = evaluate_kpis(ds, [_kpi()], period="2024/25", params=params).iloc[0]
    assert (r.current, r.previous, r.baseline) == (80, 120, 100)
    assert r.status == "met" and r.change_vs_baseline == -20
    assert r.travel_p_value == pytest.approx(stats.binomtest(80, 200, 0.5).pvalue)
    assert r.direction_of_travel == "improving" and r.rag == "green"


def test_not_met_and_worsening_is_red(params):
    ds = _ds(_incidents({"2023/24": 100, "2024/25": 140}))
    r = evaluate_kpis(ds, [_kpi()], period="2024/25", params=params).iloc[0]
    assert r.status == "not met" and r.direction_of_travel == "worsening" and r.rag == "red"


def test_not_met_but_improving_is_amber(params):
    ds = _ds(_incidents({"2023/24": 200, "2024/25": 130}))
    r = evaluate_kpis(ds, [_kpi()], period="2024/25", params=params).iloc[0]
    assert r.status == "not met" and r.rag == "amber"


def test_met_but_worsening_is_amber(params):
    ds = _ds(_incidents({"2023/24": 40, "2024/25": 70}))
    r = evaluate_kpis(ds, [_kpi()], period="2024/25", params=params).iloc[0]
    assert r.status == "met" and r.direction_of_travel == "worsening" and r.rag == "amber"


def test_reduce_by_per_year_target_and_measured_baseline(params):
    ds = _ds(_incidents({"2021/22": 190, "2023/24": 170, "2024/25": 165}))
    k = _kpi(baseline=None, target={"rule": "reduce_by_per_year", "value": 10})
    r = evaluate_kpis(ds, [k], period="2024/25", params=params).iloc[0]
    assert r.baseline == 190 and r.baseline_source == "measured"
    assert r.target == 190 - 10 * 3
    assert r.status == "not met"


def test_kpi_without_data_is_kept_and_says_so(params):
    ds = _ds(_incidents({"2024/25": 5}))
    k = _kpi(id="x", measure="indicator", select=None, indicator_id="nope", baseline=None)
    t = evaluate_kpis(ds, [k, _kpi()], period="2024/25", params=params)
    assert len(t) == 2
    r = t.set_index("kpi_id").loc["x"]
    assert r.status == "no data" and r.rag == "grey"


def test_survey_kpi_at_least_target(params):
    s = pd.DataFrame(
        {
            "survey": "residents",
            "wave": ["2024/25"] * 10 + ["2023/24"] * 10,
            "respondent_id": [str(i) for i in range(20)],
            "place": "Rural",
            "weight": 1.0,
            "question": "feel_safe_area",
            "positive": [True] * 8 + [False] * 2 + [True] * 9 + [False],
        }
    )
    k = _kpi(
        id="fs",
        measure="survey_share",
        select=None,
        survey="residents",
        question="feel_safe_area",
        unit="%",
        baseline=None,
        direction="higher",
        target={"rule": "at_least", "value": 80},
    )
    r = evaluate_kpis(
        _ds(_incidents({}), survey=normalise_table(s, "survey")),
        [k],
        period="2024/25",
        params=params,
    ).iloc[0]
    assert r.current == pytest.approx(80) and r.status == "met"
    assert r.previous == pytest.approx(90)


@pytest.fixture(scope="module")
def demo_kpis(demo, params):
    return {fy: evaluate_kpis(demo, params, period=fy) for fy in ("2021/22", "2025/26")}


def test_demo_kpi_table_reproduces_baselines(demo_kpis, params):
    t = demo_kpis["2021/22"].set_index("kpi_id")
    assert len(t) == len(params.kpis) == 23
    assert abs(t.loc["repeat_domestic_abuse", "current"] - 47.9) <= 2
    assert abs(t.loc["repeat_hate_crime", "current"] - 25.9) <= 2
    for k in ["total_crime", "violence_with_injury", "nuisance_asb", "fly_tipping"]:
        assert abs(t.loc[k, "current"] / t.loc[k, "baseline"] - 1) <= 0.03, k


def test_demo_every_kpi_has_data_for_the_sia_year(demo_kpis):
    t = demo_kpis["2025/26"]
    assert (t["status"] != "no data").all(), t.loc[t.status == "no data", "kpi_id"].tolist()
    assert set(t["rag"]) <= {"red", "amber", "green"}


def test_absent_source_is_no_data_not_a_zero_count(params):
    inc = _incidents({"2023/24": 30, "2024/25": 20}, category="fly_tipping")
    inc["source"] = "fixmystreet"  # citizen reports only; no council extract
    k = next(k for k in params.kpis if k.id == "fly_tipping")
    r = evaluate_kpis(_ds(inc), [k], period="2024/25", params=params).iloc[0]
    assert np.isnan(r.current) and r.status == "no data" and r.rag == "grey"


def test_count_kpi_year_to_date_when_the_data_end_in_december(params):
    # whole years 2021/22-2024/25, then data to December 2025 only: every figure is April to
    # December, like for like, and the plan's whole-year baseline is scaled by the share of
    # a year's incidents falling in April-December (counted here straight from the dates)
    full = _incidents({f"{y}/{(y + 1) % 100:02d}": 120 for y in range(2021, 2025)})
    part = _incidents({"2025/26": 100})
    part = part[part["date"] < "2026-01-01"]
    n = len(part)
    ds = _ds(pd.concat([full, part], ignore_index=True))
    r = evaluate_kpis(ds, [_kpi(baseline=120)], period="2025/26", params=params).iloc[0]
    d = full["date"]
    in_part = ((d.dt.month >= 4) & (d.dt.month <= 12)).sum()
    share = in_part / len(full)
    prev = ((d >= "2024-04-01") & (d <= "2024-12-31")).sum()
    assert r.current == n and r.previous == prev
    assert r.baseline == pytest.approx(120 * share) and r.target == pytest.approx(120 * share)
    assert r.ytd_months == 9 and r.ytd_share == pytest.approx(share)
    note = " ".join(kpi_notes(r, "2025/26"))
    assert "Year to date (April to December)" in note and f"{100 * share:.1f}%" in note
    # the same months, not a year padded with three empty months
    assert r.status == ("met" if n < 120 * share else "not met")
    # a measured baseline counts the same months of the baseline year
    m = evaluate_kpis(ds, [_kpi(baseline=None)], period="2025/26", params=params).iloc[0]
    b = ((d >= "2021-04-01") & (d <= "2021-12-31")).sum()
    assert m.baseline == b and m.baseline_source == "measured" and m.target == b


def test_count_kpi_for_a_whole_year_is_not_year_to_date(params):
    ds = _ds(_incidents({"2023/24": 100, "2024/25": 90}))
    r = evaluate_kpis(ds, [_kpi()], period="2024/25", params=params).iloc[0]
    assert np.isnan(r.ytd_months) and r.current == 90
    assert not any("Year to date" in n for n in kpi_notes(r, "2024/25"))


def _victim_incidents(fy: str, n_victims: int, n_repeat: int, start_no: int) -> pd.DataFrame:
    """``n_victims`` victims in ``fy``, ``n_repeat`` of them with two incidents."""
    s = pd.Timestamp(int(fy[:4]), 4, 1)
    rows = []
    for v in range(n_victims):
        k = 2 if v < n_repeat else 1
        for j in range(k):
            rows.append(
                {
                    "incident_id": f"{fy}-v{v}-{j}",
                    "date": s + pd.Timedelta(days=(v * 300) // n_victims + 30 * j),
                    "date_precision": "day",
                    "source": "police_crime",
                    "category": "violence_with_injury",
                    "lsoa_code": "E01011004",
                    "victim_id": f"V{start_no + v}",
                    "domestic_abuse": True,
                    "hate_crime": False,
                    "vawg": False,
                    "knife_crime": False,
                    "drug_related": False,
                    "alcohol_related": False,
                    "hate_strand": None,
                    "severity": None,
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("relative", [1.10, 0.90], ids=["10% worse", "10% better"])
def test_every_kind_of_kpi_moving_by_the_same_relative_amount_gets_the_same_rating(
    params, relative
):
    """A count, a rate (repeat victims), a survey share and a partner indicator, each at the
    same relative distance from its plan baseline this year and last year (no change on last
    year): one status and one RAG for all four, by the one rule."""
    fys = ["2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]
    count = {fy: (2000 if fy == "2021/22" else round(2000 * relative)) for fy in fys}
    inc = [_incidents(count)]
    for i, fy in enumerate(fys):  # repeat victim rate: 20% at baseline
        rate = 0.20 if fy == "2021/22" else 0.20 * relative
        inc.append(_victim_incidents(fy, 4000, round(4000 * rate), i * 10_000))
    inc = normalise_table(pd.concat(inc, ignore_index=True), "incidents")
    srows = []
    for fy in fys:
        share = 0.50 if fy == "2021/22" else 0.50 * relative
        for r in range(4000):
            srows.append(("residents", fy, f"{fy}-{r}", "Rural", 1.0, "worry", r < share * 4000))
    survey = pd.DataFrame(
        srows,
        columns=["survey", "wave", "respondent_id", "place", "weight", "question", "positive"],
    )
    ind = pd.DataFrame(
        {
            "indicator_id": "ind",
            "period": fys,
            "value": [100.0 if fy == "2021/22" else 100.0 * relative for fy in fys],
            "unit": "people",
            "source": "partner",
        }
    )
    ds = _ds(inc, survey=normalise_table(survey, "survey"), indicators=ind)
    common = dict(direction="lower", target={"rule": "below_baseline"})
    kpis = [
        _kpi(id="count", baseline=2000, **common),
        _kpi(
            id="rate",
            measure="repeat_victim_rate",
            select={"flag": "domestic_abuse"},
            unit="%",
            baseline=20.0,
            **common,
        ),
        _kpi(
            id="share",
            measure="survey_share",
            select=None,
            survey="residents",
            question="worry",
            unit="%",
            baseline=50.0,
            **common,
        ),
        _kpi(
            id="indicator",
            measure="indicator",
            select=None,
            indicator_id="ind",
            baseline=100,
            **common,
        ),
    ]
    t = evaluate_kpis(ds, kpis, period="2025/26", params=params).set_index("kpi_id")
    assert t.loc["rate", "current"] == pytest.approx(20.0 * relative, abs=0.05)
    assert t.loc["share", "current"] == pytest.approx(50.0 * relative, abs=0.05)
    assert t["status"].nunique() == 1 and t["rag"].nunique() == 1, t[["status", "rag"]]
    assert t["status"].iloc[0] == ("not met" if relative > 1 else "met")
    assert t["rag"].iloc[0] == ("red" if relative > 1 else "green")
