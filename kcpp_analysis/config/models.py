"""The parameters models: one pydantic model per file (or part of a file) under ``params/``.

Every model forbids unknown keys (a typo is an error naming the file and key, not a silently
ignored setting) and is frozen. Vocabularies shared across layers (incident sources, flags,
age bands, ...) are defined here once.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kcpp_analysis.core.periods import check_fy_label

#: canonical incident sources (``incidents.source``): one list, used by the category
#: catalogue, selections, the schema and the source readers' declarations
INCIDENT_SOURCES = (
    "police_crime",
    "police_asb",
    "council",
    "fire",
    "roads",
    "fixmystreet",
    "hospital_assaults",
    "hospital_admissions",
)
FLAGS = (
    "domestic_abuse",
    "hate_crime",
    "vawg",
    "knife_crime",
    "drug_related",
    "alcohol_related",
)
SEVERITIES = ("fatal", "serious", "slight")
#: victim/offender age bands: the Census 2021 bands of the reference extract, so rates per
#: 1,000 of the same band can be computed
AGE_BANDS = ("0-15", "16-24", "25-34", "35-49", "50-64", "65+")
SEXES = ("female", "male", "other")
#: location types of the partner extract layouts (docs/data_dictionary.md)
LOCATION_TYPES = (
    "dwelling",
    "street",
    "licensed premises",
    "retail",
    "education",
    "transport",
    "open space",
    "other",
)
HATE_STRANDS = ("race", "religion", "sexual_orientation", "disability", "transgender")


class Strict(BaseModel):
    """Base of every parameters model: unknown keys are errors; values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Interruption(Strict):
    label: str
    start: str = Field(pattern=r"^\d{4}-\d{2}$")
    end: str = Field(pattern=r"^\d{4}-\d{2}$")


class Disclosure(Strict):
    threshold: int = Field(5, ge=1, le=20)
    #: the public version's higher threshold (counts below it are never published there)
    public_threshold: int = Field(10, ge=1, le=100)
    marker: str = "[c]"

    @model_validator(mode="after")
    def _public_higher(self):
        if self.public_threshold < self.threshold:
            raise ValueError("public_threshold must not be below threshold")
        return self


class HotspotSettings(Strict):
    top: int = Field(10, ge=1)
    persistence_years: int = Field(5, ge=1)
    min_population: int = Field(500, ge=0)


DEFAULT_SECTIONS = (
    "trend",
    "year_on_year",
    "spc",
    "places",
    "deprivation",
    "concentration",
    "repeats",
    "survey",
    "indicators",
)


class ReportSettings(Strict):
    """Which report sections run (in order) and their settings (``sia.yaml: report``).

    A priority can override both with its own ``sections`` and ``section_settings``.
    """

    sections: list[str] = list(DEFAULT_SECTIONS)
    settings: dict[str, dict[str, int | float | str | bool | None]] = {}


class SiaSettings(Strict):
    partnership: str
    local_authority: str
    lad_code: str
    sia_year: str
    baseline_period: str
    trend_start: str
    places: list[str]
    interruptions: list[Interruption] = []
    disclosure: Disclosure = Disclosure()
    hotspots: HotspotSettings = HotspotSettings()
    protective_marking: str = Field("OFFICIAL", min_length=1, max_length=60)
    #: the marking of the public version (replaces ``protective_marking`` there)
    public_marking: str = Field("PUBLIC", min_length=1, max_length=60)
    report: ReportSettings = ReportSettings()
    #: who to ask for each kind of missing evidence (the intelligence gaps name them)
    data_owners: dict[str, str] = {}
    #: the priorities whose overlap the overview shows (approach paper: "make links and
    #: connections across priorities"), with the knife, drug and alcohol flags
    links: list[str] = ["serious_violence", "domestic_abuse", "vawg", "hate_crime"]
    #: persistent hotspots for at least this many priorities make a multi-priority
    #: neighbourhood
    multi_priority_hotspots: int = Field(3, ge=2)

    _fy = field_validator("sia_year", "baseline_period", "trend_start")(check_fy_label)


class Ward(Strict):
    ward_code: str = Field(pattern=r"^E05\d{6}$")
    ward_name: str
    place: str


class WardsFile(Strict):
    wards: list[Ward]


class Category(Strict):
    label: str
    source: Literal[INCIDENT_SOURCES]  # type: ignore[valid-type]
    priority: str | None
    raw: dict[
        Literal[
            "police_uk", "home_office", "asb_type", "council", "fire", "stats19", "fixmystreet"
        ],
        list[str],
    ] = {}


class CategoriesFile(Strict):
    categories: dict[str, Category]


class Selection(Strict):
    """Which incidents a priority or KPI counts. All given conditions must hold."""

    categories: list[str] | Literal["catalogue"] | None = None
    flag: Literal[FLAGS] | None = None  # type: ignore[valid-type]
    sources: list[Literal[INCIDENT_SOURCES]] | None = None  # type: ignore[valid-type]
    severity: list[Literal[SEVERITIES]] | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _not_empty(self):
        if self.categories is None and self.flag is None and self.sources is None:
            raise ValueError("a selection needs at least one of categories, flag or sources")
        return self


class Target(Strict):
    rule: Literal["below_baseline", "above_baseline", "at_most", "at_least", "reduce_by_per_year"]
    value: float | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _value_needed(self):
        if self.rule in ("at_most", "at_least", "reduce_by_per_year") and self.value is None:
            raise ValueError(f"target rule {self.rule!r} needs a 'value'")
        return self


#: KPI measure kinds and the keys each needs; each kind is evaluated by one entry of
#: :data:`kcpp_analysis.analysis.kpis.measures.MEASURES` (a test checks they agree)
MEASURE_FIELDS = {
    "count": ("select",),
    "repeat_incident_rate": ("select",),
    "repeat_victim_rate": ("select",),
    "survey_share": ("survey", "question"),
    "indicator": ("indicator_id",),
}


class Kpi(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    theme: str  # a theme id, or "partnership" for a partnership-wide KPI (no priority)
    priority: str | None = None
    measure: Literal[tuple(MEASURE_FIELDS)]  # type: ignore[valid-type]
    select: Selection | None = None
    survey: str | None = None
    question: str | None = None
    indicator_id: str | None = None
    unit: str
    baseline: float | None = None
    baseline_period: str = "2021/22"
    baseline_note: str | None = None
    direction: Literal["lower", "higher"]
    target: Target

    _fy = field_validator("baseline_period")(check_fy_label)

    @model_validator(mode="after")
    def _measure_fields(self):
        need = MEASURE_FIELDS[self.measure]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"measure {self.measure!r} needs {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _target_fits_direction(self):
        """A target rule must point the way the KPI improves (else a worse value meets it)."""
        lower_ok = {"below_baseline", "at_most", "reduce_by_per_year"}
        higher_ok = {"above_baseline", "at_least"}
        ok = lower_ok if self.direction == "lower" else higher_ok
        if self.target.rule not in ok:
            raise ValueError(
                f"KPI {self.id!r}: target rule {self.target.rule!r} does not fit direction "
                f"{self.direction!r} (lower is better: {sorted(lower_ok)}; higher is better: "
                f"{sorted(higher_ok)})"
            )
        for name, v in (("baseline", self.baseline), ("target.value", self.target.value)):
            if v is None:
                continue
            if not math.isfinite(v) or v < 0 or (self.unit == "%" and v > 100):
                raise ValueError(
                    f"KPI {self.id!r}: {name} {v!r} is not a plausible value for unit "
                    f"{self.unit!r} (finite, >= 0{', <= 100' if self.unit == '%' else ''})"
                )
        return self


class KpisFile(Strict):
    kpis: list[Kpi]


#: the partnership's recommendation classes (SIA approach paper, section 4.3)
STATUSES = ("high focus", "continue to monitor", "cross-cutting")


class Duty(Strict):
    """A statutory duty the partnership delivers for a priority, named so a reader can
    check it: the duty, its Act and the section."""

    name: str = Field(min_length=3)
    act: str = Field(min_length=3)
    section: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.name}: {self.act}, {self.section}"


class Proposal(Strict):
    """The status the partnership itself proposed (approach paper, sections 4.2-4.3)."""

    status: Literal[STATUSES]  # type: ignore[valid-type]
    reason: str = ""
    source: str = "SIA approach paper for the 2026/7-29 plan, sections 4.2-4.3"


class Override(Strict):
    """A documented board decision that replaces the recommended class (shown as an
    override beside the recommendation, never silently)."""

    status: Literal[STATUSES]  # type: ignore[valid-type]
    reason: str = Field(min_length=10)
    date: dt.date
    by: str = "Partnership board"


class SurveyRef(Strict):
    survey: str
    question: str
    higher_is_better: bool = True


class Priority(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    selection: Selection | None = None
    victims: bool = False
    repeat_by: str | None = None
    survey_questions: list[SurveyRef] = []
    indicators: list[str] = []
    improvement: Literal["decrease", "increase"] = "decrease"
    statutory_duty: Duty | None = None
    connected_partnership: str | None = None
    cross_cutting: bool = False
    proposed: Proposal | None = None
    context: str | None = None
    override: Override | None = None
    sections: list[str] | None = None
    section_settings: dict[str, dict[str, int | float | str | bool | None]] = {}


class Theme(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    short_title: str
    context: str = ""
    priorities: list[Priority]
