"""Survey and indicators supplied as CSV files in the canonical layouts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.data.dataset import normalise_table
from kcpp_analysis.data.schemas import INDICATOR_COLUMNS, SURVEY_COLUMNS
from kcpp_analysis.data.sources.common import numeric, read_csv_checked


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
