"""Running the notebooks of one set in worker processes, in the order that finishes first.

The overview reads the themes' saved results, so it must not *assess* before every theme has
finished; but its kernel start, imports and dataset load (about 5 s) need nothing from the
themes. So the overview is started as soon as a worker is free and no theme is still
queued (typically while the last theme runs), with ``KCPP_THEMES_DONE`` naming a file this
scheduler writes when the last theme has finished, successfully or not;
:func:`kcpp_analysis.report.overview.assess_overview` waits for that file. Themes start
longest first (their time in the published set's manifest, when there is one, else
:func:`estimated_work`), so the two workers finish together.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from kcpp_analysis.core.outputset import die_with_parent
from kcpp_analysis.run.pipeline.execute import execute_one

log = logging.getLogger(__name__)

THEMES_DONE = "themes-done"

#: what a fork server imports once, so that each worker it forks starts ready
PRELOAD = ["kcpp_analysis.run.pipeline.execute", "papermill", "nbformat"]


def worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: forked from a fork server that has imported
    :data:`PRELOAD` once (about 1.5 s), instead of each worker starting Python and importing
    papermill itself; the server lives as long as this process, so later runs in the same
    process (the tests, a notebook) start their workers at once. A forked worker starts
    from the server's environment and folder, so each job carries the run's own
    (:func:`execute_all`). Falls back to "spawn" where there is no fork server (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # no effect once the server runs
    return ctx


def start_fork_server() -> None:
    """Start the fork server now, if it is not running: it imports :data:`PRELOAD` in its
    own process while this one goes on checking the parameters and the dataset, so the
    workers fork at once when the notebooks start (an abandoned run leaves it idle; it
    exits with this process)."""
    if worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


#: the native thread pools a kernel's numerical libraries start (OpenBLAS, OpenMP, MKL, numexpr)
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def thread_limits(
    workers: int, cpus: int | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The thread-pool sizes each kernel gets when ``workers`` notebooks run at once: the
    machine's cores shared between them (at least 1), for every variable in
    :data:`THREAD_VARS` the user has not set (in ``environ``, default
    ``os.environ``). Without a limit, each kernel's OpenBLAS starts
    a thread per core, and its threads spin-wait on the cores the other kernels need
    (``benchmarks/bench_threads.py`` measures it).

    >>> thread_limits(2, cpus=2, environ={})["OPENBLAS_NUM_THREADS"]
    '1'
    >>> thread_limits(1, cpus=4, environ={})["OMP_NUM_THREADS"]
    '4'
    >>> "OMP_NUM_THREADS" in thread_limits(2, cpus=2, environ={"OMP_NUM_THREADS": "2"})
    False
    """
    environ = os.environ if environ is None else environ
    n = max(1, (cpus or os.cpu_count() or 1) // max(1, workers))
    return {v: str(n) for v in THREAD_VARS if v not in environ}


def longest_first(jobs_list: list[dict], seconds: dict[str, float]) -> list[dict]:
    """Theme jobs by their last known time, longest first (unknown ones keep their order,
    after the known ones); the overview last.

    >>> js = [{"name": n} for n in ("asb", "risk", "violence", "overview")]
    >>> [j["name"] for j in longest_first(js, {"risk": 9.0, "violence": 14.0})]
    ['violence', 'risk', 'asb', 'overview']
    """
    themes = [j for j in jobs_list if j["name"] != "overview"]
    rank = sorted(range(len(themes)), key=lambda i: (-seconds.get(themes[i]["name"], -1), i))
    return [themes[i] for i in rank] + [j for j in jobs_list if j["name"] == "overview"]


def estimated_work(params) -> dict[str, float]:
    """Each theme's work when no earlier run has timed it: the section computations its
    priorities with incident data make (a priority without them computes almost nothing).
    Only the order of these numbers is used (:func:`longest_first`)."""
    default = params.sia.report.sections
    return {
        th.id: float(
            sum(len(pr.sections or default) for pr in th.priorities if pr.selection is not None)
        )
        for th in params.themes.values()
    }


def execute_all(
    jobs_list: list[dict],
    workers: int,
    work_dir: Path,
    on_result: Callable[[dict, dict | BaseException], None],
    on_themes_done: Callable[[], None] | None = None,
    on_tick: Callable[[], None] | None = None,
) -> None:
    """Run every job (:func:`execute_one`) on ``workers`` processes.

    ``on_result(job, result_or_exception)`` is called as each notebook ends (an exception
    when its worker died); ``on_themes_done()`` once, when the last theme has ended (the
    overview may still be running); ``on_tick()`` about twice a second (progress).
    """
    done_flag = Path(work_dir) / THEMES_DONE
    overview = [j for j in jobs_list if j["name"] == "overview"]
    themes = [j for j in jobs_list if j["name"] != "overview"]
    for j in overview:
        j.setdefault("env", {})["KCPP_THEMES_DONE"] = str(done_flag)
    workers = max(1, min(workers, len(jobs_list)))
    for j in jobs_list:  # a forked worker has the fork server's environment and folder
        j["environ"], j["cwd"] = dict(os.environ), os.getcwd()
        j.setdefault("env", {}).update(thread_limits(workers))
    if not jobs_list:
        return

    def themes_done() -> None:
        done_flag.parent.mkdir(parents=True, exist_ok=True)
        done_flag.write_text("done\n", encoding="utf-8")
        if on_themes_done is not None:
            on_themes_done()

    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=worker_context(),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        futures = {pool.submit(execute_one, j): j for j in themes}
        open_themes = set(futures)
        if not open_themes:
            themes_done()
        pending = set(futures)
        while pending or overview:
            # a worker is free and no theme waits for one: start the overview now
            if overview and len(open_themes) < workers:
                f = pool.submit(execute_one, overview[0])
                futures[f] = overview.pop()
                pending.add(f)
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for f in done:
                try:
                    res = f.result()
                except Exception as exc:  # the worker process died
                    res = exc
                on_result(futures[f], res)
                if f in open_themes:
                    open_themes.discard(f)
                    if not open_themes:
                        themes_done()
            if on_tick is not None:
                on_tick()
