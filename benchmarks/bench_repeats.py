"""Repeat victimisation on 1,000,000 incidents over 300,000 victims."""

import time

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.repeats import repeat_victimisation, time_to_repeat


def make(n: int = 1_000_000, victims: int = 300_000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    v = rng.permutation(np.concatenate([np.arange(victims), rng.integers(0, victims, n - victims)]))
    days = rng.integers(0, 5 * 365, n)
    return pd.DataFrame(
        {
            "incident_id": np.char.add("I", np.arange(n).astype(str)),
            "victim_id": np.char.add("V", v.astype(str)),
            "date": pd.Timestamp("2021-04-01") + pd.to_timedelta(days, unit="D"),
            "place": rng.choice(
                ["Batley & Spen", "Dewsbury & Mirfield", "Huddersfield", "Rural"], n
            ),
        }
    )


def main() -> None:
    t0 = time.perf_counter()
    df = make()
    t1 = time.perf_counter()
    print(f"built {len(df):,} incidents over {df.victim_id.nunique():,} victims in {t1 - t0:.1f} s")
    for label, kw in [
        ("whole table", {}),
        ("one financial year", {"period": "2024/25"}),
        ("by place, one year", {"period": "2024/25", "by": "place"}),
    ]:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            r = repeat_victimisation(df, **kw)
            best = min(best, time.perf_counter() - t)
        print(
            f"repeat_victimisation ({label}): best of 3 {best:.2f} s; "
            f"incident repeat rate {r.incident_repeat_rate.iloc[-1]:.3f}"
        )
    t = time.perf_counter()
    time_to_repeat(df, period="2024/25")
    print(f"time_to_repeat (one year): {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
