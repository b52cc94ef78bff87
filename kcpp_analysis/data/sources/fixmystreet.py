"""FixMyStreet report counts by LSOA, month and category (mySociety open data, ODC-By).

Layout: ``month`` (YYYY-MM), ``lsoa11cd``, ``category_code``, ``category_name``,
``reports``, ``unique_users``. Each report becomes one incident with ``source =
fixmystreet``, month precision, and the canonical category its code maps to through the
``fixmystreet`` names of ``categories.yaml`` (abandoned vehicles, dog fouling, flyposting and
graffiti are environmental ASB; fly-tipping and dumped rubbish are fly-tipping). The
``ALL`` rows (totals) and unmapped codes are skipped and counted. These are citizen
*reports*, not council-recorded incidents: KPIs select council rows, so they never mix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from kcpp_analysis.config.params import Params
from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.messages import shown
from kcpp_analysis.data.sources.common import numeric, read_csv_checked, with_default_flags
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register

MAX_REPORTS = 100_000


def read_fixmystreet(path: Path, params: Params) -> tuple[pd.DataFrame, dict]:
    df = read_csv_checked(
        path,
        ["month", "lsoa11cd", "category_code", "reports"],
        kind="FixMyStreet LSOA-month counts",
    )
    bad = ~df["month"].fillna("").str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")
    if bad.any():
        i = bad.idxmax()
        raise SourceError(
            f"{path}: column 'month' line {df.loc[i, '_line']}: {shown(df.loc[i, 'month'])} "
            "is not a YYYY-MM month"
        )
    # a documented plausible maximum: no LSOA sees 100,000 reports of one kind in a month
    n = numeric(
        df, "reports", path, integer=True, minimum=0, maximum=MAX_REPORTS, required=True
    ).astype("int64")
    mapping = {
        c: code for code, cat in params.categories.items() for c in cat.raw.get("fixmystreet", [])
    }
    cat = df["category_code"].map(mapping)
    q = {
        "rows_read": len(df),
        "reports_total_rows_skipped": int((df["category_code"] == "ALL").sum()),
        "unmapped_category_rows": int((cat.isna() & (df["category_code"] != "ALL")).sum()),
    }
    keep = cat.notna()
    d, n, cat = df[keep], n[keep], cat[keep]
    rep = np.repeat(np.arange(len(d)), n.to_numpy())
    seq = pd.Series(rep).groupby(rep).cumcount().to_numpy() + 1
    out = pd.DataFrame(
        {
            "incident_id": (
                "FMS-"
                + d["month"].to_numpy()[rep]
                + "-"
                + d["lsoa11cd"].to_numpy()[rep]
                + "-"
                + d["category_code"].to_numpy()[rep]
                + "-"
                + seq.astype(str)
            ),
            "date": pd.to_datetime(d["month"].to_numpy()[rep] + "-01"),
            "date_precision": "month",
            "source": "fixmystreet",
            "category": cat.to_numpy()[rep],
            "lsoa_code": d["lsoa11cd"].to_numpy()[rep],
            "victim_id": None,
            "hate_strand": None,
            "severity": None,
        }
    )
    out = with_default_flags(out)
    q["rows_kept"] = len(out)
    return out, q


class FixMyStreet(Entry):
    kind: Literal["fixmystreet"]
    path: str


def _read(e: FixMyStreet, rc: ReadContext) -> ReadResult:
    path = rc.resolve(e.path)[0]
    df, q = read_fixmystreet(path, rc.params)
    return ReadResult(df, q, (path,))


register(
    SourceKind(
        "fixmystreet",
        FixMyStreet,
        "incidents",
        _read,
        produces=("fixmystreet",),
        description="FixMyStreet reports by LSOA and month",
    )
)
