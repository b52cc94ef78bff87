"""Documents written straight from the library (no notebook export): the evidence annexes,
the board brief, the methods annex and the public summary. Each is one self-contained HTML
page with the same furniture as the notebook pages (style sheet, print rules, protective
marking, synthetic-data banner, document control, footer), written atomically and recorded
for ``kcpp report``'s ledger."""

from __future__ import annotations

import re
from pathlib import Path

from kcpp_analysis.core.ledger import record_written
from kcpp_analysis.core.paths import PACKAGE_DIR
from kcpp_analysis.report.context import ReportContext
from kcpp_analysis.report.render import render

CSS = PACKAGE_DIR / "report" / "nbconvert" / "kcpp" / "kcpp.css"


def css_text() -> str:
    return CSS.read_text(encoding="utf-8")


def write_document(
    ctx: ReportContext,
    path: Path,
    title: str,
    body: str,
    *,
    marking: str | None = None,
    index_href: str = "index.html",
) -> Path:
    """Wrap ``body`` (rendered HTML) in the page furniture and write it to ``path``."""
    doc = ctx.document_control()
    mark = marking or doc["marking"]
    html = render(
        "document.html.j2",
        title=title,
        body=body,
        css=css_text(),
        doc=doc,
        marking=mark,
        marking_css=re.sub(r"[^A-Za-z0-9 \-]", "", mark)[:60] or "OFFICIAL",
        synthetic=bool(ctx.synthetic),
        index_href=index_href,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    record_written(path)
    return path
