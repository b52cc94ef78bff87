"""Health data on violence: the A&E (ISTV) and admissions readers, and police and health side
by side in the serious violence pages, checked against counts taken straight from the data."""

from __future__ import annotations

import pandas as pd
import pytest

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.periods import in_fy
from kcpp_analysis.data.crosswalk import Crosswalk
from kcpp_analysis.data.sources.health import read_admissions, read_assaults

HEAD = "attendance_date,attendance_time,assault_location,weapon,age_band,sex,lsoa_code,postcode_district\n"


@pytest.fixture(scope="module")
def place(demo):
    cw = Crosswalk(demo.areas)
    return lambda codes, keys=None: cw.place(codes, keys=keys)


def _write(tmp_path, text, name="ae.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_ae_rows_are_read_placed_and_counted(tmp_path, place, demo):
    code = demo.areas["lsoa_code"].iloc[0]
    p = _write(
        tmp_path,
        HEAD
        + f"2025-06-01,23:40,street,knife or sharp instrument,16-24,male,{code},\n"
        + "2025-06-02,,home,body,25-34,female,,HD1\n"
        + "2025-06-03,01:05,street,body,25-34,male,E01000001,\n",  # Camden: outside the area
    )
    df, q = read_assaults(p, place)
    assert len(df) == 2 and q["outside_area"] == 1 and q["by_postcode_district"] == 1
    assert df["lsoa_code"].iloc[0] == code and pd.isna(df["lsoa_code"].iloc[1])
    assert df["hour"].iloc[0] == 23 and pd.isna(df["hour"].iloc[1])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2025-13-01,,street,body,16-24,male,E01011004,", "column 'attendance_date' line 2"),
        ("2025-06-01,25:00,street,body,16-24,male,E01011004,", "column 'attendance_time' line 2"),
        ("2025-06-01,,street,a cricket bat,16-24,male,E01011004,", "column 'weapon' line 2"),
        ("2025-06-01,,street,body,16-25,male,E01011004,", "column 'age_band' line 2"),
        ("2025-06-01,,street,body,16-24,male,,", "line 2: neither 'lsoa_code' nor"),
    ],
)
def test_bad_ae_rows_are_named_by_file_column_and_line(tmp_path, place, row, message):
    p = _write(tmp_path, HEAD + row + "\n")
    with pytest.raises(SourceError, match=message) as e:
        read_assaults(p, place)
    assert "ae.csv" in str(e.value)


def test_personal_data_columns_are_refused_without_echo(tmp_path, place):
    p = _write(
        tmp_path,
        HEAD.strip() + ",nhs_number\n2025-06-01,,street,body,16-24,male,E01011004,,9434765919\n",
    )
    with pytest.raises(SourceError, match="not allowed") as e:
        read_assaults(p, place)
    assert "9434765919" not in str(e.value)


def test_admissions_by_lsoa_or_ward_with_assault_codes(tmp_path, place, demo):
    lsoa = demo.areas["lsoa_code"].iloc[0]
    ward = demo.areas["ward_code"].iloc[0]
    p = _write(
        tmp_path,
        "month,area_code,icd10,age_band,count\n"
        f"2025-06,{lsoa},X99,16-24,3\n2025-06,{ward},Y04.0,25-34,2\n",
        "adm.csv",
    )
    df, q = read_admissions(p, place, demo.areas)
    assert df["count"].tolist() == [3, 2] and q["count"] == 5
    assert df["icd10"].tolist() == ["X99", "Y04"]
    bad = _write(
        tmp_path, "month,area_code,icd10,age_band,count\n2025-06,E01011004,W19,16-24,1\n", "b.csv"
    )
    with pytest.raises(SourceError, match="column 'icd10' line 2"):
        read_admissions(bad, place, demo.areas)


def test_police_and_health_side_by_side_match_a_recount(demo_dir, demo, params, tmp_path):
    from kcpp_analysis.report import compute_section, open_report

    ctx = open_report(demo_dir, "2025/26", tmp_path / "o")
    pr = params.priority("serious_violence")
    r = compute_section("health", ctx, pr)
    vol = r.tables[0].data.set_index("financial_year")
    ae = demo.extras["hospital_assaults"]
    adm = demo.extras["hospital_admissions"]
    for y in vol.index:
        assert vol.loc[y, "ae_attendances"] == int(in_fy(ae["date"], y).sum())
        assert vol.loc[y, "police"] == int(in_fy(ctx.incidents(pr)["date"], y).sum())
        m = adm["month"]
        months = (m >= pd.Timestamp(int(y[:4]), 4, 1)) & (m < pd.Timestamp(int(y[:4]) + 1, 4, 1))
        assert vol.loc[y, "admissions"] == int(adm.loc[months, "count"].sum())
    assert any("A&E" in s for s in r.sentences)
    assert r.figures and "synthetic" not in r.figures[0].alt.lower()
