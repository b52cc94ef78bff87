"""Every deprivation measure for every category and financial year of the demo dataset."""

import time

from _common import demo_dataset

from kcpp_analysis.analysis import deprivation as dep
from kcpp_analysis.core.periods import fy_range


def main() -> None:
    ds = demo_dataset()
    years = fy_range("2017/18", "2025/26")
    cats = sorted(ds.incidents["category"].unique())
    t0 = time.perf_counter()
    n = 0
    by_cat = {c: g for c, g in ds.incidents.groupby("category")}
    for c in cats:
        inc = by_cat[c]
        hist = dep.lsoa_counts_by_year(inc, ds.areas, years)
        for fy in years:
            t = dep.lsoa_rates(inc, ds.areas, period=fy)
            dep.rates_by_decile(t)
            dep.rates_by_decile(t, quantiles=5)
            dep.deprivation_correlation(t)
            dep.rate_ratio(t)
            dep.inequality_indices(t)
            dep.concentration(t)
            dep.hotspots(t, history=hist[hist.fy <= fy].tail(5 * len(ds.areas)))
            n += 1
    dt = time.perf_counter() - t0
    print(
        f"{len(cats)} categories x {len(years)} years = {n} sets of 8 measures in {dt:.2f} s "
        f"({1000 * dt / n:.0f} ms per category-year)"
    )


if __name__ == "__main__":
    main()
