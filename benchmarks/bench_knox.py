"""Knox near-repeat test at scale: 20,000 burglaries with 99 permutations (target < 30 s).

Events are uniform over a 20 x 20 km square (about Kirklees' 409 km2) across two years, with
10 distance bands of 100 m and 6 time bands of 14 days (the Near Repeat Calculator's usual
set-up). The floor is the same call with one permutation (the KD-tree pair search, the
observed table and one permuted table), so the ratio shows what the other 98 cost.
"""

import time

import numpy as np
import pandas as pd

from kcpp_analysis.analysis.nearrepeat import knox


def main(n: int = 20_000, permutations: int = 99) -> None:
    rng = np.random.default_rng(0)
    ev = pd.DataFrame(
        {
            "x": rng.uniform(0, 20_000, n),
            "y": rng.uniform(0, 20_000, n),
            "date": pd.Timestamp("2024-04-01") + pd.to_timedelta(rng.integers(0, 730, n), "D"),
        }
    )
    bands = dict(distance_bands=list(range(100, 1001, 100)), time_bands=list(range(14, 85, 14)))
    t0 = time.perf_counter()
    knox(ev, permutations=1, seed=1, **bands)
    floor = time.perf_counter() - t0
    t0 = time.perf_counter()
    t = knox(ev, permutations=permutations, seed=1, **bands)
    full = time.perf_counter() - t0
    print(
        f"{n:,} events, {permutations} permutations, {len(t)} cells, "
        f"{int(t.observed.sum()):,} pairs counted"
    )
    print(
        f"knox: {full:.2f} s; floor (pair search + 1 permutation): {floor:.2f} s; "
        f"ratio {full / floor:.1f}"
    )


if __name__ == "__main__":
    main()
