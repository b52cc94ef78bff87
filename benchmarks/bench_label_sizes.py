"""How often each label a reader sees is wrong: size and power by simulation with known truth.

Series: 108 months (April 2017 to March 2026) of counts with a seasonal pattern (+/-10%), a
level of ``--level`` a month (default 4,000), and log-normal extra variation with standard
deviation 5% that follows an AR(1) process with lag-1 correlation rho (0, 0.5, 0.8):
``y_t ~ Poisson(mu_t exp(e_t - s^2/2))``, ``e_t = rho e_{t-1} + sqrt(1 - rho^2) s z_t``.
The level is **stable** (no change) for the sizes; the power rows add +10% to the last
financial year (or a +10% a year trend). Each label is computed by the library exactly as a
report computes it:

- year on year "rose/fell significantly" (:func:`year_on_year`, 2025/26 against 2024/25);
- KPI since baseline (:func:`period_change`, 2025/26 against 2021/22);
- whole-period trend gives a direction (:func:`fit_trend`);
- 36-month trend gives a direction (:func:`recent_trend`);
- 95% forecast interval of the next 12 months' total covers it (fit on 96 months,
  :func:`forecast_total`);
- SPC latest month flagged (:func:`spc_xmr` on the seasonally adjusted last 36 months).

It also measures the lag-1 autocorrelation the seasonal model leaves in real and demo series:
the FixMyStreet reports for Kirklees (2012-2019, ``../shared/data/real``) and every demo
priority series. Usage: ``python benchmarks/bench_label_sizes.py [--reps N] [--level N]``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

MONTHS = pd.date_range("2017-04-01", periods=108, freq="MS")


def simulate(rng, rho: float, level: float, sd: float = 0.05, step: float = 1.0, trend=0.0):
    season = 1 + 0.10 * np.sin(2 * np.pi * (MONTHS.month.to_numpy() - 1) / 12)
    t = np.arange(len(MONTHS)) / 12
    mu = level * season * np.exp(np.log1p(trend) * t)
    mu[-12:] *= step
    e = np.empty(len(MONTHS))
    e[0] = rng.normal(0, sd)
    for i in range(1, len(e)):
        e[i] = rho * e[i - 1] + np.sqrt(1 - rho**2) * rng.normal(0, sd)
    y = rng.poisson(mu * np.exp(e - sd**2 / 2))
    return pd.DataFrame({"month": MONTHS, "count": y})


def labels(s: pd.DataFrame) -> dict:
    from kcpp_analysis.analysis.trends import (
        fit_trend,
        forecast_total,
        period_change,
        recent_trend,
        seasonally_adjust,
        spc_xmr,
        year_on_year,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_trend(s)
        yoy = year_on_year(s, "2025/26", fit=fit).iloc[0]
        since = period_change(s, "2025/26", "2021/22", fit=fit).iloc[0]
        rec = recent_trend(s, fit, months=36).iloc[0]
        past = fit_trend(s.iloc[:96])
        fc = forecast_total(past).iloc[0]
        actual = s["count"].iloc[96:].sum()
        recent = s.tail(36)
        spc = spc_xmr(seasonally_adjust(recent, fit.seasonal_index), rho=fit.rho)
    return {
        "yoy": yoy.label in ("rose significantly", "fell significantly"),
        "since": since.label in ("rose significantly", "fell significantly"),
        "whole": fit.direction in ("increasing", "decreasing"),
        "recent": rec.direction in ("increasing", "decreasing"),
        "forecast_covers": bool(fc.lower <= actual <= fc.upper),
        "spc": spc.latest_variation != "common cause",
        "rho": fit.rho,
    }


def _batch(args):
    seed, n, rho, level, step, trend = args
    rng = np.random.default_rng(seed)
    return [labels(simulate(rng, rho, level, step=step, trend=trend)) for _ in range(n)]


def run(rho: float, level: float, reps: int, step: float = 1.0, trend: float = 0.0, jobs: int = 2):
    per = int(np.ceil(reps / jobs))
    seeds = [
        (1000 * int(rho * 10) + 17 * i + int(step * 100), per, rho, level, step, trend)
        for i in range(jobs)
    ]
    with ProcessPoolExecutor(jobs) as ex:
        rows = [r for batch in ex.map(_batch, seeds) for r in batch]
    return pd.DataFrame(rows[:reps])


def measured_rho():
    """Residual lag-1 autocorrelation of the real FixMyStreet series and the demo's priority
    series, after the seasonal model."""
    from kcpp_analysis.analysis.trends import fit_trend
    from kcpp_analysis.core.paths import real_data_dir

    out = []
    f = real_data_dir() / "fixmystreet_reports_kirklees_lsoa_month_2007_2020.csv"
    if f.exists():
        t = pd.read_csv(f)
        mcol = next(c for c in t.columns if "month" in c.lower())
        ncol = next(c for c in t.columns if c.lower() in ("reports", "n_reports", "count", "n"))
        s = t.groupby(mcol)[ncol].sum().reset_index()
        s["month"] = pd.to_datetime(s[mcol])
        s = s[(s["month"] >= "2012-01-01") & (s["month"] <= "2019-12-01")]
        fit = fit_trend(s.rename(columns={ncol: "count"})[["month", "count"]])
        out.append(("FixMyStreet reports, Kirklees 2012-2019", fit.rho_raw, fit.rho))
    from _common import demo_dataset

    from kcpp_analysis.analysis.trends import monthly_counts
    from kcpp_analysis.config.params import load_params
    from kcpp_analysis.data.selection import select_incidents

    ds, params = demo_dataset(), load_params()
    lo, hi = ds.coverage
    intr = [(i.start, i.end) for i in params.sia.interruptions]
    for pr in params.priorities:
        if pr.selection is None:
            continue
        inc = select_incidents(ds.incidents, pr.selection, params, pr)
        if len(inc) < 500:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_trend(monthly_counts(inc, start=lo, end=hi), interruptions=intr)
        out.append((f"demo: {pr.title}", fit.rho_raw, fit.rho))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--level", type=float, default=4000)
    a = ap.parse_args()
    t0 = time.perf_counter()
    print(f"{a.reps} series per cell, {a.level:,.0f} a month, 5% extra variation, AR(1)")
    rows = {}
    for rho in (0.0, 0.5, 0.8):
        d = run(rho, a.level, a.reps)
        rows[rho] = d
        print(
            f"rho {rho}: estimated rho mean {d['rho'].mean():.2f}; false labels: "
            f"year on year {100 * d['yoy'].mean():.1f}%, since baseline "
            f"{100 * d['since'].mean():.1f}%, whole-period direction {100 * d['whole'].mean():.1f}%, "
            f"36-month direction {100 * d['recent'].mean():.1f}%, SPC latest flagged "
            f"{100 * d['spc'].mean():.1f}%; forecast 95% covers {100 * d['forecast_covers'].mean():.1f}%"
        )
    for rho in (0.0, 0.5):
        p = run(rho, a.level, a.reps, step=1.10)
        print(
            f"power, +10% in the last year, rho {rho}: year on year {100 * p['yoy'].mean():.1f}%, "
            f"since baseline {100 * p['since'].mean():.1f}%"
        )
        q = run(rho, a.level, a.reps, trend=0.10)
        print(
            f"power, +10% a year, rho {rho}: whole-period {100 * q['whole'].mean():.1f}%, "
            f"36-month {100 * q['recent'].mean():.1f}%"
        )
    print(
        "\nresidual lag-1 autocorrelation after the seasonal model (raw, and the estimate used: an 80% upper bound):"
    )
    for name, raw, corr in measured_rho():
        print(f"  {name}: {raw:.2f}, {corr:.2f}")
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
