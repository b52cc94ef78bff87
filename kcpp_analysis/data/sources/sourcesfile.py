"""The sources file for ``kcpp prepare --sources FILE`` (validated by pydantic).

A YAML file with a top-level ``sources:`` list. Each entry has a ``kind`` and either ``path``
(a file, folder, zip or glob) or the kind's own keys. Relative paths are resolved against
the sources file's folder. See ``params/sources.example.yaml`` for every kind.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Annotated, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kcpp_analysis.config.yamlfile import MAX_YAML_BYTES, read_regular_file, safe_yaml
from kcpp_analysis.core.errors import ConfigError
from kcpp_analysis.core.periods import check_fy_label
from kcpp_analysis.data.sources import REGISTRY

#: every entry model of the registry, as one discriminated union (derived, never listed)
Source = Annotated[
    Union[tuple(k.model for k in REGISTRY.values())],  # noqa: UP007  (built at run time)
    Field(discriminator="kind"),
]
KINDS = list(REGISTRY)


class Coverage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    first_year: str
    last_year: str

    _fy = field_validator("first_year", "last_year")(check_fy_label)


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sources: list[Source]
    coverage: Coverage | None = None


def paths_of(entry) -> list[tuple[str, str]]:
    """The (key, value) path entries of a sources-file entry (its kind's ``path_keys``)."""
    return [(k, getattr(entry, k)) for k in REGISTRY[entry.kind].path_keys]


#: a glob may look at no more than this many folder entries (``/usr/**`` would take minutes)
MAX_GLOB_ENTRIES = 200_000


def resolve(base: Path, value: str) -> list[Path]:
    """Resolve a path, folder or glob relative to ``base``; [] when a glob matches nothing.

    A glob is walked without following symbolic links to folders (a link loop is never
    entered) and over at most :data:`MAX_GLOB_ENTRIES` entries; the matches are unique real
    files.
    """
    p = Path(value).expanduser()
    if not p.is_absolute():
        p = base / p
    if not any(ch in value for ch in "*?["):
        return [p.resolve()] if p.exists() else []
    parts = p.parts
    first = next(i for i, x in enumerate(parts) if any(c in x for c in "*?["))
    root = Path(*parts[:first]) if first else Path(p.anchor)
    pattern = str(Path(*parts[first:]))
    if not root.is_dir():
        return []
    found: set[Path] = set()
    seen = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        seen += len(dirs) + len(files)
        if seen > MAX_GLOB_ENTRIES:
            raise ConfigError(
                f"the glob {_short(value)} looks at more than {MAX_GLOB_ENTRIES:,} files and "
                "folders; narrow it to the folder that holds the data"
            )
        rel = Path(folder).relative_to(root)
        for name in files + [d for d in dirs if not (Path(folder) / d).is_symlink()]:
            candidate = rel / name
            if candidate.match(pattern) or (
                "**" in pattern and fnmatch.fnmatch(str(candidate), pattern.replace("**/", "*"))
            ):
                found.add((Path(folder) / name).resolve())
        if "**" not in pattern and len(rel.parts) >= len(Path(pattern).parts) - 1:
            dirs[:] = []  # a glob without ** never looks deeper than its pattern
    return sorted(found)


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
        raw = safe_yaml(read_regular_file(path, MAX_YAML_BYTES, "sources file"), path)
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
        for key, value in paths_of(e):
            if not resolve(base, value):
                what = (
                    "glob matches no file" if any(c in value for c in "*?[") else "file not found"
                )
                raise ConfigError(f"{path}: sources[{i}] ({e.kind}): key '{key}': {what}: {value}")
    return sf, base
