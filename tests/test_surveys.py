import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kcpp_analysis.analysis.surveys import compare_shares, weighted_share


def _survey(wave, weights, positives, place="Rural"):
    return pd.DataFrame(
        {
            "survey": "residents",
            "wave": wave,
            "respondent_id": range(len(weights)),
            "place": place,
            "weight": weights,
            "question": "feel_safe_area",
            "positive": positives,
        }
    )


def test_hand_worked_weights():
    s = _survey("2024/25", [0.5, 1.5, 2.0, 1.0], [True, True, False, True])
    r = weighted_share(s, "feel_safe_area").iloc[0]
    # share = (0.5 + 1.5 + 1.0) / 5 = 0.6 ; n_eff = 25 / (0.25 + 2.25 + 4 + 1) = 3.3333
    assert r.share == pytest.approx(0.6)
    assert r.n_eff == pytest.approx(25 / 7.5)
    assert r.n == 4


def test_equal_weights_reduce_to_simple_proportion_and_wilson():
    s = _survey("2024/25", [1.0] * 50, [True] * 20 + [False] * 30)
    r = weighted_share(s, "feel_safe_area").iloc[0]
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(20, 50, method="wilson")
    assert (r.share, r.n_eff) == (0.4, 50)
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi))


def test_by_place_and_wave_filter():
    s = pd.concat(
        [
            _survey("2024/25", [1, 1], [True, False], "Rural"),
            _survey("2024/25", [1, 3], [True, False], "Huddersfield"),
            _survey("2023/24", [1], [True], "Rural"),
        ]
    )
    r = weighted_share(s, "feel_safe_area", by="place", wave="2024/25").set_index("place")
    assert r.loc["Huddersfield", "share"] == 0.25 and r.loc["Rural", "share"] == 0.5
    assert set(r["wave"]) == {"2024/25"}


def test_compare_shares_z_test():
    a = _survey("2023/24", [1.0] * 400, [True] * 320 + [False] * 80)
    b = _survey("2024/25", [1.0] * 400, [True] * 290 + [False] * 110)
    r = compare_shares(
        pd.concat([a, b]), "feel_safe_area", current_wave="2024/25", previous_wave="2023/24"
    ).iloc[0]
    p1, p2 = 0.8, 0.725
    se = np.sqrt(p1 * (1 - p1) / 400 + p2 * (1 - p2) / 400)
    assert r.difference == pytest.approx(p2 - p1)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs((p2 - p1) / se)))
    assert r.significant


def test_compare_shares_missing_wave_is_nan():
    a = _survey("2023/24", [1.0] * 10, [True] * 10)
    r = compare_shares(a, "feel_safe_area", current_wave="2024/25", previous_wave="2023/24").iloc[0]
    assert np.isnan(r.current) and not r.significant


def test_non_positive_weight_rejected():
    with pytest.raises(ValueError, match="weight"):
        weighted_share(_survey("2024/25", [1.0, 0.0], [True, False]), "feel_safe_area")


def test_compare_shares_handles_all_and_none():
    """40/40 against 0/40: the z-test's standard error is zero; the pooled test and
    Newcombe's interval still work (worked by hand: Wilson 95% for 0/40 is [0, 0.0876])."""
    s = pd.DataFrame(
        {
            "survey": "r",
            "question": "q",
            "weight": 1.0,
            "wave": ["2023/24"] * 40 + ["2024/25"] * 40,
            "positive": [False] * 40 + [True] * 40,
        }
    )
    r = compare_shares(s, "q", current_wave="2024/25", previous_wave="2023/24").iloc[0]
    assert r.difference == 1.0 and bool(r.significant)
    assert r.ci_low == pytest.approx(1 - np.sqrt(2) * 0.0876, abs=1e-3)
    assert r.ci_high == pytest.approx(1.0)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(1 / np.sqrt(0.25 * (2 / 40))))
