"""Time generating and preparing the synthetic demo dataset (target: under 10 s)."""

import tempfile
import time
from pathlib import Path

from kcpp_analysis.config.params import load_params
from kcpp_analysis.data.dataset import write_dataset
from kcpp_analysis.data.demo.generator import generate_demo


def main(repeats: int = 3) -> None:
    params = load_params()
    gen, write = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ds = generate_demo(params=params)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as d:
            write_dataset(ds, Path(d) / "demo", params=params)
        t2 = time.perf_counter()
        gen.append(t1 - t0)
        write.append(t2 - t1)
    print(f"demo dataset: {len(ds.incidents):,} incidents, {len(ds.survey):,} survey rows")
    print(
        f"generate: best {min(gen):.2f} s; validate + write parquet: best {min(write):.2f} s; "
        f"total best {min(g + w for g, w in zip(gen, write, strict=True)):.2f} s over {repeats} runs"
    )


if __name__ == "__main__":
    main()
