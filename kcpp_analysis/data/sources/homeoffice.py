"""Home Office police recorded crime open data tables by Community Safety Partnership.

Layout (as published; one sheet per financial year in the ODS, or its CSV exports):
``Financial Year, Financial Quarter, Police Force, CSP Name, Offence Description, Offence
Group, Offence Subgroup, Offence Code, Offence Count``. **CSV exports are supported** (one
file per sheet, or one file holding several years); the ODS itself is over a gigabyte
unpacked, and reading it needs an ODF reader this toolkit does not install: export its
sheets to CSV (e.g. ``libreoffice --convert-to csv``) first.

:func:`read_home_office_csp` streams each file in chunks (bounded memory), checks every row
(year ``YYYY/YY``, quarter 1-4, whole non-negative counts) and returns counts per financial
year x CSP x offence group x offence code (the code lets Crime Severity Score weights be
applied). Blank rows are skipped and counted; rows whose CSP is
"Unassigned" (offences the force could not place in a CSP) are kept under that name and
counted, never mixed into a CSP. Errors name the file, column and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pandas as pd

from kcpp_analysis.core.errors import SourceError
from kcpp_analysis.core.messages import shown
from kcpp_analysis.data.sources.common import sniff_text
from kcpp_analysis.data.sources.registry import Entry, ReadContext, ReadResult, SourceKind, register

COLUMNS = [
    "Financial Year",
    "Financial Quarter",
    "Police Force",
    "CSP Name",
    "Offence Description",
    "Offence Group",
    "Offence Subgroup",
    "Offence Code",
    "Offence Count",
]
FY = re.compile(r"^\d{4}/\d{2}$")
MAX_COUNT = 10_000_000  # far above any CSP's quarterly count for one offence code


def read_home_office_csp(
    paths: list[Path], *, chunksize: int = 200_000
) -> tuple[pd.DataFrame, dict]:
    """Counts by ``financial_year``, ``police_force``, ``csp``, ``offence_group`` and
    ``offence_code`` (summed over quarters), and quality counts."""
    parts, q = [], {"files": 0, "rows_read": 0, "blank_rows": 0, "unassigned_rows": 0}
    for path in paths:
        path = Path(path)
        sniff_text(path)
        q["files"] += 1
        head = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns.str.strip().tolist()
        missing = [c for c in COLUMNS if c not in head]
        if missing:
            raise SourceError(
                f"{path}: missing column(s) {missing} (Home Office CSP table layout: "
                f"{', '.join(COLUMNS)})"
            )
        line0 = 2
        reader = pd.read_csv(
            path,
            dtype=str,
            encoding="utf-8-sig",
            keep_default_na=False,
            chunksize=chunksize,
            skip_blank_lines=False,
            on_bad_lines="error",
        )
        try:
            for chunk in reader:
                chunk.columns = chunk.columns.str.strip()
                lines = pd.RangeIndex(line0, line0 + len(chunk))
                line0 += len(chunk)
                chunk.index = lines
                blank = chunk[COLUMNS].apply(lambda s: s.str.strip()).eq("").all(axis=1)
                q["blank_rows"] += int(blank.sum())
                c = chunk[~blank]
                q["rows_read"] += len(c)
                fy = c["Financial Year"].str.strip()
                bad = ~fy.str.fullmatch(FY.pattern)
                if bad.any():
                    i = bad.idxmax()
                    raise SourceError(
                        f"{path}: column 'Financial Year' line {i}: {shown(fy[i])} is not a "
                        "financial year like 2023/24"
                    )
                qtr = c["Financial Quarter"].str.strip()
                bad = ~qtr.isin(["1", "2", "3", "4"])
                if bad.any():
                    i = bad.idxmax()
                    raise SourceError(
                        f"{path}: column 'Financial Quarter' line {i}: {shown(qtr[i])} is not 1-4"
                    )
                n = pd.to_numeric(
                    c["Offence Count"].str.replace(",", "").str.strip(), errors="coerce"
                )
                bad = n.isna() | (n < 0) | (n % 1 != 0) | (n > MAX_COUNT)
                if bad.any():
                    i = bad.idxmax()
                    raise SourceError(
                        f"{path}: column 'Offence Count' line {i}: {shown(c['Offence Count'][i])} is "
                        f"not a whole count from 0 to {MAX_COUNT:,}"
                    )
                csp = c["CSP Name"].str.strip()
                q["unassigned_rows"] += int(csp.str.lower().eq("unassigned").sum())
                parts.append(
                    pd.DataFrame(
                        {
                            "financial_year": fy,
                            "police_force": c["Police Force"].str.strip(),
                            "csp": csp.where(~csp.str.lower().eq("unassigned"), "Unassigned"),
                            "offence_group": c["Offence Group"].str.strip(),
                            "offence_code": c["Offence Code"].str.strip(),
                            "count": n.astype("int64"),
                        }
                    )
                )
        except pd.errors.ParserError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise SourceError(
                f"{path}: line {m.group(1) if m else '?'}: row has the wrong number of columns"
            ) from None
    if not parts:
        raise SourceError(f"{', '.join(str(p) for p in paths)}: no rows")
    t = pd.concat(parts, ignore_index=True)
    out = (
        t.groupby(
            ["financial_year", "police_force", "csp", "offence_group", "offence_code"],
            as_index=False,
        )["count"]
        .sum()
        .sort_values(["financial_year", "police_force", "csp", "offence_group", "offence_code"])
        .reset_index(drop=True)
    )
    return out, q


class HomeOfficeCsp(Entry):
    kind: Literal["home_office_csp"]
    path: str  # CSV exports of the Home Office CSP tables: a file, folder or glob


def _read(e: HomeOfficeCsp, rc: ReadContext) -> ReadResult:
    paths: list[Path] = []
    for x in rc.resolve(e.path):
        paths += sorted(x.glob("*.csv")) if x.is_dir() else [x]
    df, q = read_home_office_csp(paths)
    return ReadResult(df, q, tuple(paths))


register(
    SourceKind(
        "home_office_csp",
        HomeOfficeCsp,
        "extra",
        _read,
        target="csp_counts",
        description="Home Office recorded crime by Community Safety Partnership (CSV exports)",
    )
)
