"""Hostile inputs found since the first round (#22): each fails safe with a clear message,
loses nothing silently and never echoes a reference."""

from __future__ import annotations

import os
import secrets
import zipfile

import pandas as pd
import pytest
from typer.testing import CliRunner

from kcpp_analysis.core.errors import ConfigError, DataValidationError, KcppError, SourceError
from kcpp_analysis.data.sources.partner import key_weakness, read_partner_extract
from kcpp_analysis.data.sources.sourcesfile import load_sources, resolve
from kcpp_analysis.run.cli import app

HEAD = (
    "crime_ref,recorded_date,offence_group,lsoa_code,victim_ref,domestic_abuse,hate_crime,"
    "hate_strand,vawg,knife_crime,drug_related,alcohol_related"
)
KEY = "5d1f0c9a7b3e4d2c8a6f1e0b9c7d5a3e"
SECRET = "VR-SECRET-2031-88"


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "header,row",
    [
        # victim_ref and offence_group swapped: the reference lands in the category column
        (
            HEAD.replace("offence_group", "TMP")
            .replace("victim_ref", "offence_group")
            .replace("TMP", "victim_ref"),
            f"C1,2024-05-01,Robbery,E01011004,{SECRET},N,N,,N,N,N,N",
        ),
        # no header row at all: the first record is read as the header
        (
            f"C0,2024-05-01,Robbery,E01011004,{SECRET},N,N,,N,N,N,N",
            f"C1,2024-05-01,Robbery,E01011004,{SECRET},N,N,,N,N,N,N",
        ),
    ],
    ids=["swapped header", "missing header"],
)
def test_a_reference_in_the_wrong_column_is_never_echoed(
    tmp_path, params, monkeypatch, header, row
):
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    p = _write(tmp_path / "crime.csv", f"{header}\n{row}\n")
    with pytest.raises(SourceError) as e:
        read_partner_extract(p, "police_crime", params)
    assert SECRET not in str(e.value) and "2031" not in str(e.value)
    assert "crime.csv" in str(e.value)


def test_malformed_lsoa_codes_are_a_loss_not_outside_the_area(tmp_path, params, monkeypatch):
    """Half the rows carry 'E0101100' (not an LSOA code): counted as malformed, and above the
    1% loss rule the prepare stops instead of exiting 0 with half the rows gone."""
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    rows = [
        f"C{i},2024-05-01,Robbery,{'E0101100' if i % 2 else 'E01011004'},V{i},N,N,,N,N,N,N"
        for i in range(20)
    ]
    _write(tmp_path / "crime.csv", HEAD + "\n" + "\n".join(rows) + "\n")
    src = _write(
        tmp_path / "s.yaml",
        "sources:\n  - kind: partner_extract\n    extract: police_crime\n    path: crime.csv\n",
    )
    r = CliRunner().invoke(app, ["prepare", "--sources", str(src), "--out", str(tmp_path / "p")])
    assert r.exit_code == 2
    assert "10 with a malformed area code" in " ".join(r.output.split())
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    "name", ["/tmp/evil-2020-04-west-yorkshire-street.csv", "../2020-04-west-yorkshire-street.csv"]
)
def test_a_zip_entry_outside_the_archive_is_refused(tmp_path, name):
    from kcpp_analysis.data.sources.policeuk import find_files

    z = tmp_path / "police.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr(name, "Crime ID,Month\n")
    with pytest.raises(SourceError, match="points outside the archive"):
        find_files([z], tmp_path / "x")


def test_stats19_casualties_with_no_collision_are_a_counted_loss(tmp_path, real_dir):
    """11 of 22 casualties point at collisions not in the file: an error above 1%, and with
    --allow-loss they are counted in dataset.json."""
    col = pd.read_csv(real_dir / "dft_stats19_2024_collisions_EXCERPT.csv", dtype=str)
    cas = pd.read_csv(real_dir / "dft_stats19_2024_casualties_EXCERPT.csv", dtype=str)
    kirk = col[col["local_authority_ons_district"] == "E08000034"]
    cas = cas[cas["collision_index"].isin(set(kirk["collision_index"]))].copy()
    n = len(cas)
    half = n // 2
    cas.iloc[:half, cas.columns.get_loc("collision_index")] = (
        "2024ZZZZ" + cas.iloc[:half]["collision_index"].str[-6:]
    )
    kirk.to_csv(tmp_path / "col.csv", index=False)
    cas.to_csv(tmp_path / "cas.csv", index=False)
    src = _write(
        tmp_path / "s.yaml",
        "sources:\n  - kind: stats19\n    collisions: col.csv\n    casualties: cas.csv\n",
    )
    r = CliRunner().invoke(app, ["prepare", "--sources", str(src), "--out", str(tmp_path / "p")])
    assert r.exit_code == 2 and f"{half} casualties with no collision" in " ".join(r.output.split())
    r = CliRunner().invoke(
        app, ["prepare", "--sources", str(src), "--out", str(tmp_path / "p"), "--allow-loss"]
    )
    assert r.exit_code == 0, r.output
    import json

    meta = json.loads((tmp_path / "p" / "dataset.json").read_text())
    q = next(s for s in meta["sources"] if s["kind"] == "stats19")["quality"]
    assert q["orphan_casualties"] == half


@pytest.mark.parametrize(
    "key,why",
    [
        ("abc" * 11, "repetition"),
        ("password" * 4, "repetition"),
        # fixed random-looking keys (parameters must be the same on every pytest-xdist worker)
        ("KCPP_PSEUDONYM_KEY" + "e8f0fbc3a577fd27", "own name"),
        ("26f6c14c520fc23f60937ab1fecfdac4ca26cbc089d75fd68f3b0816f01e1a52\n", "white space"),
        ("ab" * 8 + "cdefghij" * 2, "entropy"),
        ("abcdefg" * 4 + "abcg", "distinct"),
    ],
)
def test_weak_keys_are_judged_by_repetition_entropy_name_and_white_space(key, why):
    assert why in key_weakness(key.encode(), "KCPP_PSEUDONYM_KEY")
    assert key_weakness(secrets.token_hex(32).encode(), "KCPP_PSEUDONYM_KEY") is None


def test_special_files_are_refused_at_once(tmp_path):
    fifo = tmp_path / "sources.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_sources(fifo)  # would block forever on a read
    from kcpp_analysis.data.sources.common import sniff_text

    data = tmp_path / "data.csv"
    os.mkfifo(data)
    with pytest.raises(SourceError, match="not a regular file"):
        sniff_text(data)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_sources("/dev/zero")


def test_a_glob_never_follows_link_loops_and_is_bounded(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_text("1")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    assert resolve(tmp_path, "**/*.csv") == [(tmp_path / "a" / "x.csv").resolve()]
    import kcpp_analysis.data.sources.sourcesfile as sf

    monkeypatch.setattr(sf, "MAX_GLOB_ENTRIES", 1)
    with pytest.raises(ConfigError, match="looks at more than 1 files"):
        resolve(tmp_path, "**/*.csv")


def test_a_huge_label_is_refused_and_console_lines_are_capped(tmp_path):
    p = _write(
        tmp_path / "s.yaml",
        f"sources:\n  - kind: fixmystreet\n    path: x.csv\n    label: {'L' * 1_000_000}\n",
    )
    with pytest.raises(ConfigError, match="at most 200 characters"):
        load_sources(p)
    import logging

    from kcpp_analysis.run.cli import MAX_LOG_CHARS, _Capped

    rec = logging.LogRecord("x", logging.INFO, "", 0, "%s", ("y" * 10 * MAX_LOG_CHARS,), None)
    _Capped().filter(rec)
    assert len(rec.getMessage()) < MAX_LOG_CHARS + 10


def test_a_single_huge_line_is_refused_in_bounded_memory(tmp_path):
    import tracemalloc

    from kcpp_analysis.data.sources.common import read_csv_checked

    p = tmp_path / "x.csv"
    with open(p, "w") as f:
        f.write("crime_ref\n" + "x" * 50_000_000 + "\n")
    tracemalloc.start()
    with pytest.raises(SourceError, match="a line longer than"):
        read_csv_checked(p, ["crime_ref"], kind="x")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40_000_000  # chunks, never the whole line


def test_indicator_values_must_be_finite_and_within_bounds(tmp_path):
    from kcpp_analysis.data.sources.tables import read_indicators_csv

    for value, unit, words in (
        ("-45", "people", "below"),
        ("inf", "people", "above"),
        ("120", "%", "percentage above 100"),
    ):
        p = _write(
            tmp_path / "ind.csv",
            f"indicator_id,period,value,unit,source\nx,2024/25,{value},{unit},s\n",
        )
        with pytest.raises((SourceError, DataValidationError), match=words) as e:
            read_indicators_csv(p)
        assert "line 2" in str(e.value)


def test_survey_errors_name_the_file_line(tmp_path):
    from kcpp_analysis.data.sources.tables import read_survey_csv

    p = _write(
        tmp_path / "s.csv",
        "survey,wave,respondent_id,place,weight,question,positive\n"
        "r,2024/25,1,Rural,1,q,1\nr,2024-25,2,Rural,1,q,1\n",
    )
    with pytest.raises(DataValidationError, match="line 3"):
        read_survey_csv(p, ["Rural"])


def test_a_blank_fixmystreet_count_is_a_clean_error(tmp_path, params):
    from kcpp_analysis.data.sources.fixmystreet import read_fixmystreet

    p = _write(
        tmp_path / "f.csv", "month,lsoa11cd,category_code,reports\n2019-05,E01011004,flytipping,\n"
    )
    with pytest.raises(SourceError, match="column 'reports' line 2: a blank"):
        read_fixmystreet(p, params)


def test_files_kcpp_did_not_write_keep_a_prepared_dataset_from_being_replaced(tmp_path):
    from kcpp_analysis.data.dataset import write_dataset
    from kcpp_analysis.data.prepare.demo import prepare_demo

    out = prepare_demo(tmp_path / "demo")
    (out / "analyst notes.txt").write_text("mine")
    from kcpp_analysis.data.dataset import load_dataset

    with pytest.raises(KcppError, match="analyst notes.txt"):
        write_dataset(load_dataset(out), out)
    assert (out / "analyst notes.txt").read_text() == "mine"


def test_os_errors_are_one_line():
    from kcpp_analysis.run.cli import os_error

    msg = os_error(OSError(28, "No space left on device", "/out/2025-26/tables/x.csv"))
    assert "\n" not in msg and "No space left on device" in msg and "nothing was published" in msg
