"""Which Arrow memory pool the toolkit should use: one theme of the demo assessed and
rendered in a fresh process under each of pyarrow's pools (``ARROW_DEFAULT_MEMORY_POOL``),
with wall, user and system time. ``kcpp_analysis`` chooses ``system`` (malloc) unless the
variable is set.

Floor: the same process importing the toolkit and loading the dataset only.
"""

import os
import resource
import subprocess
import sys
import time

THEME = """
import kcpp_analysis.report as rep, tempfile
ctx = rep.open_report("", "", tempfile.mkdtemp())
r = rep.assess_theme(ctx, "violence")
for p in r.priorities:
    r.priority(p)._repr_html_()
"""
FLOOR = """
import kcpp_analysis.report as rep, tempfile
ctx = rep.open_report("", "", tempfile.mkdtemp())
"""


def timed(code: str, pool: str) -> tuple[float, float, float]:
    env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": pool}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main(repeats: int = 2) -> None:
    from kcpp_analysis.data.prepare.demo import prepare_demo

    prepare_demo()  # build the demo dataset once, outside the timings
    for pool in ("mimalloc", "jemalloc", "system"):
        floor = min(timed(FLOOR, pool)[0] for _ in range(repeats))
        runs = [timed(THEME, pool) for _ in range(repeats)]
        wall, user, sys_ = min(runs)
        print(
            f"{pool:9s} violence theme {wall:5.1f} s (user {user:4.1f} s, system {sys_:4.1f} s);"
            f" floor {floor:4.1f} s; ratio {wall / floor:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
