"""Fit trend models for every category x place and category x ward series of the demo data."""

import time
import warnings

from _common import demo_dataset

from kcpp_analysis.analysis.trends import fit_trend, monthly_counts
from kcpp_analysis.config.params import load_params


def main() -> None:
    ds = demo_dataset()
    params = load_params()
    intr = [(i.start, i.end) for i in params.sia.interruptions]
    inc = ds.incidents.merge(ds.areas[["lsoa_code", "ward_name", "place"]], on="lsoa_code")
    lo, hi = ds.coverage
    t0 = time.perf_counter()
    series = []
    for by in (["category"], ["category", "place"], ["category", "ward_name"]):
        mc = monthly_counts(inc, by=by, start=lo, end=hi)
        series += [g for _, g in mc.groupby(by)]
    t1 = time.perf_counter()
    fams = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in series:
            f = fit_trend(s, interruptions=intr)
            fams[f.family] = fams.get(f.family, 0) + 1
    t2 = time.perf_counter()
    print(f"{len(series)} series (category, category x place, category x ward), 108 months each")
    print(
        f"monthly_counts: {t1 - t0:.2f} s; fit_trend: {t2 - t1:.2f} s = "
        f"{len(series) / (t2 - t1):.1f} series per second; families {fams}"
    )


if __name__ == "__main__":
    main()
