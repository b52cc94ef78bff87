"""DfT STATS19 road-safety open data: collisions + casualties, as published.

Codes are integers and -1 means missing. Collisions are selected by
``local_authority_ons_district`` (the district ONS code; ``local_authority_district`` is -1
in recent years). One incident per casualty, ``category = road_casualty``, ``source =
roads``, ``severity`` from ``casualty_severity`` (1 fatal, 2 serious, 3 slight), located in
the collision's LSOA (``lsoa_of_accident_location``) and dated by the collision ``date``
(``dd/mm/yyyy``). KSI = fatal + serious.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.messages import shown
from kcpp_analysis.data.sources.common import read_csv_checked, with_default_flags
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register

SEVERITY = {"1": "fatal", "2": "serious", "3": "slight"}


def _COORDS(col: pd.DataFrame) -> list[str]:
    return [c for c in ("longitude", "latitude") if c in col.columns]


def read_stats19(collisions: Path, casualties: Path, lad_code: str) -> tuple[pd.DataFrame, dict]:
    """Casualties of collisions in ``lad_code`` (by ``local_authority_ons_district``), with
    the collision's LSOA as published and its coordinates (``_lon``, ``_lat``) for the
    crosswalk (:class:`kcpp_analysis.data.crosswalk.Crosswalk`), which places them."""
    col = read_csv_checked(
        collisions,
        ["collision_index", "date", "local_authority_ons_district", "lsoa_of_accident_location"],
        kind="STATS19 collisions",
    )
    cas = read_csv_checked(
        casualties,
        ["collision_index", "vehicle_reference", "casualty_reference", "casualty_severity"],
        kind="STATS19 casualties",
    )
    q = {"collisions_read": len(col), "casualties_read": len(cas)}
    # a casualty whose collision is not in the collisions file at all is a loss (counted
    # and subject to the loss rule); one of a collision in another area is filtering
    orphan = ~cas["collision_index"].isin(set(col["collision_index"]))
    q["orphan_casualties"] = int(orphan.sum())
    q["lost"] = {"casualties with no collision in the collisions file": int(orphan.sum())}
    col = col[col["local_authority_ons_district"] == lad_code]
    dates = pd.to_datetime(col["date"], format="%d/%m/%Y", errors="coerce")
    if dates.isna().any():
        i = dates.isna().idxmax()
        raise SourceError(
            f"{collisions}: column 'date' line {col.loc[i, '_line']}: "
            f"{shown(col.loc[i, 'date'])} is not a dd/mm/yyyy date"
        )
    col = col.assign(_date=dates)
    m = cas.merge(
        col[["collision_index", "_date", "lsoa_of_accident_location", *_COORDS(col)]],
        on="collision_index",
        how="inner",
    )
    sev = m["casualty_severity"].str.strip().map(SEVERITY)
    if sev.isna().any():
        i = sev.isna().idxmax()
        raise SourceError(
            f"{casualties}: column 'casualty_severity' line {m.loc[i, '_line']}: "
            f"{shown(m.loc[i, 'casualty_severity'])} is not 1, 2 or 3"
        )
    lsoa = m["lsoa_of_accident_location"].fillna("").str.strip()
    lsoa = lsoa.where(lsoa != "-1", "")
    out = pd.DataFrame(
        {
            "incident_id": (
                "S19-"
                + m["collision_index"]
                + "-"
                + m["vehicle_reference"]
                + "-"
                + m["casualty_reference"]
            ).to_numpy(),
            "date": m["_date"].to_numpy(),
            "date_precision": "day",
            "source": "roads",
            "category": "road_casualty",
            "lsoa_code": lsoa.to_numpy(),
            "victim_id": None,
            "hate_strand": None,
            "severity": sev.to_numpy(),
            "_lon": pd.to_numeric(m["longitude"], errors="coerce").to_numpy()
            if "longitude" in m
            else None,
            "_lat": pd.to_numeric(m["latitude"], errors="coerce").to_numpy()
            if "latitude" in m
            else None,
        }
    )
    out = with_default_flags(out)
    q["rows_kept"] = len(out)
    return out, q


class Stats19(Entry):
    kind: Literal["stats19"]
    collisions: str
    casualties: str


def _read(e: Stats19, rc: ReadContext) -> ReadResult:
    col, cas = rc.resolve(e.collisions)[0], rc.resolve(e.casualties)[0]
    df, q = read_stats19(col, cas, rc.params.sia.lad_code)
    return ReadResult(df, q, (col, cas))


register(
    SourceKind(
        "stats19",
        Stats19,
        "incidents",
        _read,
        produces=("roads",),
        path_keys=("collisions", "casualties"),
        description="DfT road-safety collisions and casualties as published",
    )
)
