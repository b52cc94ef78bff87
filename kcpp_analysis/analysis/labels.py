"""Every label a reader sees or a score uses that rests on a test, with how often it is wrong.

A label such as "rose significantly", "increasing" or "concern" is a claim. Each method
here states the words it produces and its **false-alarm rate**: how often the label appears
when nothing has changed, measured by simulation with known truth on realistic data
(seasonal, overdispersed, correlated months), or, where stated, from theory. The rates for
the monthly-series labels depend on how strongly neighbouring months are correlated
(:math:`\\rho`, estimated per series: :mod:`kcpp_analysis.analysis.trends.correlation`) and
are given at :math:`\\rho` 0, 0.5 and 0.8; :func:`false_alarm_rate` interpolates.

Sources of the figures:

- ``benchmarks/bench_label_sizes.py`` (400 stable series of 108 months per value of
  :math:`\\rho`, 4,000 a month with 5% log-normal AR(1) extra variation and +/-10%
  seasonality; the same series give the power figures in the README);
- ``tests/test_funnel.py`` (23 wards, 400 plots, 15% real between-ward variation);
- theory: two 95% intervals that do not overlap (about 0.56% for equal standard errors,
  :math:`2\\{1 - \\Phi(1.96\\sqrt2)\\}`); a test at the 5% level on independent data (5%).

:func:`chance_labels` turns the tests a report made (``ReportContext.record_test``) into the
appendix's table: how many labels of each kind, their false-alarm rate, and how many chance
labels to expect in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RHOS = (0.0, 0.5, 0.8)


@dataclass(frozen=True)
class LabelMethod:
    """A labelled test: the words it produces, its false-alarm rate at :data:`RHOS` (one
    value when it does not depend on correlated months), and where that rate comes from."""

    words: str
    rates: tuple[float, ...]
    source: str

    def rate(self, rho: float | None = None) -> float:
        if len(self.rates) == 1:
            return self.rates[0]
        r = 0.5 if rho is None or not np.isfinite(rho) else float(np.clip(rho, 0, 0.8))
        return float(np.interp(r, RHOS, self.rates))


BENCH = "benchmarks/bench_label_sizes.py"
LABELS: dict[str, LabelMethod] = {
    "year on year": LabelMethod(
        '"rose significantly" / "fell significantly" on last year', (0.025, 0.040, 0.060), BENCH
    ),
    "since baseline": LabelMethod(
        'a KPI "rose/fell significantly" since its baseline year', (0.065, 0.055, 0.065), BENCH
    ),
    "KPI change on last year": LabelMethod(
        'a KPI "improving" / "worsening" on last year (counts: the year-on-year test)',
        (0.025, 0.040, 0.060),
        BENCH,
    ),
    "KPI change by intervals": LabelMethod(
        'a repeat-rate KPI "improving" / "worsening" (95% intervals that do not overlap)',
        (0.0056,),
        "theory",
    ),
    "whole-period trend": LabelMethod(
        'the underlying trend "increasing" / "decreasing"', (0.028, 0.045, 0.068), BENCH
    ),
    "36-month direction": LabelMethod(
        'the last 36 months "increasing" / "decreasing"', (0.050, 0.062, 0.090), BENCH
    ),
    "SPC latest month": LabelMethod(
        'SPC "latest month signals concern / improvement"', (0.008, 0.092, 0.245), BENCH
    ),
    "ward funnel": LabelMethod(
        "a ward named above or below the 99.8% funnel limit (per ward)",
        (0.0007,),
        "tests/test_funnel.py",
    ),
    "survey change": LabelMethod(
        'a survey share "a significant rise / fall" between waves', (0.05,), "theory"
    ),
    "deprivation gradient": LabelMethod(
        "a rate ratio or correlation with deprivation whose 95% interval excludes no effect",
        (0.05,),
        "theory",
    ),
    "risk factor association": LabelMethod(
        "an area-level factor named as associated with a priority's neighbourhood rates "
        "(per priority: any of the factors)",
        (0.04,),
        "tests/test_risk_factors.py",
    ),
    "weekly time pattern": LabelMethod(
        "the weekly pattern differs from the borough's (chi-square)", (0.05,), "theory"
    ),
    "near-repeat (Knox) cells": LabelMethod(
        "a near-repeat cell with p <= 0.05 (Monte Carlo)", (0.05,), "theory"
    ),
}


def false_alarm_rate(kind: str, rho: float | None = None) -> float:
    """The false-alarm rate of a label kind at residual autocorrelation ``rho``.

    >>> round(false_alarm_rate("year on year", 0.65), 3)
    0.05
    """
    return LABELS[kind].rate(rho)


def chance_labels(tests: dict[str, list[tuple[int, float | None]]]) -> pd.DataFrame:
    """One row per label kind a report used: ``kind``, ``words``, ``labels`` (how many),
    ``false_alarm_pct`` (mean over them, %), ``expected_by_chance`` and ``source``.

    ``tests`` maps a kind to ``(n, rho)`` records. An unknown kind is an error (a new test
    must state its false-alarm rate here).

    >>> t = chance_labels({"year on year": [(1, 0.0), (1, 0.8)], "ward funnel": [(23, None)]})
    >>> t["labels"].tolist(), [round(x, 3) for x in t["expected_by_chance"]]
    ([2, 23], [0.085, 0.016])
    """
    rows = []
    for kind, recs in tests.items():
        if kind not in LABELS:
            raise KeyError(f"no false-alarm rate is recorded for the label kind {kind!r}")
        m = LABELS[kind]
        n = sum(k for k, _ in recs)
        expected = sum(k * m.rate(r) for k, r in recs)
        rows.append(
            {
                "kind": kind,
                "words": m.words,
                "labels": int(n),
                "false_alarm_pct": 100 * expected / n if n else np.nan,
                "expected_by_chance": expected,
                "source": m.source,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["kind", "words", "labels", "false_alarm_pct", "expected_by_chance", "source"],
    )
