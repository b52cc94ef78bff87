"""``params/benchmark.yaml``: comparators and the measures each priority is compared on."""

from __future__ import annotations

from pydantic import Field, model_validator

from kcpp_analysis.config.models import Strict

#: IoD2025 police-recorded crime indicators available for every English local authority
INDICATORS = (
    "violence_with_injury",
    "violence_without_injury",
    "stalking_harassment",
    "burglary",
    "theft",
    "criminal_damage",
    "public_order_weapons",
    "anti_social_behaviour",
)
#: variables of the nearest-neighbour model (documented in the report and the README)
NN_VARIABLES = {
    "imd_average_score": "IoD2025 average IMD score",
    "pct_0_15": "% residents aged 0-15 (Census 2021)",
    "pct_65_plus": "% residents aged 65+ (Census 2021)",
    "pct_rural": "% residents in rural LSOAs (RUC 2021)",
    "log_population": "log of Census 2021 residents",
}


class NearestNeighbours(Strict):
    k: int = Field(15, ge=1, le=100)
    variables: list[str] = list(NN_VARIABLES)

    @model_validator(mode="after")
    def _known(self):
        bad = [v for v in self.variables if v not in NN_VARIABLES]
        if bad:
            raise ValueError(f"unknown variables {bad}; known: {', '.join(NN_VARIABLES)}")
        return self


class Member(Strict):
    """A comparator authority: its name as the partnership uses it and its LAD 2024 code(s)."""

    name: str
    codes: list[str] = Field(min_length=1)
    note: str = ""


class ComparatorGroup(Strict):
    label: str
    source: str = ""
    members: list[Member] = []


class PriorityBenchmark(Strict):
    indicators: list[str] = []
    #: what the measures stand for when none is the priority itself (e.g. hate crime is
    #: compared on public order and weapons): the comparison's first sentence
    proxy_note: str = ""
    policeuk_types: list[str] = []
    home_office_groups: list[str] = []

    @model_validator(mode="after")
    def _known(self):
        bad = [i for i in self.indicators if i not in INDICATORS]
        if bad:
            raise ValueError(f"unknown indicators {bad}; known: {', '.join(INDICATORS)}")
        return self


class BenchmarkConfig(Strict):
    nearest_neighbours: NearestNeighbours = NearestNeighbours()
    #: the partnership's own comparators (scrutiny 2024), shown as the default family
    partnership_comparators: ComparatorGroup | None = None
    #: an official list (e.g. the Home Office Most Similar Group); empty = not used
    user_group: ComparatorGroup | None = None
    priorities: dict[str, PriorityBenchmark] = {}
