"""Every registered section type computes directly on the demo data, for the first priority
it applies to: it returns its own kind and anchor, says something, gives every chart alt
text, renders, has a theme-pack rule, and publishes only what the gate let through."""

from __future__ import annotations

import html as html_lib

import pandas as pd
import pytest

from kcpp_analysis.report import SECTIONS, compute_section, open_report
from kcpp_analysis.report.packs import RULES, one_line


@pytest.fixture(scope="module")
def ctx(demo_dir, tmp_path_factory):
    return open_report(demo_dir, "2025/26", tmp_path_factory.mktemp("sections"))


def _first_priority(ctx, kind):
    for pr in ctx.params.priorities:
        if kind in ctx.sections_for(pr) and SECTIONS[kind].applies(ctx, pr):
            return pr
    return None


@pytest.mark.parametrize("kind", sorted(SECTIONS))
def test_section_computes_renders_and_is_gated(ctx, kind):
    pr = _first_priority(ctx, kind)
    if pr is None:  # csp_trend needs the Home Office tables: tests/test_homeoffice.py
        pytest.skip(f"no demo priority uses the {kind} section")
    r = compute_section(kind, ctx, pr)
    assert r.kind == kind and r.priority_id == pr.id
    assert r.anchor.startswith(pr.id)
    assert r.sentences or r.tables or r.figures
    assert all(len(f.alt) > 20 for f in r.figures)
    assert kind in RULES and isinstance(r.signals, dict)
    html = r._repr_html_()
    assert r.heading in html_lib.unescape(html) and f'id="{r.anchor}"' in html
    marker, threshold = ctx.gate.marker, ctx.gate.threshold
    for t in r.publications:
        # a published cell is a number, text or the marker: never a raw small count in a
        # column the gate protected (the gate's own "hidden" bookkeeping)
        for c in t.numeric:
            for i in range(len(t.data)):
                if t.hidden(i, c):
                    assert t.data[c].iloc[i] == marker
        assert t.name and not t.name.startswith("_")
    assert threshold >= 1


def test_a_comparison_on_a_proxy_measure_says_so_before_quoting_it(ctx):
    """Hate crime is compared on public order and weapons: the section's first sentence says
    what that measure stands for, and a priority compared on its own measure gets no note."""
    hate = ctx.params.priority("hate_crime")
    r = compute_section("benchmark", ctx, hate)
    note = ctx.params.benchmark.priorities["hate_crime"].proxy_note
    first = r.sentences[0]
    assert note and first.startswith(note + " Public order and weapons in ")
    assert one_line(r) == first  # the pack's "Also checked" line carries the note too
    asb = ctx.params.priority("asb")
    assert not ctx.params.benchmark.priorities["asb"].proxy_note
    assert compute_section("benchmark", ctx, asb).sentences[0].startswith("Anti-social")


def test_the_force_area_comparison_names_the_months_its_counts_cover(ctx):
    """The police.uk period comes from the reference extract (the national file it was built
    from), not from text fixed in the code, and no ward outside the limits reads 'none'."""
    from kcpp_analysis.data.reference import NATIONAL_FILES

    first, last = NATIONAL_FILES["policeuk_12m"].removesuffix(".csv").split("_")[-2:]
    months = f"{pd.Period(first, 'M'):%B %Y} to {pd.Period(last, 'M'):%B %Y}"
    r = compute_section("benchmark", ctx, ctx.params.priority("asb"))
    said = [s for s in r.sentences if s.startswith("On police.uk counts")]
    assert said and f"the 12 months {months}," in said[0]
    assert not said[0].split(", ", 1)[1].startswith("0 of")
    assert any(months in t.caption for t in r.tables)


def test_no_sentence_gives_a_range_whose_ends_are_equal(ctx):
    """'3.0 to 3.0 per 1,000' (road safety's darkest map class, one value) reads '3.0'."""
    import re

    seen = 0
    for pr in ctx.params.priorities:
        if "map" in ctx.sections_for(pr) and SECTIONS["map"].applies(ctx, pr):
            for s in compute_section("map", ctx, pr).sentences:
                seen += 1
                for a, b in re.findall(r"([\d.,]+) to ([\d.,]+)", s):
                    assert a != b, (pr.id, s)
    assert seen >= 5
