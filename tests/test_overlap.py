"""Links between priorities: the exact-combination counts equal a recomputation straight
from the prepared dataset's categories and flags, and add up as an UpSet table must."""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.analysis.overlap import combinations, membership, shared_victims
from kcpp_analysis.core.periods import fy_bounds


def test_combinations_equal_a_recount_from_the_demo_incidents(demo, params):
    ids = ["serious_violence", "domestic_abuse", "vawg", "hate_crime"]
    m = membership(demo.incidents, params, ids, "2025/26")
    c = combinations(m)
    # independent: the year's incidents, each priority's categories or flag written out
    s, e = fy_bounds("2025/26")
    inc = demo.incidents[(demo.incidents["date"] >= s) & (demo.incidents["date"] <= e)]
    sv_cats = params.priority("serious_violence").selection.categories
    sets = {
        "Serious violence": inc["category"].isin(sv_cats),
        "Domestic abuse": inc["domestic_abuse"].fillna(False).astype(bool),
        "Violence against women and girls": inc["vawg"].fillna(False).astype(bool),
        "Hate crime": inc["hate_crime"].fillna(False).astype(bool),
        "Knife or sharp instrument": inc["knife_crime"].fillna(False).astype(bool),
        "Drug-related": inc["drug_related"].fillna(False).astype(bool),
        "Alcohol-related": inc["alcohol_related"].fillna(False).astype(bool),
    }
    f = pd.DataFrame(sets)
    f = f[f.any(axis=1)]
    key = f.apply(lambda r: " + ".join(k for k in sets if r[k]), axis=1)
    recount = key.value_counts()
    got = c.set_index("sets")["count"]
    assert got.sort_index().to_dict() == recount.sort_index().to_dict()
    # an UpSet table adds up: the combinations to the union, each set to its total
    assert c["count"].sum() == len(f) == len(m)
    for name, col in sets.items():
        assert c.loc[c[name], "count"].sum() == col.sum(), name
    # the demo's domestic abuse and VAWG overlap, so the check has something to find
    assert got.get("Domestic abuse + Violence against women and girls", 0) > 0


def test_shared_victims_count_each_person_once():
    m = pd.DataFrame(
        {
            "incident_id": [1, 2, 3, 4],
            "victim_id": ["a", "a", "b", None],
            "A": [True, False, True, True],
            "B": [False, True, True, True],
        }
    )
    t = shared_victims(m, ["A", "B"])
    assert t.to_dict("records") == [{"first": "A", "second": "B", "victims": 2}]


def test_the_overview_publishes_the_recounted_combinations(report_set, demo, params):
    """The overview's overlap table (all combinations in its CSV, the largest on the page)
    shows the counts of a recount from the prepared dataset, or the marker."""
    d = report_set.out_dir
    pub = pd.read_csv(d / "tables" / "overview_links.csv", dtype=str, keep_default_na=False)
    ids = list(params.sia.links)
    recount = combinations(membership(demo.incidents, params, ids, "2025/26"))
    truth = recount.set_index("sets")["count"]
    assert set(pub["sets"]) == set(truth.index)
    shown = pub[pub["count"] != "[c]"]
    assert len(shown) >= len(pub) // 2  # small combinations are withheld, most are shown
    for r in shown.itertuples():
        assert int(r.count.replace(",", "")) == truth[r.sets], r.sets
    hidden = pub.loc[pub["count"] == "[c]", "sets"]
    assert (truth[hidden] >= 1).all()
    html = (d / "overview.html").read_text()
    assert "by the exact combination of priorities and flags" in html  # the table on the page
    assert 'id="links"' in html
