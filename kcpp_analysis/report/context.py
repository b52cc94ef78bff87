"""The report context: parameters, dataset, SIA year, output sink and shared computations.

Everything a section needs that more than one part of a report uses (a priority's selected
incidents, its monthly series and trend fit, LSOA rates for a year) is computed once here
and cached, so the headline, the sections and the rating all read the same numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kcpp_analysis.analysis.assessment import previous_ratings
from kcpp_analysis.analysis.benchmark import ComparatorGroups, comparator_groups
from kcpp_analysis.analysis.deprivation import lsoa_rates
from kcpp_analysis.analysis.evidence import insight_for_year, priority_series
from kcpp_analysis.analysis.trends import TrendFit, fit_trend, recent_trend, year_on_year
from kcpp_analysis.config.models import Priority
from kcpp_analysis.config.params import Params, load_params
from kcpp_analysis.core.errors import ConfigError, SourceError
from kcpp_analysis.core.ledger import record_written
from kcpp_analysis.core.periods import fy_bounds, months_span, previous_fy
from kcpp_analysis.data.dataset import Dataset, load_dataset
from kcpp_analysis.data.national import load_benchmark
from kcpp_analysis.data.selection import select_area_counts, select_incidents
from kcpp_analysis.report.gate import DisclosureGate, PublishedTable, csv_safe

log = logging.getLogger(__name__)


@dataclass
class ReportContext:
    """Everything a report notebook needs, and the caches that make it compute once.

    Attributes
    ----------
    params, dataset, year, output_dir
        Validated parameters, the prepared dataset, the SIA year and where tables go.
    gate : DisclosureGate
        The one disclosure gate for this report.
    """

    params: Params
    dataset: Dataset
    year: str
    output_dir: Path
    gate: DisclosureGate = field(default_factory=DisclosureGate)
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        d = self.params.sia.disclosure
        self.gate.threshold, self.gate.marker = d.threshold, d.marker

    # -- periods and settings --------------------------------------------------------------
    @property
    def previous(self) -> str:
        return previous_fy(self.year)

    @property
    def interruptions(self) -> list[tuple[str, str]]:
        return [(i.start, i.end) for i in self.params.sia.interruptions]

    def sections_for(self, pr: Priority) -> list[str]:
        """Section types for a priority: its own list, else ``sia.yaml: report.sections``."""
        return list(pr.sections if pr.sections is not None else self.params.sia.report.sections)

    def settings(self, kind: str, pr: Priority | None = None) -> Any:
        """Validated settings of a section type, the priority's overrides applied."""
        from kcpp_analysis.report.sections import validate_settings

        values = dict(self.params.sia.report.settings.get(kind, {}))
        if pr is not None:
            values.update(pr.section_settings.get(kind, {}))
        try:
            return validate_settings(kind, values)
        except ValueError as exc:
            raise ConfigError(f"settings of section {kind!r}: {exc}") from None

    # -- shared computations (cached) ------------------------------------------------------
    def _cached(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def incidents(self, pr: Priority) -> pd.DataFrame:
        """The incidents a priority covers (empty when it has no incident selection)."""
        return self._cached(
            ("incidents", pr.id),
            lambda: select_incidents(self.dataset.incidents, pr.selection, self.params, pr),
        )

    @property
    def source_coverage(self) -> dict[str, dict]:
        """First and last month with data per source (``dataset.json``, else computed)."""
        from kcpp_analysis.data.dataset import source_coverage

        return self._cached(
            "source_coverage",
            lambda: (
                self.dataset.meta.get("source_coverage") or source_coverage(self.dataset.incidents)
            ),
        )

    def coverage(self, pr: Priority) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The months every source of a priority's incidents covers (None: no incidents)."""
        srcs = sorted(set(self.incidents(pr)["source"].dropna().unique()))
        cov = [self.source_coverage[s] for s in srcs if s in self.source_coverage]
        if not cov:
            return None
        first = max(pd.Period(c["first_month"], "M") for c in cov).start_time
        last = min(pd.Period(c["last_month"], "M") for c in cov).start_time
        return first, last

    def series(self, pr: Priority) -> pd.DataFrame:
        """Monthly counts from ``trend_start`` to the end of the SIA year, cut to the months
        its sources actually cover (a source that ends in December is never padded with
        zero months to March)."""

        def build():
            s = priority_series(
                self.dataset, pr, self.params, self.year, incidents=self.incidents(pr)
            )
            win = self.coverage(pr)
            if win is not None:
                s = s[(s["month"] >= win[0]) & (s["month"] <= win[1])].reset_index(drop=True)
            return s

        return self._cached(("series", pr.id), build)

    def compared_months(self, pr: Priority) -> tuple[list, list]:
        """The months of the SIA year the data cover, and the same months a year earlier
        (like for like: what the year-on-year comparison and the places tables count)."""

        def build():
            s = self.series(pr)
            per = s["month"].dt.to_period("M")
            start, end = (
                pd.Period(fy_bounds(self.year)[0], "M"),
                pd.Period(fy_bounds(self.year)[1], "M"),
            )
            cur = sorted(p for p in per if start <= p <= end)
            prev = [p - 12 for p in cur if (p - 12) in set(per)]
            return cur, prev

        return self._cached(("months", pr.id), build)

    def area_counts(self, pr: Priority) -> pd.DataFrame | None:
        """The priority's rows of the dataset's aggregated counts by area (``area_counts``
        source), or None when it has none (or its selection needs record-level flags)."""

        return self._cached(
            ("area_counts", pr.id),
            lambda: select_area_counts(
                self.dataset.extras.get("area_counts"), pr.selection, self.params, pr
            ),
        )

    def counts_only(self, pr: Priority) -> bool:
        """True when the priority has aggregated counts by area but no incident records: the
        sections that work from counts by area use the counts' period."""
        return len(self.incidents(pr)) == 0 and self.area_counts(pr) is not None

    def period_label(self, pr: Priority) -> str:
        """The period a priority's area figures cover: the SIA year, or the aggregated
        counts' months (e.g. "the 12 months May 2025 to April 2026")."""
        if not self.counts_only(pr):
            return self.year
        c = self.area_counts(pr)
        return f"the {months_span(c['first_month'].iloc[0], c['last_month'].iloc[0])}"

    def _counts_table(self, pr: Priority, zero: bool = False) -> pd.DataFrame:
        c = self.area_counts(pr)
        per = c.groupby("lsoa_code")["count"].sum()
        rows = pd.DataFrame({"lsoa_code": per.index.repeat(0 if zero else per.to_numpy())})
        return lsoa_rates(rows, self.dataset.areas)

    def lsoa_compared(self, pr: Priority, which: str) -> pd.DataFrame:
        """LSOA counts and rates over :meth:`compared_months` (``current`` or ``previous``);
        for a priority with aggregated counts only, the counts' period and no previous."""
        if self.counts_only(pr):
            return self._cached(
                ("lsoa_compared", pr.id, which),
                lambda: self._counts_table(pr, zero=which == "previous"),
            )

        def build():
            months = self.compared_months(pr)[0 if which == "current" else 1]
            inc = self.incidents(pr)
            inc = inc[inc["date"].dt.to_period("M").isin(months)]
            return lsoa_rates(inc, self.dataset.areas)

        return self._cached(("lsoa_compared", pr.id, which), build)

    def fit(self, pr: Priority) -> TrendFit:
        """The seasonal trend model of the priority's monthly series."""
        return self._cached(
            ("fit", pr.id), lambda: fit_trend(self.series(pr), interruptions=self.interruptions)
        )

    def yoy(self, pr: Priority) -> pd.Series | None:
        """The year-on-year test of the priority, with the report's settings (one row of
        :func:`kcpp_analysis.analysis.trends.year_on_year`); the rating and the section
        read this same result. None when the series holds no incident."""

        def build():
            s = self.series(pr)
            if not len(s) or s["count"].sum() == 0:
                return None
            alpha = self.settings("year_on_year", pr).alpha
            return year_on_year(s, self.year, fit=self.fit(pr), alpha=alpha).iloc[0]

        return self._cached(("yoy", pr.id), build)

    def recent(self, pr: Priority) -> pd.Series | None:
        """The direction over the last ``trend.recent_months`` months (one row of
        :func:`kcpp_analysis.analysis.trends.recent_trend`), shared by rating and sections."""

        def build():
            s = self.series(pr)
            if not len(s) or s["count"].sum() == 0:
                return None
            months = self.settings("trend", pr).recent_months
            return recent_trend(s, self.fit(pr), months=months).iloc[0]

        return self._cached(("recent", pr.id), build)

    @property
    def insight(self) -> pd.DataFrame | None:
        """The SIA year's community insight rows (None: no insight supplied)."""
        return self._cached("insight", lambda: insight_for_year(self.dataset, self.year))

    @property
    def previous_set(self) -> Path:
        """Where last year's published report set would be (beside this one)."""
        return self.output_dir.parent / previous_fy(self.year).replace("/", "-")

    @property
    def previous_ratings(self) -> tuple[dict[str, dict], str]:
        """Last assessment's rating per priority and where it came from."""
        return self._cached(
            "previous_ratings", lambda: previous_ratings(self.params, self.previous_set)
        )

    def lsoa(self, pr: Priority, year: str) -> pd.DataFrame:
        """Counts and rates per LSOA for one financial year (for a priority with aggregated
        counts only: the counts' period, whatever the year)."""
        if self.counts_only(pr):
            return self._cached(("lsoa", pr.id, "counts"), lambda: self._counts_table(pr))
        return self._cached(
            ("lsoa", pr.id, year),
            lambda: lsoa_rates(self.incidents(pr), self.dataset.areas, period=year),
        )

    def benchmark_tables(self) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The shipped England tables (LA benchmark, rate by IMD decile), or None when absent."""

        def build():
            try:
                return load_benchmark()
            except SourceError as exc:
                log.warning("benchmark tables unavailable: %s", exc)
                return None

        return self._cached("benchmark_tables", build)

    def comparators(self) -> ComparatorGroups | None:
        """Every comparator group of the area (built once), or None without the tables."""

        def build():
            t = self.benchmark_tables()
            code = self.params.sia.lad_code
            if t is None or code not in set(t[0]["ltla24_code"]):
                return None
            return comparator_groups(t[0], code, self.params.benchmark)

        return self._cached("comparators", build)

    def record_test(self, kind: str, n: int = 1, rho: float | None = None) -> None:
        """Count ``n`` labels of a kind of :data:`kcpp_analysis.analysis.labels.LABELS` (a
        series' residual autocorrelation ``rho`` sets its false-alarm rate), for the
        appendix's count of every test behind a label."""
        from kcpp_analysis.analysis.labels import LABELS

        if kind not in LABELS:
            raise KeyError(f"record_test: {kind!r} has no false-alarm rate in analysis/labels.py")
        if n > 0:
            self._cache.setdefault("tests", {}).setdefault(kind, []).append((int(n), rho))

    @property
    def tests(self) -> dict[str, list[tuple[int, float | None]]]:
        return {k: list(v) for k, v in self._cache.get("tests", {}).items()}

    # -- output ----------------------------------------------------------------------------
    @property
    def tables_dir(self) -> Path:
        d = self.output_dir / "tables"
        d.mkdir(parents=True, exist_ok=True)
        return d

    @property
    def results_dir(self) -> Path:
        d = self.output_dir / "results"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def write_once(self, table: PublishedTable) -> None:
        """Write a published table unless a table of that name was written already (a table
        may belong to several results, or be published as CSV only)."""
        written = self._cache.setdefault("written", set())
        if table.name not in written:
            self.write(table)
            written.add(table.name)

    def write(self, table: PublishedTable) -> None:
        """Write a published table to ``tables/<name>.csv`` (formula-safe text cells)."""
        out = table.data.map(csv_safe)
        path = self.tables_dir / f"{table.name}.csv"
        tmp = path.with_suffix(".csv.tmp")
        out.to_csv(tmp, index=False)
        tmp.replace(path)
        record_written(path)
        self.gate.published.append(path.name)

    def document_control(self) -> dict[str, str]:
        """The facts every page states: year, build date, dataset, version, marking."""
        return document_control(self.params, self.dataset, self.year)

    @property
    def synthetic(self) -> list[str]:
        """The synthetic tables of the dataset, in the reader's words (the banner)."""
        return synthetic_labels(self.dataset)


#: a dataset table as the synthetic-data banner names it
TABLE_WORDS = {
    "incidents": "incidents",
    "survey": "residents' survey",
    "indicators": "partner indicators",
    "insight": "community insight",
    "hospital_admissions": "hospital admissions",
    "hospital_assaults": "hospital assault attendances",
    "area_counts": "published counts by area",
}


def synthetic_labels(dataset: Dataset) -> list[str]:
    """The dataset's synthetic tables in plain words (unknown names with spaces for "_")."""
    tables = dataset.meta.get("synthetic_tables") or []
    return [TABLE_WORDS.get(t, str(t).replace("_", " ")) for t in tables]


def document_control(params: Params, dataset: Dataset, year: str) -> dict[str, str]:
    """Document-control facts for a report page (also used by the pipeline's templates)."""
    from kcpp_analysis.core import __version__

    lo, hi = dataset.coverage
    return {
        "partnership": params.sia.partnership,
        "sia_year": year,
        "built": dt.datetime.now(dt.UTC).strftime("%d %B %Y %H:%M UTC"),
        "fingerprint": dataset.fingerprint[:16],
        "version": __version__,
        "marking": params.sia.protective_marking,
        "coverage": f"{lo:%d %B %Y} to {hi:%d %B %Y}",
        "synthetic": ", ".join(synthetic_labels(dataset)),
    }


def open_report(
    data_dir: str | Path = "",
    year: str = "",
    output_dir: str | Path = "",
    params_dir: str | Path | None = None,
) -> ReportContext:
    """Load parameters and the prepared dataset for a report notebook.

    Empty arguments take the defaults an analyst needs in JupyterLab: ``data_dir`` the demo
    dataset (prepared on first use in the cache, :func:`kcpp_analysis.core.paths.cache_dir`),
    ``year`` the SIA year of ``params/sia.yaml`` and ``output_dir``
    ``outputs/interactive/`` (never the published report folder).
    """
    from kcpp_analysis.core.paths import default_outputs_dir, default_prepared_dir
    from kcpp_analysis.report.sections import check_params

    params = load_params(params_dir)
    check_params(params)
    year = year or params.sia.sia_year
    if not str(data_dir):
        from kcpp_analysis.data.prepare.demo import prepare_demo

        data_dir = prepare_demo(default_prepared_dir(), params=params)
    ds = load_dataset(data_dir, params=params)
    out = Path(output_dir) if str(output_dir) else default_outputs_dir() / "interactive"
    out.mkdir(parents=True, exist_ok=True)
    return ReportContext(params=params, dataset=ds, year=year, output_dir=out)
