"""Whether kernels running side by side should share the cores' native threads: two theme
assessments (violence and ASB, with every section rendered) run at once in two fresh
processes, first with each library's default thread pools (OpenBLAS starts a thread per
core), then with the limits the pipeline gives each kernel
(:func:`kcpp_analysis.run.pipeline.schedule.thread_limits`).

Floor: the same two assessments run one after the other with the cores to themselves
(default pools); the ratio is the pair's wall time over that floor's longer one, so 1.0 would
mean the two ran side by side at no cost at all.
"""

import os
import subprocess
import sys
import time

from kcpp_analysis.run.pipeline.schedule import THREAD_VARS, thread_limits

THEME = """
import sys, tempfile, kcpp_analysis.report as rep
ctx = rep.open_report("", "", tempfile.mkdtemp())
r = rep.assess_theme(ctx, sys.argv[1])
for p in r.priorities:
    r.priority(p)._repr_html_()
"""


def env(limited: bool) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    return {**base, **thread_limits(2, environ={})} if limited else base


def together(limited: bool) -> float:
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen([sys.executable, "-c", THEME, t], env=env(limited))
        for t in ("violence", "asb")
    ]
    assert all(p.wait() == 0 for p in procs)
    return time.perf_counter() - t0


def alone(theme: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", THEME, theme], env=env(False), check=True)
    return time.perf_counter() - t0


def main(repeats: int = 2) -> None:
    from kcpp_analysis.data.prepare.demo import prepare_demo

    prepare_demo()  # build the demo dataset once, outside the timings
    floor = min(max(alone("violence"), alone("asb")) for _ in range(repeats))
    print(
        f"{os.cpu_count()} core(s); floor (the longer theme alone, best of {repeats}): {floor:.1f} s"
    )
    for limited in (False, True):
        runs = [together(limited) for _ in range(repeats)]
        label = "limited to the cores' share" if limited else "library defaults"
        print(
            f"two at once, {label}: {min(runs):.1f} s (runs {', '.join(f'{r:.1f}' for r in runs)});"
            f" ratio {min(runs) / floor:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
