"""The write ledger: which files a notebook wrote into the report set.

Kept in ``core`` (it imports nothing heavy) so that a notebook, or a test's minimal notebook,
can record its files without importing the report layer.
"""

from __future__ import annotations

import os
from pathlib import Path


def record_written(path: Path) -> None:
    """Note a file this notebook wrote into the report set (for ``kcpp report``).

    ``kcpp report`` sets ``KCPP_WRITE_LEDGER`` for each notebook's kernel; the list tells it
    which files belong to which notebook, so a run of some themes replaces exactly their
    files. Outside ``kcpp report`` (JupyterLab) nothing is recorded.
    """
    ledger = os.environ.get("KCPP_WRITE_LEDGER")
    if ledger:
        with open(ledger, "a", encoding="utf-8") as f:
            f.write(f"{Path(path).resolve()}\n")
