"""One truth per figure: every number the demo set prints in more than one place agrees.

Read only from what the set publishes (CSV tables, the typed assessments, the brief and the
overview's HTML): a priority's year total in its assessment, its year-on-year table, its
places and its wards (when nothing is withheld); its class, rating and score on the overview
and in the assessment; each KPI on the overview and in its theme's table; the brief's and the
overview's class for every priority; and the place packs' figures against the theme packs'.
"""

from __future__ import annotations

import html as h
import re

import pandas as pd

from kcpp_analysis.analysis.assessment import load_assessments
from kcpp_analysis.presentation.recommendation import status_label

MARK = "[c]"


def _csv(d, name):
    p = d / "tables" / f"{name}.csv"
    return pd.read_csv(p, dtype=str, keep_default_na=False) if p.is_file() else None


def _n(v: str) -> float:
    return float(v.replace(",", ""))


def _plain(page: str) -> str:
    return re.sub(r"\s+", " ", h.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_every_figure_printed_twice_agrees(report_set, params):
    d = report_set.out_dir
    a = {}
    for th in params.themes:
        for x in load_assessments(d / "results" / f"{th}_assessment.json"):
            a[x.priority_id] = x
    assert len(a) == len(params.priorities)
    checked = 0
    for pid, x in a.items():
        th = params.theme_of(pid)
        yoy, places, wards = (_csv(d, f"{th}_{pid}_{k}") for k in ("yoy", "places", "wards"))
        if yoy is None or x.yoy_current is None:
            continue
        for col, val in (("current", x.yoy_current), ("previous", x.yoy_previous)):
            shown = yoy[col].iloc[0]
            if shown != MARK:
                assert _n(shown) == val, (pid, col)
            for t in (places, wards):
                if t is not None and (t[col] != MARK).all():
                    assert sum(_n(v) for v in t[col]) == val, (pid, col)
                    checked += 1
    assert checked >= 20
    # the overview's priority table against the assessments
    ov = _csv(d, "overview_priorities").set_index("priority")
    for x in a.values():
        row = ov.loc[x.priority]
        assert row["adopted"] == status_label(x.final_status), x.priority_id
        if x.total is not None and row["score"]:
            assert abs(float(row["score"]) - x.total) < 1e-9, x.priority_id
    # KPIs: the overview's dashboard and each theme's table
    ok = _csv(d, "overview_kpis").set_index("kpi_id")
    n_kpi = 0
    for th in params.themes:
        tk = _csv(d, f"{th}_kpis")
        for r in tk.itertuples():
            for col in ("baseline", "previous", "current", "rag", "status", "since_baseline"):
                assert ok.loc[r.kpi_id, col] == getattr(r, col), (r.kpi_id, col)
            n_kpi += 1
    assert n_kpi >= 20
    # the brief names each priority's class as the overview does
    brief = _plain((d / "brief.html").read_text())
    for x in a.values():
        assert x.priority in brief or x.priority.lower() in brief.lower(), x.priority_id
    plan = _plain((d / "overview.html").read_text())
    for x in a.values():
        m = re.search(
            re.escape(x.priority) + r" (High focus|Continue to monitor|Cross-cutting"
            r" high priority focus|No data) ",
            plan,
        )
        assert m and m.group(1) == status_label(x.final_status), x.priority_id


def test_headline_counts_agree_with_the_yoy_tables(report_set, params):
    """A sentence that quotes a priority's year total quotes the published figure."""
    d = report_set.out_dir
    for th in params.themes:
        page = _plain((d / f"{th}_annex.html").read_text())
        for pr in params.themes[th].priorities:
            yoy = _csv(d, f"{th}_{pr.id}_yoy")
            if yoy is None or MARK in (yoy["current"].iloc[0], yoy["previous"].iloc[0]):
                continue
            cur = f"{int(_n(yoy['current'].iloc[0])):,}"
            assert cur in page, (pr.id, cur)
