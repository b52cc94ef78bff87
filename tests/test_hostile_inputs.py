"""Hostile and broken inputs (issue #10, the cases fixed so far): each fails safe with a clear
message naming the file and line, loses nothing silently and never echoes a reference."""

import os
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from kcpp_analysis.config.params import load_params
from kcpp_analysis.core.errors import ConfigError, SourceError
from kcpp_analysis.data.sources.partner import read_partner_extract
from kcpp_analysis.data.sources.sourcesfile import load_sources, resolve
from kcpp_analysis.run.cli import app

HEAD = (
    "crime_ref,recorded_date,offence_group,lsoa_code,victim_ref,domestic_abuse,hate_crime,"
    "hate_strand,vawg,knife_crime,drug_related,alcohol_related"
)
KEY = "5d1f0c9a7b3e4d2c8a6f1e0b9c7d5a3e"
POLICE = "policeuk_street_2020-04_kirklees_sample_police_uk_layout.csv"


def _row(ref="C1", date="2024-05-01", victim="SECRETVICTIMLEAKED42"):
    return f"{ref},{date},Robbery,E01011004,{victim},N,N,,N,N,N,N"


def _write(tmp_path, text, name="crime.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_year_with_a_trailing_newline_is_rejected(tmp_path):
    r = CliRunner().invoke(app, ["report", "--year", "2025/26\n", "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and "2025/26" in r.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.html"))


def test_yaml_aliases_are_refused_quickly(tmp_path):
    lol = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefghi", "bcdefghij", strict=True)
    )
    p = _write(tmp_path, lol + "sources:\n  - kind: *j\n", "sources.yaml")
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"sources.yaml: not valid YAML: .*anchors"):
        load_sources(p)
    assert time.perf_counter() - t0 < 2


def test_windows_1252_police_file_names_file_and_line(tmp_path, real_dir):
    from kcpp_analysis.data.sources.policeuk import read_policeuk_street

    lines = (real_dir / POLICE).read_text().splitlines()
    lines[5] = lines[5].replace("On or near", "On or n\u00e9ar")
    p = tmp_path / "2020-04-west-yorkshire-street.csv"
    p.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    with pytest.raises(SourceError, match=r"street.csv: line 6: not UTF-8 text"):
        read_policeuk_street([p], load_params())


def test_police_file_with_a_nul_byte_past_4kb_names_file_and_line(tmp_path, real_dir):
    """NUL bytes are looked for while DuckDB reads; the NUL error wins over DuckDB's."""
    from kcpp_analysis.data.sources.policeuk import read_policeuk_street

    lines = (real_dir / POLICE).read_text().splitlines()
    assert len("\n".join(lines[:40]).encode()) > 4096
    lines[40] = lines[40].replace("On or near", "On or\x00near")
    p = tmp_path / "2020-04-west-yorkshire-street.csv"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError, match=r"street.csv: line 41: contains a NUL byte"):
        read_policeuk_street([p], load_params())
    # a hole of zeros (no line ends): the NUL is named, not DuckDB's line-size error
    good = (real_dir / POLICE).read_bytes()
    assert good.count(b"\n") == 74
    p.write_bytes(good + b"\x00" * 3_000_000)
    with pytest.raises(SourceError, match=r"street.csv: line 75: contains a NUL byte"):
        read_policeuk_street([p], load_params())


def test_police_file_not_utf8_in_an_unused_column_names_file_and_line(tmp_path, real_dir):
    from kcpp_analysis.data.sources.policeuk import read_policeuk_street

    lines = (real_dir / POLICE).read_text().splitlines()
    crime = next(i for i, ln in enumerate(lines) if i > 0 and not ln.startswith(","))
    data = [ln.encode() for ln in lines]
    data[crime] = data[crime] + b"\xe9t\xe9"  # Windows-1252 in the last column (Context)
    p = tmp_path / "2020-04-west-yorkshire-street.csv"
    p.write_bytes(b"\n".join(data) + b"\n")
    with pytest.raises(SourceError, match=rf"street.csv: line {crime + 1}: not UTF-8 text"):
        read_policeuk_street([p], load_params())


def test_nul_bytes_after_the_first_4kb_are_found_with_their_line(tmp_path, params, monkeypatch):
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    rows = [_row(f"C{i}") for i in range(300)]  # well past 4 KB
    p = _write(tmp_path, HEAD + "\n" + "\n".join(rows) + "\n")
    data = bytearray(p.read_bytes())
    cut = data.index(b"C250,")
    data[cut + 2] = 0
    p.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"crime.csv: line 252: contains a NUL byte"):
        read_partner_extract(p, "police_crime", params)


@pytest.mark.parametrize(
    "bad_key", ["a", "k" * 40, "/home/analyst/some/long/path/that/is/not/a/key/x"]
)
def test_weak_pseudonymisation_keys_are_refused_without_echoing_them(
    tmp_path, params, monkeypatch, bad_key
):
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", bad_key)
    p = _write(tmp_path, HEAD + "\n" + _row() + "\n")
    with pytest.raises(SourceError, match="too weak") as e:
        read_partner_extract(p, "police_crime", params)
    assert len(bad_key) < 4 or bad_key not in str(e.value)


def test_home_as_the_key_is_refused(tmp_path, params, monkeypatch):
    monkeypatch.setenv("HOME", "/nonexistent/analyst-home-folder-0123456789")
    p = _write(tmp_path, HEAD + "\n" + _row() + "\n")
    with pytest.raises(SourceError, match="too weak"):
        read_partner_extract(p, "police_crime", params, key_env="HOME")


def test_a_key_that_is_not_utf8_is_used_byte_for_byte(tmp_path, params):
    os.environb[b"KCPP_TEST_BYTES_KEY"] = bytes(range(128, 200))
    try:
        p = _write(tmp_path, HEAD + "\n" + _row() + "\n")
        df, _ = read_partner_extract(p, "police_crime", params, key_env="KCPP_TEST_BYTES_KEY")
        assert df.victim_id[0].startswith("P")
    finally:
        del os.environb[b"KCPP_TEST_BYTES_KEY"]


def test_short_row_in_the_middle_is_an_error_and_never_echoes_the_reference(
    tmp_path, params, monkeypatch
):
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    short = "C2,2024-05-02,Robbery,E01011004,SECRETVICTIMLEAKED42,N,N"  # 7 of 12 fields
    p = _write(tmp_path, "\n".join([HEAD, _row("C1"), short, _row("C3")]) + "\n")
    with pytest.raises(
        SourceError, match=r"crime.csv: line 3: 7 fields where the header has 12"
    ) as e:
        read_partner_extract(p, "police_crime", params)
    assert "SECRETVICTIMLEAKED42" not in str(e.value)


def test_last_line_cut_inside_a_field_is_an_error(tmp_path, params, monkeypatch):
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    p = _write(tmp_path, HEAD + "\n" + _row("C1") + "\n" + 'C2,2024-05-02,"Robb')
    with pytest.raises(SourceError, match=r"crime.csv: line 3"):
        read_partner_extract(p, "police_crime", params)


def test_duplicated_column_name_is_an_error(tmp_path, params, monkeypatch):
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    p = _write(tmp_path, HEAD + ",recorded_date\n" + _row() + ",2024-05-09\n")
    with pytest.raises(SourceError, match=r"\['recorded_date'\] appear more than once"):
        read_partner_extract(p, "police_crime", params)


def test_line_numbers_count_quoted_fields_that_span_lines(tmp_path, params, monkeypatch):
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    multi = 'C1,2024-05-01,Robbery,E01011004,"V\nsecond line",N,N,,N,N,N,N'
    p = _write(tmp_path, "\n".join([HEAD, multi, _row("C2", date="01/06/2024")]) + "\n")
    with pytest.raises(SourceError, match=r"column 'recorded_date' line 4:"):
        read_partner_extract(p, "police_crime", params)


def test_a_glob_through_a_symlink_loop_reads_each_file_once(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "a.csv").write_text("x\n")
    (d / "loop").symlink_to(d, target_is_directory=True)
    found = resolve(tmp_path, "data/**/*.csv")
    assert found == [(d / "a.csv").resolve()]


def test_duplicate_crime_ids_across_files_keep_one_copy_deterministically(tmp_path, real_dir):
    """The same Crime ID in two month files with different LSOAs: ten reads keep the same
    copy (the first file by name), so the dataset fingerprint cannot vary between runs."""
    from kcpp_analysis.data.sources.policeuk import read_policeuk_street

    text = (real_dir / POLICE).read_text()
    a = tmp_path / "2020-04-west-yorkshire-street.csv"
    b = tmp_path / "2020-05-west-yorkshire-street.csv"
    a.write_text(text)
    b.write_text(text.replace("E01011029", "E01011030"))
    params = load_params()
    runs = {
        tuple(pd.util.hash_pandas_object(read_policeuk_street([b, a], params)[0]).tolist())
        for _ in range(10)
    }
    assert len(runs) == 1
    df, q = read_policeuk_street([b, a], params)
    assert q["duplicates_dropped"] > 0 and "E01011030" not in set(df.lsoa_code)  # file a won


def test_sources_file_with_unknown_kind_does_not_echo_a_huge_value(tmp_path):
    p = _write(tmp_path, yaml.safe_dump({"sources": [{"kind": "x" * 100_000}]}), "s.yaml")
    with pytest.raises(ConfigError) as e:
        load_sources(p)
    assert len(str(e.value)) < 2_000


def test_prepare_refuses_to_replace_a_folder_it_did_not_create(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    r = CliRunner().invoke(app, ["prepare", "--out", str(mine)])
    assert r.exit_code == 2 and (mine / "notes.txt").read_text() == "keep me"
    assert Path(mine / "notes.txt").exists()


def _prep_sources(tmp_path, extract):
    s = tmp_path / "sources.yaml"
    s.write_text(
        yaml.safe_dump(
            {
                "coverage": {"first_year": "2023/24", "last_year": "2025/26"},
                "sources": [
                    {"kind": "partner_extract", "extract": "police_crime", "path": str(extract)}
                ],
            }
        )
    )
    return s


def test_future_dates_are_an_error_unless_allowed(tmp_path, params, monkeypatch):
    from kcpp_analysis.data.prepare.sources import prepare_from_sources

    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    rows = [_row(f"C{i}") for i in range(50)] + [_row(f"F{i}", date="2030-07-01") for i in range(5)]
    p = _write(tmp_path, HEAD + "\n" + "\n".join(rows) + "\n")
    s = _prep_sources(tmp_path, p)
    with pytest.raises(SourceError, match=r"5 of 55 rows \(9.1%\) lost: .*5 dated in the future"):
        prepare_from_sources(s, tmp_path / "prep", params=params)
    assert not (tmp_path / "prep").exists()
    out = prepare_from_sources(s, tmp_path / "prep", params=params, allow_loss=True)
    import json

    srcs = json.loads((out / "dataset.json").read_text())["sources"]
    q = next(x for x in srcs if x["kind"] == "partner_extract")["quality"]
    assert q["future_dates"] == 5 and q["outside_coverage"] == 5  # counted, never silent


def test_a_source_that_ends_empty_is_an_error(tmp_path, params, monkeypatch):
    from kcpp_analysis.data.prepare.sources import prepare_from_sources

    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    p = _write(tmp_path, HEAD + "\n" + _row(date="2019-05-01") + "\n")  # before the coverage
    with pytest.raises(SourceError, match="no rows left"):
        prepare_from_sources(_prep_sources(tmp_path, p), tmp_path / "prep", params=params)


def test_a_partner_glob_reads_every_file_it_matches(tmp_path, params, monkeypatch):
    from kcpp_analysis.data.prepare.sources import prepare_from_sources

    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    d = tmp_path / "extracts"
    d.mkdir()
    for k in range(5):
        (d / f"crime_{k}.csv").write_text(HEAD + "\n" + _row(f"C{k}") + "\n" + _row(f"D{k}") + "\n")
    s = _prep_sources(tmp_path, d / "crime_*.csv")
    out = prepare_from_sources(s, tmp_path / "prep", params=params)
    from kcpp_analysis.data.dataset import load_dataset

    assert (load_dataset(out).incidents.source == "police_crime").sum() == 10  # 5 files x 2


@pytest.mark.parametrize("count,word", [("3000000000", "above"), ("-2", "below")])
def test_fixmystreet_counts_are_bounded(tmp_path, params, count, word):
    from kcpp_analysis.data.sources.fixmystreet import read_fixmystreet

    p = _write(
        tmp_path,
        "month,lsoa11cd,category_code,category_name,reports,unique_users\n"
        f"2020-01,E01011004,A29,Fly tipping,{count},1\n",
        "fms.csv",
    )
    t0 = time.perf_counter()
    with pytest.raises(
        SourceError, match=rf"fms.csv: column 'reports' line 2: .* is {word} the plausible range"
    ):
        read_fixmystreet(p, params)
    assert time.perf_counter() - t0 < 5  # refused before anything is allocated


def test_policeuk_no_location_rows_are_counted_but_not_a_loss(tmp_path, real_dir, params):
    """police.uk withholds some locations by design: 3 of 73 rows with "No Location" (4%)
    are counted and logged, and the prepare succeeds without --allow-loss."""
    import json

    from kcpp_analysis.data.prepare.sources import prepare_from_sources

    lines = (real_dir / POLICE).read_text().splitlines()
    for k in (2, 3, 4):
        parts = lines[k].split(",")
        parts[4:9] = ["", "", "No Location", "", ""]
        lines[k] = ",".join(parts)
    p = tmp_path / "2020-04-west-yorkshire-street.csv"
    p.write_text("\n".join(lines) + "\n")
    s = tmp_path / "s.yaml"
    s.write_text(
        yaml.safe_dump(
            {
                "coverage": {"first_year": "2020/21", "last_year": "2020/21"},
                "sources": [{"kind": "policeuk_street", "path": str(p)}],
            }
        )
    )
    out = prepare_from_sources(s, tmp_path / "prep", params=params)
    srcs = json.loads((out / "dataset.json").read_text())["sources"]
    src = next(x for x in srcs if x["kind"] == "policeuk_street")
    assert src["quality"]["no_location"] == 3 and src["rows"] == 70


def test_formula_like_text_is_neutralised_in_every_published_csv(demo_dir, tmp_path):
    """A ward name such as ``=HYPERLINK(...)`` is written as text ('-prefixed), numbers
    (including negative ones) are left as numbers."""
    import csv

    from kcpp_analysis.report.context import open_report

    ctx = open_report(demo_dir, "2025/26", tmp_path / "set")
    frame = pd.DataFrame(
        {
            "ward": ['=HYPERLINK("http://x","y")', "+cmd", "@SUM(A1)", "-x", "Almondbury"],
            "change": [-3.5, 2.0, 0.0, 1.0, -1.0],
            "incidents": [40, 50, 60, 70, 80],
        }
    )
    ctx.write(ctx.gate.table(frame, "hostile_wards", counts=["incidents"]))
    rows = list(csv.DictReader(open(tmp_path / "set" / "tables" / "hostile_wards.csv")))
    wards = [r["ward"] for r in rows]
    assert wards[:4] == ['\'=HYPERLINK("http://x","y")', "'+cmd", "'@SUM(A1)", "'-x"]
    assert "Almondbury" in wards
    assert rows[0]["change"] == "-3.5"


def test_a_huge_file_of_zeros_is_rejected_without_reading_it(tmp_path):
    """2 GB of NUL bytes (a sparse file): refused from its first 4 KB, in bounded memory."""
    import tracemalloc

    from kcpp_analysis.data.sources.common import sniff_text

    f = tmp_path / "zeros.csv"
    with open(f, "wb") as fh:
        fh.truncate(2 << 30)
    tracemalloc.start()
    with pytest.raises(SourceError, match="zeros.csv: not a CSV text file"):
        sniff_text(f)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak / 1e6:.0f} MB"


def test_a_source_whose_files_hold_no_rows_is_an_error(tmp_path, real_dir):
    """A police.uk month file with a header only: the source ends empty, an error unless
    --allow-loss (then a warning)."""
    from kcpp_analysis.data.prepare.sources import prepare_from_sources

    d = tmp_path / "pu"
    d.mkdir()
    header = (real_dir / POLICE).read_text().splitlines()[0]
    (d / "2020-04-west-yorkshire-street.csv").write_text(header + "\n")
    src = _write(
        tmp_path,
        yaml.safe_dump(
            {
                "sources": [{"kind": "policeuk_street", "path": str(d)}],
                "coverage": {"first_year": "2020/21", "last_year": "2020/21"},
            }
        ),
        "s.yaml",
    )
    with pytest.raises(SourceError, match="the files hold no rows"):
        prepare_from_sources(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    prepare_from_sources(src, tmp_path / "out", allow_loss=True)
    assert (tmp_path / "out" / "dataset.json").exists()
