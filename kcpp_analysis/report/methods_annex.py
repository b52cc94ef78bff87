"""The methods annex: one document for the whole set with the decision method, when a theme
pack shows a section, how often each tested label is wrong, the glossary, the definitions
and methods, and the data's sources and quality. Theme packs and the overview point here
instead of repeating it."""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.analysis.labels import LABELS, RHOS
from kcpp_analysis.report.packs import MAX_FULL, MAX_FULL_MONITOR, rules_table
from kcpp_analysis.report.results import Block


def labels_table(ctx):
    """Every kind of tested label with its measured false-alarm rate."""
    rows = []
    for kind, m in LABELS.items():
        row = {"kind": kind, "label": m.words, "source": m.source}
        if len(m.rates) == 1:
            row.update({f"rho_{r}": 100 * m.rates[0] for r in RHOS})
        else:
            row.update({f"rho_{r}": 100 * v for r, v in zip(RHOS, m.rates, strict=True)})
        rows.append(row)
    t = pd.DataFrame(rows)
    return ctx.gate.table(
        t.rename(
            columns={
                "kind": "what is tested",  # two columns the gate would both head "Label"
                "label": "how the label reads",
                "rho_0.0": "independent months (%)",
                "rho_0.5": "correlation 0.5 (%)",
                "rho_0.8": "correlation 0.8 (%)",
            }
        ),
        "methods_label_rates",
        formats={
            "independent months (%)": ".1f",
            "correlation 0.5 (%)": ".1f",
            "correlation 0.8 (%)": ".1f",
        },
        caption="How often each label appears when nothing has changed, by how strongly "
        "neighbouring months are correlated",
    )


def methods_block(ctx) -> Block:
    return Block(
        "methods_annex.html.j2",
        {
            "doc": ctx.document_control(),
            "synthetic": ctx.synthetic,
            "rules": rules_table(),
            "max_full": MAX_FULL,
            "max_monitor": MAX_FULL_MONITOR,
        },
        tables=(labels_table(ctx),),
    )
