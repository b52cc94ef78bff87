"""The public summary: what the partnership will focus on and what was recorded, safe to
publish.

Compared with the partnership's own documents it shows the four places, never wards or
neighbourhoods; no repeat-victim, offender, near-repeat or neighbourhood detail; every
count at or above the public threshold (``params/sia.yaml: disclosure.public_threshold``,
10 by default), with secondary suppression so no hidden count can be worked out from the
borough total and the other places (each priority's row is one linked system, audited by
integer programming as everywhere else); and the public marking. The synthetic-data
banner follows the same rule as every other page.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kcpp_analysis.presentation import narrative, recommendation
from kcpp_analysis.report.gate import DisclosureGate, csv_safe
from kcpp_analysis.report.results import Block
from kcpp_analysis.report.summary import ordered

TREND_WORDS = {
    "rose significantly": "up",
    "fell significantly": "down",
    "no clear change": "no clear change",
}


def public_gate(ctx) -> DisclosureGate:
    d = ctx.params.sia.disclosure
    return DisclosureGate(threshold=d.public_threshold, marker=d.marker)


def _row(ctx, gate, pr, a) -> dict:
    """One priority's published row: this year and last at borough level and this year by
    place, protected together."""
    places = ctx.params.sia.places
    cur = ctx.lsoa_compared(pr, "current").groupby("place")["count"].sum()
    L = gate.linked()
    tc = L.cell("total_current", float(a.yoy_current or 0))
    tp = L.cell("total_previous", float(a.yoy_previous or 0))
    pids = [L.cell(p, float(cur.get(p, 0))) for p in places]
    # incidents without a place (normally none) are taken as known to the reader
    unloc = L.cell("unlocated", L.values[tc] - sum(L.values[i] for i in pids))
    L.relate({**{i: 1 for i in pids}, unloc: 1, tc: -1})
    mask = L.protect(locked=[unloc])
    if mask[tc] != mask[tp]:  # the change needs both years
        mask = L.protect(locked=[unloc], force_hidden=[tc, tp, *np.flatnonzero(mask)])
    gate.count_linked(mask, [tc, tp, *pids])
    show = lambda i: gate.marker if mask[i] else f"{L.values[i]:,.0f}"  # noqa: E731
    both = not (mask[tc] or mask[tp]) and a.yoy_previous
    return {
        "priority": a.priority,
        "this_year": show(tc),
        "last_year": show(tp),
        "change": (
            narrative.fmt_pct(100 * (a.yoy_current - a.yoy_previous) / a.yoy_previous, sign=True)
            if both
            else ""
        ),
        "change_test": TREND_WORDS.get(a.yoy_label, "") if both else "",
        **{p: show(i) for p, i in zip(places, pids, strict=True)},
    }


def public_block(ctx, assessments) -> tuple[Block, pd.DataFrame]:
    """The public summary's content and its one table (as published)."""
    gate = public_gate(ctx)
    a = ordered(assessments)
    by_class = {}
    for x in a:
        by_class.setdefault(recommendation.status_label(x.final_status), []).append(x.priority)
    rows = []
    for x in a:
        pr = ctx.params.priority(x.priority_id)
        if pr.selection is None or x.yoy_current is None or not x.has_data:
            continue
        if ctx.counts_only(pr):
            continue  # a period of aggregated counts is not a year to compare
        rows.append(_row(ctx, gate, pr, x))
    places = list(ctx.params.sia.places)
    table = pd.DataFrame(
        rows, columns=["priority", "this_year", "last_year", "change", "change_test", *places]
    )
    return (
        Block(
            "public_summary.html.j2",
            {
                "doc": ctx.document_control(),
                "synthetic": ctx.synthetic,
                "area": ctx.params.sia.local_authority,
                "marking": ctx.params.sia.public_marking,
                "by_class": list(by_class.items()),
                "table": table,
                "places": places,
                "threshold": gate.threshold,
                "marker": gate.marker,
                "year": ctx.year,
                "previous": ctx.previous,
            },
        ),
        table,
    )


def write_public(ctx, assessments, folder: Path) -> Path:
    """Write ``public/summary.html`` and ``public/summary.csv`` into the set."""
    from kcpp_analysis.core.ledger import record_written
    from kcpp_analysis.report.documents import write_document

    block, table = public_block(ctx, assessments)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "summary.csv"
    tmp = csv.with_suffix(".csv.tmp")
    table.map(csv_safe).to_csv(tmp, index=False)
    tmp.replace(csv)
    record_written(csv)
    return write_document(
        ctx,
        folder / "summary.html",
        f"Community safety in {ctx.params.sia.local_authority} {ctx.year}: public summary",
        block._repr_html_(),
        marking=ctx.params.sia.public_marking,
        index_href="../index.html",
    )
