"""Small-number suppression for published tables.

Rule (primary suppression): a count from 1 to ``threshold - 1`` (1-4 by default) is
replaced by ``marker`` (the GSS symbol ``[c]``, "confidential"). Zeros are shown: a zero
reveals nothing about a person.

Secondary suppression: a suppressed cell must not be recoverable from what is published.
Published row and column totals (``row_totals`` / ``column_totals``: the sums of the true
values across the protected columns, whether printed in the table or available elsewhere)
give linear equations on the suppressed cells. A total that is itself a small count is
withheld (it would disclose on its own). After primary suppression, every row and
column with a single suppressed cell gets a second one (the smallest remaining cell,
non-zero first); then each suppressed cell is audited by linear programming: its minimum
and maximum feasible values under the totals and non-negativity are computed
(``scipy.optimize.linprog``, HiGHS); while any suppressed cell is exactly determined,
another cell in its row (or column) is suppressed. Row/column constraints form a
transportation matrix (totally unimodular), so the LP bounds equal the integer bounds.

This follows the Government Statistical Service guidance on statistical disclosure control
(primary suppression of low counts, secondary suppression to prevent disclosure by
differencing) and ONS practice for small-area crime tables.

References
----------
- Government Statistical Service (2021). *Statistical disclosure control* guidance; GSS
  symbols guidance ("[c]" = confidential).
- Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, ch. 4 (cell
  suppression and the audit by linear programming).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linprog

log = logging.getLogger(__name__)


def _bounds_of(
    values: np.ndarray, supp: np.ndarray, rows_pub: np.ndarray, cols_pub: np.ndarray
) -> dict[tuple[int, int], tuple[float, float]]:
    """Min and max feasible value of each suppressed cell given published info."""
    cells = list(zip(*np.nonzero(supp), strict=True))
    if not cells:
        return {}
    idx = {c: i for i, c in enumerate(cells)}
    A, b = [], []
    # one equation per published row / column total: sum of its suppressed cells is known
    lines = [
        (supp[r, :], values[r, :], [(r, c) for c in range(supp.shape[1])])
        for r in np.flatnonzero(rows_pub)
    ]
    lines += [
        (supp[:, c], values[:, c], [(r, c) for r in range(supp.shape[0])])
        for c in np.flatnonzero(cols_pub)
    ]
    for line_supp, line_vals, line_cells in lines:
        if line_supp.any():
            row = np.zeros(len(cells))
            row[[idx[cell] for cell, s_ in zip(line_cells, line_supp, strict=True) if s_]] = 1
            A.append(row)
            b.append(line_vals[line_supp].sum())
    out = {}
    for cell, i in idx.items():
        if not A:
            out[cell] = (0.0, np.inf)
            continue
        cvec = np.zeros(len(cells))
        cvec[i] = 1
        lo = linprog(cvec, A_eq=np.array(A), b_eq=np.array(b), bounds=(0, None), method="highs")
        hi = linprog(-cvec, A_eq=np.array(A), b_eq=np.array(b), bounds=(0, None), method="highs")
        lo_v = lo.fun if lo.status == 0 else 0.0
        hi_v = -hi.fun if hi.status == 0 else np.inf
        out[cell] = (float(lo_v), float(hi_v))
    return out


def protect(
    values, *, threshold: int = 5, row_totals: bool = True, column_totals: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells to suppress, and which row / column totals may be published.

    Returns ``(mask, rows_published, cols_published)``. A line (row or column) whose own
    total is a small count (1..threshold-1) is itself disclosive, so its total is not
    published. If a suppressed cell stays exactly determined and no cell is left to add in
    its row or column, the total of that line is withheld too.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if np.isnan(v).any() or (v < 0).any():
        raise ValueError("suppress_small_counts: counts must be non-negative numbers (no NaN)")
    supp = (v >= 1) & (v < threshold)
    small = lambda t: (t >= 1) & (t < threshold)  # noqa: E731
    rows_pub = np.full(v.shape[0], row_totals and v.shape[1] > 1) & ~small(v.sum(axis=1))
    cols_pub = np.full(v.shape[1], column_totals and v.shape[0] > 1) & ~small(v.sum(axis=0))

    def add_partner(line_vals: np.ndarray, line_supp: np.ndarray) -> int | None:
        cand = np.flatnonzero(~line_supp)
        if len(cand) == 0:
            return None
        nonzero = cand[line_vals[cand] > 0]
        pool = nonzero if len(nonzero) else cand
        return int(pool[np.argmin(line_vals[pool])])

    for _ in range(4 * v.size + 4):
        changed = False
        for r in np.flatnonzero(rows_pub):
            if supp[r].sum() == 1:
                j = add_partner(v[r], supp[r])
                if j is not None:
                    supp[r, j] = changed = True
        for c in np.flatnonzero(cols_pub):
            if supp[:, c].sum() == 1:
                i = add_partner(v[:, c], supp[:, c])
                if i is not None:
                    supp[i, c] = changed = True
        if changed:
            continue
        bounds = _bounds_of(v, supp, rows_pub, cols_pub)
        exposed = [cell for cell, (lo, hi) in bounds.items() if hi - lo < 0.5]
        if not exposed:
            break
        r, c = exposed[0]
        j = add_partner(v[r], supp[r]) if rows_pub[r] else None
        if j is not None:
            supp[r, j] = True
            continue
        i = add_partner(v[:, c], supp[:, c]) if cols_pub[c] else None
        if i is not None:
            supp[i, c] = True
            continue
        if rows_pub[r]:
            rows_pub[r] = False
        elif cols_pub[c]:
            cols_pub[c] = False
        else:  # pragma: no cover - an exposed cell always has a published line
            break
    return supp, rows_pub, cols_pub


def suppress_small_counts(
    table: pd.DataFrame,
    *,
    columns: Sequence[str],
    threshold: int = 5,
    marker: str = "[c]",
    row_totals: bool = True,
    column_totals: bool = True,
    add_totals: bool = False,
) -> pd.DataFrame:
    """Suppress small counts in ``columns`` of a published table, with secondary suppression.

    Parameters
    ----------
    table : DataFrame
        The table to publish; ``columns`` hold counts.
    columns : list of str
        The count columns to protect (other columns, e.g. labels, pass through).
    threshold : int
        Counts 1..threshold-1 are suppressed.
    marker : str
        What a suppressed cell shows.
    row_totals, column_totals : bool
        Whether each row's (column's) total over ``columns`` is published or derivable;
        secondary suppression then protects against differencing along rows (columns).
    add_totals : bool
        Append a ``Total`` row (and a ``total`` column when several count columns) with the
        true totals.

    Returns
    -------
    DataFrame
        A copy with the count columns as text (``"1,234"`` style is left to the reader; here
        plain integers as strings) and ``marker`` in suppressed cells. ``attrs["suppressed"]``
        holds the number of suppressed cells.

    Examples
    --------
    >>> t = pd.DataFrame({"place": ["A", "B", "C"], "n": [3, 10, 12]})
    >>> suppress_small_counts(t, columns=["n"])["n"].tolist()
    ['[c]', '[c]', '12']
    """
    cols = list(columns)
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ValueError(f"suppress_small_counts: column(s) {missing} not in the table")
    out = table.copy()
    vals = out[cols].to_numpy(dtype=float)
    mask, rows_pub, cols_pub = protect(
        vals, threshold=threshold, row_totals=row_totals, column_totals=column_totals
    )
    as_text = np.vectorize(lambda x: f"{x:.0f}" if float(x).is_integer() else f"{x}", otypes=[str])
    text = np.where(mask, marker, as_text(vals))  # otypes: an empty table has no first value
    for j, c in enumerate(cols):
        out[c] = text[:, j]
    if add_totals:
        if len(cols) > 1:
            out["total"] = [
                f"{s:.0f}" if ok else marker
                for s, ok in zip(vals.sum(axis=1), rows_pub, strict=True)
            ]
        total_row = {c: "" for c in out.columns}
        first = next((c for c in out.columns if c not in cols), None)
        if first is not None:
            total_row[first] = "Total"
        single = len(cols) == 1
        for j, c in enumerate(cols):
            ok = cols_pub[j] or (single and len(vals) == 1)
            total_row[c] = (
                f"{vals[:, j].sum():.0f}"
                if ok or single and not (1 <= vals[:, j].sum() < threshold)
                else marker
            )
        if len(cols) > 1:
            g = vals.sum()
            total_row["total"] = marker if 1 <= g < threshold else f"{g:.0f}"
        out = pd.concat([out, pd.DataFrame([total_row])], ignore_index=True)
    out.attrs["suppressed"] = int(mask.sum())
    if mask.any():
        log.debug(
            "suppressed %d cell(s) (%d primary)",
            mask.sum(),
            int(((vals >= 1) & (vals < threshold)).sum()),
        )
    return out


# --------------------------------------------------------------------------------------
# linked publications: any set of published numbers tied by linear relations
# --------------------------------------------------------------------------------------
class LinkedCells:
    """Published counts tied together by linear relations, protected as one system.

    Every number a set of linked publications shows (a ward's count, its place's total, the
    borough total, a repeat-victim count, a difference that is itself a count of people) is
    a *cell*. Relations are homogeneous: ``sum(a_i * x_i) == 0`` (``equal``) or
    ``sum(a_i * x_i) <= 0`` (``at_most``), so a published total is simply another cell
    (``places - total == 0``). A cell is published in one of three ways:

    - **exactly** (the default): shown, or shown as the marker once suppressed;
    - **implied** (``implied=True``): never shown, but revealed through relations (a
      difference such as incidents - victims is a count of incidents);
    - **as an interval** (``interval=(lo, hi)``): only a range is shown, as a map class is
      (a neighbourhood's rate class, with its population, bounds its count).

    The attacker knows every shown cell, every relation and every interval; that cells are
    whole numbers >= 0; and, because zeros are always shown and never chosen as secondary
    suppressions, that a cell shown as the marker is at least 1 (we do not assume less).

    :meth:`protect` applies primary suppression (cells 1..threshold-1, implied and interval
    cells too), then secondary suppression: while an integer program
    (:func:`scipy.optimize.milp`, HiGHS) can pin any small cell to a single value, the
    smallest shown non-zero cell sharing a relation with it is suppressed too. Interval cells
    are never chosen (their range is already all that is shown).

    This is the audit of Hundepool et al. (2012, ch. 4.3) extended from row/column totals
    to arbitrary linear relations and interval publications, with exact integer bounds
    instead of LP bounds.
    """

    def __init__(self, threshold: int = 5):
        self.threshold = threshold
        self.values: list[float] = []
        self.names: list[object] = []
        self.implied: list[bool] = []
        self.interval: list[tuple[float, float] | None] = []
        self.equal: list[dict[int, float]] = []
        self.at_most: list[dict[int, float]] = []
        self.audits = 0  # integer programs solved (for the benchmark and the appendix)
        self._system_key: tuple | None = None  # the hidden set _system_value was built for
        self._system_value: tuple | None = None

    def cell(
        self,
        name,
        value: float,
        *,
        implied: bool = False,
        interval: tuple[float, float] | None = None,
    ) -> int:
        """Add a cell (``implied``: a count the publication reveals only through relations;
        ``interval``: a count published only as the range ``lo..hi``, which must hold it)."""
        v = float(value)
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"LinkedCells: cell {name!r} must be a count >= 0, got {value!r}")
        if interval is not None:
            lo, hi = float(interval[0]), float(interval[1])
            if not (lo - 1e-9 <= v <= hi + 1e-9):
                raise ValueError(f"LinkedCells: cell {name!r} lies outside its interval")
            interval = (lo, hi)
        self.values.append(v)
        self.names.append(name)
        self.implied.append(implied)
        self.interval.append(interval)
        return len(self.values) - 1

    def relate(self, terms: dict[int, float], kind: str = "equal") -> None:
        """Add ``sum(coef * cell) == 0`` (``kind="equal"``) or ``<= 0`` (``"at_most"``)."""
        terms = {int(k): float(c) for k, c in terms.items() if c}
        check = sum(c * self.values[k] for k, c in terms.items())
        if kind == "equal" and abs(check) > 1e-6:
            raise ValueError(f"LinkedCells: relation {terms} does not hold ({check})")
        if kind == "at_most" and check > 1e-6:
            raise ValueError(f"LinkedCells: inequality {terms} does not hold ({check})")
        (self.equal if kind == "equal" else self.at_most).append(terms)

    def difference(self, name, a: int, b: int) -> int:
        """An implied count ``a - b`` (e.g. incidents - victims): protected like a cell."""
        d = self.cell(name, self.values[a] - self.values[b], implied=True)
        self.relate({a: 1, b: -1, d: -1})
        return d

    # -- audit --------------------------------------------------------------------------
    def _box(self, k: int, ub: float) -> tuple[float, float]:
        """What the attacker knows of cell ``k`` when it is not shown exactly."""
        if self.interval[k] is not None:
            lo, hi = self.interval[k]
            return lo, min(hi, ub)
        if self.implied[k]:
            return 0.0, ub
        # a marker stands for at least 1: zeros are always shown
        return (1.0 if self.values[k] >= 1 else 0.0), ub

    def _system(self, hidden: np.ndarray):
        """The attacker's integer program over the hidden cells: positions, constraints,
        variable box and the finite upper bound standing for "unbounded" (built once per
        hidden set and set of relations)."""
        key = (
            np.asarray(hidden, dtype=bool).tobytes(),
            len(self.values),
            len(self.equal),
            len(self.at_most),
        )
        if self._system_key != key:
            self._system_key, self._system_value = key, self._build_system(hidden)
        return self._system_value

    def _build_system(self, hidden: np.ndarray):
        from scipy.optimize import LinearConstraint

        idx = np.flatnonzero(hidden)
        pos = {int(k): i for i, k in enumerate(idx)}
        vals = np.asarray(self.values)
        rows, lo, hi = [], [], []
        for terms, kind in [(t, "eq") for t in self.equal] + [(t, "ub") for t in self.at_most]:
            a = np.zeros(len(idx))
            const = 0.0
            for k, c in terms.items():
                if k in pos:
                    a[pos[k]] += c
                else:
                    const += c * vals[k]
            if not a.any():
                continue
            rows.append(a)
            lo.append(-const if kind == "eq" else -np.inf)
            hi.append(-const)
        cons = [LinearConstraint(np.array(rows), lo, hi)] if rows else []
        ub = max(1.0, vals.sum()) * 4 + 100  # a generous finite box keeps the MILP bounded
        box_lo, box_hi = zip(*(self._box(int(k), ub) for k in idx), strict=True)
        return pos, cons, (np.array(box_lo, dtype=float), np.array(box_hi, dtype=float)), ub

    def bounds(self, hidden: np.ndarray, only=None) -> dict[int, tuple[float, float]]:
        """Integer min and max of every hidden cell (or of ``only``) given what is published."""
        from scipy.optimize import Bounds, milp

        if not np.asarray(hidden).any():
            return {}
        pos, cons, (blo, bhi), ub = self._system(hidden)
        box = Bounds(blo, bhi)
        integ = np.ones(len(pos))
        out = {}
        for k, i in pos.items():
            if only is not None and k not in only:
                continue
            c = np.zeros(len(pos))
            c[i] = 1
            r_lo = milp(c, constraints=cons, bounds=box, integrality=integ)
            r_hi = milp(-c, constraints=cons, bounds=box, integrality=integ)
            self.audits += 2
            low = r_lo.fun if r_lo.status == 0 else 0.0
            high = -r_hi.fun if r_hi.status == 0 else np.inf
            out[k] = (float(low), float(high) if high < ub - 0.5 else np.inf)
        return out

    def movable(self, hidden: np.ndarray, k: int) -> bool:
        """Whether hidden cell ``k`` could take a value other than its true one given what is
        published: a feasibility problem with ``x_k <= v - 1``, then ``x_k >= v + 1``. The
        true values are one solution, so a second value means the cell is not pinned (the
        same verdict as :meth:`bounds`, usually with one solve and no optimisation)."""
        return self.alternative(hidden, k) is not None

    def alternative(self, hidden: np.ndarray, k: int) -> dict[int, float] | None:
        """An integer solution of the attacker's program in which hidden cell ``k`` differs
        from its true value (hidden cell -> value), or None when ``k`` is pinned.

        Every hidden cell whose value differs in that solution is not pinned either, so one
        solve can clear many cells (:meth:`protect` uses this)."""
        from scipy.optimize import Bounds, milp

        pos, cons, (blo, bhi), _ = self._system(hidden)
        i, v = pos[int(k)], self.values[int(k)]
        integ = np.ones(len(pos))
        for lo_k, hi_k in ((blo[i], v - 1), (v + 1, bhi[i])):
            if lo_k > hi_k:
                continue
            lo, hi = blo.copy(), bhi.copy()
            lo[i], hi[i] = lo_k, hi_k
            r = milp(np.zeros(len(pos)), constraints=cons, bounds=Bounds(lo, hi), integrality=integ)
            self.audits += 1
            if r.status == 0:
                return {c: float(r.x[j]) for c, j in pos.items()}
        return None

    def exposed(self, hidden: np.ndarray, cells=None) -> int | None:
        """The first cell of ``cells`` (default: small and implied cells) that is hidden
        but pinned to one value by what is published, else None."""
        vals = np.asarray(self.values)
        if cells is None:
            cells = np.flatnonzero(
                hidden
                & (((vals >= 1) & (vals < self.threshold)) | np.asarray(self.implied, dtype=bool))
            )
        for k in (int(k) for k in cells if hidden[k]):
            if not self.movable(hidden, k):
                return k
        return None

    def protect(self, *, locked=(), force_hidden=(), max_rounds: int | None = None) -> np.ndarray:
        """Boolean mask over the cells: True = not shown exactly (implied and interval cells
        always).

        ``locked`` cells are published elsewhere and may not be chosen to hide;
        ``force_hidden`` cells are hidden from the start (e.g. hidden by another table; a
        zero is never hidden: zeros are always shown). A fast pass first gives every equality
        with a single hidden small cell a partner (the classic secondary-suppression rule);
        the integer-programming audit then runs until no small cell can be pinned down. As
        hiding more can only widen what an attacker can infer, a cell found safe stays safe
        and is not audited again; and the second solution that shows one cell is not pinned
        (:meth:`alternative`) shows the same for every other hidden cell it moves, so those
        are not audited either (the demo's 16 priorities: 45 integer programs, not 519).
        """
        vals = np.asarray(self.values)
        implied = np.asarray(self.implied, dtype=bool)
        ranged = np.array([iv is not None for iv in self.interval], dtype=bool)
        small = (vals >= 1) & (vals < self.threshold)
        hidden = small | implied | ranged
        forced = [int(k) for k in force_hidden if vals[int(k)] > 0]
        hidden[forced] = True
        locked = set(int(x) for x in locked) | set(np.flatnonzero(ranged | implied).tolist())
        protect_me = small.copy()  # zeros (published or implied) disclose nothing
        partners: dict[int, set[int]] = {i: set() for i in range(len(vals))}
        for terms in self.equal + self.at_most:
            for k in terms:
                partners[k].update(terms)

        def pick(k: int) -> int | None:
            """A shown non-zero cell to hide next: the smallest partner of ``k``, else of
            the hidden cells linked to ``k`` through relations (breadth first)."""
            seen, frontier = {k}, [k]
            while frontier:
                cand = [
                    j
                    for i in frontier
                    for j in partners[i]
                    if not hidden[j] and j not in locked and vals[j] > 0
                ]
                if cand:
                    return min(cand, key=lambda j: (vals[j], j))
                frontier = [j for i in frontier for j in partners[i] if hidden[j] and j not in seen]
                seen.update(frontier)
            return None

        changed = True
        while changed:  # fast pass: no equality may hold exactly one hidden small cell
            changed = False
            for terms in self.equal:
                h = [k for k in terms if hidden[k]]
                if len(h) == 1 and protect_me[h[0]] and not ranged[h[0]]:
                    j = pick(h[0])
                    if j is not None:
                        hidden[j] = changed = True
        safe: set[int] = set()
        for _ in range(max_rounds or (2 * len(vals) + 2)):
            todo = [int(k) for k in np.flatnonzero(hidden & protect_me) if int(k) not in safe]
            k = None
            for cand in todo:
                if cand in safe:  # cleared by an earlier solution of this round
                    continue
                alt = self.alternative(hidden, cand)
                if alt is None:
                    k = cand
                    break
                # every hidden cell the solution moves is not pinned either
                safe.update(c for c, x in alt.items() if abs(x - vals[c]) > 0.5)
                safe.add(cand)
            if k is None:
                return hidden
            j = pick(k)
            if j is None:
                raise ValueError(f"LinkedCells: cell {self.names[k]!r} cannot be protected")
            hidden[j] = True
        raise RuntimeError(
            "LinkedCells: secondary suppression did not converge"
        )  # pragma: no cover
