import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kcpp_analysis.analysis import deprivation as dep
from kcpp_analysis.data.sources.geography import read_iod2019_file7


def _areas(n=20):
    return pd.DataFrame(
        {
            "lsoa_code": [f"E01{i:06d}" for i in range(n)],
            "ward_code": ["E05000001"] * (n // 2) + ["E05000002"] * (n - n // 2),
            "ward_name": ["A"] * (n // 2) + ["B"] * (n - n // 2),
            "place": ["Huddersfield"] * n,
            "population": [1000] * n,
            "imd_score": np.linspace(60, 5, n),
            "imd_decile": np.repeat(np.arange(1, 11), n // 10),
        }
    )


def test_lsoa_rates_keeps_zero_lsoas():
    a = _areas()
    inc = pd.DataFrame(
        {
            "lsoa_code": ["E01000000"] * 3 + ["E01000005"],
            "date": pd.to_datetime(["2022-01-01"] * 4),
            "category": ["x"] * 4,
        }
    )
    t = dep.lsoa_rates(inc, a)
    assert len(t) == 20 and t["count"].sum() == 4
    assert t.set_index("lsoa_code").loc["E01000000", "rate"] == 3.0
    assert (t["count"] == 0).sum() == 18


def test_lsoa_rates_reports_missing_lsoas_by_code():
    inc = pd.DataFrame(
        {"lsoa_code": ["E01999999", "E01000001"], "date": pd.to_datetime(["2022-01-01"] * 2)}
    )
    with pytest.raises(ValueError, match="missing from areas: E01999999"):
        dep.lsoa_rates(inc, _areas())


def test_zero_population_is_rejected():
    a = _areas()
    a.loc[3, "population"] = 0
    with pytest.raises(ValueError, match="population.*E01000003"):
        dep.lsoa_rates(pd.DataFrame({"lsoa_code": [], "date": pd.to_datetime([])}), a)


def test_rates_by_decile_and_exact_ci():
    a = _areas()
    a["count"] = np.arange(20)
    t = dep.rates_by_decile(a)
    assert t["count"].tolist() == [
        0 + 1,
        2 + 3,
        4 + 5,
        6 + 7,
        8 + 9,
        10 + 11,
        12 + 13,
        14 + 15,
        16 + 17,
        18 + 19,
    ]
    assert t.loc[0, "rate"] == pytest.approx(1 / 2000 * 1000)
    # the exact limits L, U solve P(X >= k | L) = 0.025 and P(X <= k | U) = 0.025
    k, pop = t.loc[4, "count"], t.loc[4, "population"]
    lo, hi = t.loc[4, "ci_low"] * pop / 1000, t.loc[4, "ci_high"] * pop / 1000
    assert stats.poisson.sf(k - 1, lo) == pytest.approx(0.025, abs=1e-6)
    assert stats.poisson.cdf(k, hi) == pytest.approx(0.025, abs=1e-6)
    q = dep.rates_by_decile(a, quantiles=5)
    assert q["count"].tolist() == [6, 22, 38, 54, 70]


def test_correlation_ci_by_fisher_z():
    a = _areas()
    a["rate"] = np.linspace(10, 1, 20) + np.tile([0, 0.5], 10)
    r = dep.deprivation_correlation(a).iloc[0]
    rho = stats.spearmanr(a.imd_score, a.rate).statistic
    se = np.sqrt((1 + rho**2 / 2) / 17)
    assert r.rho == pytest.approx(rho)
    assert r.ci_low == pytest.approx(np.tanh(np.arctanh(rho) - 1.959964 * se), abs=1e-5)
    assert r.n == 20


def test_rate_ratio_poisson_mle_equals_ratio_of_rates():
    a = _areas()
    a["count"] = np.where(a.imd_decile <= 2, 30, np.where(a.imd_decile >= 9, 10, 20))
    a.loc[0, "count"] = 33
    a.loc[19, "count"] = 11
    r = dep.rate_ratio(a).iloc[0]
    top = a[a.imd_decile <= 2]
    bot = a[a.imd_decile >= 9]
    assert r.family == "poisson"
    assert r.rate_ratio == pytest.approx((top["count"].sum() / 4000) / (bot["count"].sum() / 4000))
    # Wald CI on log scale with SE sqrt(1/A + 1/B) for a two-group Poisson model
    se = np.sqrt(1 / top["count"].sum() + 1 / bot["count"].sum())
    assert r.ci_low == pytest.approx(r.rate_ratio * np.exp(-1.959964 * se), rel=1e-4)


def test_rate_ratio_uses_negative_binomial_when_overdispersed():
    rng = np.random.default_rng(0)
    a = pd.DataFrame(
        {"lsoa_code": range(200), "imd_decile": np.repeat(np.arange(1, 11), 20), "population": 1500}
    )
    lam = rng.gamma(2, 20, 200) * np.where(a.imd_decile <= 2, 2, 1)
    a["count"] = rng.poisson(lam)
    r = dep.rate_ratio(a).iloc[0]
    assert r.family == "negative binomial"
    assert r.ci_low < 2 < r.ci_high


def test_sii_known_by_construction():
    t = pd.DataFrame({"imd_decile": range(1, 11), "population": [2000] * 10})
    x = (np.arange(10) + 0.5) / 10  # midpoints of cumulative population share
    t["count"] = (2 * (80 - 60 * x)).round().astype(int)  # rate per 1000 = 80 - 60x exactly
    r = dep.inequality_indices(t).set_index("index")
    assert r.loc["SII", "value"] == pytest.approx(60)
    # fitted rate at the most deprived end (x = 0) over the least deprived (x = 1)
    assert r.loc["RII", "value"] == pytest.approx(80 / 20)
    assert r.loc["SII", "ci_low"] < 60 < r.loc["SII", "ci_high"]
    # PHEindicatormethods' orientation, written out independently: weighted least squares of
    # the rates on x with the population shares, SII = slope, RII = (a + b) / a; ours is its
    # multiplier = -1 form (the SII negated, the RII inverted)
    a = np.full(10, 0.1)
    rates = 1000 * t["count"].to_numpy() / t["population"].to_numpy()
    X = np.column_stack([np.sqrt(a), np.sqrt(a) * x])
    intercept, slope = np.linalg.lstsq(X, np.sqrt(a) * rates, rcond=None)[0]
    assert r.loc["SII", "value"] == pytest.approx(-slope)
    assert r.loc["RII", "value"] == pytest.approx(1 / ((intercept + slope) / intercept))


def test_sii_flat_rates_is_zero():
    t = pd.DataFrame({"imd_decile": range(1, 11), "population": [1000] * 10, "count": [40] * 10})
    assert dep.inequality_indices(t).set_index("index").loc["SII", "value"] == pytest.approx(
        0, abs=1e-9
    )


def test_gini_extremes_and_top_shares():
    eq = dep.concentration(pd.DataFrame({"count": [7] * 10, "population": 1}))
    assert eq.gini == pytest.approx(0)
    one = dep.concentration(pd.DataFrame({"count": [0] * 9 + [50], "population": 1}))
    assert one.gini == pytest.approx(9 / 10)
    assert one.top_shares.set_index("top_pct").loc[10, "share"] == 1.0
    t = dep.concentration(pd.DataFrame({"count": [1, 1, 2, 6, 10], "population": 1}), top=(20, 40))
    assert t.top_shares["share"].tolist() == [0.5, 0.8]
    assert t.lorenz.iloc[-1].tolist() == [1.0, 1.0]


def test_adjusted_gini_near_zero_for_chance_counts():
    rng = np.random.default_rng(3)
    counts = rng.poisson(2, 300)  # even risk, few incidents per place
    r = dep.concentration(pd.DataFrame({"count": counts, "population": 1000}))
    assert r.gini > 0.3
    assert abs(r.gini_adjusted) < 0.05


def test_hotspots_persistence():
    a = _areas()
    a["lsoa_name"], a["count"] = a["lsoa_code"], np.arange(20)
    a["rate"] = a["count"]
    hist = pd.DataFrame(
        {
            "lsoa_code": np.tile(a.lsoa_code, 3),
            "fy": np.repeat(["a", "b", "c"], 20),
            "count": np.r_[np.arange(20), np.arange(20), np.arange(20)[::-1]],
        }
    )
    hist["rate"] = hist["count"]
    h = dep.hotspots(a, top=3, history=hist, min_population=0)
    top = h.lsoas.set_index("lsoa_code")
    assert h.lsoas["lsoa_code"].tolist() == ["E01000019", "E01000018", "E01000017"]
    # top 10% of 20 LSOAs = 2 per year: 19 and 18 in years a and b only
    assert top.loc["E01000019", "years_in_top"] == 2 and top.loc["E01000017", "years_in_top"] == 0
    assert h.n_years == 3
    assert len(dep.hotspots(a, top=3, min_population=5000).lsoas) == 0


# ---------------- real IoD2019 File 7 for Kirklees ----------------


@pytest.fixture(scope="module")
def iod(real_dir):
    return read_iod2019_file7(real_dir / "iod2019_kirklees_lsoa_all_domains.csv")


def test_real_file7_loads_259_kirklees_lsoas(iod):
    assert len(iod) == 259 and iod.lad_code.eq("E08000034").all()
    assert iod.lsoa_code.str.fullmatch(r"E01\d{6}").all()
    assert iod.imd_decile.between(1, 10).all()
    assert iod.population.sum() == 432855  # published mid-2015 denominators, summed


def test_real_crime_domain_vs_imd_spearman(iod, real_dir):
    r = dep.deprivation_correlation(iod, x="imd_score", y="crime_score").iloc[0]
    # independent: the published headings read straight from the file
    raw = pd.read_csv(real_dir / "iod2019_kirklees_lsoa_all_domains.csv")
    expected = stats.spearmanr(raw["Index of Multiple Deprivation (IMD) Score"], raw["Crime Score"])
    assert r.rho == pytest.approx(expected.statistic)
    assert r.p_value == pytest.approx(expected.pvalue)
    assert r.n == 259 and r.rho > 0.5 and r.ci_low < r.rho < r.ci_high


def test_real_recomputed_imd_orders_lsoas_like_the_published_imd(iod):
    rec = dep.imd_without_crime(iod, include_crime=True).merge(iod, on="lsoa_code")
    assert stats.spearmanr(rec.imd_score_recomputed, rec.imd_score).statistic > 0.98
    no = dep.imd_without_crime(iod).merge(iod, on="lsoa_code")
    rho_full = stats.spearmanr(no.imd_score, no.crime_score).statistic
    rho_no = stats.spearmanr(no.imd_score_no_crime, no.crime_score).statistic
    assert rho_no < rho_full  # taking the crime domain out weakens the circular association


def test_real_fixmystreet_counts_correlate_with_deprivation(iod, real_dir):
    fms = pd.read_csv(real_dir / "fixmystreet_reports_kirklees_lsoa_month_2007_2020.csv")
    allr = fms[fms.category_code == "ALL"].groupby("lsoa11cd")["reports"].sum()
    t = iod.assign(count=iod.lsoa_code.map(allr).fillna(0).astype(int))
    t["rate"] = t["count"] / t["population"] * 1000
    r = dep.deprivation_correlation(t).iloc[0]
    assert r.rho == pytest.approx(stats.spearmanr(t.imd_score, t.rate).statistic)
    assert r.n == 259


def test_demo_violence_gradient_steeper_than_vehicle(demo):
    def rr(cat):
        t = dep.lsoa_rates(demo.incidents, demo.areas, period="2024/25", category=cat)
        return dep.rate_ratio(t).iloc[0], dep.inequality_indices(t).set_index("index")

    # the demo borrows the real spatial patterns (IoD2025 violence-with-injury rates and
    # police.uk vehicle crime counts), in which violence follows deprivation far more steeply
    v, v_ii = rr("violence_with_injury")
    c, c_ii = rr("vehicle_offences")
    assert v.rate_ratio > 3 and v.ci_low > 2
    assert c.rate_ratio < v.rate_ratio and c.ci_high < v.ci_high
    assert v_ii.loc["RII", "value"] > 2 * c_ii.loc["RII", "value"]


def test_a_zero_count_lsoa_is_never_a_hotspot_or_persistent():
    """12 incidents a year over 259 LSOAs: fewer than 10% of LSOAs have any, so ranking by
    rate would otherwise fill the top 10% with zero-count LSOAs broken by row order."""
    from kcpp_analysis.analysis.deprivation import hotspots

    rng = np.random.default_rng(0)
    codes = [f"E01{i:06d}" for i in range(259)]
    years = ["2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]
    hist = []
    for fy in years:
        counts = np.bincount(rng.integers(0, 259, 12), minlength=259)
        hist.append(
            pd.DataFrame(
                {
                    "lsoa_code": codes,
                    "fy": fy,
                    "count": counts,
                    "population": 1600,
                    "rate": counts / 1.6,
                    "ward_code": "W",
                    "ward_name": "W",
                    "place": "P",
                }
            )
        )
    hist = pd.concat(hist, ignore_index=True)
    current = hist[hist["fy"] == "2025/26"].drop(columns="fy")
    h = hotspots(current, top=30, history=hist)
    assert (h.lsoas["count"] > 0).all()
    assert len(h.lsoas) == (current["count"] > 0).sum() <= 12
    zero = set(current.loc[current["count"] == 0, "lsoa_code"])
    assert not set(h.lsoas["lsoa_code"]) & zero
    # persistence counts only years in which the LSOA had incidents
    had = hist[hist["count"] > 0].groupby("lsoa_code").size()
    for r in h.lsoas.itertuples():
        assert r.years_in_top <= had.get(r.lsoa_code, 0)


@pytest.mark.realdata
def test_recompute_imd_reproduces_published_iod2025_scores(real_dir):
    """From the national domain ranks in IoD2025 File 7 the published IMD score comes back
    within 0.001 for every English LSOA (published to 3 decimals)."""
    from kcpp_analysis.analysis.deprivation.imd import (
        FILE7_RANK_COLUMNS,
        IMD_DOMAIN_WEIGHTS,
        recompute_imd,
    )

    f = real_dir / "iod2025_england_lsoa21_file7_scores_ranks_deciles.csv"
    d = pd.read_csv(
        f, usecols=["Index of Multiple Deprivation (IMD) Score", *FILE7_RANK_COLUMNS.values()]
    )
    assert len(d) == 33755
    s = recompute_imd(d)
    err = (s - d["Index of Multiple Deprivation (IMD) Score"]).abs()
    assert err.max() < 0.001
    # without crime, on the same scale: weights rescaled, crime ignored
    no_crime = recompute_imd(d, {k: v for k, v in IMD_DOMAIN_WEIGHTS.items() if k != "crime"})
    assert abs(no_crime.corr(s, method="spearman")) > 0.95 and not np.allclose(no_crime, s)
