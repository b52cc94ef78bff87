"""The evidence score: how strong the data case for concern is, recomputable by a board.

Rules and weights live in ``params/prioritisation.yaml`` (:class:`kcpp_analysis.config.scoring.Scoring`).
For each priority every evidence criterion is scored 0-3 by its rule (:func:`score_criteria`
turns a priority's evidence into scores); then (:func:`score_priorities`):

.. math::
    \\text{concern} = 100 \\cdot \\frac{\\sum_{c \\in E} w_c s_c}{3 \\sum_{c \\in E} w_c},
    \\qquad \\text{total} = \\text{concern} \\times \\frac{1 + \\text{harm}}{4}

over the criteria :math:`E` that have evidence. The RAG band follows from the total
(``high_focus`` and above: RED; ``amber`` and above: AMBER; below: GREEN); with no evidence
at all, GREY. Confidence: the share of the criteria weight with evidence (A / B / C by the
thresholds). A total in the high band on confidence below ``high_focus_min_confidence`` is
``thin_evidence`` (an intelligence gap). The score is the strength of the case; the
recommended class comes from the partnership's method (:mod:`kcpp_analysis.analysis.method`).

The approach follows the spirit of MoRiLE (Management of Risk in Law Enforcement, National
Police Chiefs' Council, 2016: harm x likelihood x organisational position) with the
likelihood part replaced by tested, data-driven evidence.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kcpp_analysis.config.scoring import Scoring

_EVIDENCE_KEYS = (
    "rate_per_1000",
    "worse_if_up",
    "yoy_label",
    "trend_direction",
    "recent_direction",
    "kpi_rags",
    "incident_repeat_pct",
    "rate_ratio",
    "rr_ci_low",
    "survey_status",
)


def _by_threshold(v: float, t: list[float]) -> float:
    """Number of thresholds ``v`` reaches (0-3); NaN stays NaN."""
    if v is None or pd.isna(v):
        return np.nan
    return float(sum(v >= x for x in t))


def score_criteria(evidence, scoring: Scoring) -> dict[str, float]:
    """Scores 0-3 (NaN: no evidence) of one priority from its evidence.

    ``evidence`` is a :class:`kcpp_analysis.analysis.evidence.PriorityEvidence` or a mapping
    with (any may be missing or NaN): ``rate_per_1000``; ``yoy_label`` and
    ``worse_if_up``; ``trend_direction``, ``recent_direction``; ``kpi_rags`` (list of
    green/amber/red/grey); ``incident_repeat_pct``; ``rate_ratio``, ``rr_ci_low``;
    ``survey_status`` ("worse", "not worse" or None). Only tested changes score: a change
    label other than "rose significantly" / "fell significantly" is never a concern.
    """
    if isinstance(evidence, Mapping):
        ev = evidence
    else:
        ev = {k: getattr(evidence, k) for k in _EVIDENCE_KEYS}
    c = scoring.criteria
    out: dict[str, float] = {}
    if "volume" in c:
        out["volume"] = _by_threshold(ev.get("rate_per_1000"), c["volume"].thresholds or [1, 5, 20])
    up_bad = ev.get("worse_if_up", True)
    if "change" in c:
        lab = ev.get("yoy_label")
        if lab in ("rose significantly", "fell significantly"):
            bad = (lab == "rose significantly") == up_bad
            out["change"] = 3.0 if bad else 0.0
        elif lab == "no clear change":
            out["change"] = 1.0
        else:
            out["change"] = np.nan
    if "trend" in c:
        td, rd = ev.get("trend_direction"), ev.get("recent_direction")
        worse = "increasing" if up_bad else "decreasing"
        better = "decreasing" if up_bad else "increasing"
        if rd == worse:
            out["trend"] = 3.0
        elif td == worse and rd != better:
            out["trend"] = 2.0
        elif td in ("increasing", "decreasing", "no clear change"):
            out["trend"] = 0.0 if (rd == better or (td == better and rd != worse)) else 1.0
        else:
            out["trend"] = np.nan
    if "kpis" in c:
        rags = [r for r in (ev.get("kpi_rags") or []) if r in ("green", "amber", "red")]
        out["kpis"] = (
            np.nan if not rags else 3.0 if "red" in rags else 2.0 if "amber" in rags else 0.0
        )
    if "repeats" in c:
        out["repeats"] = _by_threshold(
            ev.get("incident_repeat_pct"), c["repeats"].thresholds or [10, 25, 40]
        )
    if "inequality" in c:
        rr, lo = ev.get("rate_ratio"), ev.get("rr_ci_low")
        if rr is None or pd.isna(rr) or lo is None or pd.isna(lo):
            out["inequality"] = np.nan
        else:
            out["inequality"] = (
                0.0 if lo <= 1 else _by_threshold(rr, c["inequality"].thresholds or [1, 2, 3])
            )
    if "public_concern" in c:
        st = ev.get("survey_status")
        out["public_concern"] = 3.0 if st == "worse" else 0.0 if st == "not worse" else np.nan
    return out


def score_priorities(scores: pd.DataFrame, scoring: Scoring) -> pd.DataFrame:
    """Totals, confidence and RAG band from a table of criterion scores.

    ``scores`` has ``priority_id``, ``harm`` (0-3) and one column per criterion (0-3 or NaN).
    Returns it with ``concern`` (0-100), ``harm_factor``, ``total``, ``evidence_share``,
    ``confidence``, ``thin_evidence`` and ``rag`` added.

    Examples
    --------
    >>> from kcpp_analysis.config import load_params
    >>> s = load_params().scoring
    >>> t = pd.DataFrame({"priority_id": ["a"], "harm": [3], "volume": [3.0], "change": [3.0],
    ...                   "trend": [np.nan], "kpis": [np.nan], "repeats": [np.nan],
    ...                   "inequality": [np.nan], "public_concern": [np.nan]})
    >>> r = score_priorities(t, s).iloc[0]
    >>> float(round(r.total, 1)), r.rag, r.confidence, bool(r.thin_evidence)
    (100.0, 'amber', 'C', True)
    """
    crit = scoring.criteria
    w = pd.Series({k: v.weight for k, v in crit.items()})
    s = scores[list(crit)].astype(float)
    have = s.notna()
    wsum = (have * w).sum(axis=1)
    num = (s.fillna(0) * w).sum(axis=1)
    out = scores.copy()
    out["concern"] = np.where(wsum > 0, 100 * num / (3 * wsum.where(wsum > 0)), np.nan)
    out["harm_factor"] = (1 + scores["harm"].astype(float)) / 4
    out["total"] = out["concern"] * out["harm_factor"]
    out["evidence_share"] = wsum / w.sum()
    a, b = scoring.confidence["A"], scoring.confidence["B"]
    out["confidence"] = np.where(
        out["evidence_share"] >= a, "A", np.where(out["evidence_share"] >= b, "B", "C")
    )
    hi, am = scoring.bands.high_focus, scoring.bands.amber
    tot = out["total"]
    # a total in the high band on thin evidence (confidence below the minimum) is an
    # intelligence gap to close, not a red rating: AMBER, flagged
    enough = out["confidence"] <= scoring.bands.high_focus_min_confidence  # "A" < "B" < "C"
    high = (tot >= hi) & enough
    out["thin_evidence"] = (tot >= hi) & ~enough
    out["rag"] = np.where(
        tot.isna(), "grey", np.where(high, "red", np.where(tot >= am, "amber", "green"))
    )
    return out
