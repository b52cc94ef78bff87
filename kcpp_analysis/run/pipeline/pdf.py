"""PDFs of the reader-facing documents, printed as readers print them: headless Chromium,
A4, the page furniture's own print styles (marking, page numbers).

Chromium is found as ``$KCPP_CHROMIUM``, ``chromium``, ``chromium-browser`` or
``google-chrome`` on the path. Without it the HTML set is still published and the run log
says which package to install (Debian/Ubuntu: ``chromium``); the index shows no PDF links.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger(__name__)

NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)
INSTALL_HINT = (
    "no headless Chromium found, so no PDFs were written (the HTML set is complete): install "
    "the 'chromium' package (Debian/Ubuntu: apt-get install chromium) or set KCPP_CHROMIUM to "
    "a Chromium or Chrome binary"
)


def find_chromium() -> str | None:
    """The Chromium binary to print with, or None."""
    env = os.environ.get("KCPP_CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    return next((p for n in NAMES if (p := shutil.which(n))), None)


def page_count(pdf: Path) -> int:
    """Pages of a Chromium PDF: the page tree's root ``/Count`` (the largest one).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.pdf"
    >>> _ = p.write_bytes(b"<< /Type /Pages /Count 3 >> << /Type /Pages /Count 12 >>")
    >>> page_count(p)
    12
    """
    counts = [int(x) for x in re.findall(rb"/Count (\d+)", Path(pdf).read_bytes())]
    return max(counts) if counts else 0


def print_pdf(html: Path, pdf: Path, chromium: str, timeout: float = 180) -> int:
    """Print ``html`` to ``pdf`` (written atomically); returns the page count."""
    tmp = pdf.with_name(f".{pdf.name}.tmp")
    with tempfile.TemporaryDirectory(prefix="kcpp-chromium-") as profile:
        r = subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={tmp}",
                Path(html).resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if r.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"Chromium could not print {html.name} (exit {r.returncode})")
    tmp.replace(pdf)
    return page_count(pdf)


def print_documents(folder: Path, htmls: list[str], jobs: int = 2) -> dict[str, dict]:
    """Print each document (paths relative to ``folder``) beside its HTML. Returns
    ``{html: {"pdf": relative path, "pages": n}}`` for those printed; failures are logged
    and leave the HTML published."""
    chromium = find_chromium()
    if chromium is None:
        log.warning(INSTALL_HINT)
        return {}

    def one(rel: str):
        html = folder / rel
        pdf = html.with_suffix(".pdf")
        try:
            return rel, {
                "pdf": str(Path(rel).with_suffix(".pdf")),
                "pages": print_pdf(html, pdf, chromium),
            }
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
            log.warning("no PDF for %s: %s", rel, exc)
            return rel, None

    present = [h for h in htmls if (folder / h).is_file()]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        done = dict(ex.map(one, present))
    return {k: v for k, v in done.items() if v is not None}
