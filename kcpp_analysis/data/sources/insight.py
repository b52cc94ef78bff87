"""Community insight: coded engagement feedback (kind ``insight``).

One row per coded piece of feedback (councillor ward meetings, place-based officer
sessions, community engagement, partner returns, coded survey comments). No free text and no
personal data: only these columns are accepted, and any other column is refused.

| column | content |
|---|---|
| ``date`` | ``YYYY-MM-DD`` or ``YYYY-MM`` (a month is stored as its first day) |
| ``place`` | one of the partnership's places (``params/sia.yaml``); or leave blank and give |
| ``ward`` | a 2024 ward name or code (its place is taken from the areas table) |
| ``channel`` | ``councillor``, ``officer``, ``community``, ``partner`` or ``survey_comment`` |
| ``topic`` | a code of ``params/insight.yaml`` (each topic belongs to one priority) |
| ``mentions`` | a whole number of at least 1 |
| ``concern`` | optional: 1 (low) to 3 (high) |

Errors name the file, column and line; a bad topic, place or ward is named only when it is
in the vocabulary's form (a short code or name), never echoed otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from kcpp_analysis.config.partnership import CHANNELS
from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.messages import shown
from kcpp_analysis.data.sources.common import numeric, read_csv_checked, vocabulary
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register

REQUIRED = ["date", "channel", "topic", "mentions"]
OPTIONAL = ["place", "ward", "concern"]
INSIGHT_COLUMNS = [
    "date",
    "date_precision",
    "place",
    "ward_code",
    "channel",
    "topic",
    "mentions",
    "concern",
]
MAX_MENTIONS = 100_000


def read_insight(path: Path, params, areas: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Read one insight file into :data:`INSIGHT_COLUMNS` rows (and quality counts)."""
    path = Path(path)
    df = read_csv_checked(path, REQUIRED, kind="community insight", optional=OPTIONAL)
    extra = [c for c in df.columns if c not in (*REQUIRED, *OPTIONAL, "_line")]
    if extra:
        raise SourceError(
            f"{path}: column(s) {extra[:5]} are not allowed in an insight file (no free text "
            f"or personal data); allowed: {', '.join(REQUIRED + OPTIONAL)}"
        )
    if not ("place" in df.columns or "ward" in df.columns):
        raise SourceError(f"{path}: an insight file needs a 'place' or a 'ward' column")
    if df.empty:
        raise SourceError(f"{path}: file has a header but no rows")
    lines = df["_line"]
    raw = df["date"].fillna("").str.strip()
    day = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
    month = pd.to_datetime(raw, format="%Y-%m", errors="coerce")
    date = day.fillna(month)
    bad = date.isna()
    if bad.any():
        i = bad.idxmax()
        raise SourceError(
            f"{path}: column 'date' line {lines[i]}: {shown(df.loc[i, 'date'])} is not a "
            "YYYY-MM-DD date or a YYYY-MM month"
        )
    channel = vocabulary(df, "channel", CHANNELS, path, lines)
    topics = params.insight.topics
    topic = df["topic"].fillna("").str.strip()
    bad = ~topic.isin(list(topics))
    if bad.any():
        i = bad.idxmax()
        raise SourceError(
            f"{path}: column 'topic' line {lines[i]}: {shown(df.loc[i, 'topic'])} is not a topic "
            "of params/insight.yaml"
        )
    places = params.sia.places
    place = (df["place"] if "place" in df.columns else pd.Series(None, index=df.index)).astype(
        "str"
    )
    place = place.where(df["place"].notna() if "place" in df.columns else False, None)
    place = place.str.strip().replace("", None) if place.notna().any() else place
    wards = areas[["ward_code", "ward_name", "place"]].drop_duplicates("ward_code")
    by_code = dict(zip(wards["ward_code"], wards["ward_code"], strict=True))
    by_name = dict(zip(wards["ward_name"].str.lower(), wards["ward_code"], strict=True))
    ward_place = dict(zip(wards["ward_code"], wards["place"], strict=True))
    ward_code = pd.Series(None, index=df.index, dtype="object")
    if "ward" in df.columns:
        w = df["ward"].fillna("").str.strip()
        code = w.map(lambda x: by_code.get(x.upper()) or by_name.get(x.lower()) if x else None)
        bad = (w != "") & code.isna()
        if bad.any():
            i = bad.idxmax()
            raise SourceError(
                f"{path}: column 'ward' line {lines[i]}: {shown(df.loc[i, 'ward'])} is not a 2024 "
                "ward name or code of the area"
            )
        ward_code = code
        from_ward = code.map(ward_place)
        clash = place.notna() & from_ward.notna() & (place != from_ward)
        if clash.any():
            i = clash.idxmax()
            raise SourceError(
                f"{path}: line {lines[i]}: the ward is in {from_ward[i]}, not in the place given"
            )
        place = place.fillna(from_ward)
    bad = place.isna()
    if bad.any():
        i = bad.idxmax()
        raise SourceError(f"{path}: line {lines[i]}: neither a place nor a ward is given")
    bad = ~place.isin(places)
    if bad.any():
        i = bad.idxmax()
        raise SourceError(
            f"{path}: column 'place' line {lines[i]}: {shown(place[i])} is not one of the "
            f"places {', '.join(places)}"
        )
    mentions = numeric(
        df, "mentions", path, integer=True, minimum=1, maximum=MAX_MENTIONS, required=True
    )
    concern = (
        numeric(df, "concern", path, integer=True, minimum=1, maximum=3)
        if "concern" in df.columns
        else pd.Series(np.nan, index=df.index)
    )
    out = normalise_insight(
        pd.DataFrame(
            {
                "date": date,
                "date_precision": np.where(day.notna(), "day", "month"),
                "place": place,
                "ward_code": ward_code,
                "channel": channel,
                "topic": topic,
                "mentions": mentions,
                "concern": concern,
            }
        )
    )
    return out, {"rows": len(out), "mentions": int(out["mentions"].sum())}


def normalise_insight(df: pd.DataFrame) -> pd.DataFrame:
    """The insight table in its storage dtypes (text as ``str`` with missing kept)."""
    out = df[INSIGHT_COLUMNS].copy()
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    for c in ("date_precision", "place", "ward_code", "channel", "topic"):
        out[c] = out[c].astype("str")
    out["mentions"] = out["mentions"].astype("int64")
    out["concern"] = out["concern"].astype("float64")
    return out.reset_index(drop=True)


class Insight(Entry):
    kind: Literal["insight"]
    path: str  # a file or a glob: every file it matches is read


def _read(e: Insight, rc: ReadContext) -> ReadResult:
    files = rc.resolve(e.path)
    parts = [read_insight(f, rc.params, rc.areas) for f in files]
    df = pd.concat([d for d, _ in parts], ignore_index=True)
    q = {"files": len(files), "rows": len(df), "mentions": int(df["mentions"].sum())}
    return ReadResult(df, q, tuple(files))


register(
    SourceKind(
        "insight",
        Insight,
        "extra",
        _read,
        target="insight",
        description="community insight: coded engagement feedback by place, channel and topic",
    )
)
