"""End-to-end: `kcpp report` on the synthetic dataset, isolation of a failing theme."""

import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from typer.testing import CliRunner

from kcpp_analysis.core.errors import ConfigError, KcppError
from kcpp_analysis.core.paths import notebooks_dir
from kcpp_analysis.run.cli import app
from kcpp_analysis.run.pipeline import run_report

pytestmark = pytest.mark.slow


def _text(html):
    return re.sub(r"<[^>]+>", " ", html)


def test_every_report_succeeds_and_is_listed(report_set):
    assert report_set.ok, report_set.failures
    d = report_set.out_dir
    assert d.name == "2025-26"
    m = json.loads((d / "manifest.json").read_text())
    assert m["status"] == "succeeded"
    assert {n["name"] for n in m["notebooks"]} == {
        "violence",
        "asb",
        "communities",
        "risk",
        "overview",
    }
    assert all(n["status"] == "succeeded" for n in m["notebooks"])
    assert m["dataset"]["fingerprint"] and m["params_sha256"]["kpis.yaml"]
    assert m["packages"]["pandas"]
    index = (d / "index.html").read_text()
    for name in ["violence", "asb", "communities", "risk", "overview"]:
        assert f'href="{name}.html"' in index
        assert (d / "notebooks" / f"{name}.ipynb").exists()
    assert (d / "run.log").read_text().strip()
    assert len(list((d / "tables").glob("*.csv"))) > 50


@pytest.mark.parametrize("theme", ["violence", "asb", "communities", "risk"])
def test_theme_pack_and_annex_have_every_part(report_set, theme, params):
    th = params.themes[theme]
    pack = (report_set.out_dir / f"{theme}.html").read_text()
    annex = (report_set.out_dir / f"{theme}_annex.html").read_text()
    for html in (pack, annex):
        assert th.title in html
        assert "Key performance indicators" in html and 'class="kcpp-table' in html
        assert 'id="top"' in html and 'href="index.html"' in html and 'href="#top"' in html
        for pr in th.priorities:  # the table of contents links every priority
            assert f'href="#{pr.id}"' in html
        assert "Headline summary" in html
        assert "SYNTHETIC DATA - NOT A REAL ASSESSMENT" in html
        # one section per priority, each with at least one chart image with alt text
        sections = re.split(r'<section class="kcpp-priority"', html)[1:]
        ids = [re.match(r'[^>]*\bid="([^"]+)"', s).group(1) for s in sections]
        assert [p.id for p in th.priorities] == ids[: len(th.priorities)]
        for pid, sec in zip(ids, sections, strict=False):
            if pid in {p.id for p in th.priorities}:
                imgs = re.findall(r"<img[^>]*>", sec)
                assert any(
                    'src="data:image/png;base64,' in i and re.search(r'alt="[^"]{20,}"', i)
                    for i in imgs
                ), pid
        # code hidden, no errors
        assert "rep.show(" not in html and "import kcpp_analysis" not in html
        assert "Traceback" not in html
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html
    assert "About this pack" in pack and "Appendix: data quality and methodology" in annex
    m = re.search(r"rest on (\d+) labels? from a test", _text(pack))
    assert m and int(m.group(1)) >= len(th.priorities) - 1  # the tests behind the labels
    m = re.search(r"shows or scores (\d+) labels? that rest on a test", _text(annex))
    assert m and int(m.group(1)) >= len(th.priorities) - 1
    # every priority with incidents has its maps in the annex, with alt text naming them
    for pr in th.priorities:
        if pr.selection is None:
            continue
        m = re.search(rf'id="{pr.id}-map">(.*?)</section>', annex, flags=re.S)
        assert m, pr.id
        alts = _alts(m.group(1))
        if len(alts) == 1:  # every neighbourhood below the threshold: no map, and it says so
            assert "so no neighbourhood map is drawn" in _text(m.group(1)), pr.id
            alts = ["Map of Kirklees' 260 neighbourhoods", *alts]
        assert len(alts) == 2 and alts[0].startswith("Map of Kirklees' 260 neighbourhoods")
        assert alts[1].startswith("Map of Kirklees' 23 wards"), pr.id


def _alts(html: str) -> list[str]:
    """Alt texts of the embedded PNG images, unescaped, in page order."""
    import html as h

    out = []
    for tag in re.findall(r"<img[^>]*>", html):
        a = re.search(r'alt="([^"]*)"', tag)
        if 'src="data:image/png;base64,' in tag and a:
            out.append(h.unescape(a.group(1)))
    return out


def test_no_victim_identifier_in_any_output(report_set, demo):
    victims = set(demo.incidents["victim_id"].dropna())
    token = re.compile(r"[A-Za-z0-9_\-]{6,}")
    d = report_set.out_dir
    for f in [*d.glob("*.html"), *(d / "tables").glob("*.csv"), *(d / "notebooks").glob("*.ipynb")]:
        hits = {t for t in token.findall(f.read_text()) if t in victims}
        assert not hits, (f.name, list(hits)[:3])
    assert (
        json.loads((report_set.out_dir / "manifest.json").read_text())["privacy_check"] == "passed"
    )


def test_published_tables_hold_no_small_counts(report_set):
    import pandas as pd

    checked = 0
    for f in (report_set.out_dir / "tables").glob("*_wards.csv"):
        if f.name.startswith("place_"):  # a place pack's wards: checked below
            continue
        t = pd.read_csv(f, dtype=str)
        assert len(t) == 23, f.name  # every ward is published
        for col in ("previous", "current"):
            vals = t[col].str.replace(",", "")
            small = vals[vals != "[c]"].astype(float).between(1, 4)
            assert not small.any(), (f.name, col)
        checked += 1
    assert checked >= 5
    for place in ("batley-spen", "dewsbury-mirfield", "huddersfield", "rural"):
        t = pd.read_csv(report_set.out_dir / "tables" / f"place_{place}_wards.csv", dtype=str)
        assert 1 <= len(t) < 23, place
        for col in t.columns[1:]:
            vals = t[col].str.replace(",", "")
            small = vals[~vals.isin(["[c]", "[x]"])].astype(float).between(1, 4)
            assert not small.any(), (place, col)


def test_overview_has_plan_on_a_page(report_set, params):
    html = (report_set.out_dir / "overview.html").read_text()
    for th in params.themes.values():
        for p in th.priorities:
            assert p.title in html
    assert "KPI dashboard" in html and "Place profiles" in html
    assert any(a.startswith("Reference map of Kirklees' 23 wards") for a in _alts(html))
    for place in params.sia.places:
        assert place.replace("&", "&amp;") in html


def _broken_templates(tmp_path):
    d = tmp_path / "templates"
    shutil.copytree(notebooks_dir(), d)
    nb = nbformat.read(d / "theme_report.ipynb", as_version=4)
    nb.cells.insert(
        2,
        nbformat.v4.new_code_cell(
            'if theme == "risk":\n    raise RuntimeError("deliberately broken theme")'
        ),
    )
    nbformat.write(nb, d / "theme_report.ipynb")
    return d


def test_broken_theme_is_isolated_and_run_exits_non_zero(demo_dir, tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "report",
            "--data",
            str(demo_dir),
            "--themes",
            "asb",
            "--themes",
            "risk",
            "--jobs",
            "2",
            "--out",
            str(out),
            "--notebooks",
            str(_broken_templates(tmp_path)),
        ],
    )
    assert res.exit_code == 1
    assert (
        "risk" in res.output and "cell" in res.output and "deliberately broken theme" in res.output
    )
    assert "NOT published" in res.output
    # nothing published: the run's output is kept beside, for diagnosis
    assert not (out / "2025-26").exists()
    d = out / "2025-26.failed"
    assert (d / "asb.html").exists() and (d / "overview.html").exists()
    assert not (d / "risk.html").exists()
    kept = nbformat.read(d / "notebooks" / "risk.ipynb", as_version=4)
    assert any(o.get("output_type") == "error" for c in kept.cells for o in c.get("outputs", []))
    m = json.loads((d / "manifest.json").read_text())
    st = {n["name"]: n["status"] for n in m["notebooks"]}
    assert st == {"asb": "succeeded", "risk": "failed", "overview": "succeeded"}
    assert m["status"] == "failed"
    assert "FAILED" in (d / "index.html").read_text()


def test_invalid_parameters_fail_before_anything_runs(demo_dir, tmp_path):
    out = tmp_path / "out"
    (out / "2025-26").mkdir(parents=True)
    (out / "2025-26" / "index.html").write_text("previous run")
    with pytest.raises(ConfigError, match="--year"):
        run_report(data=demo_dir, year="2025-26", out=out)
    with pytest.raises(ConfigError, match="unknown theme"):
        run_report(data=demo_dir, themes=["violance"], out=out)
    with pytest.raises(ConfigError, match="not covered by the dataset"):
        run_report(data=demo_dir, year="2030/31", out=out)
    assert (out / "2025-26" / "index.html").read_text() == "previous run"
    assert [p.name for p in out.iterdir()] == ["2025-26"]


def test_tampered_dataset_is_rejected_before_running(demo_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(demo_dir, bad)
    (bad / "areas.parquet").write_bytes(b"not parquet")
    with pytest.raises(KcppError, match="does not match the hash"):
        run_report(data=bad, out=tmp_path / "out")
    assert not (tmp_path / "out" / "2025-26").exists()


def test_plain_papermill_with_a_params_file(demo_dir, tmp_path):
    pf = tmp_path / "risk.yaml"
    pf.write_text(
        f'theme: risk\nyear: "2025/26"\ndata_dir: "{demo_dir}"\noutput_dir: "{tmp_path / "o"}"\n'
    )
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            str(notebooks_dir() / "theme_report.ipynb"),
            str(tmp_path / "risk.ipynb"),
            "-f",
            str(pf),
            "-k",
            "python3",
            "--no-progress-bar",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    nb = nbformat.read(tmp_path / "risk.ipynb", as_version=4)
    text = json.dumps([c.get("outputs") for c in nb.cells])
    assert "Reducing risk" in text and (tmp_path / "o" / "tables" / "risk_kpis.csv").exists()


def test_rates_are_hidden_wherever_their_count_is_suppressed(report_set):
    import pandas as pd

    seen = 0
    for f in (report_set.out_dir / "tables").glob("*deciles.csv"):
        t = pd.read_csv(f, dtype=str)
        hidden = t["count"] == "[c]"
        for c in ("rate", "ci_low", "ci_high"):
            assert (t.loc[hidden, c] == "[c]").all(), (f.name, c)
        # the borough total is published: never exactly one suppressed decile (the end
        # quintiles revealed by a published rate ratio are audited in test_report_sections)
        assert hidden.sum() != 1, f.name
        seen += int(hidden.sum())
    assert seen > 0  # the demo has small counts in some deciles, so this checks something


def _plain(html: str) -> str:
    import html as h

    t = re.sub(r"<style.*?</style>|<script.*?</script>|<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", h.unescape(re.sub(r"<[^>]+>", " ", t)))


def test_headline_and_rationale_never_contradict(report_set, params):
    """A priority whose headline says "showed no clear change" is never said to have risen on
    last year in its rationale, and one said to have risen significantly is (the board reads
    both)."""
    from kcpp_analysis.analysis.assessment import load_assessments
    from kcpp_analysis.presentation.recommendation import rationale

    checked = 0
    for th in params.themes.values():
        page = _plain((report_set.out_dir / f"{th.id}.html").read_text())
        for a in load_assessments(report_set.out_dir / "results" / f"{th.id}_assessment.json"):
            text = rationale(a, params.scoring.bands)
            if f"{a.priority} showed no clear change" in page:
                checked += 1
                assert "rose significantly on last year" not in text, (a.priority, text)
            if f"{a.priority} rose significantly" in page and a.status == "high focus":
                assert "rose significantly on last year" in text or a.reasons != [
                    "emerging_concern"
                ]
    assert checked >= 5


def test_no_rationale_says_the_same_thing_twice(report_set, params):
    """Each priority's finding (the rationale the pack, the overview and the brief print)
    states each sentence once: a criterion a class was tested against (community impact)
    can also be one of the reasons for it, and the reader saw it twice."""
    import re

    from kcpp_analysis.analysis.assessment import load_assessments
    from kcpp_analysis.presentation.recommendation import rationale

    seen = 0
    for th in params.themes.values():
        for a in load_assessments(report_set.out_dir / "results" / f"{th.id}_assessment.json"):
            text = rationale(a, params.scoring.bands)
            sentences = re.split(r"(?<=[.:])\s+(?=[A-Z])", text)
            repeated = {x for x in sentences if sentences.count(x) > 1}
            assert not repeated, (a.priority, repeated)
            if a.total is not None:  # the score is given once, however many criteria cite it
                assert text.count(f"{a.total:.0f} of 100") == 1, (a.priority, text)
            seen += a.status == "continue to monitor"
    assert seen >= 3


def test_asb_definitions_agree_between_pages(report_set, demo, params):
    """One definition per measure: the overview's "police-recorded ASB" is the police ASB
    count of the dataset on every page; the ASB priority counts police plus environmental
    ASB, says so in its title, and the glossary defines both."""
    import pandas as pd

    from kcpp_analysis.core.periods import fy_labels
    from kcpp_analysis.data.selection import select_incidents

    inc = demo.incidents[fy_labels(demo.incidents["date"]) == "2025/26"]
    police_asb = int((inc["source"] == "police_asb").sum())
    places = pd.read_csv(report_set.out_dir / "tables" / "overview_places.csv")
    col = [c for c in places.columns if "Police-recorded ASB incidents" in c or c == "asb"]
    assert col, places.columns
    located = inc[inc["source"] == "police_asb"]["lsoa_code"].isin(demo.areas["lsoa_code"]).sum()
    assert int(places[col[0]].astype(int).sum()) == located == police_asb
    pr = params.priority("asb")
    sel = select_incidents(inc, pr.selection, params, pr)
    from kcpp_analysis.analysis.assessment import load_assessments

    a = {
        x.priority_id: x
        for x in load_assessments(report_set.out_dir / "results" / "asb_assessment.json")
    }
    assert a["asb"].yoy_current == len(sel) > police_asb
    asb_page = _plain((report_set.out_dir / "asb.html").read_text())
    annex = _plain((report_set.out_dir / "asb_annex.html").read_text())
    methods = _plain((report_set.out_dir / "methods.html").read_text())
    assert "Anti-social behaviour (including environmental ASB)" in asb_page
    for page in (annex, methods):  # the glossary: the theme's annex and the methods annex
        assert "ASB (police-recorded)" in page and "Environmental ASB" in page


def test_overview_executive_summary_and_scoring_rules(report_set, params):
    page = _plain((report_set.out_dir / "overview.html").read_text())
    for h in (
        "Executive summary",
        "Key messages",
        "Recommended for high focus",
        "Intelligence gaps",
        "Data caveats",
        "Horizon scanning (PESTELO)",
        "What changed since the last assessment",
        "How priorities are assessed",
        "Community insight against the data",
    ):
        assert h in page, h
    assert 'href="methods.html' in (report_set.out_dir / "overview.html").read_text()
    methods = _plain((report_set.out_dir / "methods.html").read_text())
    for h in ("The method's criteria", "Evidence score rules"):  # the rules, in the methods annex
        assert h in methods, h
    # the placeholders say what is missing, without a file path on a board-facing page
    assert "To be written by the partnership analyst" in page
    assert "params/framing" not in page
    for c in params.scoring.criteria.values():
        assert c.rule[:40] in methods
    # method rules print their numbers from the parameters
    assert "55 or more of 100" in methods and "{high_focus}" not in methods
