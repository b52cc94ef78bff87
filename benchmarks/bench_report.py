"""Time the full demo report run against its floor.

Floor: papermill executing, once per report (4 themes + overview), a notebook that only
imports the same libraries (no analysis), through the same parallel executor (workers forked
from the fork server, :func:`kcpp_analysis.run.pipeline.schedule.worker_context`) and HTML
export. The ratio full / floor shows how much of the run is analysis and charts rather than
kernel start-up and imports. The full run also prints the PDFs and verifies and publishes
the set; its breakdown (notebooks, PDFs) is printed from the manifest for each run.

Analysis work: the four themes' assessments and every section (tables and charts), computed
one after another in one fresh process, its CPU time measured after the imports. This is
work the full run cannot avoid, so on ``n`` cores the set cannot take less than
``floor + work / n`` even with no other cost (no overview, no PDFs, no scheduling gaps):
the ratio that bound gives is printed beside the measured one.

Re-run: ``kcpp report`` again into the first run's folder with nothing changed (dataset,
parameters, code, packages): every page and PDF is reused, so it costs loading and checking
the dataset, the privacy scan and the verification, not the analysis.
"""

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

from kcpp_analysis.data.prepare.demo import prepare_demo
from kcpp_analysis.run.pipeline import run_report
from kcpp_analysis.run.pipeline.execute import execute_one
from kcpp_analysis.run.pipeline.schedule import worker_context


def floor(jobs: int, tmp: Path) -> float:
    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    p = nbformat.v4.new_code_cell('theme = ""\nyear = ""\ndata_dir = ""\noutput_dir = ""')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [
        p,
        nbformat.v4.new_code_cell(
            "import kcpp_analysis.report as rep\nimport pandas, statsmodels.api, matplotlib.pyplot, scipy.stats"
        ),
    ]
    tpl = tmp / "empty.ipynb"
    nbformat.write(nb, tpl)
    jobs_list = [
        {
            "name": n,
            "title": n,
            "template": str(tpl),
            "ipynb": str(tmp / f"{n}.ipynb"),
            "html": str(tmp / f"{n}.html"),
            "workdir": str(tmp / "work" / n),
            "parameters": {"year": "2025/26"},
        }
        for n in ["violence", "asb", "communities", "risk", "overview"]
    ]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=worker_context()) as pool:
        res = list(pool.map(execute_one, jobs_list))
    assert all(r["status"] == "succeeded" for r in res), res
    return time.perf_counter() - t0


WORK = """
import sys, tempfile, time
import kcpp_analysis.report as rep
import pandas, statsmodels.api, matplotlib.pyplot, scipy.stats
t0 = time.process_time()
ctx = rep.open_report(sys.argv[1], "", tempfile.mkdtemp())
for theme in ctx.params.themes:
    r = rep.assess_theme(ctx, theme)
    for p in r.priorities:
        r.priority(p)._repr_html_()
print(time.process_time() - t0)
"""


def analysis_work(data: Path, jobs: int) -> float:
    """CPU seconds of the four themes' analysis and charts, in one fresh process with the
    thread limits a kernel gets when ``jobs`` notebooks run at once."""
    from kcpp_analysis.run.pipeline.schedule import thread_limits

    env = {**os.environ, **thread_limits(jobs)}
    out = subprocess.run(
        [sys.executable, "-c", WORK, str(data)], env=env, check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(repeats: int = 2) -> None:
    jobs = os.cpu_count() or 1
    data = prepare_demo()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        fulls, floors = [], []
        for i in range(repeats):
            t0 = time.perf_counter()
            r = run_report(data=data, out=d / f"out{i}", jobs=jobs)
            fulls.append(time.perf_counter() - t0)
            assert r.ok, r.failures
            tm = r.manifest.get("timings_seconds", {})
            per = ", ".join(f"{n.name} {n.seconds:.1f}" for n in r.notebooks)
            print(
                f"run {i + 1}: {fulls[-1]:.1f} s; execute and export {tm.get('execute_and_export')}"
                f" s, PDFs {tm.get('pdf')} s; notebooks: {per}",
                flush=True,
            )
            floors.append(floor(jobs, Path(tempfile.mkdtemp(dir=d))))
        t0 = time.perf_counter()
        r = run_report(data=data, out=d / "out0", jobs=jobs)
        rerun = time.perf_counter() - t0
        assert r.ok and r.manifest["reused_from"], "the re-run did not reuse the set"
        works = [analysis_work(data, jobs) for _ in range(repeats)]
    full, fl, work = min(fulls), min(floors), min(works)
    print(f"{jobs} core(s), {repeats} runs each (best shown); python {sys.version.split()[0]}")
    print(
        f"full demo report set (4 themes + overview): {full:.1f} s (runs: {', '.join(f'{x:.1f}' for x in fulls)})"
    )
    print(
        f"floor (5 notebooks importing the same libraries): {fl:.1f} s (runs: {', '.join(f'{x:.1f}' for x in floors)})"
    )
    print(f"ratio full / floor: {full / fl:.2f}")
    bound = fl + work / jobs
    print(
        f"analysis work (4 themes' assessments, sections and charts, one process): {work:.1f} s"
        f" of CPU; so the set takes at least floor + work / {jobs} = {bound:.1f} s"
        f" (ratio {bound / fl:.2f}) before the overview, the PDFs and any idle core"
    )
    print(f"re-run, nothing changed (pages reused): {rerun:.1f} s; ratio to floor {rerun / fl:.2f}")


if __name__ == "__main__":
    main()
