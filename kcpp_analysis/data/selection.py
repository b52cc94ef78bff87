"""Selecting the incidents a priority or KPI covers (``select:`` / ``selection:`` in YAML)."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from kcpp_analysis.config.models import Priority, Selection
from kcpp_analysis.config.params import Params

#: the latest selections: (incidents, params, selection, priority) -> rows; keyed by the
#: frames' identity, held only while they are alive (weak references)
_RECENT: dict[tuple, tuple[weakref.ref, weakref.ref, pd.DataFrame]] = {}
_RECENT_MAX = 64


def select_incidents(
    incidents: pd.DataFrame,
    selection: Selection | None,
    params: Params,
    priority: Priority | None = None,
) -> pd.DataFrame:
    """Rows of ``incidents`` matching every condition of ``selection``.

    ``categories: catalogue`` means every category whose catalogue priority is
    ``priority``. A None selection selects nothing (the priority has no incident data).

    The same selection of the same frame is computed once: a theme asks for each KPI's and
    priority's rows many times (values, travel, baseline, coverage), and filtering 550,000
    rows of Arrow strings costs tens of milliseconds each time. Each call returns its own
    frame (a shallow copy-on-write copy), so a caller that adds a column or changes a value
    changes only its own rows, never the next caller's.
    """
    if selection is None:
        return incidents.iloc[0:0]
    key = (
        id(incidents),
        id(params),
        selection.model_dump_json(),
        priority.id if priority is not None else None,
    )
    hit = _RECENT.get(key)
    if hit is not None and hit[0]() is incidents and hit[1]() is params:
        return hit[2].copy(deep=False)  # a new frame (copy-on-write): the cache stays as it is
    rows = _select(incidents, selection, params, priority)
    if len(_RECENT) >= _RECENT_MAX:
        _RECENT.pop(next(iter(_RECENT)))
    _RECENT[key] = (weakref.ref(incidents), weakref.ref(params), rows)
    return rows.copy(deep=False)


def _select(
    incidents: pd.DataFrame,
    selection: Selection,
    params: Params,
    priority: Priority | None,
) -> pd.DataFrame:
    m = np.ones(len(incidents), dtype=bool)
    if selection.categories is not None:
        cats = selection.categories
        if cats == "catalogue":
            if priority is None:
                raise ValueError("'categories: catalogue' needs the priority it belongs to")
            cats = params.priority_categories(priority)
        m &= incidents["category"].isin(cats).to_numpy()
    if selection.flag is not None:
        m &= incidents[selection.flag].to_numpy(dtype=bool)
    if selection.sources is not None:
        m &= incidents["source"].isin(selection.sources).to_numpy()
    if selection.severity is not None:
        m &= incidents["severity"].isin(selection.severity).to_numpy()
    return incidents[m]


def select_area_counts(
    counts: pd.DataFrame | None,
    selection: Selection | None,
    params: Params,
    priority: Priority | None = None,
) -> pd.DataFrame | None:
    """Rows of the aggregated counts by area (``area_counts``) a selection covers, or None
    when there are none. A selection on a flag or a severity cannot be applied to counts
    (they carry neither), so it selects nothing."""
    if counts is None or selection is None:
        return None
    if selection.flag is not None or selection.severity is not None:
        return None
    m = np.ones(len(counts), dtype=bool)
    if selection.categories is not None:
        cats = selection.categories
        if cats == "catalogue":
            cats = params.priority_categories(priority)
        m &= counts["category"].isin(cats).to_numpy()
    if selection.sources is not None:
        m &= counts["source"].isin(selection.sources).to_numpy()
    rows = counts[m]
    return rows if len(rows) else None
