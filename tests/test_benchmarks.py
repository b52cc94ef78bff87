"""The benchmarks stay runnable: each script imports what it uses from the package (a
renamed function fails here, not at ``make bench`` time). Their figures are measured by
running them, not by the tests."""

from __future__ import annotations

import runpy

import pytest

from kcpp_analysis.core.paths import PROJECT_ROOT

BENCH = PROJECT_ROOT / "benchmarks"


@pytest.mark.parametrize("path", sorted(BENCH.glob("bench_*.py")), ids=lambda p: p.stem)
def test_each_benchmark_loads_without_running(path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    mod = runpy.run_path(str(path), run_name="not_main")  # imports only; main() is not called
    assert callable(mod.get("main")), f"{path.name} has no main()"
