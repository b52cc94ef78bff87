"""Choices made for speed that must not change results: a selection is computed once per
frame and callers cannot change each other's rows through it; Arrow allocates with malloc."""

import pandas as pd

from kcpp_analysis.config.models import Selection
from kcpp_analysis.data.selection import select_incidents


def _incidents(n=10):
    return pd.DataFrame(
        {
            "category": ["asb", "violence"] * (n // 2),
            "source": ["police"] * n,
            "severity": ["low"] * n,
        }
    )


def test_a_caller_changing_its_rows_does_not_change_the_next_callers(params):
    inc = _incidents()
    sel = Selection(categories=["asb"])
    a = select_incidents(inc, sel, params)
    a["extra"] = 1
    a.loc[a.index[0], "category"] = "changed"
    b = select_incidents(inc, sel, params)
    assert "extra" not in b.columns
    assert (b["category"] == "asb").all() and len(b) == 5


def test_the_same_selection_of_another_frame_is_computed_for_that_frame(params):
    sel = Selection(categories=["asb"])
    assert len(select_incidents(_incidents(10), sel, params)) == 5
    other = _incidents(4)
    assert len(select_incidents(other, sel, params)) == 2
    other2 = other[other["category"] == "violence"]
    assert len(select_incidents(other2, sel, params)) == 0


def test_the_toolkit_allocates_arrow_memory_with_malloc_unless_the_user_chose_a_pool():
    import os
    import subprocess
    import sys

    code = (
        "import pyarrow as pa, kcpp_analysis, os; "
        "print(pa.default_memory_pool().backend_name, os.environ['ARROW_DEFAULT_MEMORY_POOL'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["system", "system"], out.stderr  # pyarrow loaded first
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "ARROW_DEFAULT_MEMORY_POOL": "jemalloc"},
        capture_output=True,
        text=True,
    )
    assert out.stdout.split() == ["jemalloc", "jemalloc"], out.stderr
