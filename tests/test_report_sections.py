"""Section results on small hand-built data: counts worked out by hand, the gate applied.

Geography: two places (Batley & Spen, Huddersfield) x two wards x two LSOAs, IMD deciles
1..8 by LSOA, 1,000 residents each. Incidents are placed by hand so every published number
below can be checked against a count done by eye.
"""

from __future__ import annotations

import html as html_lib

import pandas as pd
import pytest
from builders import incidents_by_lsoa, report_context, small_areas

from kcpp_analysis.report import compute_section
from kcpp_analysis.report.render import render


def _incidents(counts, category="robbery", victims=None):
    return incidents_by_lsoa(counts, category, victims)


def _ctx(params, inc, tmp_path, year="2025/26"):
    return report_context(params, inc, tmp_path, year)


def _areas():
    return small_areas()


@pytest.fixture()
def robbery(params):
    return params.priority("neighbourhood_crime").model_copy(
        update={
            "selection": params.priority("serious_violence").selection.model_copy(
                update={"categories": ["robbery"]}
            )
        }
    )


@pytest.mark.parametrize("cur,prev", [(60, 40), (80, 40)])
def test_year_on_year_publishes_counts_and_a_hedged_sentence(params, robbery, tmp_path, cur, prev):
    from scipy.stats import binomtest

    inc = _incidents({("E01000000", "2024/25"): prev, ("E01000001", "2025/26"): cur})
    r = compute_section("year_on_year", _ctx(params, inc, tmp_path), robbery)
    t = r.tables[0]
    assert (t.value(0, "previous"), t.value(0, "current")) == (prev, cur)
    assert t.value(0, "change_pct") == pytest.approx(100 * (cur - prev) / prev)
    significant = binomtest(cur, cur + prev, 0.5).pvalue < 0.05  # 60 v 40: p = 0.057
    label = "rose significantly" if significant else "showed no clear change"
    assert label in r.sentences[0] and f"{cur} against {prev}" in r.sentences[0]


def test_year_on_year_hides_both_counts_and_the_change_when_one_is_small(params, robbery, tmp_path):
    inc = _incidents({("E01000000", "2024/25"): 3, ("E01000001", "2025/26"): 60})
    r = compute_section("year_on_year", _ctx(params, inc, tmp_path), robbery)
    t = r.tables[0]
    for c in ("previous", "current", "change_pct", "rate_ratio", "ci_low", "ci_high", "p_value"):
        assert t.hidden(0, c), c
    assert "60" not in r.sentences[0] and "3" not in r.sentences[0].replace("2025/26", "")


def test_places_and_every_ward_with_rates(params, robbery, tmp_path):
    # Ward A: 30 + 20, Ward B: 10, Ward C: 25, Ward D: 15 in 2025/26; all 2024/25 = 0
    inc = _incidents(
        {
            ("E01000000", "2025/26"): 30,
            ("E01000001", "2025/26"): 20,
            ("E01000002", "2025/26"): 10,
            ("E01000004", "2025/26"): 25,
            ("E01000006", "2025/26"): 15,
        }
    )
    r = compute_section("places", _ctx(params, inc, tmp_path), robbery)
    places, wards = r.tables
    pl = places.data.set_index("place")
    assert pl.loc["Batley & Spen", "current"] == 60 and pl.loc["Huddersfield", "current"] == 40
    assert pl.loc["Batley & Spen", "rate_per_1000"] == pytest.approx(60 / 4000 * 1000)
    w = wards.data.set_index("ward_name")
    assert len(w) == 4 and w.loc["Ward A", "current"] == 50 and w.loc["Ward A", "rate"] == 25.0
    assert list(wards.data["ward_name"]) == ["Ward A", "Ward C", "Ward D", "Ward B"]  # by rate
    assert "Batley & Spen" in r.sentences[0] and "15.0 per 1,000" in r.sentences[0]


def test_a_small_ward_is_protected_against_its_place_total(params, robbery, tmp_path):
    # Ward B has 3: hiding it alone would leave it as Batley & Spen (53) - Ward A (50)
    inc = _incidents(
        {
            ("E01000000", "2025/26"): 50,
            ("E01000002", "2025/26"): 3,
            ("E01000004", "2025/26"): 25,
            ("E01000006", "2025/26"): 15,
            ("E01000000", "2024/25"): 40,
            ("E01000004", "2024/25"): 40,
        }
    )
    ctx = _ctx(params, inc, tmp_path)
    r = compute_section("places", ctx, robbery)
    places, wards = r.tables
    w = wards.data.set_index("ward_name")
    assert w.loc["Ward B", "current"] == "[c]" and w.loc["Ward B", "rate"] == "[c]"
    hidden_in_place = [w.loc[n, "current"] == "[c]" for n in ("Ward A", "Ward B")]
    pl = places.data.set_index("place")
    # either a second ward of the place is hidden, or the place total itself
    assert sum(hidden_in_place) >= 2 or pl.loc["Batley & Spen", "current"] == "[c]"


def test_deprivation_rates_by_decile_hand_counted(params, robbery, tmp_path):
    inc = _incidents(
        {
            ("E01000000", "2025/26"): 40,
            ("E01000001", "2025/26"): 30,
            ("E01000006", "2025/26"): 10,
            ("E01000007", "2025/26"): 6,
        }
    )
    r = compute_section("deprivation", _ctx(params, inc, tmp_path), robbery)
    d = r.tables[0].data.set_index("imd_decile")
    assert d.loc[1, "count"] == 40 and d.loc[1, "rate"] == pytest.approx(40.0)
    assert d.loc[8, "count"] == 6 and d.loc[3, "count"] == 0
    assert r.figures and r.figures[0].alt.startswith("Bar chart")


def test_trend_chart_drops_to_quarters_when_a_month_is_small(params, robbery, tmp_path):
    # 12 a year spread one a month: every month is 1 (small), quarters are 3 (small),
    # years are 12 -> drawn by year
    inc = _incidents(
        {
            ("E01000000", fy): 12
            for fy in ("2019/20", "2020/21", "2021/22", "2022/23", "2023/24", "2024/25", "2025/26")
        }
    )
    r = compute_section("trend", _ctx(params, inc, tmp_path), robbery)
    assert any("drawn by year" in n.lower() or "Drawn by year" in n for n in r.notes)
    data = r.figures[0].data.data.set_index("period")["count"]
    # coverage from the data: the series starts at the source's first month (2019/20)
    assert data.index[0] == "2019/20" and (data == 12).all()
    spc = compute_section("spc", _ctx(params, inc, tmp_path), robbery)
    assert not spc.figures and "every month" in spc.notes[0]


def test_result_renders_with_hostile_text_escaped(params, robbery, tmp_path):
    hostile = robbery.model_copy(update={"title": '<script>alert("x")</script> & co'})
    inc = _incidents({("E01000000", "2024/25"): 40, ("E01000001", "2025/26"): 60})
    r = compute_section("year_on_year", _ctx(params, inc, tmp_path), hostile)
    out = r._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;" in out
    t = r.tables[0]
    assert "<script>" not in render("table.html.j2", table=t)
    assert html_lib.unescape(out).count('<script>alert("x")</script>') >= 1


def test_repeat_rows_never_reveal_a_repeat_victim_by_difference(params, tmp_path):
    pr = params.priority("domestic_abuse").model_copy(
        update={
            "selection": params.priority("domestic_abuse").selection.model_copy(
                update={"flag": None, "categories": ["robbery"]}
            ),
            "repeat_by": "place",
        }
    )

    # Huddersfield: 9 victims, one of them with 2 incidents -> incidents - victims = 1
    def victim(lsoa, fy, i):
        return f"v-{lsoa}-{min(i, 8)}" if lsoa == "E01000004" else f"v-{lsoa}-{i}"

    inc = _incidents({("E01000004", "2025/26"): 10, ("E01000000", "2025/26"): 40}, victims=victim)
    r = compute_section("repeats", _ctx(params, inc, tmp_path), pr)
    t = r.tables[0].data.set_index("place")
    h = t.loc["Huddersfield"]
    # the repeat-victim count (1) is hidden, and so is incidents or victims
    assert h["n_repeat_victims"] == "[c]"
    assert "[c]" in (h["n_incidents"], h["n_victims"])


def test_police_data_ending_in_december_are_compared_like_for_like(params, robbery, tmp_path):
    """Coverage from the data: the series stops in December (no zero months for January to
    March), the comparison is April-December against April-December and says so."""
    inc = _incidents({("E01000000", "2024/25"): 120, ("E01000001", "2025/26"): 90})
    inc = inc[inc["date"] < pd.Timestamp("2026-01-01")].reset_index(drop=True)  # ends Dec
    ctx = _ctx(params, inc, tmp_path)
    s = ctx.series(robbery)
    assert s["month"].max() == pd.Timestamp("2025-12-01")  # no padded months
    r = compute_section("year_on_year", ctx, robbery)
    t = r.tables[0]
    prev = (inc["date"] < pd.Timestamp("2025-01-01")).sum()  # April-December 2024
    cur = (inc["date"] >= pd.Timestamp("2025-04-01")).sum()  # April-December 2025
    assert (t.value(0, "previous"), t.value(0, "current")) == (prev, cur)
    assert "April to December" in t.data["measure"].iloc[0]
    assert "April to December" in r.sentences[0]


def test_write_dataset_refuses_a_folder_it_did_not_create(demo, tmp_path, params):
    from kcpp_analysis.core.errors import KcppError
    from kcpp_analysis.data.dataset import write_dataset

    mine = tmp_path / "my_documents"
    mine.mkdir()
    (mine / "precious.txt").write_text("not yours")
    with pytest.raises(KcppError, match="does not hold a prepared dataset"):
        write_dataset(demo, mine, params=params)
    assert (mine / "precious.txt").read_text() == "not yours"
