"""The report layer: context, sections, narrative and rendering, in layers.

- :mod:`.context`: :class:`ReportContext` (parameters, dataset, year, output sink, caches);
- :mod:`.gate`: the one disclosure gate every published number passes;
- :mod:`.sections`: one module per section type, registered; ``compute`` returns a frozen
  :class:`~.results.SectionResult` that renders itself (``_repr_html_``);
- :mod:`.theme` / :mod:`.overview`: a theme assessed once, the overview reading the
  themes' saved results;
- :mod:`.render`: Jinja2 templates (autoescaping on); the page furniture (CSS, banner, print
  styles) is added once by the nbconvert template in ``report/nbconvert/kcpp``.

In a notebook::

    import kcpp_analysis.report as rep
    ctx = rep.open_report()
    theme = rep.assess_theme(ctx, "violence")
    theme.header()                      # displays itself
    r = rep.compute_section("trend", ctx, theme.priorities[0])
    r.data                              # the published tables behind it
"""

from __future__ import annotations

from kcpp_analysis.report.context import ReportContext, document_control, open_report
from kcpp_analysis.report.gate import DisclosureGate, PublishedTable
from kcpp_analysis.report.overview import OverviewReport, assess_overview
from kcpp_analysis.report.results import Block, Figure, SectionResult
from kcpp_analysis.report.sections import REGISTRY as SECTIONS
from kcpp_analysis.report.sections import compute as compute_section
from kcpp_analysis.report.theme import PriorityReport, ThemeReport, assess_theme

__all__ = [
    "SECTIONS",
    "Block",
    "DisclosureGate",
    "Figure",
    "OverviewReport",
    "PriorityReport",
    "PublishedTable",
    "ReportContext",
    "SectionResult",
    "ThemeReport",
    "assess_overview",
    "assess_theme",
    "compute_section",
    "document_control",
    "open_report",
]
