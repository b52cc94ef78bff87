"""KPIs against the plan's baselines and targets: measure kinds (:mod:`.measures`) and the
evaluation (:mod:`.evaluate`)."""

from kcpp_analysis.analysis.kpis.evaluate import (
    KPI_COLUMNS,
    KPI_SCHEMA,
    evaluate_kpis,
    kpi_value,
    load_kpis,
    met,
    rag,
    save_kpis,
    significant_change,
    target_for,
)
from kcpp_analysis.analysis.kpis.measures import MEASURES, TESTED

__all__ = [
    "KPI_COLUMNS",
    "KPI_SCHEMA",
    "MEASURES",
    "TESTED",
    "evaluate_kpis",
    "kpi_value",
    "load_kpis",
    "met",
    "rag",
    "save_kpis",
    "significant_change",
    "target_for",
]
