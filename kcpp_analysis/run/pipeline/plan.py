"""What one ``kcpp report`` run is: its parameters, its notebooks and their results."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from kcpp_analysis.config.params import Params
from kcpp_analysis.core.periods import check_fy_label
from kcpp_analysis.data.dataset import Dataset

THEME_TEMPLATE = "theme_report.ipynb"
OVERVIEW_TEMPLATE = "sia_overview.ipynb"


class NotebookParameters(BaseModel):
    """Parameters injected into a notebook: plain validated literals only."""

    model_config = ConfigDict(extra="forbid")
    year: str
    data_dir: str
    output_dir: str
    theme: str | None = None

    _fy = field_validator("year")(check_fy_label)

    @field_validator("data_dir", "output_dir")
    @classmethod
    def _plain_path(cls, v: str) -> str:
        if "\n" in v or "\x00" in v:
            raise ValueError("paths must be a single line")
        return v


@dataclass
class NotebookResult:
    name: str
    kind: Literal["theme", "overview"]
    title: str
    status: str = "queued"
    seconds: float = 0.0
    error: str = ""
    html: str = ""
    ipynb: str = ""
    built: str = ""  # when the run that built it started (earlier for carried-over themes)
    written: list[str] = field(default_factory=list)  # files it wrote, relative to the set


@dataclass
class RunResult:
    out_dir: Path
    notebooks: list[NotebookResult] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    published: bool = True
    problems: list[str] = field(default_factory=list)  # why the set was not published

    @property
    def ok(self) -> bool:
        return (
            self.published
            and not self.problems
            and all(n.status == "succeeded" for n in self.notebooks)
        )

    @property
    def failures(self) -> list[str]:
        out = [
            f"{n.name}: {n.error} (executed notebook kept at {self.out_dir / n.ipynb})"
            for n in self.notebooks
            if n.status != "succeeded"
        ]
        return out + self.problems


def year_slug(year: str) -> str:
    """``'2025/26'`` -> ``'2025-26'`` (folder name)."""
    return check_fy_label(year).replace("/", "-")


@dataclass
class RunPlan:
    """Everything one run works with, resolved and validated before any notebook runs."""

    params: Params
    dataset: Dataset
    data_path: Path
    year: str
    themes: list[str]
    jobs: int
    nb_dir: Path
    stage: Path
    final: Path
    t_start: float
    t_data: float
    handler: logging.Handler
    carried: list[NotebookResult] = field(default_factory=list)
    console: object = None
    inputs: dict = field(default_factory=dict)  # what the pages are computed from
    reused_from: str = ""  # when every page was reused: the published set's build time
