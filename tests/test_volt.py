"""Victim, offender, location and time profiles: methods against independent computations,
the demo's planted structure recovered, optional extract columns, and the gaps listed."""

import numpy as np
import pandas as pd
import pytest

from kcpp_analysis.analysis.volt import aoristic, top_share
from kcpp_analysis.core.errors import SourceError


def test_aoristic_weights_sum_to_one_per_offence_and_match_a_hand_worked_window():
    rng = np.random.default_rng(2)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 24 * 365, 500), "h")
    tf = pd.Series(start + pd.to_timedelta(rng.integers(0, 60, 500), "m"))
    tt = tf + pd.to_timedelta(rng.integers(0, 12 * 60, 500), "m")
    g = aoristic(tf, tt)
    assert g.sum() == pytest.approx(500)
    # hand-worked: Sunday 2024-01-07 21:15 to Monday 00:05 touches Sun 21, 22, 23 and Mon 00
    g1 = aoristic(
        pd.Series([pd.Timestamp("2024-01-07 21:15")]), pd.Series([pd.Timestamp("2024-01-08 00:05")])
    )
    assert g1[6, 21] == g1[6, 22] == g1[6, 23] == g1[0, 0] == 0.25 and g1.sum() == 1
    # a window longer than a week spreads over the whole week
    g2 = aoristic(pd.Series([pd.Timestamp("2024-01-01")]), pd.Series([pd.Timestamp("2024-01-20")]))
    assert np.allclose(g2, 1 / 168)


def test_heatmap_counts_recomputed_independently_for_exact_times(demo):
    inc = demo.incidents
    v = inc[(inc.category == "shoplifting") & inc.time_from.notna()].head(3000)
    exact = v[v.time_to == v.time_from]
    g = aoristic(exact.time_from, exact.time_to)
    expect = pd.crosstab(exact.time_from.dt.day_of_week, exact.time_from.dt.hour).reindex(
        index=range(7), columns=range(24), fill_value=0
    )
    assert np.array_equal(g, expect.to_numpy())


def test_demo_time_structure_is_recovered(demo):
    """Night-time-economy violence in licensed premises peaks late on Friday and Saturday;
    residential burglary in the weekday daytime."""
    inc = demo.incidents
    nte = inc[
        (inc.location_type == "licensed premises")
        & inc.category.isin(["violence_with_injury", "violence_without_injury"])
    ]
    g = aoristic(nte.time_from, nte.time_to)
    weekend_night = g[4, 22:].sum() + g[5, 22:].sum() + g[5, :3].sum() + g[6, :3].sum()
    assert weekend_night / g.sum() > 0.5
    b = inc[inc.category == "residential_burglary"]
    gb = aoristic(b.time_from, b.time_to)
    assert gb[:5, 10:17].sum() / gb.sum() > 0.35


def test_top_offender_share_and_heavy_tail_in_the_demo(demo):
    c = pd.Series([10, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    assert top_share(c) == pytest.approx(10 / 19)  # the top 10% is one offender of ten
    o = demo.incidents.offender_id.dropna().value_counts()
    # heavy-tailed pool: the top 10% commit well over 10% (uniform would be ~10%)
    assert top_share(o) > 0.2 and (o >= 3).sum() > 0


def test_demo_near_repeats_are_planted_at_the_documented_distance_and_time(demo):
    from kcpp_analysis.analysis.nearrepeat import knox

    b = demo.incidents
    b = b[
        (b.category == "residential_burglary") & (b.date >= "2024-04-01") & (b.date < "2025-04-01")
    ]
    t = knox(
        b[["x", "y", "date"]],
        distance_bands=[100, 400],
        time_bands=[14, 56],
        permutations=49,
        seed=3,
    )
    near, far = t.iloc[0], t.iloc[-1]
    assert near.ratio > 2 and near.p_value <= 0.05
    assert far.ratio == pytest.approx(1, abs=0.25)


def _extract(tmp_path, extra_cols, rows):
    base = "crime_ref,recorded_date,offence_group,lsoa_code,victim_ref,domestic_abuse,hate_crime,hate_strand,vawg,knife_crime,drug_related,alcohol_related"
    p = tmp_path / "crime.csv"
    p.write_text(
        base + ("," + ",".join(extra_cols) if extra_cols else "") + "\n" + "\n".join(rows) + "\n"
    )
    return p


def test_optional_profile_columns_are_parsed_and_offenders_pseudonymised(
    tmp_path, params, monkeypatch
):
    from kcpp_analysis.data.sources.partner import read_partner_extract

    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", "5d1f0c9a7b3e4d2c8a6f1e0b9c7d5a3e")
    cols = [
        "time_from",
        "time_to",
        "victim_age_band",
        "victim_sex",
        "offender_ref",
        "location_type",
        "easting",
        "northing",
    ]
    p = _extract(
        tmp_path,
        cols,
        [
            "C1,2024-05-01,Residential burglary,E01011004,V1,N,N,,N,N,N,N,2024-05-01 09:00,2024-05-01 17:30,35-49,F,OFF-9,Dwelling,414000,416000",
            "C2,2024-05-02,Robbery,E01011004,V1,N,N,,N,N,N,N,,,,,,,,",
        ],
    )
    df, _ = read_partner_extract(p, "police_crime", params)
    assert df.time_from[0] == pd.Timestamp("2024-05-01 09:00") and pd.isna(df.time_from[1])
    assert df.victim_sex[0] == "female" and df.location_type[0] == "dwelling"
    assert df.offender_id[0].startswith("P") and "OFF-9" not in df.to_csv()
    assert (df.x[0], df.y[0]) == (414000.0, 416000.0)
    bad = _extract(
        tmp_path,
        ["location_type"],
        ["C1,2024-05-01,Robbery,E01011004,,N,N,,N,N,N,N,pub garden"],
    )
    with pytest.raises(
        SourceError, match=r"column 'location_type' line 2: 'pub garden' is not one of"
    ):
        read_partner_extract(bad, "police_crime", params)


def test_sections_say_what_is_missing_without_profile_columns(params, tmp_path):
    """An extract with none of the optional columns: every profile section returns a
    sentence naming the gap instead of failing."""
    from builders import incidents_by_lsoa, report_context

    from kcpp_analysis.report.sections import compute

    inc = incidents_by_lsoa(
        {(f"E0100000{i}", fy): 60 for i in range(8) for fy in ("2024/25", "2025/26")}
    )
    ctx = report_context(params, inc, tmp_path)
    pr = params.priority("neighbourhood_crime")
    for kind, words in (
        ("time_profile", "time of occurrence"),
        ("people", "victim age or sex"),
        ("location", "location type"),
    ):
        r = compute(kind, ctx, pr)
        assert any("intelligence gap" in s and words in s for s in r.sentences), (kind, r.sentences)


def test_people_section_rates_use_the_census_age_bands(demo, params, tmp_path):
    """Victim rates per 1,000 of each Census 2021 age band, recomputed here from the
    incidents and the areas table; repeat callers from the caller references."""
    from kcpp_analysis.report.context import ReportContext
    from kcpp_analysis.report.sections import compute

    ctx = ReportContext(params=params, dataset=demo, year="2025/26", output_dir=tmp_path)
    pr = params.priority("domestic_abuse")
    r = compute("people", ctx, pr)
    t = r.tables[0].data.set_index("age_band")
    inc = ctx.incidents(pr)
    inc = inc[(inc.date >= "2025-04-01") & (inc.date < "2026-04-01") & inc.victim_age_band.notna()]
    n = inc.victim_age_band.value_counts()
    a = demo.areas
    for band, col in (("16-24", "pop_16_24"), ("35-49", "pop_35_49")):
        assert float(t.loc[band, "rate_per_1000"]) == pytest.approx(1000 * n[band] / a[col].sum())
    asb = compute("people", ctx, params.priority("asb"))
    calls = [tb for tb in asb.tables if tb.name.endswith("repeat_callers")]
    assert calls and "came from callers who called more than once" in " ".join(asb.sentences)
