"""The serious violence profile: each kind's count this year and pooled over three years
equals a recount from the incidents, and a kind too rare for one year is shown pooled or as
"fewer than N over three years", never as a small number."""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.core.periods import fy_labels
from kcpp_analysis.report import compute_section, open_report


def test_kinds_are_counted_this_year_and_pooled(demo_dir, demo, params, tmp_path):
    ctx = open_report(demo_dir, "2025/26", tmp_path / "o")
    pr = params.priority("serious_violence")
    r = compute_section("violence_profile", ctx, pr)
    t = r.tables[0].data.set_index("kind")
    inc = ctx.incidents(pr)
    fy = fy_labels(inc["date"])
    years = ["2023/24", "2024/25", "2025/26"]
    absent = 0
    for cat in pr.selection.categories:
        label = params.categories[cat].label
        m = inc["category"] == cat
        if not m.any():  # not in these data at all: no row of zeros, a sentence says so
            assert label not in t.index
            assert any(s.startswith("Not held") and label in s for s in r.sentences), label
            absent += 1
            continue
        cur, pooled = int((m & (fy == "2025/26")).sum()), int((m & fy.isin(years)).sum())
        shown = t.loc[label, "current"]
        assert shown == "[c]" if 1 <= cur < 5 else float(shown) == cur, label
        shown3 = t.loc[label, "pooled"]
        assert shown3 == "[c]" if 1 <= pooled < 5 else float(shown3) == pooled, label
    assert absent == 1  # the demo's police.uk "violence and sexual offences" (not split)
    # homicide is rare in a year: it reads pooled (or "fewer than 5 over three years")
    homicide = params.categories["homicide"].label
    if t.loc[homicide, "current"] == "[c]":
        assert any(s.startswith(f"{homicide}:") for s in r.sentences)
    # no sentence quotes a small count
    for s in r.sentences:
        for n in range(1, 5):
            assert f" {n} over" not in s


def test_cohorts_never_reveal_a_hidden_age_band(demo_dir, params, tmp_path):
    ctx = open_report(demo_dir, "2025/26", tmp_path / "o")
    r = compute_section("violence_profile", ctx, params.priority("serious_violence"))
    coh = next(t for t in r.tables if t.name.endswith("violence_cohorts"))
    under = [s for s in r.sentences if "under 25" in s]
    for who in ("victims", "offenders"):
        if who in coh.data and any(coh.hidden(i, who) for i in range(len(coh.data))):
            assert not any(s.split(" of ")[1].startswith(who) for s in under), who
    assert isinstance(pd.DataFrame(coh.data), pd.DataFrame)
