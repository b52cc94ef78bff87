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


def _bounds_of(values: np.ndarray, supp: np.ndarray, rows_pub: np.ndarray, cols_pub: np.ndarray
               ) -> dict[tuple[int, int], tuple[float, float]]:
    """Min and max feasible value of each suppressed cell given published info."""
    cells = list(zip(*np.nonzero(supp), strict=True))
    if not cells:
        return {}
    idx = {c: i for i, c in enumerate(cells)}
    A, b = [], []
    # one equation per published row / column total: sum of its suppressed cells is known
    lines = [(supp[r, :], values[r, :], [(r, c) for c in range(supp.shape[1])])
             for r in np.flatnonzero(rows_pub)]
    lines += [(supp[:, c], values[:, c], [(r, c) for r in range(supp.shape[0])])
              for c in np.flatnonzero(cols_pub)]
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


def protect(values, *, threshold: int = 5, row_totals: bool = True,
            column_totals: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def suppression_mask(values, *, threshold: int = 5, row_totals: bool = True,
                     column_totals: bool = True) -> np.ndarray:
    """Boolean mask of the cells to suppress (primary and secondary); see :func:`protect`."""
    return protect(values, threshold=threshold, row_totals=row_totals,
                   column_totals=column_totals)[0]


def suppress_small_counts(table: pd.DataFrame, *, columns: Sequence[str], threshold: int = 5,
                          marker: str = "[c]", row_totals: bool = True,
                          column_totals: bool = True, add_totals: bool = False) -> pd.DataFrame:
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
    mask, rows_pub, cols_pub = protect(vals, threshold=threshold, row_totals=row_totals,
                                       column_totals=column_totals)
    text = np.where(mask, marker, np.vectorize(lambda x: f"{x:.0f}" if float(x).is_integer() else f"{x}")(vals))
    for j, c in enumerate(cols):
        out[c] = text[:, j]
    if add_totals:
        if len(cols) > 1:
            out["total"] = [f"{s:.0f}" if ok else marker
                            for s, ok in zip(vals.sum(axis=1), rows_pub, strict=True)]
        total_row = {c: "" for c in out.columns}
        first = next((c for c in out.columns if c not in cols), None)
        if first is not None:
            total_row[first] = "Total"
        single = len(cols) == 1
        for j, c in enumerate(cols):
            ok = cols_pub[j] or (single and len(vals) == 1)
            total_row[c] = f"{vals[:, j].sum():.0f}" if ok or single and not (
                1 <= vals[:, j].sum() < threshold) else marker
        if len(cols) > 1:
            g = vals.sum()
            total_row["total"] = marker if 1 <= g < threshold else f"{g:.0f}"
        out = pd.concat([out, pd.DataFrame([total_row])], ignore_index=True)
    out.attrs["suppressed"] = int(mask.sum())
    if mask.any():
        log.debug("suppressed %d cell(s) (%d primary)", mask.sum(),
                  int(((vals >= 1) & (vals < threshold)).sum()))
    return out
