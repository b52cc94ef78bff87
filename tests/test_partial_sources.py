"""Real data is partial: any subset of source kinds prepares and publishes, relative paths
work from any folder, and a priority without data reads "no data" everywhere (#22)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from builders import plain, render_set_in_process

from kcpp_analysis.core.paths import PROJECT_ROOT
from kcpp_analysis.data.prepare.sources import prepare_from_sources

EXAMPLES = PROJECT_ROOT / "data" / "examples"
KEY = "5d1f0c9a7b3e4d2c8a6f1e0b9c7d5a3e"


def _survey(tmp: Path) -> Path:
    rows = []
    for wave, k in (("2023/24", 820), ("2024/25", 800), ("2025/26", 760)):
        for i in range(1000):
            rows.append(
                ("residents", wave, f"{wave}-{i}", "Rural", 1.0, "feel_safe_area", int(i < k))
            )
    p = tmp / "survey.csv"
    pd.DataFrame(
        rows, columns=["survey", "wave", "respondent_id", "place", "weight", "question", "positive"]
    ).to_csv(p, index=False)
    return p


def _indicators(tmp: Path) -> Path:
    p = tmp / "indicators.csv"
    p.write_text(
        "indicator_id,period,value,unit,source\n"
        + "".join(
            f"water_incidents,{y},{30 + i},incidents,WYFRS\n"
            for i, y in enumerate(["2023/24", "2024/25", "2025/26"])
        )
    )
    return p


def _hospital(tmp: Path) -> Path:
    """A&E assault attendances (ISTV layout) in two years, on real Kirklees LSOAs."""
    import numpy as np

    rng = np.random.default_rng(3)
    areas = pd.read_csv(
        PROJECT_ROOT / "kcpp_analysis" / "resources" / "reference" / "E08000034" / "areas.csv"
    )
    codes = areas["lsoa_code"].to_numpy()
    rows = []
    for i in range(400):
        y = 2024 + (i % 2)
        rows.append(
            {
                "attendance_date": f"{y}-{4 + i % 9:02d}-{1 + i % 27:02d}",
                "attendance_time": f"{i % 24:02d}:15",
                "assault_location": ["street", "home", "licensed premises"][i % 3],
                "weapon": ["body", "knife or sharp instrument", "unknown"][i % 3],
                "age_band": ["16-24", "25-34", "35-49"][i % 3],
                "sex": ["male", "female"][i % 2],
                "lsoa_code": rng.choice(codes) if i % 10 else "",
                "postcode_district": "" if i % 10 else "HD1",
            }
        )
    p = tmp / "hospital_assaults.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


KINDS = {
    "partner_extract": "  - kind: partner_extract\n    extract: police_crime\n    path: {ex}/partner_police_crime_SYNTHETIC.csv\n",
    "policeuk_street": "  - kind: policeuk_street\n    path: {ex}/policeuk\n",
    "stats19": "  - kind: stats19\n    collisions: {ex}/stats19_2024_collisions_excerpt.csv\n    casualties: {ex}/stats19_2024_casualties_excerpt.csv\n",
    "fixmystreet": "  - kind: fixmystreet\n    path: {ex}/fixmystreet_kirklees_2017-04_2020-03.csv\n",
    "area_counts": "  - kind: area_counts\n    path: {ex}/policeuk_kirklees_lsoa21_12m_2025-05_2026-04.csv\n    first_month: '2025-05'\n    last_month: '2026-04'\n    prefix: n12m_\n",
    "insight": "  - kind: insight\n    path: {ex}/insight_SYNTHETIC.csv\n",
    "survey": "  - kind: survey\n    path: {tmp}/survey.csv\n",
    "indicators": "  - kind: indicators\n    path: {tmp}/indicators.csv\n",
    "hospital_assaults": "  - kind: hospital_assaults\n    path: {tmp}/hospital_assaults.csv\n",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_source_kind_alone_prepares_and_publishes_every_page(kind, tmp_path, monkeypatch):
    """Each kind alone: prepare, then every theme page and the overview, through the calls
    the notebooks make. Priorities the kind says nothing about read "no data", never green
    or continue to monitor, and no page says "year to date" for data that miss the year."""
    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    _survey(tmp_path), _indicators(tmp_path), _hospital(tmp_path)
    src = tmp_path / "sources.yaml"
    src.write_text("sources:\n" + KINDS[kind].format(ex=EXAMPLES, tmp=tmp_path))
    out = prepare_from_sources(src, tmp_path / "prepared", allow_loss=True)
    pages = render_set_in_process(out, tmp_path / "set")
    table = pd.read_csv(tmp_path / "set" / "tables" / "overview_priorities.csv")
    none = table[table["this_year"] == "NO DATA"]
    assert len(none) >= 1, kind
    # a priority with no data is never continued to monitor
    assert not (none["adopted"] == "Continue to monitor").any(), none[["priority", "adopted"]]
    for th, html in pages.items():
        text = plain(html)
        assert "Traceback" not in html and "nan%" not in text, (kind, th)
        # data that end before the year are "not covering it", never "year to date"
        assert not re.search(r"are year to date|Year to date \(April", text), (kind, th)
    # the intelligence gaps are a commissioning list: one "no data" line per owner to ask
    gaps = pages["overview"][pages["overview"].index("kcpp-gaps") :]
    gaps = gaps[: gaps.index("</table>")]
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", gaps, flags=re.S)
    for start in ("No data are held for", "No data this year for"):
        owners = [o for g, o in rows if g.startswith(start)]
        assert len(owners) == len(set(owners)), (kind, start, owners)
    assert any(g.startswith("No data this year for") and "KPIs:" in g for g, _ in rows), kind


def test_a_place_pack_on_counts_for_other_months_says_why_it_has_no_place_figures(
    tmp_path, monkeypatch
):
    """police.uk 12-month counts by neighbourhood alone: the counts are located, but for May
    to April, not the SIA year, so the place pack says that (it said the sources "do not
    locate incidents in neighbourhoods") and prints no empty table."""
    from kcpp_analysis.analysis.assessment import load_assessments
    from kcpp_analysis.report import open_report
    from kcpp_analysis.report.place_packs import place_block

    monkeypatch.setenv("KCPP_PSEUDONYM_KEY", KEY)
    src = tmp_path / "sources.yaml"
    src.write_text("sources:\n" + KINDS["area_counts"].format(ex=EXAMPLES, tmp=tmp_path))
    out = prepare_from_sources(src, tmp_path / "prepared", allow_loss=True)
    render_set_in_process(out, tmp_path / "set")
    ctx = open_report(out, "2025/26", tmp_path / "set")
    assessments = [
        a
        for p in sorted((tmp_path / "set" / "results").glob("*_assessment.json"))
        for a in load_assessments(p)
    ]
    html = place_block(ctx, assessments, "Rural", None)._repr_html_()
    text = plain(html)
    assert "do not locate" not in text
    assert re.search(r"by neighbourhood only for the 12 months \w+ 20\d\d to \w+ 20\d\d", text)
    assert "<table" not in html.split('id="wards"')[0]  # no header-only priorities table
