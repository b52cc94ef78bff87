"""Section types, one module each, registered here.

A section module defines ``KIND`` (its name in YAML), ``TITLE``, a pydantic ``Settings``
model (defaults live in ``params/sia.yaml: report.settings``, not in code),
``applies(ctx, pr) -> bool`` and ``compute(ctx, pr, settings) -> SectionResult``. To add a
section type, write one module and add it to :data:`REGISTRY`; name it in a theme's
``sections:`` (or ``sia.yaml: report.sections``) to run it.
"""

from __future__ import annotations

from types import ModuleType

from pydantic import TypeAdapter, ValidationError

from kcpp_analysis.report.sections import (
    benchmark,
    concentration,
    csp_trend,
    deprivation,
    funnel,
    health,
    indicators,
    location,
    maps,
    near_repeat,
    people,
    places,
    repeats,
    risk_factors,
    spc,
    survey,
    time_profile,
    trend,
    violence_profile,
    year_on_year,
)

REGISTRY: dict[str, ModuleType] = {
    m.KIND: m
    for m in (
        trend,
        year_on_year,
        spc,
        places,
        maps,
        funnel,
        benchmark,
        csp_trend,
        time_profile,
        people,
        violence_profile,
        health,
        location,
        near_repeat,
        deprivation,
        risk_factors,
        concentration,
        repeats,
        survey,
        indicators,
    )
}


def validate_settings(kind: str, values: dict, *, partial: bool = False):
    """Validate a section's settings; ``partial`` checks only the keys given (overrides).

    Raises
    ------
    ValueError
        Naming the unknown key or the bad value.
    """
    model = REGISTRY[kind].Settings
    if partial:
        for k, v in values.items():
            if k not in model.model_fields:
                raise ValueError(f"unknown setting {k!r}; known: {', '.join(model.model_fields)}")
            try:
                TypeAdapter(model.model_fields[k].annotation).validate_python(v)
            except ValidationError as exc:
                raise ValueError(f"{k}: {exc.errors()[0]['msg']}") from None
        return values
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e["loc"])
        msg = "unknown setting" if e["type"] == "extra_forbidden" else e["msg"]
        raise ValueError(f"{loc}: {msg}") from None


def check_params(p) -> None:
    """Section names and settings in ``sia.yaml`` and the theme files exist and validate
    (run before any notebook: ``kcpp report`` and :func:`kcpp_analysis.report.open_report`).

    Raises
    ------
    ConfigError
        Naming the file and key at fault.
    """
    from kcpp_analysis.core.errors import ConfigError

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


def compute(kind: str, ctx, pr, settings=None):
    """Compute one section for one priority (``None`` when it does not apply)."""
    mod = REGISTRY[kind]
    if not mod.applies(ctx, pr):
        return None
    return mod.compute(ctx, pr, settings if settings is not None else ctx.settings(kind, pr))
