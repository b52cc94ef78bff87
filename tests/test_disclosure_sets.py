"""Disclosure across whole published sets: an independent integer-programming attacker
(``tests/attacker.py``) reads every area table of a report set (the neighbourhood map's
classes, wards, places, the borough totals, deciles, hotspots) and tries to pin down any
hidden small count; then the same across two consecutive years' sets."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from attacker import Year, attack_year, read_sets


def _prefixes(set_dir: Path) -> list[str]:
    """Every priority with a table by area (``<theme>_<priority>``). Place packs and the
    overview copy the theme packs' published cells (read by the attacker as the same
    numbers), so they add no unknowns."""
    out = set()
    for kind in ("yoy", "wards", "lsoa_map", "deciles"):
        out |= {p.name[: -len(f"_{kind}.csv")] for p in (set_dir / "tables").glob(f"*_{kind}.csv")}
    return sorted(p for p in out if not p.startswith(("place_", "overview_")))


def _attack_sets(set_dirs, areas, params) -> tuple[list, int, int]:
    found, solves, years = [], 0, 0
    for pre in _prefixes(set_dirs[-1]):
        for label, y in read_sets(set_dirs, pre).items():
            pinned, n = attack_year(
                y, areas, threshold=5, min_population=params.sia.hotspots.min_population
            )
            found += [(pre, label, *p) for p in pinned]
            solves += n
            years += 1
    return found, solves, years


def test_no_small_count_is_recoverable_from_the_demo_set(report_set, demo, params):
    set_dir = report_set.out_dir
    found, solves, years = _attack_sets([set_dir], demo.areas, params)
    assert years >= 2 * len(_prefixes(set_dir)) >= 20  # this year and the previous
    assert solves > 1000  # the attack ran over every hidden cell and hatched neighbourhood
    assert not found, f"{len(found)} small counts recovered, e.g. {found[:5]}"


def test_the_attacker_recovers_what_the_old_map_gave_away(demo, params):
    """The attack has teeth, and what it recovers is true: the map as it used to be (zeros
    coloured, only 1-4 hatched) beside exact place totals gives small counts away, as the
    issue found for modern slavery in Rural."""
    from kcpp_analysis.data.selection import select_incidents

    pr = next(p for p in params.priorities if p.id == "modern_slavery")
    inc = select_incidents(demo.incidents, pr.selection, params, pr)
    inc = inc[(inc["date"] >= "2025-04-01") & (inc["date"] < "2026-04-01")]
    truth = inc.groupby("lsoa_code").size().reindex(demo.areas["lsoa_code"], fill_value=0)
    cls = np.where(truth == 0, 1, np.where(truth < 5, 0, 2))
    rng = np.where(cls == 0, "fewer than 5", np.where(cls == 1, "0.0 to 0.0", "0.0 to 999.0"))
    lsoa_map = pd.DataFrame({"code": truth.index, "class": cls, "class_range": rng})
    place = demo.areas.set_index("lsoa_code")["place"]
    per_place = truth.groupby(place.reindex(truth.index).to_numpy()).sum()
    y = Year(lsoa_map=lsoa_map, places={p: float(v) for p, v in per_place.items()})
    pinned, _ = attack_year(y, demo.areas)
    assert pinned, "the old publication should give small counts away"
    for name, value in pinned:
        assert name.startswith("lsoa ") and truth[name.split()[1]] == value


def _render_theme(data_dir, out_dir, year, theme):
    from kcpp_analysis.report import assess_theme, open_report

    ctx = open_report(data_dir, year, out_dir)
    rep = assess_theme(ctx, theme)
    for pr in rep.priorities:
        rep.priority(pr)
    return ctx


def test_two_consecutive_years_together_disclose_no_small_count(demo_dir, demo, params, tmp_path):
    """Last year's set sits beside this year's: what it hid stays hidden this year, and the
    attacker, joining each year's "current" tables with the next year's "previous" columns,
    pins no small count."""
    root = tmp_path / "outputs"
    _render_theme(demo_dir, root / "2024-25", "2024/25", "violence")
    ctx = _render_theme(demo_dir, root / "2025-26", "2025/26", "violence")
    linked = [
        ctx._cache[k].linked_to_previous_set
        for k in ctx._cache
        if isinstance(k, tuple) and k[0] == "areas"
    ]
    assert linked and all(linked)
    found, solves, years = _attack_sets([root / "2024-25", root / "2025-26"], demo.areas, params)
    assert years >= 3 * len(linked)
    assert not found, f"{len(found)} small counts recovered across years, e.g. {found[:5]}"
    # and every ward count last year hid is hidden this year in the previous column
    for pre in _prefixes(root / "2025-26"):
        last = pd.read_csv(root / "2024-25" / "tables" / f"{pre}_wards.csv", dtype=str)
        this = pd.read_csv(root / "2025-26" / "tables" / f"{pre}_wards.csv", dtype=str)
        m = last.merge(this, on="ward_name", suffixes=("_last", "_this"))
        hid = m["current_last"] == "[c]"
        assert (m.loc[hid, "previous_this"] == "[c]").all(), pre
        shown = m[~hid]
        same = (shown["previous_this"] == shown["current_last"]) | (shown["previous_this"] == "[c]")
        assert same.all(), pre


def test_the_map_never_tells_none_from_a_few(report_set):
    """Zero and 1-4 share one hatched class on every neighbourhood map."""
    maps = sorted((report_set.out_dir / "tables").glob("*_lsoa_map.csv"))
    assert maps
    for p in maps:
        m = pd.read_csv(p, dtype=str, keep_default_na=False)
        ranges = set(m["class_range"])
        assert not any(r.startswith("0.0 to 0.0") for r in ranges), p.name
        hatched = set(m.loc[m["class"] == "0", "class_range"])
        assert hatched <= {"0 to 4 incidents"}, (p.name, hatched)


def test_no_hotspot_rests_on_a_small_count(report_set):
    paths = sorted((report_set.out_dir / "tables").glob("*_hotspots.csv"))
    paths = [p for p in paths if not p.name.startswith(("place_", "overview_"))]
    assert len(paths) >= 8
    for p in paths:
        h = pd.read_csv(p, dtype=str, keep_default_na=False)
        shown = h.loc[h["count"] != "[c]", "count"].astype(float)
        assert (shown >= 5).all(), p.name
