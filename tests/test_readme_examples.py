"""The README's command examples run as written, from a folder that is not the project's:
each fenced block is taken from the README itself, so the README cannot drift from what
works."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from kcpp_analysis.core.paths import PROJECT_ROOT


def _block(after_heading: str) -> str:
    """The first ```bash block after a README heading."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(after_heading)
    m = re.search(r"```bash\n(.*?)```", text[start:], flags=re.S)
    assert m, f"no bash block after {after_heading!r}"
    return m.group(1)


def _workspace(tmp_path: Path) -> Path:
    """A folder laid out like a clone (the venv, notebooks and examples linked or copied),
    so the blocks run verbatim without writing into the repository."""
    work = tmp_path / "clone"
    (work / "data").mkdir(parents=True)
    (work / ".venv").symlink_to(Path(sys.prefix))
    (work / "notebooks").symlink_to(PROJECT_ROOT / "notebooks")
    shutil.copytree(PROJECT_ROOT / "data" / "examples", work / "data" / "examples")
    return work


def _run(block: str, work: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "KCPP_CACHE": str(tmp_path / "cache"),
        "KCPP_REAL_DATA": str(tmp_path / "absent"),
    }
    env.pop("KCPP_PSEUDONYM_KEY", None)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_shipped_examples_block_runs_verbatim(tmp_path):
    """As an analyst types it: relative paths, from a folder that is not the project's, with
    no ../shared; the synthetic partner files carry the banner, and priorities the examples
    do not cover read "NO DATA"."""
    work = _workspace(tmp_path)
    block = _block("### Try it first on the shipped examples")
    assert "kcpp prepare" in block and "kcpp report" in block
    r = _run(block, work, tmp_path)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    s = work / "outputs" / "examples" / "2025-26"
    assert (s / "index.html").exists() and (s / "overview.html").exists()
    t = pd.read_csv(s / "tables" / "overview_priorities.csv")
    assert (t["this_year"] == "NO DATA").any()  # the examples do not cover every priority
    assert t.set_index("priority").loc["Water safety", "this_year"] == "NO DATA"
    assert "SYNTHETIC DATA" in (s / "overview.html").read_text(encoding="utf-8")
    assert not (PROJECT_ROOT / "outputs" / "examples").exists()


def test_the_plain_papermill_block_runs_verbatim(tmp_path):
    work = _workspace(tmp_path)
    block = _block("### Plain papermill")
    r = _run(block, work, tmp_path)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert (work / "outputs" / "scratch" / "risk.ipynb").exists()
    assert (work / "outputs" / "scratch" / "tables" / "risk_kpis.csv").exists()
