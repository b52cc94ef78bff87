"""How fragile is each recommendation? The nearest change that would alter it.

For each priority, :func:`sensitivity` recomputes the method with one thing changed at a
time and reports what would flip the class:

- ``band_margin``: points above (+) or below (-) the high-focus band of the evidence score;
- ``harm``: the harm grade at which the evidence score would enter (or leave) the band;
- ``pivotal``: the single concern signal (the score band, a significant rise on last year,
  a rise over the last three years) without which a current or emerging concern would no
  longer be found;
- ``fixed``: the class rests on something the data cannot change (a statutory duty, the
  plan's cross-cutting designation, an override).

Facts only (no prose): :func:`kcpp_analysis.presentation.recommendation.sensitivity_sentence`
writes the sentence.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.method import Inputs, emerging_concern
from kcpp_analysis.analysis.scoring import score_priorities


def _total(scores: dict[str, float], harm: int, scoring) -> tuple[float, str, bool]:
    row = {"priority_id": "x", "harm": harm, **{c: scores.get(c, np.nan) for c in scoring.criteria}}
    r = score_priorities(pd.DataFrame([row]), scoring).iloc[0]
    return float(r.total), str(r.confidence), bool(r.thin_evidence)


def sensitivity(x: Inputs, status: str, reasons: list[str], harm: int) -> list[dict]:
    """What would change one priority's recommendation (see the module docstring)."""
    out: list[dict] = []
    band = x.scoring.bands.high_focus
    scored = x.total is not None and not math.isnan(x.total)
    if scored:
        out.append({"kind": "band_margin", "points": round(float(x.total) - band, 1)})
    fixed = [r for r in reasons if r in ("statutory_duty", "cross_cutting")]
    if fixed:
        out.append({"kind": "fixed", "by": fixed})
        return out
    in_band = scored and x.total >= band and not x.thin_evidence
    if status == "high focus" and reasons == ["emerging_concern"]:
        signals = [
            s
            for s, on in (
                ("band", in_band),
                ("change", x.scores.get("change") == 3),
                ("trend", x.scores.get("trend") == 3),
            )
            if on
        ]
        pivotal = [s for s in signals if not _still_concern(x, harm, band, [s])]
        out += [{"kind": "pivotal", "signal": s} for s in pivotal]
        if not pivotal and "band" not in signals and len(signals) > 1:
            out.append({"kind": "labels", "signals": signals})
        if "band" in pivotal:
            out += _harm_flip(x, harm, band, enter=False)
    elif status == "continue to monitor" and scored and not in_band:
        out += _harm_flip(x, harm, band, enter=True)
    return out


def _still_concern(x: Inputs, harm: int, band: float, remove: list[str]) -> bool:
    """Whether the emerging concern survives without the given signals."""
    scores = dict(x.scores)
    for s in remove:
        if s in ("change", "trend"):
            scores[s] = 1.0  # the same evidence read as "no clear change"
    t, conf, thin = _total(scores, harm, x.scoring)
    if "band" in remove:
        t = min(t, band - 0.1)
    y = replace(x, scores=scores, total=t, confidence=conf, thin_evidence=thin)
    return bool(emerging_concern(y).fired)


def _harm_flip(x: Inputs, harm: int, band: float, *, enter: bool) -> list[dict]:
    """The nearest harm grade at which the score enters (or leaves) the band."""
    grades = range(harm + 1, 4) if enter else range(harm - 1, -1, -1)
    for h in grades:
        t, _, thin = _total(x.scores, h, x.scoring)
        if (t >= band and not thin) == enter:
            return [{"kind": "harm", "grade": h, "total": round(t, 1)}]
    return []
