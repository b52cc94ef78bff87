"""Benchmarking: aggregation, nearest neighbours and indirect standardisation, each against a
hand-worked or independent computation; then the real national file (funnel limits:
``tests/test_funnel.py``)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kcpp_analysis.analysis.benchmark import (
    indirect_standardise,
    nearest_neighbours,
    rank_and_percentile,
)
from kcpp_analysis.data.national import build_benchmark, load_benchmark


def test_nearest_neighbours_on_six_areas_worked_by_hand():
    t = pd.DataFrame(
        {
            "ltla24_code": ["A", "B", "C", "D", "E", "F"],
            "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            "y": [10.0, 10.0, 30.0, 10.0, 50.0, 10.0],
        }
    )
    # z-scores (population sd): x mean 2.5, sd sqrt(17.5/6); y mean 20, sd sqrt(1400/6)
    sx, sy = np.sqrt(17.5 / 6), np.sqrt(1400 / 6)
    z = pd.DataFrame({"x": (t.x - 2.5) / sx, "y": (t.y - 20) / sy})
    d = np.sqrt(((z - z.iloc[0]) ** 2).sum(axis=1))  # from A
    expect = d.iloc[1:].sort_values().index.map(lambda i: t.ltla24_code[i]).tolist()
    nn = nearest_neighbours(t, "A", variables=("x", "y"), k=5)
    assert nn["ltla24_code"].tolist() == expect == ["B", "D", "C", "F", "E"]
    assert nn["distance"].to_numpy() == pytest.approx(np.sort(d.iloc[1:].to_numpy()))
    assert nn["rank"].tolist() == [1, 2, 3, 4, 5]


def test_indirect_standardisation_hand_worked():
    # two deciles: 3,000 residents at 40 per 1,000 and 7,000 at 10 per 1,000 -> E = 190
    r = indirect_standardise(
        228, pd.Series({1: 3_000, 10: 7_000}), pd.Series({1: 40.0, 10: 10.0, 5: 99.0})
    )
    assert r["expected"] == pytest.approx(190.0) and r["ratio"] == pytest.approx(1.2)
    assert r["ci_low"] == pytest.approx(stats.chi2.ppf(0.025, 456) / 2 / 190)
    assert r["ci_high"] == pytest.approx(stats.chi2.ppf(0.975, 458) / 2 / 190)


def test_aggregation_recomputed_on_a_hand_built_set(tmp_path, real_dir):
    """The LA rate is the residents-weighted mean of its LSOA rates: recomputed here for two
    districts straight from the national files."""
    la, _ = load_benchmark()
    ind = pd.read_csv(real_dir / "iod2025_england_lsoa21_indicators.csv")
    lk = pd.read_csv(real_dir / "ons_lsoa21_ward24_ltla24_lookup_england_wales.csv")
    c = pd.read_csv(real_dir / "census2021_lsoa21_usual_residents_by_age_england_wales.csv")
    pop = c.groupby("lsoa21_code").usual_residents.sum()
    col = "violence_with_injury_rate_per_1_000_at_risk_population"
    for code in ("E08000034", "E06000001"):
        codes = lk.loc[lk.ltla24_code == code, "lsoa21_code"]
        d = ind[ind["LSOA code (2021)"].isin(codes)].set_index("LSOA code (2021)")[col]
        w = pop.reindex(d.index)
        expect = float((d * w).sum() / w.sum())
        got = la.set_index("ltla24_code").loc[code, "violence_with_injury"]
        assert got == pytest.approx(expect, rel=1e-5)
        assert la.set_index("ltla24_code").loc[code, "population"] == pop.reindex(codes).sum()


def test_real_national_table_west_yorkshire_and_kirklees_ranks(real_dir, tmp_path):
    out = build_benchmark(real_dir, tmp_path / "england")
    la = pd.read_csv(out / "la_benchmark.csv")
    assert len(la) == 296 and la.ltla24_code.is_unique
    wy = la[la.pfa24_name == "West Yorkshire"]
    assert sorted(wy.ltla24_name) == ["Bradford", "Calderdale", "Kirklees", "Leeds", "Wakefield"]
    k = la.set_index("ltla24_code").loc["E08000034"]
    ranks = {
        n: rank_and_percentile(la[n], k[n])[0]
        for n in ("violence_with_injury", "burglary", "anti_social_behaviour")
    }
    assert all(1 <= r <= 296 for r in ranks.values())
    # the shipped table is the one this command builds
    shipped, _ = load_benchmark()
    pd.testing.assert_frame_equal(shipped, la)


def test_force_area_counts_reproduce_the_published_district_rates(params):
    """Crime per 1,000 residents, police.uk 12 months to April 2026 (PROVENANCE.md s.8):
    Bradford 134.5, Leeds 132.2, Wakefield 123.5, Calderdale 120.5, Kirklees 101.6."""
    from kcpp_analysis.data.reference import reference_dir

    fa = pd.read_csv(reference_dir() / "force_area_12m.csv")
    d = fa[fa.level == "district"].set_index("name")
    types = [c for c in fa.columns if c[0].isupper() and c not in ("level",)]
    rate = (1000 * d[types].sum(axis=1) / d["population"]).round(1)
    assert rate.to_dict() == {
        "Bradford": 134.5,
        "Calderdale": 120.5,
        "Kirklees": 101.6,
        "Leeds": 132.2,
        "Wakefield": 123.5,
    }
    w = fa[fa.level == "ward"]
    assert (w.ltla24_code == "E08000034").sum() == 23
