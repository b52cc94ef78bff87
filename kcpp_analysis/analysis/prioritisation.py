"""Priority setting a board can recompute: the published scoring matrix.

Rules and weights live in ``params/prioritisation.yaml`` (validated here). For each priority
every evidence criterion is scored 0-3 by its rule (:func:`score_criteria` turns the
assessment's evidence into scores); then (:func:`score_priorities`):

.. math::
    \\text{concern} = 100 \\cdot \\frac{\\sum_{c \\in E} w_c s_c}{3 \\sum_{c \\in E} w_c},
    \\qquad \\text{total} = \\text{concern} \\times \\frac{1 + \\text{harm}}{4}

over the criteria :math:`E` that have evidence. RAG and recommendation follow from the total
by the bands (``high_focus``: RED, high focus; ``amber``: AMBER, maintain and monitor; below:
GREEN, maintain and monitor); with no evidence at all, GREY and "insufficient evidence". A
total in the high-focus band with a confidence grade below ``high_focus_min_confidence``
(default B) is AMBER, maintain and monitor, flagged ``thin_evidence`` (an intelligence gap).
Confidence: the share of the criteria weight with evidence (A / B / C by the thresholds).
A statutory duty is reported beside the score and never changes it.

The approach follows the spirit of MoRiLE (Management of Risk in Law Enforcement, National
Police Chiefs' Council, 2016: harm x likelihood x organisational position) with the
likelihood part replaced by tested, data-driven evidence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kcpp_analysis.core.errors import ConfigError

CRITERIA = ("volume", "change", "trend", "kpis", "repeats", "inequality", "public_concern")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    weight: float = Field(ge=0)
    label: str
    rule: str
    thresholds: list[float] | None = None

    @model_validator(mode="after")
    def _sorted(self):
        t = self.thresholds
        if t is not None and (len(t) != 3 or list(t) != sorted(t)):
            raise ValueError("thresholds must be three increasing values (scores 1, 2, 3)")
        return self


class Bands(_Strict):
    high_focus: float = Field(gt=0, le=100)
    amber: float = Field(ge=0, le=100)
    high_focus_min_confidence: str = Field("B", pattern="^[ABC]$")

    @model_validator(mode="after")
    def _order(self):
        if self.amber > self.high_focus:
            raise ValueError("amber must not be above high_focus")
        return self


class Scoring(_Strict):
    criteria: dict[str, Criterion]
    harm: dict[str, int]
    bands: Bands
    confidence: dict[str, float]

    @model_validator(mode="after")
    def _check(self):
        unknown = set(self.criteria) - set(CRITERIA)
        if unknown:
            raise ValueError(f"unknown criteria {sorted(unknown)}; known: {', '.join(CRITERIA)}")
        bad = {k: v for k, v in self.harm.items() if v not in (0, 1, 2, 3)}
        if bad:
            raise ValueError(f"harm grades must be 0-3: {bad}")
        if set(self.confidence) != {"A", "B"} or self.confidence["B"] > self.confidence["A"]:
            raise ValueError("confidence needs A >= B (shares of the criteria weight)")
        if sum(c.weight for c in self.criteria.values()) <= 0:
            raise ValueError("criteria weights must not all be 0")
        return self


def load_scoring(path: str | Path, priority_ids=None) -> Scoring:
    """Read and validate ``prioritisation.yaml``; every priority needs a harm grade."""
    path = Path(path)
    try:
        from kcpp_analysis.config.params import safe_yaml

        raw = safe_yaml(path.read_bytes(), path)
        s = Scoring.model_validate(raw)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(x) for x in e["loc"]) or "(top level)"
        raise ConfigError(f"{path}: key {where!r}: {e['msg']}") from None
    if priority_ids is not None:
        missing = sorted(set(priority_ids) - set(s.harm))
        if missing:
            raise ConfigError(f"{path}: key 'harm': no harm grade for priorities {missing}")
    return s


def _by_threshold(v: float, t: list[float]) -> float:
    """Number of thresholds ``v`` reaches (0-3); NaN stays NaN."""
    if v is None or pd.isna(v):
        return np.nan
    return float(sum(v >= x for x in t))


def score_criteria(ev: dict, scoring: Scoring) -> dict[str, float]:
    """Scores 0-3 (NaN: no evidence) of one priority from its evidence.

    ``ev`` keys (any may be missing or NaN): ``rate_per_1000``; ``yoy_label`` and
    ``worse_if_up``; ``trend_direction``, ``recent_direction``; ``kpi_rags`` (list of
    green/amber/red/grey); ``repeat_pct``; ``rate_ratio``, ``rr_ci_low``; ``survey_status``
    ("worse", "not worse" or None).
    """
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
            ev.get("repeat_pct"), c["repeats"].thresholds or [10, 25, 40]
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
    """Totals, confidence, RAG and recommendation from a table of criterion scores.

    ``scores`` has ``priority_id``, ``harm`` (0-3) and one column per criterion (0-3 or NaN).
    Returns it with ``concern`` (0-100), ``harm_factor``, ``total``, ``evidence_share``,
    ``confidence``, ``rag`` and ``recommendation`` added.

    Examples
    --------
    >>> s = load_scoring(Path(__file__).parents[2] / "params" / "prioritisation.yaml")
    >>> t = pd.DataFrame({"priority_id": ["a"], "harm": [3], "volume": [3.0], "change": [3.0],
    ...                   "trend": [np.nan], "kpis": [np.nan], "repeats": [np.nan],
    ...                   "inequality": [np.nan], "public_concern": [np.nan]})
    >>> r = score_priorities(t, s).iloc[0]
    >>> float(round(r.total, 1)), r.recommendation, r.confidence, bool(r.thin_evidence)
    (100.0, 'maintain and monitor', 'C', True)
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
    # a total in the high-focus band on thin evidence (confidence below the minimum) is an
    # intelligence gap to close, not a high-focus decision: AMBER, maintain and monitor
    enough = out["confidence"] <= scoring.bands.high_focus_min_confidence  # "A" < "B" < "C"
    high = (tot >= hi) & enough
    out["thin_evidence"] = (tot >= hi) & ~enough
    out["rag"] = np.where(
        tot.isna(), "grey", np.where(high, "red", np.where(tot >= am, "amber", "green"))
    )
    out["recommendation"] = np.where(
        tot.isna(),
        "insufficient evidence",
        np.where(high, "high focus", "maintain and monitor"),
    )
    return out
