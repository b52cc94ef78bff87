"""PDFs printed while notebooks still run.

When the last theme ends, only the overview is still running, on one core; the other is
free. :class:`EarlyPrints` uses it: first the theme packs, then the documents the overview
writes before its own page (:func:`~kcpp_analysis.run.pipeline.export.early_overview_documents`:
the board brief, the place packs, the public summary) as soon as the overview's write ledger
lists them (a file is listed once it is complete: documents are written to a temporary
file and renamed). Only the overview page and the methods annex are then left to print
after the notebooks. A document printed early whose notebook then failed, or whose HTML
changed after it was printed, loses its early PDF (:meth:`EarlyPrints.finish`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from kcpp_analysis.run.pipeline.partial import relative_to_set
from kcpp_analysis.run.pipeline.pdf import Printer, print_documents


class EarlyPrints:
    """Print ``packs`` and then, as the overview writes them, ``overview_docs`` (paths
    relative to ``stage``) on a thread of their own.

    ``overview_ledger`` is the overview notebook's write ledger; call :meth:`overview_ended`
    when the overview notebook has ended, and :meth:`finish` before the remaining documents
    are printed (with the same ``printer``, whose browser is then already running)."""

    def __init__(
        self,
        stage: Path,
        overview_ledger: Path,
        overview_docs: list[str],
        printer: Printer | None = None,
    ):
        self.stage = Path(stage)
        self.printer = printer
        self.ledger = Path(overview_ledger)
        self.overview_docs = list(overview_docs)
        self.printed: dict[str, dict] = {}
        self.seconds = 0.0
        self._sha: dict[str, str] = {}
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, packs: list[str]) -> None:
        self._thread = threading.Thread(target=self._run, args=(packs,), daemon=True)
        self._thread.start()

    def overview_ended(self) -> None:
        self._ended.set()

    def _written(self) -> set[str]:
        try:
            lines = self.ledger.read_text(encoding="utf-8").split()
        except OSError:
            return set()
        return set(relative_to_set(lines, self.stage))

    def _print(self, htmls: list[str]) -> None:
        if not htmls:
            return
        sha = {h: _sha256(self.stage / h) for h in htmls}
        t0 = time.perf_counter()
        self.printed.update(print_documents(self.stage, htmls, 1, printer=self.printer))
        self.seconds += time.perf_counter() - t0
        self._sha.update(sha)

    def _run(self, packs: list[str]) -> None:
        self._print(packs)
        todo = list(self.overview_docs)
        while todo:
            ended = self._ended.is_set()
            ready = self._written()
            if all(d in ready for d in todo) or ended:
                self._print([d for d in todo if d in ready])
                return
            time.sleep(0.1)

    def finish(self, overview_ok: bool) -> dict[str, dict]:
        """Wait for the printing thread; drop (and delete) the early PDF of an overview
        document when the overview failed, and of any document whose HTML changed after it
        was printed. Returns ``{html: {"pdf", "pages"}}`` of what stays printed."""
        self._ended.set()
        if self._thread is not None:
            self._thread.join()
        for html in list(self.printed):
            stale = (html in self.overview_docs and not overview_ok) or (
                _sha256(self.stage / html) != self._sha.get(html)
            )
            if stale:
                (self.stage / self.printed.pop(html)["pdf"]).unlink(missing_ok=True)
        return dict(self.printed)


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""
