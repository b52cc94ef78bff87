"""Helpers for the benchmarks: timing and a cached demo dataset."""

from __future__ import annotations

import time
from contextlib import contextmanager


@contextmanager
def timer(label: str, results: dict | None = None):
    t0 = time.perf_counter()
    yield
    dt = time.perf_counter() - t0
    if results is not None:
        results[label] = dt
    print(f"{label}: {dt:.2f} s", flush=True)


def demo_dataset():
    from kcpp_analysis.data.dataset import load_dataset
    from kcpp_analysis.data.prepare.demo import prepare_demo

    return load_dataset(prepare_demo())
