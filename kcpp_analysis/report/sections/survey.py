"""Perception: residents' survey measures of the priority, by wave.

Method (:mod:`kcpp_analysis.analysis.surveys`): weighted shares with Wilson intervals on Kish's
effective sample size; change between the SIA year's wave and the previous one by a
two-sample z-test. A wave with fewer respondents than the disclosure threshold is not shown.
"""

from __future__ import annotations

import pandas as pd

from kcpp_analysis.analysis.surveys import compare_shares, weighted_share
from kcpp_analysis.presentation import charts, narrative
from kcpp_analysis.report.results import Figure, SectionResult
from kcpp_analysis.report.sections.common import SectionSettings, anchor, table_name

KIND = "survey"
TITLE = "Perception (residents' surveys)"


class Settings(SectionSettings):
    pass


def applies(ctx, pr) -> bool:
    return bool(pr.survey_questions)


def compute(ctx, pr, settings: Settings) -> SectionResult:
    sentences, figures, notes = [], [], []
    changed = False
    for ref in pr.survey_questions:
        ws = weighted_share(ctx.dataset.survey, ref.question, survey_name=ref.survey)
        ws = ws[ws["n"] >= ctx.gate.threshold].reset_index(drop=True)
        kpi = next(
            (k for k in ctx.params.kpis if k.question == ref.question and k.survey == ref.survey),
            None,
        )
        label = kpi.label if kpi is not None else ref.question.replace("_", " ").capitalize()
        if ws.empty:
            sentences.append(f"{label}: no survey responses in the dataset.")
            continue
        c = compare_shares(
            ctx.dataset.survey,
            ref.question,
            current_wave=ctx.year,
            previous_wave=ctx.previous,
            survey_name=ref.survey,
        ).iloc[0]
        if pd.notna(c.current) and pd.notna(c.previous):
            ctx.record_test("survey change")
            changed = changed or bool(c.significant)
            sig = (
                ("a significant " + ("rise" if c.difference > 0 else "fall"))
                if c.significant
                else "no significant change"
            )
            sent = (
                f"{label}: {narrative.fmt_pct(100 * c.current, 1)} in {ctx.year}, {sig} on "
                f"{narrative.fmt_pct(100 * c.previous, 1)} in {ctx.previous}."
            )
        elif pd.notna(c.current):
            sent = f"{label}: {narrative.fmt_pct(100 * c.current, 1)} in {ctx.year}."
        else:
            sent = f"{label}: no survey wave in {ctx.year}."
        target = (
            kpi.target.value
            if kpi is not None and kpi.target.rule in ("at_least", "at_most")
            else None
        )
        name = table_name(ctx, pr.id, ref.question)
        data = ws.assign(
            share_pct=100 * ws["share"], ci_low=100 * ws["ci_low"], ci_high=100 * ws["ci_high"]
        )[["wave", "n", "share_pct", "ci_low", "ci_high"]]
        pub = ctx.gate.table(
            data, name, formats={"share_pct": ".1f", "ci_low": ".1f", "ci_high": ".1f", "n": ",.0f"}
        )
        chart = charts.share_chart(
            ws,
            title=label,
            target=target,
            name=name,
            alt=f"Line chart of the weighted share by survey wave with 95% intervals. {sent}",
        )
        figures.append(Figure.from_chart(chart, pub))
        sentences.append(sent)
    notes.append(
        "Weighted shares with 95% intervals on the effective sample size; change "
        "between waves by a two-sample z-test."
    )
    return SectionResult(
        KIND,
        pr.id,
        TITLE,
        anchor(pr.id, KIND),
        tuple(sentences),
        (),
        tuple(figures),
        tuple(notes),
        signals={"changed": changed},
    )
