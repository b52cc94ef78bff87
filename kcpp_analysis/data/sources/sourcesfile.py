"""The sources file for ``kcpp prepare --sources FILE`` (validated by pydantic).

A YAML file with a top-level ``sources:`` list. Each entry has a ``kind`` and either ``path``
(a file, folder, zip or glob) or the kind's own keys. Relative paths are resolved against
the sources file's folder. See ``params/sources.example.yaml`` for every kind.
"""

from __future__ import annotations

import glob as globmod
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kcpp_analysis.config.params import safe_yaml
from kcpp_analysis.core.errors import ConfigError
from kcpp_analysis.core.periods import check_fy_label


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str | None = None  # free text shown in reports


class PoliceUkStreet(_Entry):
    kind: Literal["policeuk_street"]
    path: (
        str  # folder tree of YYYY-MM/YYYY-MM-<force>-street.csv, the archive zip, a file or a glob
    )


class PartnerExtract(_Entry):
    kind: Literal["partner_extract"]
    extract: Literal["police_crime", "police_asb", "council_asb", "fire"]
    path: str
    victim_key_env: str = "KCPP_PSEUDONYM_KEY"  # env var holding the pseudonymisation secret


class Iod2019(_Entry):
    kind: Literal["iod2019"]
    path: str


class OnsLsoaWard(_Entry):
    kind: Literal["ons_lsoa_ward"]
    path: str


class WardPlace(_Entry):
    kind: Literal["ward_place"]
    path: str  # CSV with WD19CD, place (default mapping: params/wards.yaml)


class Population(_Entry):
    kind: Literal["population"]
    path: str


class Lsoa11To21(_Entry):
    kind: Literal["lsoa11_lsoa21"]
    path: str  # ONS LSOA (2011) to LSOA (2021) lookup, for police.uk files on 2021 codes


class Stats19(_Entry):
    kind: Literal["stats19"]
    collisions: str
    casualties: str


class FixMyStreet(_Entry):
    kind: Literal["fixmystreet"]
    path: str


class HomeOfficeCsp(_Entry):
    kind: Literal["home_office_csp"]
    path: str  # CSV exports of the Home Office CSP tables: a file, folder or glob


class SurveyCsv(_Entry):
    kind: Literal["survey"]
    path: str


class IndicatorsCsv(_Entry):
    kind: Literal["indicators"]
    path: str


Source = Annotated[
    PoliceUkStreet
    | PartnerExtract
    | Iod2019
    | OnsLsoaWard
    | WardPlace
    | Population
    | Lsoa11To21
    | Stats19
    | FixMyStreet
    | HomeOfficeCsp
    | SurveyCsv
    | IndicatorsCsv,
    Field(discriminator="kind"),
]
KINDS = [
    "policeuk_street",
    "partner_extract",
    "iod2019",
    "ons_lsoa_ward",
    "ward_place",
    "population",
    "lsoa11_lsoa21",
    "stats19",
    "fixmystreet",
    "home_office_csp",
    "survey",
    "indicators",
]


class Coverage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    first_year: str
    last_year: str

    _fy = field_validator("first_year", "last_year")(check_fy_label)


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sources: list[Source]
    coverage: Coverage | None = None


def _paths_of(entry) -> list[tuple[str, str]]:
    if isinstance(entry, Stats19):
        return [("collisions", entry.collisions), ("casualties", entry.casualties)]
    return [("path", entry.path)]


def resolve(base: Path, value: str) -> list[Path]:
    """Resolve a path, folder or glob relative to ``base``; [] when a glob matches nothing."""
    p = Path(value).expanduser()
    if not p.is_absolute():
        p = base / p
    if any(ch in value for ch in "*?["):
        # unique real files: a glob through a symlink loop must not read one file twice
        return sorted({Path(x).resolve() for x in globmod.glob(str(p), recursive=True)})
    return [p.resolve()] if p.exists() else []


def _short(value, limit: int = 40) -> str:
    """A value for an error message, cut to ``limit`` characters (never echo a huge value)."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "...'"


def load_sources(path: str | Path) -> tuple[SourcesFile, Path]:
    """Read and validate a sources file; every path must exist and every glob match.

    Raises
    ------
    ConfigError
        Naming the entry (index and kind) and the key at fault.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"sources file not found: {path}")
    try:
        raw = safe_yaml(path.read_bytes(), path)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or "sources" not in raw:
        raise ConfigError(f"{path}: expected a mapping with a top-level 'sources:' list")
    entries = raw.get("sources") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'sources' must be a list")
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or e.get("kind") not in KINDS:
            kind = e.get("kind") if isinstance(e, dict) else e
            raise ConfigError(
                f"{path}: sources[{i}]: unknown kind {_short(kind)}; kinds are {', '.join(KINDS)}"
            )
    try:
        sf = SourcesFile.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:10]:
            loc = list(err["loc"])
            where = (
                f"sources[{loc[1]}]"
                if len(loc) > 1 and loc[0] == "sources"
                else ".".join(map(str, loc))
            )
            key = ".".join(str(x) for x in loc[3:]) if len(loc) > 3 else ".".join(map(str, loc[2:]))
            msg = "unknown key (not allowed)" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"  {where}: key '{key}': {msg}")
        raise ConfigError(f"invalid sources file {path}:\n" + "\n".join(lines)) from None
    base = path.resolve().parent
    for i, e in enumerate(sf.sources):
        for key, value in _paths_of(e):
            if not resolve(base, value):
                what = (
                    "glob matches no file" if any(c in value for c in "*?[") else "file not found"
                )
                raise ConfigError(f"{path}: sources[{i}] ({e.kind}): key '{key}': {what}: {value}")
    return sf, base
