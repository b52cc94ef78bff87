"""The partnership's own inputs beside the data: the insight vocabulary, last assessment's
ratings, and the decisions the board is asked to take (``params/insight.yaml``,
``params/previous_assessment.yaml``, ``params/decisions.yaml``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from kcpp_analysis.config.models import STATUSES, Strict

#: who an insight record came from (docs/data_dictionary.md, the ``insight`` source)
CHANNELS = ("councillor", "officer", "community", "partner", "survey_comment")


class Topic(Strict):
    """A coded engagement topic: what residents, councillors or officers raised.

    ``categories`` are the canonical categories whose records test the concern; an empty
    list means no recorded data can test it (``could_be_tested_by`` names the source that
    could)."""

    label: str
    priority: str
    categories: list[str] = []
    could_be_tested_by: str = ""


class DigDeeper(Strict):
    """When concern and data disagree enough to list (:mod:`kcpp_analysis.analysis.insight`)."""

    concern_share_pct: float = Field(15, gt=0, le=100)
    quiet_share_pct: float = Field(2, ge=0, le=100)


class InsightVocabulary(Strict):
    topics: dict[str, Topic] = Field(min_length=1)
    dig_deeper: DigDeeper = DigDeeper()


class PreviousRating(Strict):
    rating: Literal["red", "amber", "green"] | None = None
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    reason: str = ""


class PreviousAssessment(Strict):
    """Last assessment's ratings, used when no previous report set is at hand."""

    label: str
    year: str
    source: str = ""
    ratings: dict[str, PreviousRating] = {}


class Decision(Strict):
    decision: str = Field(min_length=10)
    owner: str
    due: dt.date


class Decisions(Strict):
    decisions: list[Decision] = []


class Surveys(Strict):
    """Reader-facing wording of each survey question (``params/surveys.yaml``)."""

    questions: dict[str, dict[str, str]] = {}

    def label(self, survey: str, question: str) -> str:
        """The question as a reader should see it (a readable fallback for an unlisted one)."""
        return (
            self.questions.get(survey, {}).get(question) or question.replace("_", " ").capitalize()
        )
