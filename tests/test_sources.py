"""Real-data loaders (tested on ../shared/data/real) and bad-input handling."""

import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from kcpp_analysis.core.errors import ConfigError, SourceError
from kcpp_analysis.data.crosswalk import Crosswalk
from kcpp_analysis.data.dataset import load_dataset
from kcpp_analysis.data.prepare.sources import _place, prepare_from_sources
from kcpp_analysis.data.sources.fixmystreet import read_fixmystreet
from kcpp_analysis.data.sources.geography import (
    build_areas,
    read_iod2019_file7,
    read_lookup,
    read_ons_lsoa_ward,
    read_population,
)
from kcpp_analysis.data.sources.partner import read_partner_extract
from kcpp_analysis.data.sources.policeuk import read_policeuk_street
from kcpp_analysis.data.sources.sourcesfile import load_sources
from kcpp_analysis.data.sources.stats19 import read_stats19

POLICE = "policeuk_street_2020-04_kirklees_sample_police_uk_layout.csv"


@pytest.fixture(scope="module")
def real_areas(real_dir, params):
    iod = read_iod2019_file7(
        real_dir / "iod2019_kirklees_lsoa_all_domains.csv", lad_code="E08000034"
    )
    lw = read_ons_lsoa_ward(
        real_dir / "ons_lsoa11_ward2019_lad2019_lookup_west_yorkshire.csv", lad_code="E08000034"
    )
    pop = read_population(real_dir / "ons_mid2018_lsoa_population_density_west_yorkshire.csv")
    return build_areas(iod, lw, params, pop)


def test_real_areas(real_areas):
    assert len(real_areas) == 259 and real_areas["ward_code"].nunique() == 23
    assert real_areas["population"].sum() == 438727  # mid-2018 estimates, PROVENANCE.md
    assert set(real_areas["place"]) == {
        "Batley & Spen",
        "Dewsbury & Mirfield",
        "Huddersfield",
        "Rural",
    }


# ---------------------------------------------------------------- police.uk


def _police(real_dir, params, areas, path=None, lookup=None):
    """Read a police.uk file and place its rows as ``kcpp prepare`` does (the crosswalk)."""
    df, q = read_policeuk_street([Path(path or real_dir / POLICE)], params)
    cw = Crosswalk(areas, lookup=lookup)
    df, how = _place(df, cw)
    q.update(cw.summary(how))
    q["rows_kept"] = len(df)
    return df, q


def test_policeuk_real_sample(real_dir, params, real_areas):
    df, q = _police(real_dir, params, real_areas)
    raw = pd.read_csv(real_dir / POLICE)
    assert len(df) == len(raw) == 73 and q["rows_kept"] == 73
    asb = raw["Crime type"].eq("Anti-social behaviour")
    assert (df["source"] == "police_asb").sum() == asb.sum() == 21
    assert df.loc[df.source == "police_asb", "incident_id"].str.match(r"ASB-[0-9a-f]{20}$").all()
    assert set(df.loc[df.source == "police_crime", "incident_id"]) == set(raw.loc[~asb, "Crime ID"])
    assert (df["date"] == pd.Timestamp("2020-04-01")).all() and (df.date_precision == "month").all()
    vs = raw["Crime type"].eq("Violence and sexual offences").sum()
    assert (df["category"] == "violence_and_sexual_offences").sum() == vs
    again, _ = _police(real_dir, params, real_areas)
    assert again["incident_id"].tolist() == df["incident_id"].tolist()  # stable derived ids


def _asb_id(name: str, row: list[str], n: int) -> str:
    """The documented ASB id, computed independently: SHA-256 of file name, Month,
    Longitude, Latitude (as numbers), LSOA code, Crime type and 1; the n-th row of a file
    with the same values (n > 1): SHA-256 of the first one's id and n."""
    import hashlib

    month, lon, lat, code, ctype = row[1], row[4], row[5], row[7], row[9]
    fields = [month, repr(float(lon)) if lon else "", repr(float(lat)) if lat else "", code, ctype]
    first = "ASB-" + hashlib.sha256("|".join([name, *fields, "1"]).encode()).hexdigest()[:20]
    return first if n == 1 else "ASB-" + hashlib.sha256(f"{first}|{n}".encode()).hexdigest()[:20]


def _expected_ids(name: str, rows: list[list[str]]) -> list[str]:
    """Every row's id in line order: its Crime ID, or the documented ASB id with rows of
    the same values numbered 1, 2, ... in line order."""
    seen: dict[tuple, int] = {}
    out = []
    for r in rows:
        if r[0]:
            out.append(r[0])
            continue
        key = (r[1], r[4], r[5], r[7], r[9])
        seen[key] = seen.get(key, 0) + 1
        out.append(_asb_id(name, r, seen[key]))
    return out


def test_policeuk_identical_asb_rows_get_their_own_ids_and_rows_keep_reading_order(
    real_dir, params, tmp_path
):
    """Three identical ASB lines in one file: three rows with their own ids, numbered in
    the documented hash; every row (crime and ASB) comes back in file-then-line order."""
    import csv

    lines = (real_dir / POLICE).read_text().splitlines()
    rows = list(csv.reader(lines[1:]))
    i = next(k for k, r in enumerate(rows) if r[9] == "Anti-social behaviour")
    name_a, name_b = "2020-04-west-yorkshire-street.csv", "2020-05-west-yorkshire-street.csv"
    (tmp_path / name_a).write_text("\n".join([*lines, lines[i + 1], lines[i + 1]]) + "\n")
    second = [ln.replace("2020-04", "2020-05") for ln in lines]
    (tmp_path / name_b).write_text("\n".join(second) + "\n")
    df, q = read_policeuk_street([tmp_path / name_b, tmp_path / name_a], params)
    # b repeats a's 52 Crime IDs (dropped); its 21 ASB rows are new (another file name)
    assert len(df) == 73 + 2 + 21 and q["duplicates_dropped"] == 52
    assert df["incident_id"].is_unique
    # reading order: file a (first by name) line by line, then b's ASB rows
    want_a = _expected_ids(name_a, [*rows, rows[i], rows[i]])
    want_b = [x for x in _expected_ids(name_b, list(csv.reader(second[1:]))) if x[:4] == "ASB-"]
    assert df["incident_id"].tolist() == want_a + want_b
    assert len({_asb_id(name_a, rows[i], n) for n in (1, 2, 3)} & set(want_a)) == 3
    assert (df["date"].iloc[: len(want_a)] == pd.Timestamp("2020-04-01")).all()
    assert (df["date"].iloc[len(want_a) :] == pd.Timestamp("2020-05-01")).all()


def test_policeuk_zip_and_folder_tree_read_the_same(real_dir, params, real_areas, tmp_path):
    tree = tmp_path / "archive" / "2020-04"
    tree.mkdir(parents=True)
    shutil.copy(real_dir / POLICE, tree / "2020-04-west-yorkshire-street.csv")
    (tree / "2020-04-west-yorkshire-outcomes.csv").write_text("not,a,street,file\n")
    z = tmp_path / "download.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(
            tree / "2020-04-west-yorkshire-street.csv", "2020-04/2020-04-west-yorkshire-street.csv"
        )
    a, _ = read_policeuk_street([tmp_path / "archive"], params)
    b, _ = read_policeuk_street([z], params)
    assert len(a) == len(b) == 73
    assert sorted(a.incident_id[a.source == "police_crime"]) == sorted(
        b.incident_id[b.source == "police_crime"]
    )


def _variant(real_dir, tmp_path, fn, name="v.csv", mode="w"):
    text = (real_dir / POLICE).read_text()
    p = tmp_path / name
    out = fn(text)
    if isinstance(out, bytes):
        p.write_bytes(out)
    else:
        p.write_text(out, newline="")
    return p


def test_bad_missing_column(real_dir, params, real_areas, tmp_path):
    p = real_dir / "policeuk_street_2020-04_kirklees_SAMPLE_73rows.csv"  # repo author's layout
    with pytest.raises(
        SourceError, match=r"SAMPLE_73rows.csv: missing column\(s\) \['Reported by'\]"
    ):
        _police(real_dir, params, real_areas, p)


def test_extra_unknown_column_is_ignored(real_dir, params, real_areas, tmp_path):
    def add(t):
        lines = t.splitlines()
        return "\n".join([lines[0] + ",Extra"] + [ln + ",x" for ln in lines[1:]]) + "\n"

    df, _ = _police(real_dir, params, real_areas, _variant(real_dir, tmp_path, add))
    assert len(df) == 73


def test_bad_month_format_names_file_column_line(real_dir, params, real_areas, tmp_path):
    def bad(t):
        lines = t.splitlines()
        lines[5] = lines[5].replace(",2020-04,", ",04/2020,", 1)
        return "\n".join(lines) + "\n"

    with pytest.raises(SourceError, match=r"v.csv: column 'Month' line 6: '04/2020'"):
        _police(real_dir, params, real_areas, _variant(real_dir, tmp_path, bad))


def test_not_a_csv(real_dir, params, real_areas, tmp_path):
    p = tmp_path / "2020-04-west-yorkshire-street.csv"
    p.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(SourceError, match="not a CSV text file"):
        _police(real_dir, params, real_areas, p)


def test_empty_file(real_dir, params, real_areas, tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("")
    with pytest.raises(SourceError, match="e.csv: file is empty"):
        _police(real_dir, params, real_areas, p)


def test_bom_and_windows_line_endings_are_read(real_dir, params, real_areas, tmp_path):
    bom = _variant(real_dir, tmp_path, lambda t: b"\xef\xbb\xbf" + t.encode(), "bom.csv")
    crlf = _variant(real_dir, tmp_path, lambda t: t.replace("\n", "\r\n"), "crlf.csv")
    assert len(_police(real_dir, params, real_areas, bom)[0]) == 73
    assert len(_police(real_dir, params, real_areas, crlf)[0]) == 73


def test_duplicated_crime_ids_are_dropped_and_counted(real_dir, params, real_areas, tmp_path):
    def dup(t):
        lines = t.splitlines()
        return "\n".join(lines + [lines[1], lines[2]]) + "\n"

    df, q = _police(real_dir, params, real_areas, _variant(real_dir, tmp_path, dup))
    assert q["duplicates_dropped"] == 2 and len(df) == 73


def test_lsoa_of_another_district_and_no_location_are_counted(
    real_dir, params, real_areas, tmp_path
):
    def f(t):
        lines = t.splitlines()
        lines[1] = lines[1].replace("E01011029", "E01010652")  # a Bradford LSOA
        parts = lines[2].split(",")
        parts[4:9] = ["", "", "No Location", "", ""]
        lines[2] = ",".join(parts)
        return "\n".join(lines) + "\n"

    df, q = _police(real_dir, params, real_areas, _variant(real_dir, tmp_path, f))
    assert q["outside_area"] == 1 and q["no_location"] == 1 and len(df) == 71


def test_truncated_last_line_names_the_line(real_dir, params, real_areas, tmp_path):
    p = _variant(real_dir, tmp_path, lambda t: t[: t.rindex("\n", 0, len(t) - 1) + 30])
    with pytest.raises(SourceError, match=r"v.csv: line 74: row has the wrong number of columns"):
        _police(real_dir, params, real_areas, p)


def test_2021_lsoa_codes_map_through_the_ons_lookup(real_dir, params, real_areas, tmp_path):
    lk = read_lookup(real_dir / "ons_lsoa11_lsoa21_lad22_lookup_west_yorkshire.csv")
    cw = Crosswalk(real_areas, lookup=lk)
    assert cw.candidates["E01034584"] == ["E01033542"] == cw.candidates["E01034585"]  # split
    assert cw.candidates["E01034588"] == ["E01011171", "E01011172"]  # merged from two
    p = _variant(real_dir, tmp_path, lambda t: t.replace("E01011029", "E01034584", 1))
    df, q = _police(real_dir, params, real_areas, p, lookup=lk)
    assert q["lookup"] == 1 and (df.lsoa_code == "E01033542").sum() == 1 and len(df) == 73


# ---------------------------------------------------------------- STATS19, FixMyStreet


def _reference_crosswalk(params):
    from kcpp_analysis.data.reference import (
        geometries,
        reference_areas,
        reference_boundaries,
        reference_dir,
    )

    areas = reference_areas(params)
    lk = read_lookup(reference_dir() / "lsoa11_lsoa21.csv")
    return areas, Crosswalk(areas, lookup=lk, boundaries=geometries(reference_boundaries()))


def test_stats19_2024_on_2021_lsoas_keeps_every_kirklees_casualty(real_dir, params):
    """Selected by the published district, every 2024 casualty is placed in a Kirklees LSOA
    2021; the counts are recomputed here from the raw CSVs (the shared excerpt: 20
    casualties, 10 KSI; the full 2024 file has 780 and 192)."""
    col = pd.read_csv(real_dir / "dft_stats19_2024_collisions_EXCERPT.csv")
    cas = pd.read_csv(real_dir / "dft_stats19_2024_casualties_EXCERPT.csv")
    k = cas.merge(col[col.local_authority_ons_district == "E08000034"], on="collision_index")
    ksi = int(k.casualty_severity.isin([1, 2]).sum())
    df, _ = read_stats19(
        real_dir / "dft_stats19_2024_collisions_EXCERPT.csv",
        real_dir / "dft_stats19_2024_casualties_EXCERPT.csv",
        "E08000034",
    )
    areas, cw = _reference_crosswalk(params)
    placed, how = _place(df, cw)
    assert len(placed) == len(k) > 0 and placed.severity.isin(["fatal", "serious"]).sum() == ksi
    assert placed.lsoa_code.isin(set(areas.lsoa_code)).all()
    assert cw.summary(how)["outside_area"] == 0 == cw.summary(how)["no_location"]


def test_stats19_one_incident_per_kirklees_casualty(real_dir, real_areas):
    df, q = read_stats19(
        real_dir / "dft_stats19_2024_collisions_EXCERPT.csv",
        real_dir / "dft_stats19_2024_casualties_EXCERPT.csv",
        "E08000034",
    )
    col = pd.read_csv(real_dir / "dft_stats19_2024_collisions_EXCERPT.csv")
    cas = pd.read_csv(real_dir / "dft_stats19_2024_casualties_EXCERPT.csv")
    k = cas.merge(col[col.local_authority_ons_district == "E08000034"], on="collision_index")
    assert len(df) == len(k) and df.incident_id.is_unique
    assert (df.severity.isin(["fatal", "serious"])).sum() == k.casualty_severity.isin([1, 2]).sum()
    assert (df.source == "roads").all() and (df.category == "road_casualty").all()


def test_fixmystreet_reports_become_incidents(real_dir, params, real_areas):
    df, q = read_fixmystreet(
        real_dir / "fixmystreet_reports_kirklees_lsoa_month_2007_2020.csv", params
    )
    raw = pd.read_csv(real_dir / "fixmystreet_reports_kirklees_lsoa_month_2007_2020.csv")
    mapped = raw[raw.category_code.isin(["A1", "A20", "A28", "A33", "A29", "A22"])]
    assert len(df) == mapped.reports.sum()
    assert (df.category == "fly_tipping").sum() == mapped[
        mapped.category_code.isin(["A29", "A22"])
    ].reports.sum()
    assert df.incident_id.is_unique and (df.source == "fixmystreet").all()


def test_fixmystreet_2011_codes_lose_nothing_on_the_2021_geography(real_dir, params):
    df, _ = read_fixmystreet(
        real_dir / "fixmystreet_reports_kirklees_lsoa_month_2007_2020.csv", params
    )
    _, cw = _reference_crosswalk(params)
    placed, how = _place(df, cw)
    s = cw.summary(how)
    assert len(placed) == len(df) and s["outside_area"] == 0 and s["no_location"] == 0
    # splits are shared by population, deterministically
    again, _ = _place(df, cw)
    assert again.lsoa_code.tolist() == placed.lsoa_code.tolist()


# ---------------------------------------------------------------- partner extracts


def test_partner_extract_codes_of_any_vintage_case_and_padding_lose_nothing(
    tmp_path, params, monkeypatch
):
    """A 2021 code, a 2011 code (unchanged, split and merged), lower case and padding: every
    row is placed in a Kirklees LSOA 2021."""
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", "5d1f0c9a7b3e4d2c8a6f1e0b9c7d5a3e")
    rows = [
        "C1,2024-05-01,Robbery,E01011004,,N,N,,N,N,N,N",  # 2021 (= 2011, unchanged)
        "C2,2024-05-01,Robbery,e01011005,,N,N,,N,N,N,N",  # lower case
        "C3,2024-05-01,Robbery,  E01011006 ,,N,N,,N,N,N,N",  # padded
        "C4,2024-05-01,Robbery,E01033542,,N,N,,N,N,N,N",  # 2011 code split in 2021
        "C5,2024-05-01,Robbery,E01011171,,N,N,,N,N,N,N",  # 2011 code merged in 2021
        "C6,2024-05-01,Robbery,E01034584,,N,N,,N,N,N,N",  # 2021 code of a split
    ]
    df, _ = read_partner_extract(_partner(tmp_path, rows), "police_crime", params)
    areas, cw = _reference_crosswalk(params)
    placed, how = _place(df, cw)
    assert len(placed) == 6 and placed.lsoa_code.isin(set(areas.lsoa_code)).all()
    assert how.tolist() == [
        "exact",
        "normalised",
        "exact",  # the partner reader strips padding itself
        "split_by_share",
        "lookup",
        "exact",
    ]
    lk = pd.read_csv(
        Path(__file__).parents[1] / "kcpp_analysis/resources/reference/E08000034/lsoa11_lsoa21.csv"
    )
    assert placed.lsoa_code[3] in set(lk.loc[lk.LSOA11CD == "E01033542", "LSOA21CD"])
    assert placed.lsoa_code[4] == lk.loc[lk.LSOA11CD == "E01011171", "LSOA21CD"].item()


def _partner(tmp_path, rows):
    p = tmp_path / "crime.csv"
    head = (
        "crime_ref,recorded_date,offence_group,lsoa_code,victim_ref,domestic_abuse,hate_crime,"
        "hate_strand,vawg,knife_crime,drug_related,alcohol_related\n"
    )
    p.write_text(head + "".join(r + "\n" for r in rows))
    return p


def test_partner_extract_pseudonymises_victims(tmp_path, params, monkeypatch):
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", "7c2e9b41d8a05f36e1b7c94a2d8f063b")
    p = _partner(
        tmp_path,
        [
            "C1,2024-05-01,Violence with injury,E01011004,PERSON-42,Y,N,,Y,N,N,Y",
            "C2,2024-06-01,Stalking and harassment,E01011004,PERSON-42,Y,N,,Y,N,N,N",
            "C3,2024-06-02,Public order offences,E01011004,,N,Y,Race,N,N,N,N",
        ],
    )
    df, _ = read_partner_extract(p, "police_crime", params)
    assert df.victim_id[0] == df.victim_id[1] and df.victim_id[0].startswith("P")
    assert "PERSON-42" not in df.to_csv() and pd.isna(df.victim_id[2])
    assert df.domestic_abuse.tolist() == [True, True, False] and df.hate_strand[2] == "race"
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", "e4b1a97c3d2f08e65b9a1c7d4f3e2b60")
    df2, _ = read_partner_extract(p, "police_crime", params)
    assert df2.victim_id[0] != df.victim_id[0]


def test_partner_extract_needs_the_key(tmp_path, params, monkeypatch):
    monkeypatch.delenv("KCPP_PSEUDONYM_KEY", raising=False)
    p = _partner(tmp_path, ["C1,2024-05-01,Violence with injury,E01011004,V1,Y,N,,Y,N,N,Y"])
    with pytest.raises(SourceError, match="KCPP_PSEUDONYM_KEY is not set"):
        read_partner_extract(p, "police_crime", params)


def test_partner_extract_bad_date_and_category(tmp_path, params, monkeypatch):
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", "0b8e2d6f4a1c9e3b7d5f2a8c6e4b1d9f")
    p = _partner(
        tmp_path,
        [
            "C1,2024-05-01,Violence with injury,E01011004,,N,N,,N,N,N,N",
            "C2,01/06/2024,Robbery,E01011004,,N,N,,N,N,N,N",
        ],
    )
    with pytest.raises(
        SourceError, match=r"crime.csv: column 'recorded_date' line 3: '01/06/2024'"
    ):
        read_partner_extract(p, "police_crime", params)
    p = _partner(tmp_path, ["C1,2024-05-01,Violence wiht injury,E01011004,,N,N,,N,N,N,N"])
    with pytest.raises(
        SourceError, match=r"column 'offence_group' line 2: unknown value 'Violence wiht injury'"
    ):
        read_partner_extract(p, "police_crime", params)


# ---------------------------------------------------------------- sources file


def _sources(tmp_path, real_dir, extra=None, coverage=None):
    d = {
        "sources": [
            {"kind": "iod2019", "path": str(real_dir / "iod2019_kirklees_lsoa_all_domains.csv")},
            {
                "kind": "ons_lsoa_ward",
                "path": str(real_dir / "ons_lsoa11_ward2019_lad2019_lookup_west_yorkshire.csv"),
            },
            {
                "kind": "population",
                "path": str(real_dir / "ons_mid2018_lsoa_population_density_west_yorkshire.csv"),
            },
            {"kind": "policeuk_street", "path": str(real_dir / POLICE)},
            {
                "kind": "stats19",
                "collisions": str(real_dir / "dft_stats19_2024_collisions_EXCERPT.csv"),
                "casualties": str(real_dir / "dft_stats19_2024_casualties_EXCERPT.csv"),
            },
            {
                "kind": "fixmystreet",
                "path": str(real_dir / "fixmystreet_reports_kirklees_lsoa_month_2007_2020.csv"),
            },
        ]
        + (extra or [])
    }
    if coverage:
        d["coverage"] = coverage
    import yaml

    p = tmp_path / "sources.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_sources_file_errors_name_the_entry(tmp_path, real_dir):
    import yaml

    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump({"sources": [{"kind": "iod2019", "path": "x.csv"}]}))
    with pytest.raises(
        ConfigError, match=r"sources\[0\] \(iod2019\): key 'path': file not found: x.csv"
    ):
        load_sources(p)
    p.write_text(yaml.safe_dump({"sources": [{"kind": "police_uk", "path": "x"}]}))
    with pytest.raises(ConfigError, match=r"sources\[0\]: unknown kind 'police_uk'"):
        load_sources(p)
    p.write_text(
        yaml.safe_dump({"sources": [{"kind": "fixmystreet", "path": str(tmp_path / "*.nothing")}]})
    )
    with pytest.raises(ConfigError, match="glob matches no file"):
        load_sources(p)
    p.write_text(
        yaml.safe_dump(
            {"sources": [{"kind": "iod2019", "path": str(real_dir / POLICE), "sheet": 1}]}
        )
    )
    with pytest.raises(ConfigError, match=r"sources\[0\]: key 'sheet': unknown key"):
        load_sources(p)


def test_example_sources_file_is_valid(real_dir):
    from kcpp_analysis.core.paths import PROJECT_ROOT

    sf, _ = load_sources(PROJECT_ROOT / "params" / "sources.example.yaml")
    assert {e.kind for e in sf.sources} >= {"policeuk_street", "stats19", "fixmystreet"}


def test_bad_file_leaves_no_prepared_dataset(tmp_path, real_dir, params):
    bad = tmp_path / "2020-04-west-yorkshire-street.csv"
    bad.write_text((real_dir / POLICE).read_text().replace(",2020-04,", ",2020-4,", 1))
    s = _sources(tmp_path, real_dir)
    s.write_text(s.read_text().replace(str(real_dir / POLICE), str(bad)))
    with pytest.raises(SourceError, match="column 'Month' line 2"):
        prepare_from_sources(s, tmp_path / "prepared", params=params)
    assert not (tmp_path / "prepared").exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


@pytest.mark.slow
def test_real_geography_prepare_and_report_set(tmp_path, real_dir, params):
    from kcpp_analysis.run.pipeline import run_report

    s = _sources(tmp_path, real_dir, coverage={"first_year": "2019/20", "last_year": "2020/21"})
    # the STATS19 excerpt (2024) ends empty in this coverage: an error unless accepted
    with pytest.raises(SourceError, match=r"stats19: no rows left"):
        prepare_from_sources(s, tmp_path / "prepared", synthesise_missing=True, params=params)
    out = prepare_from_sources(
        s, tmp_path / "prepared", synthesise_missing=True, params=params, allow_loss=True
    )
    ds = load_dataset(out)
    meta = json.loads((out / "dataset.json").read_text())
    assert ds.areas.lsoa_code.str.startswith("E01").all() and len(ds.areas) == 259
    # police.uk (April 2020) is real; the STATS19 excerpt is 2024, outside this coverage, so roads
    # are synthesised like council and fire
    assert set(meta["synthetic_sources"]) == {"council", "fire", "roads"}
    assert {"survey", "indicators"} <= set(meta["synthetic_tables"])
    assert (ds.incidents.source == "fixmystreet").sum() > 0
    assert meta["quality"]["outside_coverage"] > 0  # STATS19 2024 and older FixMyStreet rows
    real_police = ds.incidents[ds.incidents.incident_id.str.len() == 64]
    assert len(real_police) == 52
    r = run_report(data=out, year="2020/21", out=tmp_path / "outputs", jobs=2)
    assert r.ok, r.failures
    html = (r.out_dir / "violence.html").read_text()
    assert "SYNTHETIC DATA" in html and "Tackling violence" in html
    # no Python warning, traceback or machine path reaches a published page (warnings go
    # to run.log instead)
    for page in r.out_dir.glob("*.html"):
        text = page.read_text()
        for bad in ("Warning:", "RuntimeWarning", "Traceback", str(tmp_path), "/home/", "/root/"):
            assert bad not in text, (page.name, bad)
        # degenerate data says so instead of printing an impossible figure
        plain = re.sub(r"<[^>]+>", " ", text)
        assert not re.search(r"100\.0% a year", plain), page.name
        assert not re.search(r"significantly in \S+ \(0 against", plain), page.name
        assert "(0.0 per 1,000" not in plain, page.name


def _plain(html: str) -> str:
    text = re.sub(r"<style.*?</style>|<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).replace("&amp;", "&")


@pytest.mark.slow
def test_readme_real_data_example_says_what_the_data_cannot_support(tmp_path, real_dir, params):
    """The README's real-data example, as written (sources.example.yaml, its full 2017/18 to
    2025/26 coverage, --synthesise-missing): the police.uk sample holds one month (April
    2020) and STATS19 one calendar year (2024), so nothing may be called a trend, a
    significant change or a highest rate on those sources."""
    from kcpp_analysis.core.paths import PROJECT_ROOT
    from kcpp_analysis.run.pipeline import run_report

    example = PROJECT_ROOT / "params" / "sources.example.yaml"
    if not (example.parent / "../../shared/data/real").is_dir():
        pytest.skip("sources.example.yaml points at ../shared beside the repo; not there")
    out = prepare_from_sources(
        example, tmp_path / "prepared", synthesise_missing=True, params=params
    )
    r = run_report(data=out, year="2025/26", out=tmp_path / "outputs", jobs=2)
    assert r.ok, r.failures
    pages = {p.name: _plain(p.read_text()) for p in r.out_dir.glob("*.html")}
    assert {"risk.html", "asb.html", "overview.html"} <= set(pages)
    for name, plain in pages.items():
        for bad in (
            r"\b100\.0% a year",  # a rate of change the data cannot support
            r"-100\.0% to -100\.0%",
            r"significantly in \S+ \(0 against",  # a change against months with no data
            r"\(0\.0 per 1,000",  # "highest rate ... (0.0 per 1,000)"
            r"highest rate[^.]*\b0\.0\b",
            r"\S+, 20\d\d/\d\d 0 0 ",  # a year-on-year row of two zeros for uncovered months
        ):
            assert not re.search(bad, plain), (name, bad)
    risk = pages["risk.html"]
    # road safety (STATS19 2024 only) and drugs (police.uk April 2020 only) say why instead
    assert "The data for road safety do not cover 2025/26" in risk
    assert "do not cover the same months of 2025/26 and 2024/25" in risk


def test_overwrite_same_length_agrees_with_pandas_assignment():
    """Patching bytes in place gives what ``iloc`` assignment gives: chunked and sliced
    arrays, missing values and ids of other lengths around; a new value of another length
    is refused."""
    import numpy as np
    import pyarrow as pa

    from kcpp_analysis.data.sources.policeuk import _overwrite_same_length

    rng = np.random.default_rng(5)
    vals = [None if i % 17 == 0 else f"ASB-{i:020x}" if i % 3 else f"{i:064x}" for i in range(9000)]
    chunks = [pa.array(vals[:2500]), pa.array(vals[2400:7000]).slice(100), pa.array(vals[7000:])]
    s = pa.chunked_array(chunks).to_pandas()
    asb = [i for i, v in enumerate(vals) if v and v.startswith("ASB-")]
    pos = np.sort(rng.choice(asb, 700, replace=False))
    new = [f"ASB-{int(x):020x}" for x in rng.integers(0, 2**62, len(pos))]
    want = s.copy()
    want.iloc[pos] = new
    frame = pd.DataFrame({"n": range(len(s)), "incident_id": s, "m": 1})
    _overwrite_same_length(frame, "incident_id", pos, new)
    got = frame["incident_id"]
    assert list(frame.columns) == ["n", "incident_id", "m"]
    assert got.dtype == want.dtype and got.equals(want)
    assert s.iloc[pos[0]] != got.iloc[pos[0]]  # the input series is not modified
    crime = next(i for i, v in enumerate(vals) if v and not v.startswith("ASB-"))
    with pytest.raises(ValueError, match="length"):
        _overwrite_same_length(frame, "incident_id", np.array([crime]), ["ASB-" + "0" * 20])
    assert frame["incident_id"].equals(want)  # refused before anything changed


def test_policeuk_file_with_only_a_header_reads_as_no_rows(real_dir, params, tmp_path):
    """A header-only month file gives an empty canonical frame (``kcpp prepare`` then
    reports the source as empty), not a traceback."""
    p = tmp_path / "2020-04-west-yorkshire-street.csv"
    p.write_text((real_dir / POLICE).read_text().splitlines()[0] + "\n")
    df, q = read_policeuk_street([p], params)
    assert len(df) == 0 and q["rows_read"] == 0 and q["rows_kept"] == 0
    assert {"incident_id", "date", "category", "source", "lsoa_code"} <= set(df.columns)
