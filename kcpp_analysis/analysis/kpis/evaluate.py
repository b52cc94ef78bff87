"""The outcome framework: every KPI against its 2021/22 baseline and its target.

:func:`evaluate_kpis` evaluates each KPI of ``params/kpis.yaml`` for a financial year
through its measure (:data:`kcpp_analysis.analysis.kpis.measures.MEASURES`).

Targets: ``below_baseline`` (met when current < baseline), ``above_baseline``
(current > baseline), ``at_most`` v (current <= v), ``at_least`` v (current >= v),
``reduce_by_per_year`` n (current <= baseline - n x years since the baseline year). Every
comparison uses unrounded values.

KPI RAG (one rule for every measure): **green** target met and not significantly
worsening; **amber** target met but significantly worsening, or not met but significantly
improving or within 5% of the target; **red** not met and not improving; **grey** no data.
Only a *tested* change counts as improving or worsening: a partner indicator's change
("worsening (not tested)") never moves a RAG.

Year to date: when a count KPI's sources end part-way through the year, the year, the
previous year and a measured baseline are counted over the same months; a whole-year plan
figure or fixed target is scaled by the share of a year's incidents falling in those months
(:func:`kcpp_analysis.analysis.kpis.measures.seasonal_share`).

The table holds numbers and controlled labels only; sentences about it are written by
:mod:`kcpp_analysis.presentation.narrative`. :func:`save_kpis` / :func:`load_kpis` keep it
with an explicit Arrow schema (so a KPI with no data reads back as NaN, never as None).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kcpp_analysis.analysis.kpis.measures import (
    MEASURES,
    TESTED,
    Inputs,
    seasonal_share,
    ytd_months,
)
from kcpp_analysis.config.models import Kpi
from kcpp_analysis.config.params import Params, load_params
from kcpp_analysis.core.periods import fy_from_start_year, fy_start_year, previous_fy

#: the KPI table's columns and their Arrow types (saved and read back with this schema)
KPI_SCHEMA = pa.schema(
    [
        ("kpi_id", pa.string()),
        ("theme", pa.string()),
        ("priority", pa.string()),
        ("label", pa.string()),
        ("measure", pa.string()),
        ("unit", pa.string()),
        ("direction", pa.string()),
        ("baseline_period", pa.string()),
        ("baseline", pa.float64()),
        ("baseline_source", pa.string()),
        ("previous", pa.float64()),
        ("current", pa.float64()),
        ("change_vs_baseline", pa.float64()),
        ("change_vs_baseline_pct", pa.float64()),
        ("target", pa.float64()),
        ("target_rule", pa.string()),
        ("target_value", pa.float64()),
        ("since_baseline", pa.string()),
        ("since_baseline_p_value", pa.float64()),
        ("status", pa.string()),
        ("direction_of_travel", pa.string()),
        ("travel_p_value", pa.float64()),
        ("tested", pa.bool_()),
        ("rag", pa.string()),
        ("ytd_months", pa.float64()),
        ("ytd_share", pa.float64()),
        ("target_wrong_side", pa.bool_()),
        ("target_note", pa.string()),
        ("baseline_note", pa.string()),
        ("trajectory_years", pa.list_(pa.string())),
        ("trajectory", pa.list_(pa.float64())),
    ]
)
KPI_COLUMNS = KPI_SCHEMA.names


def kpi_value(dataset, kpi: Kpi, params: Params, fy: str, months: int | None = None) -> float:
    """The KPI's value for one financial year (or its first ``months`` months, counts only),
    NaN when there are no data."""
    return MEASURES[kpi.measure].value(Inputs(dataset, kpi, params), fy, months)


def target_for(kpi: Kpi, baseline: float, fy: str) -> float:
    """The target value for ``fy`` from the KPI's rule and baseline."""
    r = kpi.target
    if r.rule in ("below_baseline", "above_baseline"):
        return baseline
    if r.rule in ("at_most", "at_least"):
        return float(r.value)
    years = fy_start_year(fy) - fy_start_year(kpi.baseline_period)
    return baseline - float(r.value) * years


def met(kpi: Kpi, current: float, target: float) -> bool:
    """Whether ``current`` meets ``target`` by the KPI's rule (unrounded values)."""
    rule = kpi.target.rule
    if rule == "below_baseline":
        return current < target
    if rule == "above_baseline":
        return current > target
    if rule in ("at_most", "reduce_by_per_year"):
        return current <= target
    return current >= target


def rag(status: str, travel: str, current: float, target: float) -> str:
    """The KPI RAG rule (module docstring); only tested changes count.

    >>> rag("met", "worsening (not tested)", 35, 40), rag("met", "worsening", 35, 40)
    ('green', 'amber')
    >>> rag("not met", "no significant change", 41, 40), rag("not met", "improving", 50, 40)
    ('amber', 'amber')
    >>> rag("not met", "improving (not tested)", 50, 40)
    'red'
    """
    if status == "no data":
        return "grey"
    worsening = travel == "worsening"
    improving = travel == "improving"
    if status == "met":
        return "amber" if worsening else "green"
    near = target != 0 and abs(current - target) <= 0.05 * abs(target)
    if improving or (near and not worsening):
        return "amber"
    return "red"


def evaluate_kpis(
    dataset,
    kpi_definitions: Params | Sequence[Kpi] | None = None,
    *,
    period: str,
    params: Params | None = None,
) -> pd.DataFrame:
    """Evaluate every KPI for the financial year ``period``.

    Parameters
    ----------
    dataset : Dataset
        A prepared dataset (:func:`kcpp_analysis.load_dataset`).
    kpi_definitions : Params or list of Kpi
        The outcome framework (default: the project's ``params/kpis.yaml``).
    period : str
        Financial year, e.g. ``"2025/26"``; "previous" is the year before.

    Returns
    -------
    DataFrame
        One row per KPI (none dropped; a KPI without data has status ``no data``), columns
        :data:`KPI_COLUMNS`: the values (``baseline``, ``previous``, ``current``,
        ``target``), ``baseline_source`` (``plan`` or ``measured``), ``status`` (``met`` /
        ``not met`` / ``no data``), ``direction_of_travel`` and ``since_baseline`` with
        their p-values, ``tested`` (whether the measure's changes are tested), ``rag``,
        year-to-date facts (``ytd_months``, ``ytd_share``), ``target_wrong_side`` (a fixed
        target a worse value than the baseline would meet), and the trajectory from the
        baseline year.
    """
    params = params or (kpi_definitions if isinstance(kpi_definitions, Params) else load_params())
    kpis = list(
        (kpi_definitions.kpis if isinstance(kpi_definitions, Params) else kpi_definitions)
        if kpi_definitions is not None
        else params.kpis
    )
    prev_fy = previous_fy(period)
    rows = []
    for k in kpis:
        m = MEASURES[k.measure]
        inp = Inputs(dataset, k, params)
        months = ytd_months(inp, period)
        current = m.value(inp, period, months)
        previous = m.value(inp, prev_fy, months)
        if k.baseline is not None:
            baseline, bsrc = float(k.baseline), "plan"
        else:
            baseline, bsrc = m.value(inp, k.baseline_period, months), "measured"
        target = (
            target_for(k, baseline, period)
            if not np.isnan(baseline) or k.target.rule in ("at_most", "at_least")
            else np.nan
        )
        share = np.nan
        if months is not None:
            share = seasonal_share(inp, months)
            if bsrc == "plan":
                baseline = baseline * share
            if k.target.rule in ("at_most", "at_least"):
                target = target * share
            elif k.target.rule == "reduce_by_per_year":
                years = fy_start_year(period) - fy_start_year(k.baseline_period)
                target = baseline - float(k.target.value) * years * share
            else:
                target = baseline
        if np.isnan(current) or np.isnan(target):
            status = "no data"
        else:
            status = "met" if met(k, current, target) else "not met"
        if np.isnan(current) or np.isnan(previous):
            travel_label, travel_p = "no data", np.nan
        else:
            t = m.travel(inp, period, prev_fy, current, previous)
            travel_label, travel_p = t.label, t.p_value
        if np.isnan(current) or np.isnan(baseline):
            since_label, since_p = "no data", np.nan
        else:
            sb = m.since_baseline(inp, period, current, baseline)
            since_label, since_p = sb.label, sb.p_value
        years = [
            fy_from_start_year(y)
            for y in range(fy_start_year(k.baseline_period), fy_start_year(period) + 1)
        ]
        trajectory = [float(m.value(inp, fy, months)) for fy in years]  # like for like
        wrong_side = bool(
            k.target.rule in ("at_most", "at_least")
            and np.isfinite(baseline)
            and (k.target.value > baseline if k.direction == "lower" else k.target.value < baseline)
        )
        rows.append(
            {
                "kpi_id": k.id,
                "theme": k.theme,
                "priority": k.priority,
                "label": k.label,
                "measure": k.measure,
                "unit": k.unit,
                "direction": k.direction,
                "baseline_period": k.baseline_period,
                "baseline": baseline,
                "baseline_source": bsrc,
                "previous": previous,
                "current": current,
                "change_vs_baseline": current - baseline,
                "change_vs_baseline_pct": 100 * (current - baseline) / baseline
                if baseline
                else np.nan,
                "target": target,
                "target_rule": k.target.rule,
                "target_value": np.nan if k.target.value is None else float(k.target.value),
                "since_baseline": since_label,
                "since_baseline_p_value": since_p,
                "status": status,
                "direction_of_travel": travel_label,
                "travel_p_value": travel_p,
                "tested": m.tested,
                "rag": rag(status, travel_label, current, target),
                "ytd_months": np.nan if months is None else float(months),
                "ytd_share": share,
                "target_wrong_side": wrong_side,
                "target_note": k.target.note or "",
                "baseline_note": k.baseline_note or "",
                "trajectory_years": years,
                "trajectory": trajectory,
            }
        )
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def significant_change(label: str) -> bool:
    """Whether a change label comes from a significant test (never an untested change)."""
    return label in TESTED


def save_kpis(table: pd.DataFrame, path: Path) -> None:
    """Write a KPI table with :data:`KPI_SCHEMA` (atomic: a temporary file, then renamed)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    t = table[KPI_COLUMNS].copy()
    for c in ("priority",):
        t[c] = t[c].astype(object).where(t[c].notna(), None)
    pq.write_table(pa.Table.from_pandas(t, schema=KPI_SCHEMA, preserve_index=False), tmp)
    tmp.replace(path)


def load_kpis(path: Path) -> pd.DataFrame:
    """Read a KPI table written by :func:`save_kpis` (schema checked)."""
    t = pq.read_table(path)
    if not t.schema.equals(KPI_SCHEMA, check_metadata=False):
        raise ValueError(f"{path}: not a KPI table of this version of kcpp (schema differs)")
    df = t.to_pandas()
    df["trajectory"] = [list(map(float, v)) for v in df["trajectory"]]
    df["trajectory_years"] = [list(v) for v in df["trajectory_years"]]
    return df
