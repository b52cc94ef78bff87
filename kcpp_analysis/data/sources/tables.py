"""Survey and indicators supplied as CSV files in the canonical layouts."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.data.dataset import normalise_table
from kcpp_analysis.data.schemas import INDICATOR_COLUMNS, SURVEY_COLUMNS
from kcpp_analysis.data.sources.common import numeric, read_csv_checked
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register


def read_survey_csv(path: Path) -> pd.DataFrame:
    """``survey, wave, respondent_id, place, weight, question, positive`` (positive: 1/0, Y/N)."""
    df = read_csv_checked(path, SURVEY_COLUMNS, kind="survey responses")
    df["weight"] = numeric(df, "weight", path)
    pos = df["positive"].fillna("").str.strip().str.upper()
    bad = ~pos.isin(["1", "0", "Y", "N", "TRUE", "FALSE", "YES", "NO"])
    if bad.any():
        i = bad.idxmax()
        raise SourceError(
            f"{path}: column 'positive' line {df.loc[i, '_line']}: "
            f"{df.loc[i, 'positive']!r} is not 1/0 or Y/N"
        )
    df["positive"] = pos.isin(["1", "Y", "TRUE", "YES"])
    return normalise_table(df[SURVEY_COLUMNS], "survey")


def read_indicators_csv(path: Path) -> pd.DataFrame:
    """``indicator_id, period, value, unit, source``."""
    df = read_csv_checked(path, INDICATOR_COLUMNS, kind="indicators")
    df["value"] = numeric(df, "value", path)
    return normalise_table(df[INDICATOR_COLUMNS], "indicators")


class SurveyCsv(Entry):
    kind: Literal["survey"]
    path: str


class IndicatorsCsv(Entry):
    kind: Literal["indicators"]
    path: str


def _read_survey(e: SurveyCsv, rc: ReadContext) -> ReadResult:
    path = rc.resolve(e.path)[0]
    return ReadResult(read_survey_csv(path), {}, (path,))


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
