"""PDFs of the reader-facing documents, printed as readers print them: headless Chromium,
A4, the page furniture's own print styles (marking, page numbers).

One headless browser prints many documents (:class:`Browser`): it is started once with
``--remote-debugging-pipe`` and driven through the Chrome DevTools Protocol
(``Page.printToPDF``, https://chromedevtools.github.io/devtools-protocol/tot/Page/#method-printToPDF)
over two pipes, so a run's documents cost one browser start and one tab, not one each (a
:class:`Printer` holds the browser for the run); the pages are the same, pixel for pixel, as
``--print-to-pdf``'s. When that browser cannot start or dies, the remaining documents are
printed one browser each with ``--print-to-pdf`` (:func:`print_pdf`).

Chromium is found as ``$KCPP_CHROMIUM``, ``chromium``, ``chromium-browser`` or
``google-chrome`` on the path. Without it the HTML set is still published and the run log
says which package to install (Debian/Ubuntu: ``chromium``); the index shows no PDF links.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
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


def remove_profile(path: str, *, tries: int = 25, wait: float = 0.2) -> None:
    """Remove a Chromium profile folder this module created. Chromium's helper processes
    can still write into it for a moment after the browser itself has exited (or been
    killed), and removing a folder while a file appears in it fails with "directory not
    empty"; so removal is retried (``tries`` times, ``wait`` seconds apart), and whatever is
    still there after that is logged, never raised: a leftover temporary folder must not
    fail a report run."""
    for _ in range(tries):
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(wait)
    shutil.rmtree(path, ignore_errors=True)
    if os.path.exists(path):
        log.warning("could not remove Chromium's temporary profile folder %s", path)


def print_pdf(html: Path, pdf: Path, chromium: str, timeout: float = 180) -> int:
    """Print ``html`` to ``pdf`` (written atomically); returns the page count."""
    tmp = pdf.with_name(f".{pdf.name}.tmp")
    profile = tempfile.mkdtemp(prefix="kcpp-chromium-")
    try:
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
    finally:
        remove_profile(profile)
    if r.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"Chromium could not print {html.name} (exit {r.returncode})")
    tmp.replace(pdf)
    return page_count(pdf)


class BrowserError(RuntimeError):
    """The DevTools browser failed (would not start, died, answered with an error or
    timed out)."""


class Browser:
    """One headless Chromium driven over ``--remote-debugging-pipe``: the browser reads
    NUL-terminated JSON commands on its file descriptor 3 and writes replies and events
    on 4. A context manager; its profile folder (created here) is removed on exit."""

    def __init__(self, chromium: str, timeout: float = 180):
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="kcpp-chromium-")
        cmd_r, cmd_w = os.pipe()  # we write commands; the browser reads them on fd 3
        out_r, out_w = os.pipe()  # the browser writes on fd 4; we read

        def fds_3_and_4():  # in the child, before exec
            os.dup2(cmd_r, 3)
            os.dup2(out_w, 4)

        try:
            self._proc = subprocess.Popen(
                [
                    chromium,
                    *[f for f in FLAGS if f != "--no-pdf-header-footer"],
                    f"--user-data-dir={self._profile}",
                    "--remote-debugging-pipe",
                    "about:blank",
                ],
                pass_fds=(3, 4),
                preexec_fn=fds_3_and_4,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            for fd in (cmd_r, cmd_w, out_r, out_w):
                os.close(fd)
            remove_profile(self._profile)
            raise
        os.close(cmd_r)
        os.close(out_w)
        self._w, self._r = cmd_w, out_r
        self._buf = b""
        self._n = 0
        self._events: list[dict] = []
        self._session: str | None = None

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _recv(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed its pipe (exit {self._proc.poll()})")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._n += 1
        m = {"id": self._n, "method": method, "params": params or {}}
        if session:
            m["sessionId"] = session
        try:
            os.write(self._w, json.dumps(m).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"Chromium is not listening ({exc.strerror})") from None
        deadline = time.monotonic() + self.timeout
        while True:
            r = self._recv(deadline)
            if r.get("id") == self._n:
                if "error" in r:
                    raise BrowserError(f"{method}: {r['error'].get('message', r['error'])}")
                return r.get("result", {})
            self._events.append(r)

    def _wait_for(self, method: str, session: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for k, e in enumerate(self._events):
                if e.get("method") == method and e.get("sessionId") == session:
                    return self._events.pop(k)
            self._events.append(self._recv(deadline))

    def _tab(self) -> str:
        """The session of the one tab every document is printed in (created at first use)."""
        if self._session is None:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            s = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
            self._session = s["sessionId"]
            self.send("Page.enable", session=self._session)
        return self._session

    def print_pdf(self, html: Path, pdf: Path) -> int:
        """Print ``html`` to ``pdf`` (written atomically) as ``--print-to-pdf`` does: the
        page's own CSS page size, backgrounds, no header or footer. Returns the pages.

        Every document is printed in the same tab, each a new navigation (a new document:
        nothing of one page stays for the next; the pages print pixel for pixel as in a
        tab of their own); a tab per document would start a renderer each time (the README's
        PDF figures compare the two)."""
        session = self._tab()
        # events of an earlier page (its load, frames) must not answer for this one
        self._events = [e for e in self._events if e.get("sessionId") != session]
        nav = self.send("Page.navigate", {"url": Path(html).resolve().as_uri()}, session)
        if nav.get("errorText"):
            raise BrowserError(f"could not open {Path(html).name}: {nav['errorText']}")
        self._wait_for("Page.loadEventFired", session)
        r = self.send(
            "Page.printToPDF",
            {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False},
            session,
        )
        tmp = pdf.with_name(f".{pdf.name}.tmp")
        tmp.write_bytes(base64.b64decode(r["data"]))
        tmp.replace(pdf)
        return page_count(pdf)

    def close(self) -> None:
        """Ask the browser to close; kill it if it does not; remove its profile."""
        try:
            if self._proc.poll() is None:
                self.send("Browser.close")
                self._proc.wait(10)
        except (BrowserError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        finally:
            for fd in (self._w, self._r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            remove_profile(self._profile)


class Printer:
    """Prints the documents of one run with one browser (:class:`Browser`), started for
    the first document and kept until :meth:`close`, so the packs printed while the
    overview runs and the documents printed after it share one browser start. Safe to call
    from two threads (one prints at a time). A browser that fails is closed; the documents
    it did not print are printed one browser each with ``--print-to-pdf``
    (:func:`print_pdf`), up to ``jobs`` at a time, and the next call starts a new browser."""

    def __init__(self, jobs: int = 2):
        self.jobs = max(1, jobs)
        self._browser: Browser | None = None
        self._lock = threading.Lock()
        self._warned = False

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the browser, if one was started."""
        with self._lock:
            if self._browser is not None:
                self._browser.close()
                self._browser = None

    def print_documents(self, folder: Path, htmls: list[str]) -> dict[str, dict]:
        """Print each document (paths relative to ``folder``) beside its HTML. Returns
        ``{html: {"pdf": relative path, "pages": n}}`` for those printed; failures are
        logged and leave the HTML published."""
        chromium = find_chromium()
        if chromium is None:
            if not self._warned:
                log.warning(INSTALL_HINT)
                self._warned = True
            return {}
        present = [h for h in htmls if (folder / h).is_file()]
        if not present:
            return {}

        def fallback(rel: str) -> tuple[str, dict | None]:
            html = folder / rel
            try:
                pages = print_pdf(html, html.with_suffix(".pdf"), chromium)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
                log.warning("no PDF for %s: %s", rel, exc)
                return rel, None
            return rel, {"pdf": str(Path(rel).with_suffix(".pdf")), "pages": pages}

        out, left = [], list(present)
        with self._lock:
            try:
                if self._browser is None:
                    self._browser = Browser(chromium)
                while left:
                    rel = left[0]
                    html = folder / rel
                    pages = self._browser.print_pdf(html, html.with_suffix(".pdf"))
                    out.append(
                        (left.pop(0), {"pdf": str(Path(rel).with_suffix(".pdf")), "pages": pages})
                    )
            except (OSError, BrowserError, KeyError, ValueError) as exc:
                log.info("one-browser printing stopped (%s); printing the rest one by one", exc)
                if self._browser is not None:
                    self._browser.close()
                    self._browser = None
        with ThreadPoolExecutor(max_workers=self.jobs) as ex:
            out += list(ex.map(fallback, left))
        return {k: v for k, v in out if v is not None}


def print_documents(
    folder: Path, htmls: list[str], jobs: int = 2, printer: Printer | None = None
) -> dict[str, dict]:
    """Print each document (paths relative to ``folder``) beside its HTML, with
    ``printer``'s browser, or one started for this call (:class:`Printer`). Returns
    ``{html: {"pdf": relative path, "pages": n}}`` for those printed.

    One browser prints them all, one after another: a second browser in parallel was no
    faster on 2 cores (the browser already renders on several threads), so ``jobs`` is
    kept only for the fallback."""
    if printer is not None:
        return printer.print_documents(folder, htmls)
    with Printer(jobs) as p:
        return p.print_documents(folder, htmls)
