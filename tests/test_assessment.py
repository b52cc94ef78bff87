"""The partnership's decision method on small hand-built data: each class rule, each
criterion with its evidence, the proposals, last year's ratings, sensitivity and the saved
assessment's schema."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest
import yaml
from builders import dataset, incidents_by_month, incidents_by_year

from kcpp_analysis.analysis.assessment import (
    assess_theme_priorities,
    load_assessments,
    movement,
    previous_ratings,
    save_assessments,
)
from kcpp_analysis.analysis.insight import untestable_concerns
from kcpp_analysis.config.params import load_params
from kcpp_analysis.presentation import recommendation

ONE_LSOA = pd.DataFrame({"lsoa_code": ["E01011004"], "population": [20_000]})
YEARS = [f"{y}/{(y + 1) % 100:02d}" for y in range(2017, 2026)]


def _assess(params, theme, inc=None, period="2024/25", **kw):
    ds = kw.pop("ds", None) or dataset(inc, areas=ONE_LSOA)
    return {
        a.priority_id: a
        for a in assess_theme_priorities(ds, theme, period=period, params=params, **kw)
    }


def _insight(rows):
    """rows: (place, topic, mentions) in 2024/25."""
    return pd.DataFrame(
        [
            {
                "date": pd.Timestamp("2024-06-01"),
                "date_precision": "month",
                "place": p,
                "ward_code": None,
                "channel": "community",
                "topic": t,
                "mentions": m,
                "concern": 2.0,
            }
            for p, t, m in rows
        ]
    )


def test_a_significant_rise_is_an_emerging_concern_and_high_focus(params):
    """Robbery in neighbourhood crime (no duty, no connected partnership, harm 1): a steady
    rise that jumps in the last year fires the emerging-concern criterion; with harm 1 the
    score can never reach the band, so the class rests on the rise alone."""
    counts = dict(zip(YEARS[2:8], [300, 330, 360, 400, 440, 520], strict=True))
    a = _assess(params, "asb", incidents_by_year(counts, "robbery"))["neighbourhood_crime"]
    assert a.status == "high focus" and a.reasons == ["emerging_concern"]
    ec = a.criterion("emerging_concern")
    assert ec.fired and ec.facts["change_rose"] and not ec.facts["in_band"]
    assert a.yoy_label == "rose significantly"
    text = recommendation.rationale(a, params.scoring.bands)
    assert text.startswith("High focus.") and "rose significantly on last year (440 to 520" in text
    # what would change it: both rises (either alone keeps the concern), not the score band
    assert {"kind": "labels", "signals": ["change", "trend"]} in a.sensitivity
    assert {"kind": "band_margin", "points": -5.0} in a.sensitivity


def test_a_rise_that_has_turned_is_not_a_concern(params):
    counts = dict(zip(YEARS[:8], [300, 380, 470, 590, 740, 630, 535, 455], strict=True))
    a = _assess(params, "asb", incidents_by_month(counts, "robbery"))["neighbourhood_crime"]
    assert a.trend_direction == "increasing" and a.recent_direction == "decreasing"
    assert a.scores["trend"] == 0
    assert a.status == "continue to monitor" and "stable_or_improving" in a.reasons
    assert "No current or emerging concern" in recommendation.rationale(a, params.scoring.bands)


def test_a_statutory_duty_makes_high_focus_without_data_and_says_so(params):
    a = _assess(params, "communities")["prevent"]
    assert a.status == "high focus" and a.reasons == ["statutory_duty"]
    assert a.rag == "grey" and not a.has_data
    text = recommendation.rationale(a, params.scoring.bands)
    assert "Counter-Terrorism and Security Act 2015, s. 26" in text
    assert "No evidence to score" in text
    assert recommendation.sensitivity_sentence(a).startswith("Fixed by its statutory duty")


def test_cross_cutting_priorities_are_cross_cutting(params):
    got = {
        a.priority_id: a.status
        for th in params.themes
        for a in _assess(params, th).values()
        if params.priority(a.priority_id).cross_cutting
    }
    assert got == dict.fromkeys(
        ["inclusive_communities", "drugs_alcohol", "reoffending"], "cross-cutting"
    )


def test_no_data_is_never_continue_to_monitor(params):
    """Migration has a connected partnership but no data at all here: "no data", not
    "continue to monitor"; the reason says so."""
    a = _assess(params, "communities", insight=None)["migration"]
    assert a.status == "no data" and a.reasons == []
    assert "No data are held" in recommendation.rationale(a, params.scoring.bands)
    assert recommendation.rag_label(a.rag) == "NO DATA"


def test_an_indicator_alone_is_held_but_not_scored(params):
    ind = pd.DataFrame(
        {
            "indicator_id": "asylum_dispersal",
            "period": ["2023/24", "2024/25"],
            "value": [10.0, 12.0],
            "unit": "people",
            "source": "Home Office",
        }
    )
    a = _assess(params, "communities", ds=dataset(areas=ONE_LSOA, indicators=ind), insight=None)[
        "migration"
    ]
    assert a.has_data and a.total is None and a.rag == "unscored"
    assert recommendation.rag_label(a.rag) == "NOT SCORED"
    assert "cannot be scored" in recommendation.score_phrase(a, params.scoring.bands)


@pytest.mark.parametrize(
    "places,fires", [(4, True), (2, False)], ids=["raised in 4 places", "raised in 2 places"]
)
def test_insight_share_and_places_decide_community_impact(params, places, fires):
    """ASB at 40% of mentions: community impact escalates only when raised in at least
    three places (params/prioritisation.yaml: insight_places)."""
    pl = params.sia.places[:places]
    rows = [(p, "asb_youth", 40) for p in pl] + [(p, "burglary", 60) for p in params.sia.places]
    a = _assess(params, "asb", insight=_insight(rows))["asb"]
    ci = a.criterion("community_impact")
    assert ci.fired is fires
    assert ci.facts["insight_share_pct"] == pytest.approx(100 * 40 * places / (40 * places + 240))
    assert a.status == "high focus"  # ASB also has a statutory duty (ASB case review)
    assert ("community_impact" in a.reasons) is fires


def test_a_connected_partnership_holds_community_concern_alone(params):
    """Speeding dominates every place's insight: road safety's community impact escalates,
    but the road safety partnership has it in view, so it stays continue to monitor
    (the approach paper's own call); without the partnership it would be high focus."""
    rows = [(p, "speeding", 50) for p in params.sia.places] + [
        (p, "burglary", 20) for p in params.sia.places
    ]
    ins = _insight(rows)
    ksi = incidents_by_year(dict.fromkeys(YEARS[:8], 40), "road_casualty")
    ksi["source"], ksi["severity"] = "roads", "serious"
    a = _assess(params, "risk", ksi, insight=ins)["road_safety"]
    assert a.criterion("community_impact").fired
    assert a.status == "continue to monitor"
    assert a.reasons[:2] == ["community_impact", "connected_partnership"]
    text = recommendation.rationale(a, params.scoring.bands)
    assert "community concern alone does not make" in text
    th = params.themes["risk"]
    alone = th.model_copy(
        update={
            "priorities": [
                p.model_copy(update={"connected_partnership": None}) for p in th.priorities
            ]
        }
    )
    p2 = replace(params, themes={**params.themes, "risk": alone})
    assert _assess(p2, "risk", ksi, insight=ins)["road_safety"].status == "high focus"
    # with no recorded data at all, insight alone never makes it "continue to monitor"
    assert _assess(params, "risk", insight=ins)["road_safety"].status == "no data"
    # and the concern cannot be tested by recorded data: the source that could is named
    un = untestable_concerns(ins, params.insight.topics)
    assert un.iloc[0]["topic"] == "speeding" and "speed" in un.iloc[0]["could_be_tested_by"]


def test_a_falling_survey_trend_escalates_community_impact(params):
    """Feeling safe 86.5% -> 81.8% -> 77.1% over three waves (2,000 respondents each): the
    trend test over the last three waves fires community impact for community tensions."""
    rows = []
    for wave, share in (("2022/23", 0.865), ("2023/24", 0.818), ("2024/25", 0.771)):
        k = round(share * 2000)
        for i in range(2000):
            rows.append(("residents", wave, f"{wave}-{i}", "Rural", 1.0, "feel_safe_area", i < k))
    s = pd.DataFrame(
        rows, columns=["survey", "wave", "respondent_id", "place", "weight", "question", "positive"]
    )
    a = _assess(params, "communities", ds=dataset(areas=ONE_LSOA, survey=s), insight=None)[
        "community_tensions"
    ]
    ci = a.criterion("community_impact")
    assert ci.fired and ci.facts["survey_worse"][0]["first_pct"] == pytest.approx(86.5)
    text = recommendation.rationale(a, params.scoring.bands, labels=params.surveys.label)
    assert (
        "Residents feeling safe in their local area went from 86.5% (2022/23) to 77.1% (2024/25)"
        in text
    )
    assert "feel_safe_area" not in text


def test_board_override_is_shown_as_an_override(params_copy):
    path = params_copy / "themes" / "risk.yaml"
    d = yaml.safe_load(path.read_text())
    ws = next(p for p in d["priorities"] if p["id"] == "water_safety")
    ws["override"] = {
        "status": "high focus",
        "reason": "Two drownings at Holmfirth reservoirs this summer.",
        "date": "2026-01-20",
    }
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    p = load_params(params_copy)
    a = _assess(p, "risk")["water_safety"]
    assert a.overridden and a.final_status == "high focus" and a.status != "high focus"
    assert a.agrees is False  # the paper proposed continue to monitor
    text = recommendation.rationale(a, p.scoring.bands)
    assert "The board decided high focus on 2026-01-20" in text and "Holmfirth" in text


def test_previous_ratings_from_params_then_from_last_years_set(params, tmp_path):
    prev, src = previous_ratings(params, None)
    assert prev["asb"]["rating"] == "red" and "Scrutiny minutes, 2024" in src
    assert "hate_crime" not in prev  # not recorded there
    a = _assess(params, "asb", previous=prev)["asb"]
    assert a.previous_rating == "red" and a.movement == movement("red", a.rag)
    # last year's set, when present, is read first (with the criteria that fired)
    (tmp_path / "results").mkdir()
    save_assessments(
        list(_assess(params, "asb").values()), tmp_path / "results" / "asb_assessment.json"
    )
    prev2, src2 = previous_ratings(params, tmp_path)
    assert src2 == f"the {tmp_path.name} report set" and prev2["asb"]["fired"]


def test_movement_compares_bands():
    assert [movement("red", "green"), movement("amber", "red"), movement("green", "green")] == [
        "down",
        "up",
        "same",
    ]
    assert movement(None, "red") == "not recorded" and movement("red", "grey") == "no data"
    # a band reached on thin evidence (confidence C) claims no direction
    assert movement("amber", "green", thin=True) == "not comparable"
    assert movement(None, "green", thin=True) == "not recorded"


def test_a_rating_on_thin_evidence_is_not_called_less_concern(report_set):
    """The demo's youth exploitation: AMBER last time, GREEN now on confidence C. A band
    that moved because the data cover few criteria is not less concern: the finding, the
    brief and the overview say "not compared"."""
    from builders import plain

    from kcpp_analysis.analysis.assessment import load_assessments

    res = report_set.out_dir / "results" / "violence_assessment.json"
    a = {x.priority_id: x for x in load_assessments(res)}["youth_exploitation"]
    assert a.confidence == "C" and a.previous_rating == "amber"
    assert a.movement == "not comparable"
    s = recommendation.movement_sentence(a)
    assert "not compared" in s and "less concern" not in s and "confidence C" in s
    brief = plain((report_set.out_dir / "brief.html").read_text(encoding="utf-8"))
    less = brief[brief.index("Less concern") :].split(".")[0]
    assert "youth exploitation" not in less


def test_assessments_round_trip_with_their_schema(params, tmp_path):
    items = list(_assess(params, "violence").values())
    f = tmp_path / "violence_assessment.json"
    save_assessments(items, f)
    assert load_assessments(f) == items
    body = json.loads(f.read_text())
    body["items"][0]["status"] = None
    f.write_text(json.dumps(body))
    with pytest.raises(ValueError, match="violence_assessment.json: an assessment does not match"):
        load_assessments(f)
    f.write_text('{"schema": "something else"}')
    with pytest.raises(ValueError, match="not a kcpp.priority_assessment/1 file"):
        load_assessments(f)


@pytest.mark.parametrize(
    "share,places,says",
    [
        (0.0, [], "no community insight mentions this year"),
        (float("nan"), [], "no community insight mentions this year"),
        (0.3, ["Rural"], "under 1% of community insight mentions, from 1 place"),
        (4.0, ["Huddersfield", "Rural"], "4% of community insight mentions, from 2 places"),
        (2.0, [], "2% of community insight mentions, from no named place"),
    ],
)
def test_community_impact_not_escalating_reads_true_at_small_shares(share, places, says):
    """A share that rounds to 0% is "under 1%", never "0% ... from 1 place"; no mentions
    is said in words, never "0% ... from 0 places"."""
    facts = {
        "insight_share_pct": share,
        "insight_places": places,
        "share_threshold_pct": 10,
        "places_threshold": 3,
    }
    text = recommendation.criterion_sentence("community_impact", False, facts)
    assert text == f"Community impact is not escalating: {says}."


def test_a_no_data_priority_holding_indicators_is_not_said_to_hold_no_data():
    """'No data' is the class when there is nothing the method can score; a priority that
    holds partner indicators is told apart from one that holds nothing at all."""
    from types import SimpleNamespace

    def says(has_data):
        a = SimpleNamespace(criteria=[], reasons=[], status="no data", has_data=has_data)
        return recommendation.reason_sentences(a)

    assert says(False) == ["No data are held for this priority, so the method cannot be applied."]
    assert says(True) == [
        "The method cannot be applied: no incident data are held for this priority."
    ]


@pytest.mark.parametrize(
    "sensitivity,has_data,total,says",
    [
        ([{"kind": "fixed", "by": ["statutory_duty"]}], False, None, "Fixed: statutory duty"),
        ([], False, None, "Needs data"),
        ([], True, None, "Needs incident data"),  # partner indicators only: never "Stable"
        (
            [{"kind": "band_margin", "points": -13.0}],
            True,
            42.0,
            "13 points below the high-focus band",
        ),
        (
            [
                {"kind": "pivotal", "signal": "band"},
                {"kind": "band_margin", "points": 15.2},
                {"kind": "harm", "grade": 2},
            ],
            True,
            70.0,
            "Rests on its score; 15 points above the high-focus band; a harm grade of 2 would "
            "change it",
        ),
        ([], True, 30.0, "Stable"),
    ],
)
def test_the_nearest_change_in_the_plan_on_a_page(sensitivity, has_data, total, says):
    from types import SimpleNamespace

    a = SimpleNamespace(sensitivity=sensitivity, has_data=has_data, total=total)
    assert recommendation.sensitivity_short(a) == says
