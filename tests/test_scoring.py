"""The evidence score: totals worked by hand, properties, and the demo's spread."""

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kcpp_analysis.analysis.assessment import assess_theme_priorities, to_frame
from kcpp_analysis.analysis.scoring import score_criteria, score_priorities
from kcpp_analysis.config.params import load_params
from kcpp_analysis.config.scoring import EVIDENCE as CRITERIA
from kcpp_analysis.core.errors import ConfigError

SCORING = load_params().scoring
W = {c: SCORING.criteria[c].weight for c in CRITERIA}


def _table(rows):
    return pd.DataFrame([{"priority_id": f"p{i}", **r} for i, r in enumerate(rows)])


def test_totals_worked_by_hand():
    # weights: volume 1, change 2, trend 2, kpis 2, repeats 1, inequality 1, public concern 1
    rows = [
        # all seven criteria: (1*3 + 2*3 + 2*2 + 2*3 + 1*0 + 1*2 + 1*0) = 21 of 3*10 = 30
        dict(
            harm=3, volume=3, change=3, trend=2, kpis=3, repeats=0, inequality=2, public_concern=0
        ),
        # only change and kpis: (2*1 + 2*0) / (3*4) = 2/12; harm 1 -> factor 0.5
        dict(
            harm=1,
            volume=np.nan,
            change=1,
            trend=np.nan,
            kpis=0,
            repeats=np.nan,
            inequality=np.nan,
            public_concern=np.nan,
        ),
        # nothing at all
        dict(harm=2, **{c: np.nan for c in CRITERIA}),
    ]
    r = score_priorities(_table(rows), SCORING)
    assert r.loc[0, "concern"] == pytest.approx(100 * 21 / 30)
    assert r.loc[0, "total"] == pytest.approx(70.0)  # harm 3: factor 1
    assert r.loc[0, "confidence"] == "A" and r.loc[0, "evidence_share"] == 1
    assert r.loc[0, "rag"] == "red"
    assert r.loc[1, "concern"] == pytest.approx(100 * 2 / 12)
    assert r.loc[1, "total"] == pytest.approx(100 * 2 / 12 * 0.5)
    assert r.loc[1, "evidence_share"] == pytest.approx(4 / 10) and r.loc[1, "confidence"] == "C"
    assert r.loc[1, "rag"] == "green"
    assert np.isnan(r.loc[2, "total"])
    assert r.loc[2, "rag"] == "grey"


def test_a_high_total_on_thin_evidence_is_an_intelligence_gap_not_red():
    rows = [dict(harm=3, kpis=3, **{c: np.nan for c in CRITERIA if c != "kpis"})]
    r = score_priorities(_table(rows), SCORING).iloc[0]
    assert r.total == pytest.approx(100) and r.confidence == "C"
    assert (r.rag, bool(r.thin_evidence)) == ("amber", True)


def test_criterion_rules_from_evidence():
    s = score_criteria(
        {
            "rate_per_1000": 5.0,  # reaches 1 and 5
            "yoy_label": "fell significantly",
            "worse_if_up": False,  # more is better (e.g. modern slavery identification)
            "trend_direction": "increasing",
            "recent_direction": "decreasing",
            "kpi_rags": ["green", "amber", "grey"],
            "incident_repeat_pct": 39.9,
            "rate_ratio": 2.5,
            "rr_ci_low": 0.9,  # interval includes 1
            "survey_status": "worse",
        },
        SCORING,
    )
    assert s == {
        "volume": 2.0,
        "change": 3.0,  # fell, and falling is the wrong way here
        "trend": 3.0,  # the last three years run the wrong way
        "kpis": 2.0,
        "repeats": 2.0,
        "inequality": 0.0,
        "public_concern": 3.0,
    }


evidence_scores = st.lists(
    st.one_of(st.just(np.nan), st.sampled_from([0.0, 1.0, 2.0, 3.0])),
    min_size=len(CRITERIA),
    max_size=len(CRITERIA),
)


@settings(max_examples=200, deadline=None)
@given(evidence_scores, st.integers(0, 3), st.integers(0, len(CRITERIA) - 1))
def test_raising_any_criterion_never_lowers_the_total(scores, harm, k):
    row = dict(harm=harm, **dict(zip(CRITERIA, scores, strict=True)))
    before = score_priorities(_table([row]), SCORING).iloc[0].total
    if np.isnan(row[CRITERIA[k]]) or row[CRITERIA[k]] == 3:
        return
    row[CRITERIA[k]] += 1
    after = score_priorities(_table([row]), SCORING).iloc[0].total
    assert after >= before


@settings(max_examples=50, deadline=None)
@given(evidence_scores, st.integers(0, 2))
def test_raising_harm_never_lowers_the_total(scores, harm):
    row = dict(harm=harm, **dict(zip(CRITERIA, scores, strict=True)))
    lo = score_priorities(_table([row]), SCORING).iloc[0].total
    hi = score_priorities(_table([{**row, "harm": harm + 1}]), SCORING).iloc[0].total
    assert np.isnan(lo) and np.isnan(hi) or hi >= lo


def test_removing_a_statutory_duty_never_changes_a_score(demo, params):
    """The duties change the recommended class, never the evidence score."""
    from dataclasses import replace

    th = params.themes["violence"]
    without = th.model_copy(
        update={
            "priorities": [p.model_copy(update={"statutory_duty": None}) for p in th.priorities]
        }
    )
    p2 = replace(params, themes={**params.themes, "violence": without})
    a = to_frame(assess_theme_priorities(demo, "violence", period="2025/26", params=params))
    b = to_frame(assess_theme_priorities(demo, "violence", period="2025/26", params=p2))
    cols = ["total", "concern", "rag", *[f"score_{c}" for c in CRITERIA]]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a["statutory_duty"].notna().any() and b["statutory_duty"].isna().all()


def test_demo_scores_discriminate_and_can_be_recomputed(demo, params):
    """The evidence score spreads the priorities (some red, some green), and a reader can
    recompute every score from the printed criterion scores, weights and harm grade."""
    a = to_frame(
        [
            x
            for t in params.themes
            for x in assess_theme_priorities(demo, t, period="2025/26", params=params)
        ]
    )
    assert {"red", "green"} <= set(a["rag"])
    assert 1 <= int((a["rag"] == "red").sum()) <= 8
    for r in a[a.total.notna()].itertuples():
        have = {
            c: getattr(r, f"score_{c}") for c in CRITERIA if not np.isnan(getattr(r, f"score_{c}"))
        }
        concern = 100 * sum(W[c] * v for c, v in have.items()) / (3 * sum(W[c] for c in have))
        assert r.total == pytest.approx(concern * (1 + r.harm) / 4)


def test_bad_scoring_files_name_the_key(params_copy):
    p = params_copy / "prioritisation.yaml"
    d = yaml.safe_load(p.read_text())
    d["criteria"]["volume"]["thresholds"] = [5, 1, 20]
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(
        ConfigError, match=r"prioritisation.yaml: key 'criteria.volume.*three increasing"
    ):
        load_params(params_copy)
    d["criteria"]["volume"]["thresholds"] = [1, 5, 20]
    d["harm"].pop("prevent")
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(ConfigError, match=r"no harm grade for priorities \['prevent'\]"):
        load_params(params_copy)


def test_framing_sections_render_markdown_escaped_or_say_what_is_missing(tmp_path):
    from types import SimpleNamespace

    from kcpp_analysis.report.summary import FRAMING, framing_sections

    (tmp_path / "framing").mkdir()
    (tmp_path / "framing" / "horizon_scanning.md").write_text(
        "## Economic\n\n- Cost of living <script>alert(1)</script>\n"
    )
    framing = {"horizon_scanning": (tmp_path / "framing" / "horizon_scanning.md").read_text()}
    ctx = SimpleNamespace(params=SimpleNamespace(framing=framing))
    s = {x["id"]: x for x in framing_sections(ctx)}
    assert set(s) == set(FRAMING)
    hs = s["horizon_scanning"]["html"]
    assert "<li>Cost of living" in hs and "<script>" not in hs and "&lt;script&gt;" in hs
    # a missing section is a prompt for the analyst, with no file path on the page
    assert "To be written by the partnership analyst" in s["consultation"]["missing"]
    assert "params/" not in s["consultation"]["missing"]
    assert s["consultation"]["where"] == "params/framing/consultation.md"
