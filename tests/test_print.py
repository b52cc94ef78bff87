"""The report as a reader prints it: headless Chromium to an A4 PDF.

The overview's "plan on a page" must fit two A4 pages and no table may be cut off at the
right edge. Skipped with a reason when Chromium or pdftotext is absent (`.ci/run` installs
both through the system package manager where it can).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
]


def _pdf(html, tmp_path):
    if CHROMIUM is None or shutil.which("pdftotext") is None:
        pytest.skip("headless Chromium or pdftotext (poppler-utils) is not installed")
    out = tmp_path / (html.stem + ".pdf")
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'chr'}",
            f"--print-to-pdf={out}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pages = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    return [p for p in pages if p.strip()]


def test_plan_on_a_page_fits_two_a4_pages(report_set, params, tmp_path):
    pages = _pdf(report_set.out_dir / "overview.html", tmp_path)
    titles = [p.title for th in params.themes.values() for p in th.priorities]
    first = next(i for i, p in enumerate(pages) if "Plan on a page" in p and "Nearest" in p)
    # the plan lists the priorities by class then score; it ends where the next section starts
    flat = [re.sub(r"\s+", " ", p) for p in pages]  # a title may wrap over two lines
    after = next(i for i, p in enumerate(flat) if i > first and "Why each priority is" in p)
    last = after if "Plan on a page" not in flat[after] else after - 1
    plan = "\n".join(pages[first : last + 1])
    assert last - first + 1 <= 2, f"plan on a page spans {last - first + 1} pages"
    for t in titles:  # every priority is in the plan
        assert re.sub(r"\s+", " ", t.split()[0]) in plan


def test_no_table_is_cut_off_when_printed(report_set, tmp_path):
    """Every KPI row's last column (its RAG) is printed: a table wider than the page would
    lose it at the right edge."""
    pages = _pdf(report_set.out_dir / "violence.html", tmp_path)
    text = "\n".join(pages)
    assert text.count("RED") + text.count("AMBER") + text.count("GREEN") >= 6
    assert "Page 1 of" in text  # page numbers from CSS paged media
