"""Every file under ``params/``, loaded once, validated into typed models and hashed.

:func:`load_params` is the only reader of parameters in the toolkit: YAML files (``sia``,
``wards``, ``categories``, ``kpis``, ``themes/*``, ``prioritisation``, ``benchmark``,
``insight``, ``previous_assessment``, ``decisions``), the analysts' Markdown framing
(``framing/*.md``) and the optional crime severity weights (``crime_severity_weights.csv``).
Every file read is hashed into :attr:`Params.hashes`, so a report set records exactly which
settings built it (and a partial run refuses to mix pages built from other settings).
Cross-file references (a KPI naming an unknown category, a topic naming an unknown priority,
...) are checked here too.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from kcpp_analysis.config.benchmark import BenchmarkConfig
from kcpp_analysis.config.models import (
    CategoriesFile,
    Category,
    Kpi,
    KpisFile,
    Priority,
    Selection,
    SiaSettings,
    Theme,
    Ward,
    WardsFile,
)
from kcpp_analysis.config.partnership import (
    Decision,
    Decisions,
    InsightVocabulary,
    PreviousAssessment,
    Surveys,
)
from kcpp_analysis.config.scoring import Scoring
from kcpp_analysis.config.yamlfile import read_regular_file, read_yaml, validation_lines
from kcpp_analysis.core.errors import ConfigError
from kcpp_analysis.core.hashing import sha256_bytes
from kcpp_analysis.core.paths import params_dir

MAX_TEXT_BYTES = 1_000_000


@dataclass(frozen=True)
class Params:
    """All validated parameters, plus a content hash of every file read."""

    sia: SiaSettings
    wards: list[Ward]
    categories: dict[str, Category]
    kpis: list[Kpi]
    themes: dict[str, Theme]
    root: Path
    scoring: Scoring
    benchmark: BenchmarkConfig
    insight: InsightVocabulary
    previous: PreviousAssessment | None
    decisions: list[Decision]
    surveys: Surveys = field(default_factory=lambda: Surveys())
    framing: dict[str, str] = field(default_factory=dict)
    severity_weights: dict[str, float] | None = None
    hashes: dict[str, str] = field(default_factory=dict)

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

    def section_setting(self, kind: str, name: str, priority: Priority | None = None, default=None):
        """One setting of a report section (``sia.yaml: report.settings``, the priority's
        ``section_settings`` applied): the single lookup the rating and the sections share."""
        values = dict(self.sia.report.settings.get(kind, {}))
        if priority is not None:
            values.update(priority.section_settings.get(kind, {}))
        return values.get(name, default)

    @property
    def priorities(self) -> list[Priority]:
        """Every priority of every theme, in the themes' order."""
        return [pr for th in self.themes.values() for pr in th.priorities]


def _parse(model: type[BaseModel], root: Path, rel: str, hashes: dict[str, str]):
    path = root / rel
    data, hashes[rel] = read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = "\n".join(f"  {rel}: {x}" for x in validation_lines(exc))
        raise ConfigError(f"invalid parameters file {path}:\n{lines}") from None


def _optional(model, root: Path, rel: str, hashes: dict[str, str]):
    return _parse(model, root, rel, hashes) if (root / rel).exists() else None


def _framing(root: Path, hashes: dict[str, str]) -> dict[str, str]:
    """The analysts' Markdown framing, ``params/framing/<name>.md`` (name -> text)."""
    out = {}
    folder = root / "framing"
    for p in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        raw = read_regular_file(p, MAX_TEXT_BYTES, "framing file")
        rel = f"framing/{p.name}"
        hashes[rel] = sha256_bytes(raw)
        try:
            out[p.stem] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{p}: not UTF-8 text") from None
    return out


def _severity_weights(root: Path, hashes: dict[str, str]) -> dict[str, float] | None:
    """Optional ONS Crime Severity Score weights (``offence_code``, ``weight``: the average
    sentence in days per offence code, as ONS publishes them)."""
    p = root / "crime_severity_weights.csv"
    if not p.exists():
        return None
    raw = read_regular_file(p, MAX_TEXT_BYTES, "crime severity weights")
    hashes[p.name] = sha256_bytes(raw)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    if not rows or not {"offence_code", "weight"} <= set(rows[0]):
        raise ConfigError(f"{p}: needs columns 'offence_code' and 'weight'")
    out = {}
    for i, r in enumerate(rows, start=2):
        try:
            w = float(r["weight"])
        except (TypeError, ValueError):
            w = math.nan
        if not math.isfinite(w) or w < 0:
            raise ConfigError(f"{p}: column 'weight' line {i}: not a non-negative number")
        out[str(r["offence_code"]).strip()] = w
    return out


def load_params(root: str | Path | None = None) -> Params:
    """Read and validate every file under ``params/``.

    Parameters
    ----------
    root : path, optional
        The parameters folder; defaults to the project's ``params/`` (``$KCPP_PARAMS``).

    Returns
    -------
    Params
        Validated settings with the SHA-256 of every file read.

    Raises
    ------
    ConfigError
        Naming the file and key at fault.
    """
    root = (Path(root) if root is not None else params_dir()).resolve()
    h: dict[str, str] = {}
    sia = _parse(SiaSettings, root, "sia.yaml", h)
    wards = _parse(WardsFile, root, "wards.yaml", h).wards
    cats = _parse(CategoriesFile, root, "categories.yaml", h).categories
    kpis = _parse(KpisFile, root, "kpis.yaml", h).kpis
    theme_files = sorted((root / "themes").glob("*.yaml"))
    if not theme_files:
        raise ConfigError(f"no theme files found in {root / 'themes'}")
    themes: dict[str, Theme] = {}
    for tf in theme_files:
        th = _parse(Theme, root, f"themes/{tf.name}", h)
        if th.id != tf.stem:
            raise ConfigError(f"{tf}: key 'id' is {th.id!r} but the file is named {tf.stem!r}")
        themes[th.id] = th
    params = Params(
        sia=sia,
        wards=wards,
        categories=cats,
        kpis=kpis,
        themes=themes,
        root=root,
        scoring=_parse(Scoring, root, "prioritisation.yaml", h),
        benchmark=_optional(BenchmarkConfig, root, "benchmark.yaml", h) or BenchmarkConfig(),
        insight=_parse(InsightVocabulary, root, "insight.yaml", h),
        previous=_optional(PreviousAssessment, root, "previous_assessment.yaml", h),
        decisions=(_optional(Decisions, root, "decisions.yaml", h) or Decisions()).decisions,
        surveys=_optional(Surveys, root, "surveys.yaml", h) or Surveys(),
        framing=_framing(root, h),
        severity_weights=_severity_weights(root, h),
        hashes=h,
    )
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
    for pid in p.sia.links:
        if pid not in priorities:
            raise ConfigError(
                f"{root / 'sia.yaml'}: key 'links' names {pid!r}, which no theme file defines"
            )
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

    for name, key in (("prioritisation.yaml", "harm"),):
        missing = sorted({pr.id for pr in p.priorities} - set(p.scoring.harm))
        if missing:
            raise ConfigError(f"{root / name}: key '{key}': no harm grade for priorities {missing}")
    known = {pr.id for pr in p.priorities}
    for fname, ids in (
        ("benchmark.yaml", p.benchmark.priorities),
        ("insight.yaml", {t.priority for t in p.insight.topics.values()}),
        ("previous_assessment.yaml", p.previous.ratings if p.previous else {}),
    ):
        bad = sorted(set(ids) - known)
        if bad:
            raise ConfigError(f"{root / fname}: names priorities {bad}, which no theme defines")
    for code, t in p.insight.topics.items():
        bad = [c for c in t.categories if c not in p.categories]
        if bad:
            raise ConfigError(
                f"{root / 'insight.yaml'}: key 'topics.{code}.categories' names unknown "
                f"categories {bad} (not in categories.yaml)"
            )
