"""Knox near-repeat test: hand-worked counts, an independent brute force, planted clusters."""

import itertools

import numpy as np
import pandas as pd
import pytest

from kcpp_analysis.analysis.nearrepeat import knox


def _events(xy, days):
    return pd.DataFrame(
        {
            "x": [p[0] for p in xy],
            "y": [p[1] for p in xy],
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
        }
    )


def test_observed_counts_worked_by_hand():
    # five events; distance bands 0-100, 100-300 m; time bands 0-7, 7-14 days
    ev = _events([(0, 0), (60, 80), (0, 250), (1000, 0), (1000, 90)], [0, 3, 10, 5, 30])
    # pairs: (0,1) d=100 t=3 -> [0-100, 0-7]; (0,2) d=250 t=10 -> [100-300, 7-14];
    # (1,2) d=sqrt(60^2+170^2)=180.3 t=7 -> [100-300, 0-7]; (3,4) d=90 t=25 -> beyond 14 days;
    # every other pair is farther than 300 m
    t = knox(ev, distance_bands=[100, 300], time_bands=[7, 14], permutations=19, seed=0)
    obs = t.set_index(["distance_band", "time_band"])["observed"]
    assert obs[("0 to 100 m", "0 to 7 days")] == 1
    assert obs[("0 to 100 m", "7 to 14 days")] == 0
    assert obs[("100 to 300 m", "0 to 7 days")] == 1
    assert obs[("100 to 300 m", "7 to 14 days")] == 1
    assert ((t.p_value >= 1 / 20) & (t.p_value <= 1)).all()


def test_permutation_distribution_matches_a_brute_force_double_loop():
    rng = np.random.default_rng(4)
    n = 40
    ev = _events(rng.uniform(0, 800, (n, 2)).tolist(), rng.integers(0, 60, n))
    d_edges, t_edges = [100, 200, 400], [7, 14, 28]
    perms, seed = 30, 9
    t = knox(ev, distance_bands=d_edges, time_bands=t_edges, permutations=perms, seed=seed)
    xy = ev[["x", "y"]].to_numpy()
    days = ((ev["date"] - ev["date"].min()).dt.days).to_numpy()

    def brute(dd):
        out = np.zeros((3, 3), dtype=int)
        for a, b in itertools.combinations(range(n), 2):
            d = np.hypot(*(xy[a] - xy[b]))
            dt = abs(dd[a] - dd[b])
            di = next((k for k, e in enumerate(d_edges) if d <= e), None)
            ti = next((k for k, e in enumerate(t_edges) if dt <= e), None)
            if di is not None and ti is not None:
                out[di, ti] += 1
        return out.ravel()

    obs = brute(days)
    rng2 = np.random.default_rng(seed)
    sims = np.array([brute(days[rng2.permutation(n)]) for _ in range(perms)])
    assert t["observed"].tolist() == obs.tolist()
    assert t["expected"].to_numpy() == pytest.approx(sims.mean(axis=0))
    assert t["p_value"].to_numpy() == pytest.approx((1 + (sims >= obs).sum(axis=0)) / (1 + perms))


def _burglaries(rng, n_background=1500, n_seeds=0, offspring=3):
    """Background events uniform over a 10 km square and a year; each seed event has
    ``offspring`` near repeats within 150 m and 10 days (planted space-time interaction)."""
    xy = rng.uniform(0, 10_000, (n_background, 2))
    days = rng.integers(0, 365, n_background)
    if n_seeds:
        s = rng.choice(n_background, n_seeds, replace=False)
        kid_xy = np.repeat(xy[s], offspring, axis=0) + rng.uniform(
            -100, 100, (n_seeds * offspring, 2)
        )
        kid_days = np.repeat(days[s], offspring) + rng.integers(1, 11, n_seeds * offspring)
        xy, days = np.vstack([xy, kid_xy]), np.r_[days, kid_days]
    return _events(xy.tolist(), days)


def test_planted_near_repeats_are_recovered_and_absent_ones_are_not_found():
    bands = dict(distance_bands=[200, 400, 800], time_bands=[14, 28, 56])
    rng = np.random.default_rng(11)
    planted = knox(_burglaries(rng, n_seeds=150), permutations=99, seed=1, **bands)
    near = planted.iloc[0]  # 0-200 m, 0-14 days
    assert near.ratio > 2 and near.p_value <= 0.01
    # far cells carry no planted signal
    assert planted.iloc[-1].ratio == pytest.approx(1, abs=0.2)
    # no interaction: across 10 data sets, the near cell is significant at 5% rarely
    sig = 0
    for k in range(10):
        t = knox(_burglaries(np.random.default_rng(100 + k)), permutations=99, seed=k, **bands)
        sig += int(t.iloc[0].p_value <= 0.05)
    assert sig <= 3


def test_month_only_dates_and_bad_bands_are_refused():
    ev = _events([(0, 0), (1, 1)], [0, 1]).assign(date_precision="month")
    with pytest.raises(ValueError, match="known only to the month"):
        knox(ev, distance_bands=[100], time_bands=[7])
    with pytest.raises(ValueError, match="increasing"):
        knox(ev.drop(columns="date_precision"), distance_bands=[100, 50], time_bands=[7])
