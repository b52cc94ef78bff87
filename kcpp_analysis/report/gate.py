"""The one disclosure gate every published number passes through.

A section never writes a number to a page, a chart or a CSV itself: it hands its tables to
:class:`DisclosureGate`, which returns :class:`PublishedTable` objects holding only what may
be shown, and sentences are formatted from those. The rules (documented in the report's
methods appendix):

- **primary suppression**: counts from 1 to ``threshold - 1`` are shown as the marker
  (``[c]``); zeros are shown;
- **secondary suppression**: a suppressed count must not be recoverable from anything else
  published with it (totals, other tables of the same priority, differences that are counts
  of people). Plain tables use :func:`kcpp_analysis.presentation.disclosure.suppress_small_counts`
  (row/column totals); linked publications (wards with places and the borough total, repeat
  rows with their "All" row and within-row differences, decile counts with the quintile
  totals a rate ratio reveals) use :class:`kcpp_analysis.presentation.disclosure.LinkedCells`, audited
  by integer programming;
- **derived values** (rates, intervals, changes, ratios) are hidden whenever a count they are
  computed from is hidden;
- **charts** draw only published values: a monthly series with a suppressed month is drawn
  by quarter, then by financial year, and otherwise not at all, with the reason stated
  (:meth:`DisclosureGate.series`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kcpp_analysis.core.periods import fy_labels
from kcpp_analysis.presentation.disclosure import LinkedCells, suppress_small_counts
from kcpp_analysis.presentation.narrative import fmt_number

#: How each column is labelled on the page (CSV files keep the stable column names).
COLUMN_LABELS = {
    "financial_year": "Financial year",
    "factor": "Factor",
    "rank_correlation": "Rank correlation",
    "interval_low": "Interval low",
    "interval_high": "Interval high",
    "association": "Association",
    "police": "Police-recorded",
    "ae_attendances": "A&E attendances",
    "admissions": "Hospital admissions",
    "police_victims": "Police-recorded victims",
    "police_victims_pct": "Police victims (%)",
    "ae_attendances_pct": "A&E attendances (%)",
    "police_per_1000": "Police per 1,000 residents",
    "ae_per_1000": "A&E per 1,000 residents",
    "ae_to_police": "A&E per police record",
    "victims_per_1000": "Victims per 1,000 residents",
    "offenders_per_1000": "Offenders per 1,000 residents",
    "rate_per_100k_a_year": "Rate per 100,000 a year",
    "measure": "Measure",
    "previous": "Previous year",
    "current": "This year",
    "change_pct": "Change (%)",
    "rate_ratio": "Rate ratio",
    "rate_ratio_rest": "Rate ratio to the rest of the borough",
    "place_share_pct": "Share of the place's mentions (%)",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "p_value": "p-value",
    "place": "Place",
    "ward_name": "Ward",
    "count": "Incidents",
    "population": "Population",
    "rate": "Rate per 1,000",
    "rate_per_1000": "Rate per 1,000",
    "imd_decile": "IMD decile (1 = most deprived)",
    "n_lsoas": "LSOAs",
    "rank": "Rank",
    "lsoa_name": "LSOA",
    "years_in_top": "Years in top 10%",
    "n_incidents": "Incidents",
    "n_victims": "Victims",
    "n_repeat_incidents": "Repeat incidents",
    "incident_repeat_rate": "Repeat incident rate (%)",
    "n_repeat_victims": "Repeat victims",
    "victim_repeat_rate": "Repeat victim rate (%)",
    "hate_strand": "Strand",
    "lsoas": "LSOAs",
    "pct_lsoas_most_deprived_decile": "% LSOAs in most deprived decile",
    "crimes": "Crimes",
    "crime_rate_per_1000": "Crime rate per 1,000",
    "crime_change_pct": "Crime change (%)",
    "percentile": "Percentile",
    "age_band": "Age band",
    "female": "Female",
    "male": "Male",
    "not recorded": "Sex not recorded",
    "all": "All",
    "offences_with_offender": "Offences with an identified offender",
    "calls_with_caller": "Calls with a caller reference",
    "callers": "Callers",
    "callers_3_plus": "Callers with 3+ calls",
    "calls_from_repeat_callers_pct": "Calls from repeat callers (%)",
    "located_incidents": "Incidents with a location",
    "repeat_locations": "Repeat locations",
    "incidents_at_repeat_locations": "Incidents at repeat locations",
    "offenders": "Offenders",
    "offenders_3_plus": "Offenders with 3+ offences",
    "top10_share_pct": "Share by the top 10% of offenders (%)",
    "location_type": "Location type",
    "change_pp": "Change in share (points)",
    "offence": "Offence",
    "setting": "Setting",
    "knife": "Knife",
    "distance_band": "Distance",
    "time_band": "Days apart",
    "observed": "Observed pairs",
    "expected": "Expected pairs",
    "ratio": "Knox ratio",
    "day": "Day",
    "of": "of",
    "england": "England",
    "force_mean": "Force area mean",
    "force_min": "Force area min",
    "force_max": "Force area max",
    "nn_mean": "Neighbours mean",
    "nn_min": "Neighbours min",
    "nn_max": "Neighbours max",
    "group_mean": "Comparator group mean",
    "adj_ratio": "Deprivation-adjusted ratio",
    "district": "District",
    "outside": "Outside 99.8% limits",
    "asb": "Police-recorded ASB incidents",
    "asb_rate_per_1000": "Police-recorded ASB per 1,000",
    "domestic_abuse": "Domestic abuse crimes and incidents",
    "feel_safe_pct": "Feel safe (%)",
    "period": "Period",
    "wave": "Wave",
    "share_pct": "Share (%)",
    "n": "Respondents",
    "value": "Value",
    "indicator": "Indicator",
    "unit": "Unit",
    "source": "Source",
    "rows": "Records",
    "kind": "Label",
    "priority": "Priority",
    "recommended_class": "Recommended class",
    "this_year": "This year",
    "last_year": "Last year",
    "change": "Change",
    "place_rate": "Rate per 1,000",
    "borough_rate": "Borough rate per 1,000",
    "rate_vs_borough": "Times the borough rate",
    "n_priorities": "Priorities",
    "priorities": "Which priorities",
    "ward": "Ward",
    "sets": "Priorities and flags",
    "n_sets": "Sets in it",
    "first": "Priority",
    "second": "And priority",
    "victims": "Victims",
    "could_be_tested_by": "Could be tested by",
    "crimes_previous": "Crimes last year",
    "mentions": "Mentions",
    "label": "Label",
    "labels": "How many",
    "false_alarm_pct": "Wrong when nothing changed (%)",
    "expected_by_chance": "Expected by chance",
}

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """Neutralise spreadsheet formula injection in a text cell (OWASP CSV injection).

    A text value that starts with ``= + - @`` (or a tab/CR) is prefixed with ``'`` so a
    spreadsheet shows it as text; numbers are left alone.

    >>> csv_safe("=HYPERLINK(1)"), csv_safe("-3.5"), csv_safe(-3.5)
    ("'=HYPERLINK(1)", '-3.5', -3.5)
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value.replace(",", ""))
        return value
    except ValueError:
        return "'" + value


@dataclass(frozen=True)
class PublishedTable:
    """A table after the gate: safe to show, write and quote.

    Attributes
    ----------
    name : str
        Stable file stem (``tables/<name>.csv``).
    data : DataFrame
        Published values: numbers where shown, the marker where suppressed.
    display : DataFrame
        The same cells formatted for the page (thousands separators, fixed decimals).
    numeric : tuple of str
        Columns holding numbers (right-aligned on the page).
    caption : str
    """

    name: str
    data: pd.DataFrame
    display: pd.DataFrame
    numeric: tuple[str, ...]
    caption: str = ""
    marker: str = "[c]"

    def value(self, row: int, col: str):
        """A published value (``None`` when suppressed or missing)."""
        v = self.data[col].iloc[row]
        if isinstance(v, str) or v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        return float(v)

    def hidden(self, row: int, col: str) -> bool:
        return self.data[col].iloc[row] == self.marker

    @property
    def has_values(self) -> bool:
        """Whether any number column shows a value above zero (not everything withheld or
        zero): a table without one says nothing a sentence cannot."""
        for c in self.numeric:
            for v in self.data[c]:
                if isinstance(v, str) or v is None:
                    continue
                if not math.isnan(float(v)) and float(v) > 0:
                    return True
        return False

    @property
    def columns(self) -> list[tuple[str, str, bool]]:
        """``(column, label, is_numeric)`` for the template."""
        return [(c, COLUMN_LABELS.get(c, c), c in self.numeric) for c in self.display.columns]

    def _repr_html_(self) -> str:
        from kcpp_analysis.report.render import render

        return render("table.html.j2", table=self)


@dataclass(frozen=True)
class GatedSeries:
    """A time series as it may be drawn: ``period`` (timestamp), ``label``, ``value``."""

    frame: pd.DataFrame
    freq: str  # "month", "quarter", "year" or "none"
    reason: str = ""


@dataclass
class DisclosureGate:
    """Applies the disclosure rules and counts what was suppressed (for the appendix)."""

    threshold: int = 5
    marker: str = "[c]"
    suppressed_cells: int = 0
    published: list[str] = field(default_factory=list)

    def small(self, v) -> bool:
        return v is not None and not pd.isna(v) and 1 <= float(v) < self.threshold

    # -- plain and masked tables -----------------------------------------------------------
    def table(
        self,
        frame: pd.DataFrame,
        name: str,
        *,
        counts: Sequence[str] = (),
        derived: Mapping[str, Sequence[str]] | None = None,
        row_totals: bool = False,
        column_totals: bool = True,
        mask: Mapping[str, Sequence[bool]] | None = None,
        formats: Mapping[str, str] | None = None,
        caption: str = "",
        count_secondary: bool = True,
    ) -> PublishedTable:
        """Suppress a table and return what may be published.

        ``counts`` are protected with primary and secondary suppression against the
        published row/column totals, unless ``mask`` gives the cells to hide (decided by a
        linked protection). ``derived`` maps a count column to the columns computed from it,
        hidden with it. ``formats`` maps columns to format specs for the page (in a text
        column, e.g. counts mixed with the marker, to the numbers in it).
        """
        t = frame.reset_index(drop=True)  # copy-on-write: never changed below
        counts = [c for c in counts if c in t.columns]
        n = len(t)
        # built column by column as NumPy arrays: per-column frame assignments cost more
        # than the rules themselves on tables this small
        hidden = {c: np.zeros(n, dtype=bool) for c in t.columns}
        if mask is not None:
            for c, m in mask.items():
                if c in hidden:
                    hidden[c] = np.asarray(m, dtype=bool)
        elif counts:
            vals = t[counts].astype(float).fillna(0)
            s = suppress_small_counts(
                vals,
                columns=counts,
                threshold=self.threshold,
                row_totals=row_totals and len(counts) > 1,
                column_totals=column_totals,
                marker=self.marker,
            )
            for c in counts:
                hidden[c] = (s[c] == self.marker).to_numpy()
        for cnt, cols in (derived or {}).items():
            for c in cols:
                if c in hidden:
                    hidden[c] = hidden[c] | hidden[cnt]
        if count_secondary and counts:
            self.suppressed_cells += int(sum(hidden[c].sum() for c in counts))
        cells = {}
        for c in t.columns:
            v = t[c].astype(object).to_numpy()
            if hidden[c].any():
                v = v.copy()
                v[hidden[c]] = self.marker
            cells[c] = v
        data = pd.DataFrame(cells, index=t.index, columns=t.columns, dtype=object)
        numeric = tuple(
            c
            for c in t.columns
            if pd.api.types.is_numeric_dtype(t[c]) and not pd.api.types.is_bool_dtype(t[c])
        )
        shown = {}
        for c in t.columns:
            spec = (formats or {}).get(c, ",.0f" if c in counts else None)
            if c in numeric:
                spec = spec or (",.0f" if pd.api.types.is_integer_dtype(t[c]) else ",.2f")
                shown[c] = [v if isinstance(v, str) else fmt_number(v, spec) for v in cells[c]]
            else:  # text, or numbers mixed with the marker: formatted when a spec is given
                fmt = (formats or {}).get(c)
                shown[c] = [
                    ""
                    if v is None or (isinstance(v, float) and math.isnan(v))
                    else fmt_number(v, fmt)
                    if fmt and isinstance(v, int | float) and not isinstance(v, bool)
                    else str(v)
                    for v in cells[c]
                ]
        display = pd.DataFrame(shown, index=t.index, columns=t.columns)
        return PublishedTable(
            name=name,
            data=data,
            display=display,
            numeric=numeric,
            caption=caption,
            marker=self.marker,
        )

    # -- a pair of counts compared ---------------------------------------------------------
    def pair_hidden(self, current, previous) -> bool:
        """Year on year: if either count is small, both counts and every change are hidden
        (a change or ratio with one count published reveals the other)."""
        return self.small(current) or self.small(previous)

    # -- time series for charts ------------------------------------------------------------
    def series(
        self, monthly: pd.DataFrame, *, date_col: str = "month", value_col: str = "count"
    ) -> GatedSeries:
        """The finest of month / quarter / financial year at which no value is suppressed.

        A monthly series whose months include a count of 1..threshold-1 is summed to
        quarters, then to financial years; if even a year is small, nothing is drawn.
        Zero months are drawn (a zero discloses nothing).
        """
        m = monthly[[date_col, value_col]].rename(columns={date_col: "period", value_col: "value"})
        if m.empty:
            return GatedSeries(m.assign(label=""), "none", "no data")
        if not m["value"].map(self.small).any():
            return GatedSeries(m.assign(label=m["period"].dt.strftime("%b %Y")), "month")
        q = m.groupby(m["period"].dt.to_period("Q-MAR"))["value"].sum()
        if not q.map(self.small).any():
            f = pd.DataFrame(
                {
                    "period": q.index.start_time,
                    "value": q.to_numpy(),
                    "label": [f"{p.start_time:%b}-{p.end_time:%b %Y}" for p in q.index],
                }
            )
            return GatedSeries(
                f,
                "quarter",
                "some months had fewer than "
                f"{self.threshold} incidents, so the series is drawn by quarter",
            )
        y = m.groupby(fy_labels(m["period"]))["value"].sum()
        if not y.map(self.small).any():
            f = pd.DataFrame(
                {
                    "period": [pd.Timestamp(int(s[:4]), 4, 1) for s in y.index],
                    "value": y.to_numpy(),
                    "label": list(y.index),
                }
            )
            return GatedSeries(
                f,
                "year",
                "some quarters had fewer than "
                f"{self.threshold} incidents, so the series is drawn by year",
            )
        return GatedSeries(
            m.iloc[0:0].assign(label=""),
            "none",
            f"some years had fewer than {self.threshold} incidents, so no chart is drawn",
        )

    # -- linked publications ---------------------------------------------------------------
    def linked(self) -> LinkedCells:
        """A fresh linked-cell system at this gate's threshold."""
        return LinkedCells(self.threshold)

    def count_linked(self, mask: np.ndarray, cells: Sequence[int]) -> None:
        """Add the suppressed published cells of a linked system to the appendix tally."""
        self.suppressed_cells += int(np.asarray(mask)[list(cells)].sum())
