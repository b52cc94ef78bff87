"""Run every benchmark in turn (``make bench``). Each prints its own figures."""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # benchmarks import their shared _common helpers

for name in [
    "bench_prepare_demo",
    "bench_repeats",
    "bench_trends",
    "bench_forecast_coverage",
    "bench_deprivation",
    "bench_knox",
    "bench_policeuk_prepare",
    "bench_threads",
    "bench_report",
]:
    path = HERE / f"{name}.py"
    if path.exists():
        print(f"\n=== {name} ===", flush=True)
        runpy.run_path(str(path), run_name="__main__")
