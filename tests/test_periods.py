import pandas as pd
import pytest

from kcpp_analysis.core.periods import (
    as_period,
    fy_bounds,
    fy_label,
    fy_labels,
    fy_range,
    latest_complete_fy,
    previous_fy,
    rolling_12_months,
    same_period_last_year,
)


@pytest.mark.parametrize(
    "date,label",
    [
        ("2025-04-01", "2025/26"),
        ("2026-03-31", "2025/26"),
        ("2025-03-31", "2024/25"),
        ("1999-12-31", "1999/00"),
    ],
)
def test_fy_label(date, label):
    assert fy_label(pd.Timestamp(date)) == label
    assert fy_labels(pd.Series(pd.to_datetime([date]))).iloc[0] == label


def test_fy_labels_of_a_column_with_a_missing_date_agree_with_each_date():
    """A missing date gives a missing label and leaves the others whole (an earlier version
    turned the years into floats, "2024.0/25.0", when one date was missing)."""
    dates = pd.Series(
        pd.to_datetime(["2025-03-31 23:59", None, "2025-04-01 00:00", "1999-04-01 00:00"]),
        index=[7, 3, 5, 1],
    )
    got = fy_labels(dates)
    assert got.index.tolist() == [7, 3, 5, 1] and pd.isna(got.loc[3])
    for i in (7, 5, 1):
        assert got.loc[i] == fy_label(dates.loc[i])


def test_bounds_previous_and_range():
    assert fy_bounds("2021/22") == (pd.Timestamp("2021-04-01"), pd.Timestamp("2022-03-31"))
    assert previous_fy("2000/01") == "1999/00"
    assert fy_range("2019/20", "2021/22") == ["2019/20", "2020/21", "2021/22"]
    with pytest.raises(ValueError, match="reversed"):
        fy_range("2021/22", "2019/20")


@pytest.mark.parametrize("bad", ["2025-26", "2025/27", "25/26", ""])
def test_bad_labels_rejected(bad):
    with pytest.raises(ValueError, match="financial year"):
        fy_bounds(bad)


def test_rolling_and_same_period_last_year():
    p = rolling_12_months(pd.Timestamp("2024-02-15"))
    assert (p.start, p.end) == (pd.Timestamp("2023-03-01"), pd.Timestamp("2024-02-29"))
    assert p.months == 12
    q = same_period_last_year(p)
    assert (q.start, q.end) == (pd.Timestamp("2022-03-01"), pd.Timestamp("2023-02-28"))
    assert same_period_last_year("2025/26").label == "2024/25"


def test_as_period_contains_is_inclusive():
    p = as_period(("2024-01-01", "2024-01-31"))
    d = pd.Series(pd.to_datetime(["2023-12-31", "2024-01-01", "2024-01-31", "2024-02-01"]))
    assert p.contains(d).tolist() == [False, True, True, False]
    with pytest.raises(ValueError, match="before its start"):
        as_period(("2024-02-01", "2024-01-01"))


def test_latest_complete_fy():
    full = pd.Series(pd.date_range("2017-04-01", "2026-03-31", freq="D"))
    assert latest_complete_fy(full) == "2025/26"
    assert latest_complete_fy(full[full < "2026-03-01"]) == "2024/25"
    assert latest_complete_fy(pd.Series(pd.to_datetime(["2020-06-01", "2021-03-01"]))) is None
    assert latest_complete_fy(pd.Series([], dtype="datetime64[ns]")) is None
