"""Survey and indicators supplied as CSV files in the canonical layouts."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.messages import shown
from kcpp_analysis.data.dataset import normalise_table
from kcpp_analysis.data.schemas import (
    INDICATOR_COLUMNS,
    SURVEY_COLUMNS,
    indicators_schema,
    survey_schema,
    validate_table,
)
from kcpp_analysis.data.sources.common import numeric, read_csv_checked
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register


def read_survey_csv(path: Path, places: list[str] | None = None) -> pd.DataFrame:
    """``survey, wave, respondent_id, place, weight, question, positive`` (positive: 1/0, Y/N),
    validated against the survey schema with failures named by file line."""
    df = read_csv_checked(path, SURVEY_COLUMNS, kind="survey responses")
    df["weight"] = numeric(df, "weight", path)
    pos = df["positive"].fillna("").str.strip().str.upper()
    bad = ~pos.isin(["1", "0", "Y", "N", "TRUE", "FALSE", "YES", "NO"])
    if bad.any():
        i = bad.idxmax()
        raise SourceError(
            f"{path}: column 'positive' line {df.loc[i, '_line']}: "
            f"{shown(df.loc[i, 'positive'])} is not 1/0 or Y/N"
        )
    df["positive"] = pos.isin(["1", "Y", "TRUE", "YES"])
    out = normalise_table(df[SURVEY_COLUMNS], "survey")
    validate_table(out, "survey", survey_schema(places), lines=df["_line"], where=str(path))
    return out


def read_indicators_csv(path: Path) -> pd.DataFrame:
    """``indicator_id, period, value, unit, source``; values finite, not negative, and a
    percentage at most 100 (:func:`kcpp_analysis.data.schemas.indicators_schema`), failures
    named by file line."""
    df = read_csv_checked(path, INDICATOR_COLUMNS, kind="indicators")
    df["value"] = numeric(df, "value", path, minimum=0, maximum=1e12)
    out = normalise_table(df[INDICATOR_COLUMNS], "indicators")
    validate_table(out, "indicators", indicators_schema(), lines=df["_line"], where=str(path))
    return out


class SurveyCsv(Entry):
    kind: Literal["survey"]
    path: str


class IndicatorsCsv(Entry):
    kind: Literal["indicators"]
    path: str


def _read_survey(e: SurveyCsv, rc: ReadContext) -> ReadResult:
    path = rc.resolve(e.path)[0]
    return ReadResult(read_survey_csv(path, rc.params.sia.places), {}, (path,))


def _read_indicators(e: IndicatorsCsv, rc: ReadContext) -> ReadResult:
    path = rc.resolve(e.path)[0]
    return ReadResult(read_indicators_csv(path), {}, (path,))


register(
    SourceKind(
        "survey",
        SurveyCsv,
        "table",
        _read_survey,
        target="survey",
        description="survey responses in the canonical layout",
    )
)
register(
    SourceKind(
        "indicators",
        IndicatorsCsv,
        "table",
        _read_indicators,
        target="indicators",
        description="partner indicators in the canonical layout",
    )
)
