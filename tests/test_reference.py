"""The reference extract: rebuilt from the national files in ../shared and compared."""

import json

import numpy as np
import pandas as pd
import pytest

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.data.reference import (
    REFERENCE_DIR,
    build_reference,
    compare_extracts,
    reference_areas,
)

FILE7 = "iod2025_england_lsoa21_file7_scores_ranks_deciles.csv"


def test_shipped_kirklees_extract_is_rebuilt_identically(tmp_path, real_dir):
    out = build_reference("E08000034", real_dir, tmp_path / "E08000034")
    assert compare_extracts(out, REFERENCE_DIR / "E08000034") == []


def test_areas_table_counts_and_census_total(params):
    a = reference_areas(params)
    assert len(a) == 260 and a.ward_code.nunique() == 23
    assert a.population.sum() == 433_206  # Census 2021, Kirklees usual residents
    assert a[[c for c in a.columns if c.startswith("pop_")]].sum(axis=1).eq(a.population).all()
    assert set(a.place) == set(params.sia.places)


def test_iod2025_values_match_file7_and_census_recomputed_from_the_raw_files(real_dir, params):
    a = reference_areas(params).set_index("lsoa_code")
    f7 = pd.read_csv(real_dir / FILE7).set_index("LSOA code (2021)")
    f7 = f7[f7["Local Authority District code (2024)"] == "E08000034"]
    assert set(f7.index) == set(a.index)
    dec = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    assert (a.imd_decile == f7[dec].reindex(a.index)).all()
    assert (a.imd_score == f7["Index of Multiple Deprivation (IMD) Score"].reindex(a.index)).all()
    assert (a.crime_rank == f7["Crime Rank (where 1 is most deprived)"].reindex(a.index)).all()
    c = pd.read_csv(real_dir / "census2021_lsoa21_usual_residents_by_age_england_wales.csv")
    c = c[c.lsoa21_code.isin(a.index)].groupby("lsoa21_code").usual_residents.sum()
    assert (a.population == c.reindex(a.index)).all()


def test_another_local_authority_is_built_with_the_same_command(tmp_path, real_dir):
    from typer.testing import CliRunner

    from kcpp_analysis.run.cli import app

    r = CliRunner().invoke(
        app,
        [
            "reference",
            "build",
            "--lad",
            "E08000035",
            "--from",
            str(real_dir),
            "--out",
            str(tmp_path / "leeds"),
        ],
    )
    assert r.exit_code == 0, r.output
    man = json.loads((tmp_path / "leeds" / "manifest.json").read_text())
    lk = pd.read_csv(real_dir / "ons_lsoa21_ward24_ltla24_lookup_england_wales.csv")
    assert man["lad_name"] == "Leeds" and man["n_lsoas"] == (lk.ltla24_code == "E08000035").sum()
    # police.uk 12-month counts cover West Yorkshire: Leeds gets them too
    assert (tmp_path / "leeds" / "crime_12m.csv").is_file()


def test_unknown_lad_and_foreign_folder_are_refused(tmp_path, real_dir):
    with pytest.raises(SourceError, match=r"ltla24_code.*'E08999999'"):
        build_reference("E08999999", real_dir, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(SourceError, match="not a reference extract"):
        build_reference("E08000034", real_dir, mine)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_imd_without_crime_uses_the_national_domain_ranks(params):
    """With the national ranks of the reference extract, the recomputation including crime
    reproduces the published IoD2025 IMD score of every Kirklees LSOA (within 0.001, the
    published rounding), so the version without crime is on the national scale too."""
    from kcpp_analysis.analysis.deprivation import imd_without_crime

    a = reference_areas(params)
    full = imd_without_crime(a, include_crime=True)
    assert (full["imd_score_recomputed"] - a["imd_score"]).abs().max() < 0.001
    nc = imd_without_crime(a)
    # dropping a domain with weight 9.3% moves scores, but not the order much
    assert nc["imd_score_no_crime"].corr(a["imd_score"], method="spearman") > 0.95
    assert not np.allclose(nc["imd_score_no_crime"], a["imd_score"], atol=0.01)


def test_iod2019_is_carried_across_splits_and_merges(real_dir, params):
    """Hand-worked from the raw files: the 2021 LSOA E01034588 was merged from E01011171 and
    E01011172 (population-weighted mean of their IoD2019 scores); E01034584 and E01034585 were
    split from E01033542 (each inherits its score and decile)."""
    a = reference_areas(params).set_index("lsoa_code")
    iod = pd.read_csv(real_dir / "iod2019_kirklees_lsoa_all_domains.csv").set_index(
        "LSOA code (2011)"
    )
    s = iod["Index of Multiple Deprivation (IMD) Score"]
    w = iod["Total population: mid 2015 (excluding prisoners)"]
    d = iod["Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"]
    p = ["E01011171", "E01011172"]
    assert a.loc["E01034588", "imd2019_score"] == pytest.approx(
        (s[p] * w[p]).sum() / w[p].sum(), abs=5e-4
    )
    assert a.loc["E01034588", "imd2019_decile"] == d[w[p].idxmax()]
    for child in ("E01034584", "E01034585"):
        assert a.loc[child, "imd2019_score"] == pytest.approx(s["E01033542"])
        assert a.loc[child, "imd2019_decile"] == d["E01033542"]
    assert a.loc["E01011004", "imd2019_score"] == pytest.approx(s["E01011004"])  # unchanged
