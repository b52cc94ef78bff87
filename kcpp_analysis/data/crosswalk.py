"""One crosswalk from any LSOA code a source carries to the ``areas`` table's LSOAs.

Every loader (police.uk, partner extracts, STATS19, FixMyStreet) places its rows through
:class:`Crosswalk`, so no source loses rows to code vintage, case or padding. Rules, in order:

1. **Normalise**: strip whitespace and upper-case (``" e01011004 "`` -> ``E01011004``).
2. **Exact**: a code of the areas table is kept.
3. **Other vintage** through the ONS LSOA 2011 <-> 2021 lookup (change indicator ``U``
   unchanged, ``S`` split, ``M`` merged, ``X`` irregular): a code with one counterpart in
   the areas table maps to it (unchanged; a 2011 code merged into one 2021 LSOA; a 2021 code
   of an LSOA split from one 2011 LSOA). A code with several counterparts (a 2011 LSOA
   split into several 2021 LSOAs, or a 2021 LSOA merged from several 2011 ones) is resolved
   **by the row's coordinates** (point in polygon against the areas' boundaries) when it
   has them and they fall in one of the counterparts, otherwise **by population share**: a
   deterministic draw from the row's key (SHA-256), with each counterpart's probability its
   share of the counterparts' population, so totals are apportioned as the population is
   and a rerun gives the same answer.
4. **Coordinates** place a row with no usable code (point in polygon).
5. Anything else is *unplaced*: ``no_location`` (no code and no coordinates),
   ``malformed_code`` (a code that is not an LSOA code at all, e.g. ``E0101100``: a data
   error, counted as a loss) or ``outside_area`` (a well-formed code or point outside the
   partnership's area: expected for force-wide files). Loaders count all three in
   ``dataset.json``; losses above 1% of a source stop ``kcpp prepare``.

The boundaries are the generalised ones of the reference extract (about 1 m coordinate
precision after generalisation of tens of metres), so a point within a few tens of metres
of an LSOA boundary can fall in its neighbour; this only matters for rows with coordinates
and no code.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

REASONS = (
    "exact",
    "normalised",
    "lookup",
    "split_by_point",
    "split_by_share",
    "by_coordinates",
    "no_location",
    "malformed_code",
    "outside_area",
)
#: an LSOA code of England or Wales (either vintage), after normalisation
LSOA_CODE = r"^[EW]01\d{6}$"


class Crosswalk:
    """Place LSOA codes (and/or points) in the ``areas`` table.

    Parameters
    ----------
    areas : DataFrame
        ``lsoa_code`` and ``population``.
    lookup : DataFrame, optional
        ONS LSOA 2011 -> 2021 lookup with columns ``lsoa11``, ``lsoa21`` (one row per pair).
    boundaries : dict, optional
        ``code -> shapely geometry`` in longitude/latitude (WGS84) for the areas' LSOAs.

    Examples
    --------
    >>> a = pd.DataFrame({"lsoa_code": ["E01000002", "E01000003"], "population": [100, 300]})
    >>> lk = pd.DataFrame({"lsoa11": ["E01000001", "E01000001"],
    ...                    "lsoa21": ["E01000002", "E01000003"]})
    >>> cw = Crosswalk(a, lookup=lk)
    >>> codes, how = cw.place(pd.Series([" e01000002", "E01000003", "E01009999", None, "E0101100"]))
    >>> codes.tolist()
    ['E01000002', 'E01000003', nan, nan, nan]
    >>> how.tolist()
    ['normalised', 'exact', 'outside_area', 'no_location', 'malformed_code']
    """

    def __init__(
        self,
        areas: pd.DataFrame,
        lookup: pd.DataFrame | None = None,
        boundaries: dict | None = None,
    ):
        self.codes = set(areas["lsoa_code"])
        self.population = areas.set_index("lsoa_code")["population"].astype(float)
        self.candidates: dict[str, list[str]] = {}
        if lookup is not None and len(lookup):
            lk = lookup[["lsoa11", "lsoa21"]].astype(str)
            for a_col, b_col in (("lsoa11", "lsoa21"), ("lsoa21", "lsoa11")):
                pairs = lk[lk[b_col].isin(self.codes) & ~lk[a_col].isin(self.codes)]
                for code, grp in pairs.groupby(a_col):
                    self.candidates[code] = sorted(set(grp[b_col]))
        self._tree = None
        if boundaries:
            from shapely import STRtree

            self._bcodes = list(boundaries)
            self._tree = STRtree([boundaries[c] for c in self._bcodes])

    def _points(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Area code containing each point (None outside every area or without a point)."""
        out = np.full(len(lon), None, dtype=object)
        if self._tree is None:
            return out
        from shapely import points

        ok = np.isfinite(lon) & np.isfinite(lat)
        if not ok.any():
            return out
        idx = np.flatnonzero(ok)
        pts = points(lon[idx], lat[idx])
        hit_pt, hit_geom = self._tree.query(pts, predicate="within")
        # a point on a shared edge may match two polygons: keep the first by code order
        order = np.lexsort((hit_geom, hit_pt))
        hit_pt, hit_geom = hit_pt[order], hit_geom[order]
        first = np.r_[True, hit_pt[1:] != hit_pt[:-1]] if len(hit_pt) else np.array([], bool)
        out[idx[hit_pt[first]]] = [self._bcodes[g] for g in hit_geom[first]]
        return out

    def _share_draw(self, key: str, cands: list[str]) -> str:
        w = self.population.reindex(cands).fillna(0).to_numpy()
        w = w / w.sum() if w.sum() > 0 else np.full(len(cands), 1 / len(cands))
        u = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / 16**12
        return cands[int(np.searchsorted(np.cumsum(w), u, side="right").clip(0, len(cands) - 1))]

    def place(
        self,
        codes: pd.Series,
        *,
        lon: pd.Series | None = None,
        lat: pd.Series | None = None,
        keys: pd.Series | None = None,
    ) -> tuple[pd.Series, pd.Series]:
        """Areas-table code for each row (missing when unplaced) and how it was placed (one of
        :data:`REASONS`), both categorical (a few hundred codes for millions of rows). ``keys`` (e.g. incident ids) seed the population-share draw;
        default: the row's position and code."""
        n = len(codes)
        cats = sorted(self.codes)
        index = {c: i for i, c in enumerate(cats)}
        # work on the distinct codes (a few hundred), then index back to the rows
        inv, uniq = pd.factorize(codes.reset_index(drop=True), use_na_sentinel=True)
        u = pd.Series(np.asarray(uniq, dtype=object), dtype=object)
        norm_u = u.astype("string").str.strip().str.upper()
        norm_u = norm_u.where(norm_u.notna() & (norm_u != "") & (norm_u != "NAN"), None)
        nv_u = np.append(norm_u.astype(object).where(norm_u.notna(), None).to_numpy(object), None)
        exact_u = np.append(u.isin(self.codes).to_numpy(), False)
        idx_u = np.array([index.get(c, -1) if c is not None else -1 for c in nv_u], np.int32)
        # out: index into ``cats`` (-1 unplaced); how: index into REASONS (-1 undecided)
        out = idx_u[inv]  # inv -1 (missing) picks the appended None
        in_areas = out >= 0
        how = np.full(n, -1, dtype=np.int8)
        how[in_areas] = np.where(exact_u[inv][in_areas], 0, 1)
        R = {r: i for i, r in enumerate(REASONS)}
        todo = np.flatnonzero(~in_areas)
        nv = nv_u[inv[todo]]  # normalised code of each row still to place (or None)
        if lon is not None and lat is not None:
            lo = pd.to_numeric(pd.Series(lon).iloc[todo], errors="coerce").to_numpy(float)
            la = pd.to_numeric(pd.Series(lat).iloc[todo], errors="coerce").to_numpy(float)
        else:
            lo = la = np.full(len(todo), np.nan)
        has_pt = np.isfinite(lo) & np.isfinite(la)
        pt_code = np.full(len(todo), None, dtype=object)
        if has_pt.any():
            pt_code[has_pt] = self._points(lo[has_pt], la[has_pt])

        def key(i: int) -> str:  # only rows that need the population-share draw
            return str(keys.iloc[i]) if keys is not None else f"{i}|"

        # one counterpart: a vectorised map; several: row by row (splits and merges only)
        single = {c: index[v[0]] for c, v in self.candidates.items() if len(v) == 1}
        tc = pd.Series(nv, dtype=object)
        one = tc.map(single).to_numpy(dtype=float)
        has_one = np.isfinite(one)
        out[todo[has_one]], how[todo[has_one]] = one[has_one].astype(np.int32), R["lookup"]
        for j in np.flatnonzero(~has_one & tc.map(lambda c: c in self.candidates).to_numpy(bool)):
            i, c = todo[j], nv[j]
            cands = self.candidates[c]
            if pt_code[j] in cands:
                out[i], how[i] = index[pt_code[j]], R["split_by_point"]
            else:
                out[i] = index[self._share_draw(f"{key(i)}|{c}", cands)]
                how[i] = R["split_by_share"]
        rest = np.flatnonzero(how[todo] == -1)
        by_pt = rest[pd.notna(pt_code[rest])]
        out[todo[by_pt]] = [index[c] for c in pt_code[by_pt]]
        how[todo[by_pt]] = R["by_coordinates"]
        rest = rest[how[todo[rest]] == -1]
        no_code = pd.isna(nv[rest]) & ~has_pt[rest]
        how[todo[rest[no_code]]] = R["no_location"]
        well_formed = pd.Series(nv[rest], dtype="string").str.fullmatch(LSOA_CODE).fillna(False)
        malformed = ~no_code & ~has_pt[rest] & ~well_formed.to_numpy(bool)
        how[todo[rest[malformed]]] = R["malformed_code"]
        how[todo[rest[~no_code & ~malformed]]] = R["outside_area"]
        return (
            pd.Series(pd.Categorical.from_codes(out, categories=cats), index=codes.index),
            pd.Series(pd.Categorical.from_codes(how, categories=list(REASONS)), index=codes.index),
        )

    @staticmethod
    def summary(how: pd.Series) -> dict[str, int]:
        """Counts by placement rule (every rule listed, zeros included)."""
        vc = how.value_counts()
        return {r: int(vc.get(r, 0)) for r in REASONS}
