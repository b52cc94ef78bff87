"""Pages of a report set: nbconvert HTML (code hidden), the page furniture facts and the
index page."""

from __future__ import annotations

import re

from kcpp_analysis.config.params import Params
from kcpp_analysis.core.paths import PACKAGE_DIR, place_slug
from kcpp_analysis.data.dataset import Dataset
from kcpp_analysis.run.pipeline.plan import NotebookResult

NBCONVERT_TEMPLATES = PACKAGE_DIR / "report" / "nbconvert"


def strip_stderr(nb) -> str:
    """Remove stderr stream outputs (warnings) from an executed notebook; return their text.

    Warnings belong in ``run.log``, never on a published page.
    """
    text = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        keep = []
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                text.append(o.get("text", ""))
            else:
                keep.append(o)
        c["outputs"] = keep
    return "".join(text)


def export_html(nb, title: str) -> str:
    """HTML through the ``kcpp`` nbconvert template (extends ``lab``): code hidden, cells
    tagged ``remove-cell`` (and papermill's injected parameters) dropped."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    cfg = Config()
    cfg.TagRemovePreprocessor.enabled = True
    cfg.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "injected-parameters"}
    cfg.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    exporter = HTMLExporter(
        config=cfg,
        template_name="kcpp",
        extra_template_basedirs=[str(NBCONVERT_TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def page_meta(params: Params, ds: Dataset, year: str) -> dict:
    """The document-control facts the nbconvert template prints on every page."""
    from kcpp_analysis.report.context import document_control

    d = document_control(params, ds, year)
    d["synthetic"] = bool(d["synthetic"])
    d["marking_css"] = re.sub(r"[^A-Za-z0-9 \-]", "", d["marking"])[:60] or "OFFICIAL"
    d["index_href"] = "index.html"
    return d


def early_overview_documents(params: Params) -> list[str]:
    """The documents the overview notebook writes before its own page (from the themes'
    results alone): the board brief, the place packs and the public summary. ``kcpp
    report`` prints them while the overview page is still being computed."""
    return [
        "brief.html",
        *(f"place_{place_slug(p)}.html" for p in params.sia.places),
        "public/summary.html",
    ]


def set_documents(results: list[NotebookResult], params: Params, folder) -> list[dict]:
    """The documents of a set, in reading order, with their audience and marking: the board
    brief, the overview, each theme's pack, the public summary, then the analysts' annexes.
    ``print``: whether a PDF is made. Only documents present in ``folder`` are listed."""
    from pathlib import Path

    ok = {r.name for r in results if r.status == "succeeded"}
    mark, public = params.sia.protective_marking, params.sia.public_marking
    docs = []
    if "overview" in ok:
        docs.append(("brief.html", "Board brief", "the partnership board", mark, True))
        docs.append(
            ("overview.html", "Overview: plan on a page", "the board and theme leads", mark, True)
        )
    for r in results:
        if r.kind == "theme" and r.name in ok:
            docs.append((r.html, f"{r.title}: theme pack", "theme leads and the board", mark, True))
    if "overview" in ok:
        for place in params.sia.places:
            docs.append(
                (
                    f"place_{place_slug(place)}.html",
                    f"{place}: place pack",
                    "place partnerships",
                    mark,
                    True,
                )
            )
        docs.append(("public/summary.html", "Public summary", "the public", public, True))
    for r in results:
        if r.kind == "theme" and r.name in ok:
            docs.append(
                (
                    f"{r.name}_annex.html",
                    f"{r.title}: evidence annex",
                    "analysts and scrutiny",
                    mark,
                    False,
                )
            )
    if "overview" in ok:
        docs.append(("methods.html", "Methods annex", "analysts and scrutiny", mark, False))
    return [
        {
            "html": h,
            "title": t,
            "audience": a,
            "marking": m,
            "print": pr,
            "pdf": None,
            "pages": None,
        }
        for h, t, a, m, pr in docs
        if (Path(folder) / h).is_file()
    ]


def index_html(
    results: list[NotebookResult],
    year: str,
    ds: Dataset,
    manifest: dict,
    params: Params,
    documents: list[dict] | None = None,
) -> str:
    """The report set's index page (Jinja2 template, autoescaped): the documents with their
    audience, pages and marking; what analysts need; and, only when something failed, the
    build's problems."""
    from kcpp_analysis.report.context import synthetic_labels
    from kcpp_analysis.report.render import render

    css = (NBCONVERT_TEMPLATES / "kcpp" / "kcpp.css").read_text(encoding="utf-8")
    failed = [r for r in results if r.status != "succeeded"]
    return render(
        "index.html.j2",
        results=results,
        failed=failed,
        documents=documents or [],
        doc=page_meta(params, ds, year),
        created=manifest["created"],
        css=css,
        synthetic=synthetic_labels(ds),
    )
