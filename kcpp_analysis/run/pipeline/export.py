"""Pages of a report set: nbconvert HTML (code hidden), the page furniture facts and the
index page."""

from __future__ import annotations

import re

from kcpp_analysis.config.params import Params
from kcpp_analysis.core.paths import PACKAGE_DIR
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


def index_html(
    results: list[NotebookResult], year: str, ds: Dataset, manifest: dict, params: Params
) -> str:
    """The report set's index page (Jinja2 template, autoescaped)."""
    from kcpp_analysis.report.render import render

    css = (NBCONVERT_TEMPLATES / "kcpp" / "kcpp.css").read_text(encoding="utf-8")
    return render(
        "index.html.j2",
        results=results,
        doc=page_meta(params, ds, year),
        created=manifest["created"],
        css=css,
        synthetic=ds.meta.get("synthetic_tables") or [],
    )
