"""The documents of a set, as each reader gets them: the index lists them with audience,
pages and marking; packs are lean and their annexes keep everything; the brief and the
board-facing pages speak plainly; the public summary is safe to publish."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from builders import plain
from scipy.optimize import Bounds, LinearConstraint, milp

BOARD_FACING = ["brief.html", "overview.html"]


def _html(report_set, rel):
    return (report_set.out_dir / rel).read_text(encoding="utf-8")


def test_the_index_lists_every_document_with_its_reader(report_set, params):
    m = json.loads(_html(report_set, "manifest.json"))
    docs = {d["html"]: d for d in m["documents"]}
    expected = ["brief.html", "overview.html", "public/summary.html", "methods.html"]
    expected += [f"{t}.html" for t in params.themes] + [f"{t}_annex.html" for t in params.themes]
    from kcpp_analysis.core.paths import place_slug as slug

    expected += [f"place_{slug(p)}.html" for p in params.sia.places]
    assert set(expected) <= set(docs)
    index = plain(_html(report_set, "index.html"))
    for d in docs.values():
        assert d["title"] in index and d["audience"] in index
        assert (report_set.out_dir / d["html"]).is_file()
    assert docs["public/summary.html"]["marking"] == params.sia.public_marking
    assert docs["brief.html"]["marking"] == params.sia.protective_marking
    assert "succeeded" not in index and " s " not in index  # not a build log
    assert all(d["owner"] for d in m["files"].values())


def _anchors(html: str) -> set[str]:
    return set(re.findall(r'<section class="kcpp-section[^"]*" id="([^"]+)"', html))


def test_packs_are_lean_and_annexes_keep_everything(report_set, params):
    for th in params.themes.values():
        pack, annex = _html(report_set, f"{th.id}.html"), _html(report_set, f"{th.id}_annex.html")
        full, every = _anchors(pack), _anchors(annex)
        assert full < every  # the pack shows fewer sections, all of them in the annex
        for pr in th.priorities:
            shown = {a for a in full if a.startswith(f"{pr.id}-")}
            assert len(shown) <= 4, (pr.id, shown)
            assert f'id="{pr.id}"' in annex
        # every CSV the theme publishes is drawn from a section the annex shows
        assert "Also checked" in pack and "evidence annex" in plain(pack)
        # a caveat repeated across priorities is printed once in the pack
        notes = re.findall(r'<p class="kcpp-note">(.*?)</p>', pack, flags=re.S)
        long = [n for n in notes if len(n) > 120]
        assert len(long) == len(set(long)), th.id


def test_place_packs_show_the_theme_packs_published_figures(report_set, params):
    """A place pack counts nothing afresh: each priority's figures for the place are the
    places table the theme pack published."""
    from kcpp_analysis.core.paths import place_slug as slug

    tables = report_set.out_dir / "tables"
    for place in params.sia.places:
        t = pd.read_csv(tables / f"place_{slug(place)}_priorities.csv", dtype=str)
        assert len(t) >= 8
        for row in t.to_dict("records"):
            pr = next(p for p in params.priorities if p.title == row["priority"])
            th = next(th for th in params.themes.values() if pr in th.priorities)
            pl = pd.read_csv(tables / f"{th.id}_{pr.id}_places.csv", dtype=str)
            mine = pl[pl["place"] == place].iloc[0]
            assert (row["this_year"], row["last_year"]) == (mine["current"], mine["previous"])
        text = plain(_html(report_set, f"place_{slug(place)}.html"))
        assert place in text and "What the community says" in text


def test_every_priority_opens_with_its_finding_and_so_what(report_set, params):
    for th in params.themes.values():
        text = plain(_html(report_set, f"{th.id}.html"))
        assert text.count("Finding.") == len(th.priorities)
        assert text.count("So what, and what next") == len(th.priorities)


FORBIDDEN = {
    "a file path": r"params/|\b\w+\.(?:ya?ml|md|py|csv|parquet)\b|README|/tmp/|data/prepared",
    "an '(s)' plural": r"\w\(s\)",
    "a wrong singular": r"\b1 (?:months|years|incidents|priorities|wards|places|labels|KPIs)\b",
    "a field code": r"\b[a-z]+_[a-z]+(?:_[a-z]+)*\b",
}


def test_board_facing_pages_speak_plainly(report_set, params):
    from kcpp_analysis.core.paths import place_slug as slug

    pages = BOARD_FACING + [f"{t}.html" for t in params.themes] + ["public/summary.html"]
    pages += [f"place_{slug(p)}.html" for p in params.sia.places]
    for rel in pages:
        text = plain(_html(report_set, rel))
        for what, pattern in FORBIDDEN.items():
            hits = re.findall(rf".{{0,40}}(?:{pattern}).{{0,20}}", text)
            assert not hits, f"{rel} shows {what}: {hits[:3]}"


def test_the_brief_puts_findings_first_and_asks_for_decisions(report_set, params):
    text = plain(_html(report_set, "brief.html"))
    order = [
        "Recommended classes",
        "What changed since the last assessment",
        "The findings that matter most",
        "Decisions for the board",
        "Intelligence gaps to commission",
    ]
    at = [text.index(h) for h in order]
    assert at == sorted(at)
    for d in params.decisions:
        assert d.owner in text and d.due.strftime("%d %B %Y") in text
    # a list ends in one "and": "A (266), B (232) and 10 more", never "B (232) and C and 10 more"
    assert not re.search(r"\) and [^.;]{0,80}\) and \d+ more", text)
    for pr in params.priorities:
        assert pr.title in text


def test_public_summary_has_no_small_count_and_no_small_area_detail(report_set, params):
    t = params.sia.disclosure.public_threshold
    html = _html(report_set, "public/summary.html")
    text = plain(html)
    heads = " ".join(re.findall(r"<th[^>]*>(.*?)</th>", html))
    for word in ("Ward", "LSOA", "Neighbourhood", "Victims", "Offenders", "Repeat"):
        assert word not in heads, word
    for phrase in ("repeat victim", "offender", "near repeat", "near-repeat"):
        assert phrase not in text.lower(), phrase
    assert params.sia.public_marking in text and params.sia.protective_marking not in text
    csv = pd.read_csv(report_set.out_dir / "public" / "summary.csv", dtype=str)
    places = list(params.sia.places)
    hidden = 0
    for row in csv.to_dict("records"):
        for c in ["this_year", "last_year", *places]:
            v = row[c]
            if v == "[c]":
                hidden += 1
                continue
            n = float(str(v).replace(",", ""))
            assert n == 0 or n >= t, (row["priority"], c, v)
        # the attacker: this year's total is the sum of the places (all incidents located);
        # a hidden place is at least 1
        cells = [row[p] for p in places]
        if "[c]" in cells and row["this_year"] != "[c]":
            total = float(row["this_year"].replace(",", ""))
            hid = [i for i, v in enumerate(cells) if v == "[c]"]
            known = sum(float(v.replace(",", "")) for v in cells if v != "[c]")
            A = np.ones((1, len(hid)))
            for k in range(len(hid)):
                c = np.zeros(len(hid))
                c[k] = 1
                box = Bounds(np.ones(len(hid)), np.full(len(hid), total))
                cons = [LinearConstraint(A, total - known, total - known)]
                lo = milp(c, constraints=cons, bounds=box, integrality=np.ones(len(hid))).fun
                hi = -milp(-c, constraints=cons, bounds=box, integrality=np.ones(len(hid))).fun
                assert not (round(lo) == round(hi) and 1 <= lo < t), (row["priority"], hid[k])
    assert len(csv) >= 8  # every priority with a year of incidents
    assert hidden > 0  # the demo has small counts here, so the check above checks something


def test_the_run_log_warns_when_a_decision_is_due_before_the_assessed_year_ends(
    params, tmp_path, caplog
):
    """A board cannot take a decision on an assessment before the year it covers has ended:
    such a date in ``params/decisions.yaml`` is named in the log (the brief still lists it)."""
    import dataclasses
    import datetime as dt
    import logging

    from builders import incidents_by_year, report_context

    from kcpp_analysis.analysis.kpis.evaluate import evaluate_kpis
    from kcpp_analysis.report.brief import brief_block

    early = params.decisions[0].model_copy(update={"due": dt.date(2026, 3, 31)})
    p = dataclasses.replace(params, decisions=[early, *params.decisions[1:]])
    ctx = report_context(p, incidents_by_year({"2025/26": 40}), tmp_path)
    kpis = evaluate_kpis(ctx.dataset, [], period=ctx.year, params=p)  # none: an empty table
    with caplog.at_level(logging.WARNING, logger="kcpp_analysis.report.brief"):
        block = brief_block(ctx, [], kpis)
    assert "1 of 3 decisions are due on or before 31 March 2026" in caplog.text
    assert block.values["decisions"][0].due == dt.date(2026, 3, 31)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kcpp_analysis.report.brief"):
        brief_block(report_context(params, incidents_by_year({"2025/26": 40}), tmp_path), [], kpis)
    assert "decisions" not in caplog.text  # the shipped dates fall after the year


def test_no_published_table_heads_two_columns_alike(report_set):
    """A reader tells columns apart by their heads: no table on any page of the set has two
    columns with the same head (the methods annex once headed two columns "Label")."""
    import html as html_lib

    checked = 0
    for page in sorted(report_set.out_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for head in re.findall(r"<thead>(.*?)</thead>", text, flags=re.S):
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", head, flags=re.S):
                cells = [
                    html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                    for c in re.findall(r"<th[^>]*>(.*?)</th>", row, flags=re.S)
                ]
                named = [c for c in cells if c]
                assert len(named) == len(set(named)), (page.name, cells)
                checked += 1
    assert checked > 100


def _assessment(name, status, *, cur=None, prev=None, yoy="no data", recent="no data", pct=None):
    from types import SimpleNamespace

    return SimpleNamespace(
        priority=name,
        final_status=status,
        total=50.0,
        yoy_current=cur,
        yoy_previous=prev,
        yoy_label=yoy,
        recent_direction=recent,
        recent_annual_pct=pct,
        recent_months=36,
    )


def test_brief_findings_put_significant_changes_first_and_give_the_three_year_direction():
    """Findings, in order: significant change on last year, then a significant three-year
    direction, then high focus with no clear change; a hidden pair gives no count."""
    from types import SimpleNamespace

    from kcpp_analysis.report.brief import findings

    gate = SimpleNamespace(pair_hidden=lambda a, b: min(a, b) < 5)
    ctx = SimpleNamespace(gate=gate, year="2025/26")
    a = [
        _assessment("Flat", "high focus", cur=100, prev=98, yoy="no clear change"),
        _assessment(
            "Rising",
            "continue to monitor",
            cur=210,
            prev=200,
            yoy="no clear change",
            recent="increasing",
            pct=4.26,
        ),
        _assessment("Jumped", "continue to monitor", cur=150, prev=100, yoy="rose significantly"),
        _assessment("Quiet", "continue to monitor", cur=50, prev=49, yoy="no clear change"),
        _assessment(
            "Small",
            "high focus",
            cur=3,
            prev=9,
            yoy="no clear change",
            recent="decreasing",
            pct=-12.0,
        ),
    ]
    got = findings(ctx, a)
    assert got == [
        "Jumped (continue to monitor) rose significantly on last year: 150 incidents in "
        "2025/26, +50%.",
        "Small (high focus): recorded incidents have fallen over the last 3 years (about "
        "12.0% a year).",
        "Rising (continue to monitor): recorded incidents have risen over the last 3 years "
        "(about 4.3% a year); 210 incidents in 2025/26, +5% on last year, within what chance "
        "alone would produce.",
        "Flat (high focus) showed no clear change on last year: 100 incidents in 2025/26, +2%.",
    ]


def test_the_brief_quotes_each_three_year_direction_as_the_theme_pack_does(report_set, params):
    """A board member and a theme lead read the same rate: every three-year direction in the
    brief's findings appears word for word in the priority's own theme pack."""
    brief = plain(_html(report_set, "brief.html"))
    quoted = 0
    for theme, th in params.themes.items():
        pack = plain(_html(report_set, f"{theme}.html"))
        for pr in th.priorities:
            m = re.search(
                re.escape(pr.title) + r" \([a-z -]+\): (recorded incidents have \w+ over the "
                r"last \d+ years \(about [\d.]+% a year\))",
                brief,
            )
            if m:
                quoted += 1
                assert m.group(1) in pack, (pr.title, m.group(1))
    assert quoted, "the demo brief quotes no three-year direction"


def test_each_intelligence_gap_names_who_holds_the_missing_evidence(report_set, params, demo):
    """The thin-evidence and untested-KPI gaps name the publishers of the indicators concerned
    (the indicators table's source), not a generic list of partners."""
    html = _html(report_set, "overview.html")
    table = html[html.index("kcpp-gaps") :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", table, flags=re.S)
    gaps = {plain(g): plain(o) for g, o in rows}
    src = demo.indicators.groupby("indicator_id")["source"].first()
    thin = next(o for g, o in gaps.items() if g.startswith("The evidence for"))
    untested = next(o for g, o in gaps.items() if g.startswith("Changes in"))
    for pr in params.priorities:
        if pr.title.lower() in next(g for g in gaps if g.startswith("The evidence for")):
            for i in pr.indicators:
                assert src[i] in thin, (pr.id, i)
    kpi_sources = {src[k.indicator_id] for k in params.kpis if k.indicator_id}
    assert {s for s in kpi_sources if s in untested}, untested
    generic = params.sia.data_owners["indicators"]
    assert generic not in thin + untested  # every indicator's publisher is known here


def test_the_multi_priority_sentence_names_the_neighbourhoods_its_table_shows(report_set):
    """The overview's sentence on neighbourhoods that are persistent hotspots for several
    priorities names exactly the rows its table shows (it named 6 beside a table of 5)."""
    text = plain(_html(report_set, "overview.html"))
    csv = pd.read_csv(report_set.out_dir / "tables" / "overview_multi_priority_hotspots.csv")
    start = text.index("are persistent hotspots for")
    sentence = text[start : text.index(".", text.index("priorities", start) + 40)]
    m = re.search(r"the (\d+) with the most priorities of (\d+)", text)
    shown = int(m.group(1)) if m else len(csv)
    assert not m or int(m.group(2)) == len(csv)
    for i, name in enumerate(csv["lsoa_name"]):
        assert (f"{name} (" in sentence) == (i < shown), (name, sentence)


def test_a_place_pack_says_whose_rate_before_it_says_it(report_set, params):
    """'It is at least a fifth below...' only follows the sentence that names the place;
    a place with nothing above the borough names itself in the 'below' sentence."""
    from kcpp_analysis.core.paths import place_slug as slug

    lone = 0
    for place in params.sia.places:
        text = plain(_html(report_set, f"place_{slug(place)}.html"))
        above = text.find(f"{place}'s rate is at least a fifth above")
        it = text.find("It is at least a fifth below")
        if it >= 0:
            assert 0 <= above < it, place
        if above < 0 and f"{place}'s rate is at least a fifth below" in text:
            lone += 1
    assert lone >= 1  # the demo's Rural: every rate below the borough's, none above


def test_a_priority_without_data_names_who_holds_its_kind_of_data(params):
    """'No data are held for hate crime' asks the police (a flag on crime records), not the
    survey's owner; Prevent (an indicator with no figure held) asks the indicator's owner."""
    from types import SimpleNamespace

    from kcpp_analysis.report.summary import _priority_owners

    owners = params.sia.data_owners
    ctx = SimpleNamespace(
        params=params,
        dataset=SimpleNamespace(indicators=pd.DataFrame(columns=["indicator_id", "source"])),
    )
    assert _priority_owners(ctx, "hate_crime") == [owners["police_crime"]]
    assert _priority_owners(ctx, "prevent") == [owners["indicators"]]
    assert _priority_owners(ctx, "inclusive_communities") == [owners["survey"]]
    assert owners["roads"] in _priority_owners(ctx, "road_safety")
