"""The `kcpp` command line (prepare); `kcpp report` is exercised in test_pipeline.py."""

import json

import yaml
from typer.testing import CliRunner

from kcpp_analysis.run.cli import app

runner = CliRunner()


def test_prepare_demo_then_reuse_by_content_hash_and_regenerate_for_other_code(tmp_path):
    out = tmp_path / "demo"
    r = runner.invoke(app, ["prepare", "--out", str(out)])
    assert r.exit_code == 0, r.output
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["synthetic_tables"] and meta["validated"]
    stamp = (out / "dataset.json").stat().st_mtime_ns
    r = runner.invoke(app, ["prepare", "--out", str(out)])
    assert r.exit_code == 0 and (out / "dataset.json").stat().st_mtime_ns == stamp  # reused
    with open(out / "survey.parquet", "ab") as fh:  # damaged: regenerated, not reused
        fh.write(b"x")
    r = runner.invoke(app, ["prepare", "--out", str(out)])
    assert r.exit_code == 0 and (out / "dataset.json").stat().st_mtime_ns != stamp
    assert json.loads((out / "dataset.json").read_text())["fingerprint"] == meta["fingerprint"]
    # a demo made by other generator code, reference extract or params is not reused
    meta = json.loads((out / "dataset.json").read_text())
    meta["generator"]["fingerprint"] = "0" * 64  # as if made by an older generator
    (out / "dataset.json").write_text(json.dumps(meta))
    stamp = (out / "dataset.json").stat().st_mtime_ns
    assert runner.invoke(app, ["prepare", "--out", str(out)]).exit_code == 0
    again = json.loads((out / "dataset.json").read_text())
    assert (out / "dataset.json").stat().st_mtime_ns != stamp
    assert again["generator"]["fingerprint"] != "0" * 64


def test_prepare_bad_sources_file_exits_2_with_a_clear_message(tmp_path):
    s = tmp_path / "sources.yaml"
    s.write_text(yaml.safe_dump({"sources": [{"kind": "iod2019", "path": "missing.csv"}]}))
    r = runner.invoke(app, ["prepare", "--sources", str(s), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert "sources[0] (iod2019)" in r.output and "file not found" in r.output
    assert not (tmp_path / "o").exists()
