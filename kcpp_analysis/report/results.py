"""Result objects: what a section computed, after the disclosure gate, ready to render.

A result holds published tables (:class:`~kcpp_analysis.report.gate.PublishedTable`),
figures and sentences, never raw counts; ``_repr_html_`` renders it through its Jinja2
template, so in JupyterLab a result displays itself and still hands the analyst
``result.data`` (the published tables as DataFrames).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

from kcpp_analysis.report.gate import PublishedTable


@dataclass(frozen=True)
class Figure:
    """A chart as it is published: PNG bytes (base64), alt text and the data drawn."""

    name: str
    png: str
    alt: str
    data: PublishedTable | None = None

    @classmethod
    def from_chart(cls, chart, data: PublishedTable | None = None) -> Figure:
        """Encode a :class:`kcpp_analysis.presentation.charts.Chart` and close its matplotlib figure.

        The figure is drawn by Agg at its own dpi, as ``savefig`` draws it, and written as
        an RGB PNG (zlib level 3) when every pixel is opaque, as the report's charts are:
        the same pixels as ``savefig``'s RGBA PNG at level 6, in fewer bytes and less
        time (``tests/test_charts.py`` compares them).
        """
        import matplotlib.pyplot as plt
        import numpy as np
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image

        canvas = FigureCanvasAgg(chart.figure)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        opaque = bool((rgba[..., 3] == 255).all())
        buf = io.BytesIO()
        Image.fromarray(rgba[..., :3] if opaque else rgba).save(buf, format="png", compress_level=3)
        plt.close(chart.figure)
        return cls(chart.name, base64.b64encode(buf.getvalue()).decode("ascii"), chart.alt, data)

    def _repr_html_(self) -> str:
        from kcpp_analysis.report.render import render

        return render("figure.html.j2", figure=self)


@dataclass(frozen=True)
class SectionResult:
    """One section of a priority (trend, year on year, places, ...), ready to render.

    Attributes
    ----------
    kind : str
        The section type (its registry name).
    priority_id, heading, anchor : str
        Whose section it is, its heading and its HTML id (for the table of contents).
    sentences : tuple of str
        Plain-English findings, formatted from published numbers only.
    tables : tuple of PublishedTable
        Tables shown on the page (and written as CSV).
    figures : tuple of Figure
        Charts; each figure's data is written as CSV too.
    notes : tuple of str
        Caveats and methods notes shown in small print.
    signals : dict
        What the section found, for the theme pack's rules
        (:data:`kcpp_analysis.report.packs.RULES`): e.g. ``{"outliers": 2}`` for the funnel.
    """

    kind: str
    priority_id: str
    heading: str
    anchor: str
    sentences: tuple[str, ...] = ()
    tables: tuple[PublishedTable, ...] = ()
    figures: tuple[Figure, ...] = ()
    notes: tuple[str, ...] = ()
    template: str = "sections/base.html.j2"
    extra: dict = field(default_factory=dict, compare=False)
    signals: dict = field(default_factory=dict, compare=False)

    @property
    def data(self) -> dict:
        """Published tables (and chart data) by name, as DataFrames."""
        out = {t.name: t.data for t in self.tables}
        out.update({f.data.name: f.data.data for f in self.figures if f.data is not None})
        return out

    @property
    def publications(self) -> list[PublishedTable]:
        return list(self.tables) + [f.data for f in self.figures if f.data is not None]

    def _repr_html_(self) -> str:
        from kcpp_analysis.report.render import render

        return render(self.template, r=self)


@dataclass(frozen=True)
class Block:
    """A rendered part of a report that is not a priority section (header, KPI table,
    priority heading, appendix, overview parts): a template and its values."""

    template: str
    values: dict
    tables: tuple[PublishedTable, ...] = ()
    figures: tuple[Figure, ...] = ()

    @property
    def data(self) -> dict:
        return {t.name: t.data for t in self.tables}

    @property
    def publications(self) -> list[PublishedTable]:
        return list(self.tables) + [f.data for f in self.figures if f.data is not None]

    def _repr_html_(self) -> str:
        from kcpp_analysis.report.render import render

        return render(self.template, **self.values, tables=self.tables, figures=self.figures)
