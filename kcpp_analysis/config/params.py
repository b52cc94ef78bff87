"""Parameters: the YAML files under ``params/``, validated by pydantic before anything runs.

Every model forbids unknown keys, so a typo in a YAML file is an error naming the file and
the key, not a silently ignored setting. Cross-file checks (a KPI naming a category that the
catalogue lacks, a theme priority with no KPI theme, ...) run in :func:`load_params`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kcpp_analysis.core.errors import ConfigError
from kcpp_analysis.core.paths import params_dir
from kcpp_analysis.core.periods import check_fy_label

SOURCES = ("police_crime", "police_asb", "council", "fire", "roads", "fixmystreet")
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Interruption(_Strict):
    label: str
    start: str = Field(pattern=r"^\d{4}-\d{2}$")
    end: str = Field(pattern=r"^\d{4}-\d{2}$")


class Disclosure(_Strict):
    threshold: int = Field(5, ge=1, le=20)
    marker: str = "[c]"


class HotspotSettings(_Strict):
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


class ReportSettings(_Strict):
    """Which report sections run (in order) and their settings (``sia.yaml: report``).

    A priority can override both with its own ``sections`` and ``section_settings``.
    """

    sections: list[str] = list(DEFAULT_SECTIONS)
    settings: dict[str, dict[str, int | float | str | bool | None]] = {}


class SiaSettings(_Strict):
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
    report: ReportSettings = ReportSettings()

    _fy = field_validator("sia_year", "baseline_period", "trend_start")(check_fy_label)


class Ward(_Strict):
    ward_code: str = Field(pattern=r"^E05\d{6}$")
    ward_name: str
    place: str


class WardsFile(_Strict):
    wards: list[Ward]


class Category(_Strict):
    label: str
    source: Literal["police_crime", "police_asb", "council", "fire", "roads"]
    priority: str | None
    raw: dict[
        Literal[
            "police_uk", "home_office", "asb_type", "council", "fire", "stats19", "fixmystreet"
        ],
        list[str],
    ] = {}


class CategoriesFile(_Strict):
    categories: dict[str, Category]


class Selection(_Strict):
    """Which incidents a priority or KPI counts. All given conditions must hold."""

    categories: list[str] | Literal["catalogue"] | None = None
    flag: Literal[FLAGS] | None = None  # type: ignore[valid-type]
    sources: list[Literal[SOURCES]] | None = None  # type: ignore[valid-type]
    severity: list[Literal[SEVERITIES]] | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _not_empty(self):
        if self.categories is None and self.flag is None and self.sources is None:
            raise ValueError("a selection needs at least one of categories, flag or sources")
        return self


class Target(_Strict):
    rule: Literal["below_baseline", "above_baseline", "at_most", "at_least", "reduce_by_per_year"]
    value: float | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _value_needed(self):
        if self.rule in ("at_most", "at_least", "reduce_by_per_year") and self.value is None:
            raise ValueError(f"target rule {self.rule!r} needs a 'value'")
        return self


class Kpi(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    theme: str  # a theme id, or "partnership" for a partnership-wide KPI (no priority)
    priority: str | None = None
    measure: Literal[
        "count", "repeat_incident_rate", "repeat_victim_rate", "survey_share", "indicator"
    ]
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
        need = {
            "count": ("select",),
            "repeat_incident_rate": ("select",),
            "repeat_victim_rate": ("select",),
            "survey_share": ("survey", "question"),
            "indicator": ("indicator_id",),
        }[self.measure]
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


class KpisFile(_Strict):
    kpis: list[Kpi]


class Override(_Strict):
    rag: Literal["red", "amber", "green"]
    recommendation: Literal["high focus", "maintain and monitor"]
    reason: str = Field(min_length=10)


class SurveyRef(_Strict):
    survey: str
    question: str
    higher_is_better: bool = True


class Priority(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    selection: Selection | None = None
    victims: bool = False
    repeat_by: str | None = None
    survey_questions: list[SurveyRef] = []
    indicators: list[str] = []
    improvement: Literal["decrease", "increase"] = "decrease"
    statutory_duty: str | None = None
    connected_partnership: str | None = None
    context: str | None = None
    override: Override | None = None
    sections: list[str] | None = None
    section_settings: dict[str, dict[str, int | float | str | bool | None]] = {}


class Theme(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    short_title: str
    context: str = ""
    priorities: list[Priority]


@dataclass(frozen=True)
class Params:
    """All validated parameters, plus a content hash of every file read."""

    sia: SiaSettings
    wards: list[Ward]
    categories: dict[str, Category]
    kpis: list[Kpi]
    themes: dict[str, Theme]
    root: Path
    hashes: dict[str, str] = field(default_factory=dict)
    scoring: object = (
        None  # kcpp_analysis.analysis.prioritisation.Scoring (params/prioritisation.yaml)
    )

    def theme(self, theme_id: str) -> Theme:
        try:
            return self.themes[theme_id]
        except KeyError:
            raise ConfigError(
                f"unknown theme {theme_id!r}; known themes: {', '.join(self.themes)}"
            ) from None

    def priority_categories(self, priority: Priority) -> list[str] | None:
        """Resolve a priority's ``categories: catalogue`` to concrete category codes."""
        sel = priority.selection
        if sel is None or sel.categories is None:
            return None
        if sel.categories == "catalogue":
            return [c for c, v in self.categories.items() if v.priority == priority.id]
        return list(sel.categories)

    def theme_of(self, priority_id: str) -> str:
        """The id of the theme a priority belongs to."""
        for th in self.themes.values():
            if any(pr.id == priority_id for pr in th.priorities):
                return th.id
        raise ConfigError(f"unknown priority {priority_id!r}")

    def priority(self, priority_id: str) -> Priority:
        """A priority by id, from whichever theme holds it."""
        return next(
            pr for pr in self.themes[self.theme_of(priority_id)].priorities if pr.id == priority_id
        )

    def kpis_for_theme(self, theme_id: str) -> list[Kpi]:
        return [k for k in self.kpis if k.theme == theme_id]

    def ward_place(self) -> dict[str, str]:
        return {w.ward_code: w.place for w in self.wards}


def _format_pydantic(err: ValidationError, path: Path) -> str:
    lines = []
    for e in err.errors()[:10]:
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not allowed)"
        lines.append(f"  {path.name}: key '{loc}': {msg}")
    return f"invalid parameters file {path}:\n" + "\n".join(lines)


MAX_YAML_BYTES = 2_000_000


class _NoAliasLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases: parameters and sources files have no
    use for them, and nested aliases can expand a few lines into gigabytes ("billion
    laughs")."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            ev = self.peek_event()
            raise yaml.YAMLError(
                f"line {ev.start_mark.line + 1}: YAML aliases (*name) are not allowed in "
                "parameters or sources files"
            )
        ev = self.peek_event()
        if getattr(ev, "anchor", None):
            raise yaml.YAMLError(
                f"line {ev.start_mark.line + 1}: YAML anchors (&name) are not allowed in "
                "parameters or sources files"
            )
        return super().compose_node(parent, index)


def safe_yaml(raw: bytes | str, path: Path | str = ""):
    """Parse a parameters or sources file: safe types only, no anchors or aliases, at most
    :data:`MAX_YAML_BYTES`. Raises ``yaml.YAMLError`` (callers turn it into a
    :class:`ConfigError` naming the file)."""
    if len(raw) > MAX_YAML_BYTES:
        raise yaml.YAMLError(f"file is larger than {MAX_YAML_BYTES:,} bytes")
    return yaml.load(raw, Loader=_NoAliasLoader)


def _read_yaml(path: Path) -> tuple[dict, str]:
    if not path.exists():
        raise ConfigError(f"parameters file not found: {path}")
    raw = path.read_bytes()
    try:
        data = safe_yaml(raw, path)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data, hashlib.sha256(raw).hexdigest()


def _parse(model: type[BaseModel], path: Path, hashes: dict[str, str]):
    data, digest = _read_yaml(path)
    hashes[str(path.name if path.parent.name != "themes" else f"themes/{path.name}")] = digest
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_pydantic(exc, path)) from None


def load_params(root: str | Path | None = None) -> Params:
    """Read and validate every YAML file under ``params/``.

    Parameters
    ----------
    root : path, optional
        The parameters folder; defaults to the project's ``params/``.

    Returns
    -------
    Params
        Validated settings. Cross-file references are checked: KPI categories exist in the
        catalogue, KPI themes and priorities exist, ward places are the SIA's places, and
        each catalogue priority belongs to some theme.

    Raises
    ------
    ConfigError
        Naming the file and key at fault.
    """
    root = (Path(root) if root is not None else params_dir()).resolve()
    hashes: dict[str, str] = {}
    sia = _parse(SiaSettings, root / "sia.yaml", hashes)
    wards = _parse(WardsFile, root / "wards.yaml", hashes).wards
    cats = _parse(CategoriesFile, root / "categories.yaml", hashes).categories
    kpis = _parse(KpisFile, root / "kpis.yaml", hashes).kpis
    theme_files = sorted((root / "themes").glob("*.yaml"))
    if not theme_files:
        raise ConfigError(f"no theme files found in {root / 'themes'}")
    themes: dict[str, Theme] = {}
    for tf in theme_files:
        th = _parse(Theme, tf, hashes)
        if th.id != tf.stem:
            raise ConfigError(f"{tf}: key 'id' is {th.id!r} but the file is named {tf.stem!r}")
        themes[th.id] = th
    from kcpp_analysis.analysis.prioritisation import load_scoring

    pids = [p.id for th in themes.values() for p in th.priorities]
    scoring = load_scoring(root / "prioritisation.yaml", pids)
    hashes["prioritisation.yaml"] = hashlib.sha256(
        (root / "prioritisation.yaml").read_bytes()
    ).hexdigest()
    params = Params(sia, wards, cats, kpis, themes, root, hashes, scoring)
    _cross_check(params)
    return params


def _cross_check(p: Params) -> None:
    root = p.root
    # raw names unique per scheme
    seen: dict[tuple[str, str], str] = {}
    for code, cat in p.categories.items():
        for scheme, names in cat.raw.items():
            for n in names:
                key = (scheme, n.lower())
                if key in seen:
                    raise ConfigError(
                        f"{root / 'categories.yaml'}: raw name {n!r} of scheme {scheme!r} maps to "
                        f"both {seen[key]!r} and {code!r}"
                    )
                seen[key] = code
    for w in p.wards:
        if w.place not in p.sia.places:
            raise ConfigError(
                f"{root / 'wards.yaml'}: ward {w.ward_name!r} has place {w.place!r}, "
                f"not one of sia.yaml places {p.sia.places}"
            )
    priorities = {pr.id: th.id for th in p.themes.values() for pr in th.priorities}
    for code, cat in p.categories.items():
        if cat.priority is not None and cat.priority not in priorities:
            raise ConfigError(
                f"{root / 'categories.yaml'}: key 'categories.{code}.priority' names "
                f"{cat.priority!r}, which no theme file defines"
            )

    def check_sel(sel: Selection | None, where: str, fname: str) -> None:
        if sel is None or not isinstance(sel.categories, list):
            return
        for c in sel.categories:
            if c not in p.categories:
                raise ConfigError(
                    f"{root / fname}: key '{where}.select.categories' names unknown category "
                    f"{c!r} (not in categories.yaml)"
                )

    ids = set()
    for i, k in enumerate(p.kpis):
        if k.id in ids:
            raise ConfigError(f"{root / 'kpis.yaml'}: duplicate KPI id {k.id!r}")
        ids.add(k.id)
        check_sel(k.select, f"kpis.{i}({k.id})", "kpis.yaml")
        if k.theme == "partnership":
            if k.priority is not None:
                raise ConfigError(
                    f"{root / 'kpis.yaml'}: key 'kpis.{i}({k.id}).priority': a partnership-wide "
                    "KPI measures no single priority; leave 'priority' out"
                )
            continue
        if k.theme not in p.themes:
            raise ConfigError(
                f"{root / 'kpis.yaml'}: key 'kpis.{i}({k.id}).theme' names unknown theme {k.theme!r}"
            )
        if priorities.get(k.priority) != k.theme:
            raise ConfigError(
                f"{root / 'kpis.yaml'}: key 'kpis.{i}({k.id}).priority' {k.priority!r} is not a "
                f"priority of theme {k.theme!r}"
            )
    for th in p.themes.values():
        for pr in th.priorities:
            check_sel(pr.selection, f"priorities.{pr.id}", f"themes/{th.id}.yaml")
    _check_sections(p)


def _check_sections(p: Params) -> None:
    """Section names and settings in sia.yaml and the theme files exist and validate."""
    from kcpp_analysis.report.sections import REGISTRY, validate_settings

    def check(names, settings, fname, names_key, settings_key):
        for n in names or []:
            if n not in REGISTRY:
                raise ConfigError(
                    f"{p.root / fname}: key '{names_key}' names unknown section {n!r}; "
                    f"known: {', '.join(REGISTRY)}"
                )
        for n, values in (settings or {}).items():
            if n not in REGISTRY:
                raise ConfigError(
                    f"{p.root / fname}: key '{settings_key}.{n}' names unknown section {n!r}"
                )
            try:
                validate_settings(n, values, partial=True)
            except ValueError as exc:
                raise ConfigError(f"{p.root / fname}: key '{settings_key}.{n}': {exc}") from None

    check(
        p.sia.report.sections,
        p.sia.report.settings,
        "sia.yaml",
        "report.sections",
        "report.settings",
    )
    for n in REGISTRY:
        try:
            validate_settings(n, p.sia.report.settings.get(n, {}))
        except ValueError as exc:
            raise ConfigError(f"{p.root / 'sia.yaml'}: key 'report.settings.{n}': {exc}") from None
    for th in p.themes.values():
        for pr in th.priorities:
            check(
                pr.sections,
                pr.section_settings,
                f"themes/{th.id}.yaml",
                f"priorities.{pr.id}.sections",
                f"priorities.{pr.id}.section_settings",
            )
