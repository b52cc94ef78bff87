"""Coverage of the 95% interval of ``trends.forecast_total`` by simulation with known truth.

Each replicate simulates 60 months of a seasonal (+-15%) series, fits the first 48 with
``fit_trend`` and checks whether the next 12 months' observed total lies inside the
forecast interval. Scenarios: pure Poisson at 600 a month, gamma-Poisson (negative
binomial) with 5% extra month-to-month variation at 600 and 4,000 a month, and a small
series (20 a month, 20% extra variation). Nominal coverage 95%; the issue asks for
within 2 percentage points. Run: ``python benchmarks/bench_forecast_coverage.py [reps]``.
"""

import sys
import time
import warnings

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.trends import fit_trend, forecast_total

SCENARIOS = {
    "Poisson, 600 a month": (600, 0.0),
    "NB, 600 a month, cv 5%": (600, 0.05),
    "NB, 4,000 a month, cv 5%": (4000, 0.05),
    "NB, 20 a month, cv 20%": (20, 0.20),
}


def simulate(level: float, cv: float, rng: np.random.Generator, n: int = 60) -> np.ndarray:
    mu = level * (1 + 0.15 * np.sin(2 * np.pi * np.arange(n) / 12))
    if cv > 0:
        mu = mu * rng.gamma(1 / cv**2, cv**2, n)
    return rng.poisson(mu)


def main(reps: int = 400) -> None:
    months = pd.date_range("2019-04-01", periods=60, freq="MS")
    print(f"{reps} replicates per scenario; 48 months fitted, next 12 forecast")
    for i, (name, (level, cv)) in enumerate(SCENARIOS.items()):
        rng = np.random.default_rng(100 + i)
        hit, t0 = 0, time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(reps):
                y = simulate(level, cv, rng)
                fit = fit_trend(pd.DataFrame({"month": months[:48], "count": y[:48]}))
                fc = forecast_total(fit).iloc[0]
                hit += bool(fc.lower <= y[48:].sum() <= fc.upper)
        cov = hit / reps
        se = np.sqrt(cov * (1 - cov) / reps)
        print(
            f"{name}: coverage {100 * cov:.1f}% (MC s.e. {100 * se:.1f} pp), "
            f"{time.perf_counter() - t0:.1f} s"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
