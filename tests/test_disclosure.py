import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from kcpp_analysis.disclosure import protect, suppress_small_counts


def test_primary_and_secondary_in_one_column():
    t = pd.DataFrame({"ward": list("ABCD"), "n": [3, 10, 12, 0]})
    out = suppress_small_counts(t, columns=["n"])
    assert out["n"].tolist() == ["[c]", "[c]", "12", "0"]
    assert out.attrs["suppressed"] == 2


def test_zero_and_threshold_not_suppressed():
    out = suppress_small_counts(pd.DataFrame({"n": [0, 5, 6, 7]}), columns=["n"])
    assert out["n"].tolist() == ["0", "5", "6", "7"]


def test_totals_added_from_true_values():
    t = pd.DataFrame({"place": ["A", "B"], "x": [2, 20], "y": [30, 40]})
    out = suppress_small_counts(t, columns=["x", "y"], add_totals=True)
    assert out.iloc[-1].tolist() == ["Total", "22", "70", "92"]
    # x=2 is primary; row A has one suppressed cell -> y=30 suppressed too; column x -> 20 too
    assert out.loc[0, "x"] == "[c]" and out.loc[0, "y"] == "[c]" and out.loc[1, "x"] == "[c]"


def test_missing_column_is_an_error():
    with pytest.raises(ValueError, match="not in the table"):
        suppress_small_counts(pd.DataFrame({"n": [1]}), columns=["count"])


def _integer_range(values, mask, rows_pub, cols_pub, cell):
    """Independent attack: integer min and max of one suppressed cell given every published
    cell and the published row and column totals (mixed-integer programming)."""
    cells = list(zip(*np.nonzero(mask), strict=False))
    k = cells.index(cell)
    A, lo = [], []
    for r in np.flatnonzero(rows_pub):
        row = [1.0 if c[0] == r else 0.0 for c in cells]
        if any(row):
            A.append(row)
            lo.append(values[r, mask[r]].sum())
    for c in np.flatnonzero(cols_pub):
        col = [1.0 if x[1] == c else 0.0 for x in cells]
        if any(col):
            A.append(col)
            lo.append(values[mask[:, c], c].sum())
    if not A:
        return 0, np.inf
    cons = LinearConstraint(np.array(A), lo, lo)
    obj = np.zeros(len(cells))
    obj[k] = 1
    integ = np.ones(len(cells))
    mn = milp(obj, constraints=cons, integrality=integ, bounds=Bounds(0, np.inf))
    mx = milp(-obj, constraints=cons, integrality=integ, bounds=Bounds(0, np.inf))
    return mn.fun, (np.inf if mx.fun is None else -mx.fun)  # None: unbounded above


@settings(max_examples=120, deadline=None)
@given(st.integers(2, 4), st.integers(2, 4), st.data())
def test_no_suppressed_value_can_be_recovered_by_subtraction(nr, nc, data):
    vals = np.array(
        data.draw(st.lists(st.integers(0, 12), min_size=nr * nc, max_size=nr * nc)), dtype=float
    ).reshape(nr, nc)
    mask, rows_pub, cols_pub = protect(vals)
    assert mask[(vals >= 1) & (vals < 5)].all()  # every small count is suppressed
    # a published total is never itself a small count
    assert not ((vals.sum(axis=1)[rows_pub] >= 1) & (vals.sum(axis=1)[rows_pub] < 5)).any()
    for cell in zip(*np.nonzero(mask), strict=False):
        lo, hi = _integer_range(vals, mask, rows_pub, cols_pub, cell)
        assert hi > lo, (vals, mask, rows_pub, cols_pub, cell)


def test_demo_ward_table_is_safe(demo):
    inc = demo.incidents[(demo.incidents.category == "homicide")]
    t = inc.merge(demo.areas[["lsoa_code", "ward_name"]]).groupby("ward_name").size()
    t = t.reindex(demo.areas.ward_name.unique(), fill_value=0).rename("n").reset_index()
    out = suppress_small_counts(t, columns=["n"])
    shown = out[out.n != "[c]"]
    assert (shown.n.astype(int).between(1, 4)).sum() == 0
    assert (out.n == "[c]").sum() != 1
