"""Shared fixtures: the demo dataset (generated once per session) and the real-data folder."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kcpp_analysis.config.params import load_params
from kcpp_analysis.core.paths import PROJECT_ROOT, real_data_dir
from kcpp_analysis.run.pipeline.schedule import thread_limits


@pytest.hookimpl(trylast=True)  # after pytest's own tmp_path set-up
def pytest_configure(config):
    """Hypothesis keeps its example database and constants cache in this run's temporary
    folder, never in the repository (its default is ``.hypothesis/`` in the working folder,
    which a test running at the same moment would see appear in the tree). The native
    thread pools are sized for the number of xdist workers."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(config._tmp_path_factory.getbasetemp() / "hypothesis")
    # xdist workers run side by side, so each gets its share of the cores' native threads,
    # as the pipeline's kernels do; set in the controller, before it starts them
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        n = getattr(config.option, "numprocesses", None)
        os.environ.update(thread_limits(n if isinstance(n, int) and n > 0 else 1))


@pytest.fixture(scope="session")
def params():
    return load_params()


@pytest.fixture(scope="session")
def demo(params):
    from kcpp_analysis.data.demo.generator import generate_demo

    return generate_demo(params=params)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory, demo, params):
    from kcpp_analysis.data.dataset import write_dataset

    return write_dataset(demo, tmp_path_factory.mktemp("prepared") / "demo", params=params)


@pytest.fixture(scope="session")
def real_dir() -> Path:
    d = real_data_dir()
    if not d.exists():
        pytest.skip(f"real open data folder {d} is absent (it sits beside the repo in CI)")
    return d


@pytest.fixture()
def params_copy(tmp_path):
    """A writable copy of params/ for tests that break a file on purpose."""
    dst = tmp_path / "params"
    shutil.copytree(PROJECT_ROOT / "params", dst)
    return dst


BUILD_REPORT_SET = """
import pickle, sys, traceback
from pathlib import Path
shared = Path(sys.argv[1])
try:
    from kcpp_analysis.data.prepare.demo import prepare_demo
    from kcpp_analysis.run.pipeline import run_report
    data = prepare_demo(shared / "report-set-data")
    res = run_report(data=data, year="2025/26", out=shared / "report-set", jobs=2)
    (shared / "report-set.pickle.tmp").write_bytes(pickle.dumps(res))
    (shared / "report-set.pickle.tmp").rename(shared / "report-set.pickle")
except BaseException:
    (shared / "report-set.error").write_text(traceback.format_exc())
"""


def _shared_dir(config) -> Path:
    """The folder every worker of this test run shares (pytest's base temporary folder;
    its parent under pytest-xdist)."""
    base = config._tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _start_report_set(config) -> None:
    """Start building the shared demo report set at once, in its own process, while the
    tests that do not need it run (they come first). The first worker of the run to get
    here starts it; the others find it started."""
    shared = _shared_dir(config)
    try:
        fd = os.open(shared / "report-set.started", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    env = {k: v for k, v in os.environ.items() if k != "KCPP_CHROMIUM"}
    log = open(shared / "report-set.log", "w")  # the child process keeps it open
    subprocess.Popen(
        [sys.executable, "-c", BUILD_REPORT_SET, str(shared)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """When some test reads the shared report set, its build starts now, and those tests
    run last, so it is built by then."""
    items.sort(key=lambda item: "report_set" in getattr(item, "fixturenames", ()))
    if items and "report_set" in getattr(items[-1], "fixturenames", ()):
        _start_report_set(config)


@pytest.fixture(scope="session")
def report_set(request):
    """The full demo report set, built once per test run in a process of its own (started
    when the session starts, see :func:`pytest_sessionstart`) and shared by the end-to-end
    tests of every worker. Waits for it; fails with the build's traceback if it failed."""
    shared = _shared_dir(request.config)
    done, error = shared / "report-set.pickle", shared / "report-set.error"
    deadline = time.monotonic() + 900
    while not done.exists():
        if error.exists():
            pytest.fail(f"building the shared demo report set failed:\n{error.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail("the shared demo report set was not built within 15 minutes")
        time.sleep(0.2)
    return pickle.loads(done.read_bytes())


@pytest.fixture(autouse=True)
def _pdfs_only_for_the_report_set(request, monkeypatch):
    """Printing PDFs takes a few seconds a run; only the shared demo report set (whose PDFs
    the print and document tests read) prints them. Every other end-to-end run takes the
    path of a machine without Chromium (the HTML set is published, the log says which
    package to install), which ``test_a_run_without_chromium_publishes_the_html_set``
    checks."""
    if "report_set" not in request.fixturenames:
        monkeypatch.setenv("KCPP_CHROMIUM", str(request.config.rootpath / "no-chromium-here"))
