import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from kcpp_analysis.presentation.disclosure import protect, suppress_small_counts


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


# --------------------------------------------------------------------------------------
# linked publications: an independent attacker on every linked table
# --------------------------------------------------------------------------------------
def _attack(values, hidden, equal, at_most):
    """Independent integer attack: every cell a variable; published cells fixed by equality
    bounds; min and max of each hidden cell. Returns cells pinned to one value."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(values)
    lo = np.where(hidden, 0, values).astype(float)
    hi = np.where(hidden, 10 * max(values) + 10, values).astype(float)
    cons = []
    for rows, kind in ((equal, "eq"), (at_most, "ub")):
        if rows:
            A = np.zeros((len(rows), n))
            for r, terms in enumerate(rows):
                for k, c in terms.items():
                    A[r, k] = c
            cons.append(LinearConstraint(A, 0 if kind == "eq" else -np.inf, 0))
    pinned = []
    for k in np.flatnonzero(hidden):
        c = np.zeros(n)
        c[k] = 1
        a = milp(c, constraints=cons, bounds=Bounds(lo, hi), integrality=np.ones(n))
        b = milp(-c, constraints=cons, bounds=Bounds(lo, hi), integrality=np.ones(n))
        if a.status == 0 and b.status == 0 and round(-b.fun - a.fun) == 0:
            pinned.append(int(k))
    return pinned


@given(
    st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=5), min_size=1, max_size=4),
    st.booleans(),
)
@example(places=[[1], [5]], sparse=False)  # the partner had to come from a linked place
@settings(max_examples=40, deadline=None)
def test_wards_places_borough_no_small_count_recoverable(places, sparse):
    """Wards nested in places, place totals and the borough total published together."""
    from kcpp_analysis.presentation.disclosure import LinkedCells

    L = LinkedCells(5)
    pids = []
    for wards in places:
        wards = [w % 6 if sparse else w for w in wards]
        wid = [L.cell("w", v) for v in wards]
        pid = L.cell("p", sum(wards))
        L.relate({**{x: 1 for x in wid}, pid: -1})
        pids.append(pid)
    tot = L.cell("t", sum(L.values[p] for p in pids))
    L.relate({**{p: 1 for p in pids}, tot: -1})
    mask = L.protect()
    vals = np.array(L.values)
    assert mask[(vals >= 1) & (vals < 5)].all()  # primary suppression
    pinned = _attack(vals, mask, L.equal, L.at_most)
    assert not [k for k in pinned if 1 <= vals[k] < 5], "a small count can be recovered"


@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 8), st.integers(0, 6)), min_size=1, max_size=5
    )
)
@settings(max_examples=40, deadline=None)
def test_repeat_rows_no_small_count_recoverable(rows):
    """Repeat-victimisation rows: victims, extra incidents and repeat victims consistent by
    construction (incidents = victims + extra; repeat victims <= extra), with an All row."""
    from kcpp_analysis.report.gate import DisclosureGate
    from kcpp_analysis.report.sections.repeats import COUNTS, protect_rows

    recs = []
    for victims, extra, rv in rows:
        extra = min(extra, 3 * victims)
        rv = min(rv, extra, victims)
        if extra > 0:
            rv = max(rv, 1)  # extra incidents mean at least one victim repeated
        inc = victims + extra
        recs.append(
            {
                "n_incidents": inc,
                "n_victims": victims,
                "n_repeat_incidents": min(inc, extra + rv),
                "n_repeat_victims": rv,
            }
        )
    t = pd.DataFrame(recs)
    total = t.sum().to_frame().T
    table = pd.concat([t, total], ignore_index=True)
    m = protect_rows(DisclosureGate(), table)
    v = table[COUNTS].to_numpy(dtype=float)
    small = (v >= 1) & (v < 5)
    assert m[small].all()
    # the attacker's knowledge, written out independently: per row inc >= vic + rv,
    # rv <= vic, ri <= inc, vic <= inc; incidents add up; victims at most add up
    n_rows, n_cols = v.shape
    idx = np.arange(v.size).reshape(v.shape)
    eq, ub = [], []
    for i in range(n_rows):
        inc, vic, ri, rv = idx[i]
        ub += [{vic: 1, rv: 1, inc: -1}, {rv: 1, vic: -1}, {ri: 1, inc: -1}, {vic: 1, inc: -1}]
    if n_rows > 1:
        eq.append({**{int(x): -1 for x in idx[:-1, 0]}, int(idx[-1, 0]): 1})
        ub.append({**{int(x): -1 for x in idx[:-1, 1]}, int(idx[-1, 1]): 1})
    pinned = _attack(v.ravel(), m.ravel(), eq, ub)
    assert not [k for k in pinned if 1 <= v.ravel()[k] < 5]
    # and the extra-incidents difference is never pinned to a small value either
    for i in range(n_rows):
        if 1 <= v[i, 0] - v[i, 1] < 5:
            assert m[i, 0] or m[i, 1]


def test_gate_series_never_draws_a_suppressed_month():
    from kcpp_analysis.report.gate import DisclosureGate

    months = pd.date_range("2023-04-01", periods=36, freq="MS")
    g = DisclosureGate()
    big = g.series(pd.DataFrame({"month": months, "count": np.full(36, 40)}))
    assert big.freq == "month" and len(big.frame) == 36
    one_small = np.full(36, 40)
    one_small[5] = 2
    q = g.series(pd.DataFrame({"month": months, "count": one_small}))
    assert q.freq == "quarter" and not q.frame["value"].between(1, 4).any()
    assert q.frame["value"].sum() == one_small.sum()  # nothing lost in aggregation
    tiny = g.series(pd.DataFrame({"month": months, "count": np.r_[np.ones(12), np.zeros(24)]}))
    assert tiny.freq == "year" and list(tiny.frame["value"]) == [12, 0, 0]
    none = g.series(pd.DataFrame({"month": months[:12], "count": np.r_[np.ones(3), np.zeros(9)]}))
    assert none.freq == "none" and "no chart" in none.reason


@given(st.lists(st.lists(st.integers(0, 12), min_size=2, max_size=6), min_size=2, max_size=4))
@settings(max_examples=30, deadline=None)
def test_an_alternative_solution_keeps_every_published_relation(places):
    """The second solution that clears a cell (and every other cell it moves) is a real one:
    integer, inside each hidden cell's box, every relation holding, the cell itself moved."""
    from kcpp_analysis.presentation.disclosure import LinkedCells

    L = LinkedCells(5)
    for wards in places:
        wid = [L.cell("w", v) for v in wards]
        L.relate({**{x: 1 for x in wid}, L.cell("p", sum(wards)): -1})
    vals = np.array(L.values)
    hidden = (vals >= 1) & (vals < 5)
    for k in np.flatnonzero(hidden):
        alt = L.alternative(hidden, int(k))
        if alt is None:
            continue
        x = vals.copy()
        for c, v in alt.items():
            assert abs(v - round(v)) < 1e-6 and v >= (1 if vals[c] >= 1 else 0) - 1e-9
            x[c] = round(v)
        assert x[k] != vals[k]
        assert set(alt) == set(np.flatnonzero(hidden).tolist())
        for terms in L.equal:
            assert sum(c * x[i] for i, c in terms.items()) == 0


def test_one_solution_clears_many_cells_and_the_mask_is_unchanged():
    """Cells moved by one alternative solution are not audited again: on a 40-ward borough
    with many small counts the audit takes far fewer integer programs than there are small
    cells, and the mask is the one auditing every cell gives."""
    from kcpp_analysis.presentation.disclosure import LinkedCells

    rng = np.random.default_rng(3)
    wards = rng.poisson(3, size=(4, 10))

    def build():
        L = LinkedCells(5)
        pids = []
        for row in wards:
            wid = [L.cell("w", v) for v in row]
            pids.append(L.cell("p", row.sum()))
            L.relate({**{x: 1 for x in wid}, pids[-1]: -1})
        L.relate({**{p: 1 for p in pids}, L.cell("t", wards.sum()): -1})
        return L

    fast = build()
    mask = fast.protect()
    slow = build()
    slow.alternative = lambda h, k, _m=slow.alternative: (  # every cell audited on its own
        None if (a := _m(h, k)) is None else {k: a[k]}
    )
    assert (slow.protect() == mask).all()
    small = int(((wards >= 1) & (wards < 5)).sum())
    assert fast.audits < small / 2 < slow.audits, (fast.audits, small, slow.audits)


def test_gate_table_hides_small_counts_their_derived_columns_and_publishes_empty_tables():
    """The gate's table: a small count and the cell that protects it show the marker in the
    published data and on the page, so does a rate computed from a hidden count; the other
    cells are formatted; an empty table (a priority with no rows) publishes, nothing hidden."""
    from kcpp_analysis.report.gate import DisclosureGate

    g = DisclosureGate()
    t = pd.DataFrame(
        {"ward": ["A", "B", "C"], "n": [3, 10, 1200], "rate": [0.5, 1.25, 2.0]}, index=[7, 8, 9]
    )
    p = g.table(t, "wards", counts=["n"], derived={"n": ["rate"]})
    assert p.data["n"].tolist() == ["[c]", "[c]", 1200]
    assert p.data["rate"].tolist() == ["[c]", "[c]", 2.0]
    assert p.display.to_dict("list") == {
        "ward": ["A", "B", "C"],
        "n": ["[c]", "[c]", "1,200"],
        "rate": ["[c]", "[c]", "2.00"],
    }
    assert list(p.data.index) == [0, 1, 2] and g.suppressed_cells == 2
    empty = g.table(t.iloc[0:0], "none", counts=["n"], derived={"n": ["rate"]})
    assert empty.data.empty and list(empty.display.columns) == ["ward", "n", "rate"]
    assert g.suppressed_cells == 2
    masked = g.table(t, "masked", counts=["n"], mask={"n": [False, False, True]})
    assert masked.data["n"].tolist() == [3, 10, "[c]"] and g.suppressed_cells == 3
    # counts already published elsewhere, mixed with the marker: the page formats the numbers
    mixed = pd.DataFrame({"place": ["A", "B"], "this_year": [2511, "[c]"]})
    m = g.table(mixed, "mixed", formats={"this_year": ",.0f"})
    assert m.data["this_year"].tolist() == [2511, "[c]"]
    assert m.display["this_year"].tolist() == ["2,511", "[c]"]
