"""Shared fixtures: the demo dataset (generated once per session) and the real-data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kcpp_analysis.config.params import load_params
from kcpp_analysis.core.paths import PROJECT_ROOT, real_data_dir


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


@pytest.fixture(scope="session")
def report_set(demo_dir, tmp_path_factory):
    """The full demo report set, built once per session (end-to-end tests share it)."""
    from kcpp_analysis.run.pipeline import run_report

    return run_report(data=demo_dir, year="2025/26", out=tmp_path_factory.mktemp("outputs"), jobs=2)


@pytest.fixture(autouse=True)
def _pdfs_only_for_the_report_set(request, monkeypatch):
    """Printing PDFs takes a few seconds a run; only the shared demo report set (whose PDFs
    the print and document tests read) prints them. Every other end-to-end run takes the
    path of a machine without Chromium (the HTML set is published, the log says which
    package to install), which ``test_a_run_without_chromium_publishes_the_html_set``
    checks."""
    if "report_set" not in request.fixturenames:
        monkeypatch.setenv("KCPP_CHROMIUM", str(request.config.rootpath / "no-chromium-here"))


def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n`` (pytest-xdist, ``--dist loadgroup``), every test that reads the
    shared demo report set runs on one worker, so the set is built once."""
    for item in items:
        if "report_set" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("report_set"))
