"""The one registry of source kinds for ``kcpp prepare --sources FILE``.

A source kind is one module that defines its entry model (the keys of its ``sources:``
entry, a pydantic model with ``kind: Literal["<name>"]``) and its reader, and registers
both here with :func:`register`. Everything else is derived from :data:`REGISTRY`: the
sources file's discriminated union and list of kinds
(:mod:`kcpp_analysis.data.sources.sourcesfile`), which canonical incident sources a kind may
produce (checked against :data:`kcpp_analysis.config.models.INCIDENT_SOURCES`), and how
``kcpp prepare`` uses it (:mod:`kcpp_analysis.data.prepare.sources`) by its ``role``:

- ``incidents``: rows of the ``incidents`` table, placed through the crosswalk, with the
  loss rules applied;
- ``table``: the ``survey`` or ``indicators`` table (``target``);
- ``extra``: an aggregate table kept beside the canonical ones (``target``: its name);
- ``geography``: inputs to the areas table and the crosswalk (read by the prepare step
  itself, not by a reader).

To add a source kind: write its module in ``kcpp_analysis/data/sources/``, register it, and
import the module in ``kcpp_analysis/data/sources/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from kcpp_analysis.config.models import INCIDENT_SOURCES


class Entry(BaseModel):
    """Base of every sources-file entry: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str | None = Field(None, max_length=200)  # free text shown in reports
    #: the entry's rows are synthetic (an example or a stand-in): every page built from
    #: the dataset then carries the synthetic-data banner
    synthetic: bool = False


@dataclass(frozen=True)
class ReadContext:
    """What a reader may use: the sources file's folder, the parameters, the areas table,
    a resolver of the entry's paths (files, folders, zips, globs) and the crosswalk."""

    base: Path
    params: object
    areas: pd.DataFrame
    resolve: Callable[[str], list[Path]]
    #: the crosswalk's placement of area codes (``codes, keys=`` -> codes, how)
    place: Callable | None = None


@dataclass(frozen=True)
class ReadResult:
    """A reader's output: the rows, data-quality counts and the files read."""

    frame: pd.DataFrame
    quality: dict = field(default_factory=dict)
    files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class SourceKind:
    kind: str
    model: type[Entry]
    role: Literal["incidents", "table", "extra", "geography"]
    read: Callable[[Entry, ReadContext], ReadResult] | None = None
    target: str = ""
    produces: tuple[str, ...] = ()
    path_keys: tuple[str, ...] = ("path",)
    once: bool = True
    description: str = ""


REGISTRY: dict[str, SourceKind] = {}


def register(kind: SourceKind) -> SourceKind:
    """Add a source kind (its name must match its model's ``kind`` Literal)."""
    literal = kind.model.model_fields["kind"].annotation.__args__[0]
    if literal != kind.kind:
        raise ValueError(f"source kind {kind.kind!r}: its model's kind is {literal!r}")
    bad = [s for s in kind.produces if s not in INCIDENT_SOURCES]
    if bad:
        raise ValueError(f"source kind {kind.kind!r} produces unknown incident sources {bad}")
    if kind.role != "geography" and kind.read is None:
        raise ValueError(f"source kind {kind.kind!r} needs a reader")
    REGISTRY[kind.kind] = kind
    return kind
