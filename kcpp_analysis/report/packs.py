"""What a theme pack shows: the rule for each section type, in one place.

A theme pack is for the theme lead and the board: each priority opens with its finding and
the theme lead's "so what / what next", then only the sections that carry a finding, in
full; every other section that has something to say gets one line under "Also checked".
The **evidence annex** (one per theme) shows every section in full, as analysts and
scrutiny need it; the CSV files in ``tables/`` hold every published number either way.

Rules (a section's ``signals`` are set by the section itself when it computes):

- a section whose tables and charts show no number above zero (everything withheld or
  zero) never takes space: it is one line at most;
- otherwise, by type, :data:`RULES` says when it carries a finding and how it is trimmed;
- of the sections that carry a finding, at most :data:`MAX_FULL` are shown in full for a
  priority recommended for high focus or cross-cutting work, and
  :data:`MAX_FULL_MONITOR` for one to continue to monitor, taken in the order of
  :data:`RULES` (most telling first); the rest are one line each;
- a priority where no section carries a finding still shows its evidence: the first
  section in :data:`RULES` order that has a number above zero and a chart is shown in full,
  so the finding "no significant change" is seen, not only asserted.

Notes repeated in a pack (the same caveat under several priorities) are printed once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from kcpp_analysis.report.results import SectionResult

#: wards listed on the page in a pack (every ward is in the annex and the CSV)
PACK_WARDS = 10
#: sections shown in full per priority (high focus or cross-cutting; continue to monitor)
MAX_FULL = 4
MAX_FULL_MONITOR = 2


@dataclass(frozen=True)
class Rule:
    """When a section type is shown in full in a pack (``show``), as the reader is told
    (``when``), and how it is cut down (``trim``, optional)."""

    when: str
    show: Callable[[SectionResult], bool]
    trim: Callable[[SectionResult], SectionResult] | None = None
    #: may stand as a priority's evidence when no section carries a finding
    fallback: bool = True


def _sig(key: str) -> Callable[[SectionResult], bool]:
    return lambda r: bool(r.signals.get(key))


def _top_wards(r: SectionResult) -> SectionResult:
    tables = list(r.tables)
    for i, t in enumerate(tables):
        if t.name.endswith("_wards") and len(t.display) > PACK_WARDS:
            tables[i] = replace(
                t,
                display=t.display.head(PACK_WARDS),
                caption=f"The {PACK_WARDS} wards with the highest rates (every ward is in the "
                "evidence annex and the CSV)",
            )
    return replace(r, tables=tuple(tables))


def _first_figure(r: SectionResult) -> SectionResult:
    return replace(r, figures=r.figures[:1])


#: in order of importance: a pack shows the first sections that carry a finding
RULES: dict[str, Rule] = {
    "trend": Rule("when there are monthly data to chart", _sig("chart")),
    "violence_profile": Rule(
        "when its kinds are published (the serious violence profile)", _sig("published")
    ),
    "health": Rule(
        "when health data are supplied (police and health side by side)", _sig("published")
    ),
    "places": Rule(
        f"when any count is published (wards: the {PACK_WARDS} highest rates on the page)",
        _sig("published"),
        _top_wards,
    ),
    "map": Rule(
        "when a neighbourhood has enough incidents to shade (the neighbourhood map; the ward "
        "map is in the annex)",
        _sig("neighbourhood_map"),
        _first_figure,
    ),
    "funnel": Rule("when a ward is outside the 99.8% limits", _sig("outliers")),
    "spc": Rule("when the latest month or a run of the last six is a signal", _sig("signal")),
    "deprivation": Rule("when rates rise or fall with deprivation", _sig("gradient")),
    "risk_factors": Rule(
        "when an area-level factor is associated with the rates (family-wise 95%)",
        _sig("associated"),
    ),
    "concentration": Rule("when incidents are concentrated beyond chance", _sig("concentrated")),
    "repeats": Rule("when repeat counts are published", _sig("published")),
    "csp_trend": Rule("when the partnership is outside the comparators' limits", _sig("outside")),
    "people": Rule("when a victim or offender table shows counts", _sig("published")),
    "near_repeat": Rule("when a near-repeat pattern is found", _sig("near_repeat")),
    "time_profile": Rule("when the weekly pattern differs from the borough's", _sig("pattern")),
    "survey": Rule("when a survey measure changed significantly", _sig("changed")),
    "indicators": Rule("when partners returned values", _sig("values")),
    "year_on_year": Rule(
        "when the change is significant (the finding states the change either way)",
        _sig("significant"),
    ),
    "benchmark": Rule(
        "never in a pack: one line (all of it in the annex)", lambda r: False, fallback=False
    ),
    "location": Rule(
        "never in a pack: one line (all of it in the annex)", lambda r: False, fallback=False
    ),
}


def has_numbers(r: SectionResult) -> bool:
    """Whether any table or chart of a section shows a number above zero."""
    pubs = r.publications
    return any(t.has_values for t in pubs) if pubs else bool(r.figures)


def carries_finding(r: SectionResult) -> bool:
    """Whether a section carries a finding by its rule (module docstring)."""
    rule = RULES.get(r.kind)
    return rule is not None and has_numbers(r) and rule.show(r)


def choose(results: list[SectionResult], status: str) -> set[str]:
    """The anchors of the sections a pack shows in full for a priority of class
    ``status``: those that carry a finding, most telling first, up to the cap."""
    cap = MAX_FULL_MONITOR if status == "continue to monitor" else MAX_FULL
    rank = {k: i for i, k in enumerate(RULES)}
    found = sorted((r for r in results if carries_finding(r)), key=lambda r: rank[r.kind])
    if not found:
        found = sorted(
            (
                r
                for r in results
                if r.kind in rank and RULES[r.kind].fallback and r.figures and has_numbers(r)
            ),
            key=lambda r: rank[r.kind],
        )[:1]
    return {r.anchor for r in found[:cap]}


def pack_view(r: SectionResult, seen_notes: set[str]) -> SectionResult:
    """The section as a pack shows it: trimmed by its rule, notes already printed dropped."""
    rule = RULES.get(r.kind)
    out = rule.trim(r) if rule is not None and rule.trim is not None else r
    notes = tuple(n for n in out.notes if n not in seen_notes)
    seen_notes.update(out.notes)
    return replace(out, notes=notes)


def one_line(r: SectionResult) -> str | None:
    """A section not shown in full, as one line: its heading and first sentence."""
    if not r.sentences:
        return None
    return r.sentences[0]


def rules_table() -> list[tuple[str, str]]:
    """``(section title, when it carries a finding)`` for the pack's "about this pack", in
    order of importance."""
    from kcpp_analysis.report import sections as registry

    return [
        (registry.REGISTRY[k].TITLE, rule.when)
        for k, rule in RULES.items()
        if k in registry.REGISTRY
    ]
