"""The ``kcpp`` command line: ``kcpp prepare``, ``kcpp report`` and ``kcpp reference build``."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from kcpp_analysis.core.errors import KcppError

app = typer.Typer(add_completion=False, help="Kirklees Communities Partnership SIA toolkit.")
console = Console(stderr=True)


#: a console log line is cut to this many characters (a huge value can never stall the
#: console's highlighter or flood the terminal)
MAX_LOG_CHARS = 2_000


class _Capped(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if len(msg) > MAX_LOG_CHARS:
            record.msg, record.args = msg[:MAX_LOG_CHARS] + " [...]", None
        return True


def os_error(exc: OSError) -> str:
    """One clear line for an operating-system error (disk full, permission, ...).

    >>> os_error(OSError(28, "No space left on device", "/out/x.csv"))
    'No space left on device (/out/x.csv): free some space and run again; nothing was published'
    """
    import errno

    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    advice = {
        errno.ENOSPC: "free some space and run again; nothing was published",
        errno.EACCES: "check the folder's permissions",
        errno.EROFS: "the folder is read-only; choose another --out",
    }.get(exc.errno, "nothing was published")
    return f"{exc.strerror or exc}{where}: {advice}"


def _setup_logging(verbose: bool) -> None:
    handler = RichHandler(console=console, show_path=False, show_time=False)
    handler.addFilter(_Capped())
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[handler],
        force=True,
    )
    for noisy in ("papermill", "traitlets", "nbconvert", "matplotlib", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def prepare(
    sources: Annotated[
        Path | None,
        typer.Option(
            help="Sources YAML (see params/sources.example.yaml). Omit for the demo dataset."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder for the prepared dataset.")
    ] = None,
    synthesise_missing: Annotated[
        bool,
        typer.Option(
            "--synthesise-missing",
            help="Fill source kinds the sources file lacks with synthetic data on the real geography.",
        ),
    ] = False,
    seed: Annotated[int | None, typer.Option(help="Seed for synthetic data.")] = None,
    allow_loss: Annotated[
        bool,
        typer.Option(
            "--allow-loss",
            help="Accept a source that loses more than 1% of its rows (no location, dates "
            "in the future) or ends empty; the losses are still counted and logged.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            help="Regenerate the demo even if an identical one exists, and allow --out to "
            "replace a non-empty folder that is not a prepared dataset."
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Validate inputs and write a prepared dataset (parquet tables + dataset.json)."""
    _setup_logging(verbose)
    t0 = time.perf_counter()
    try:
        if sources is None:
            from kcpp_analysis.data.demo.generator import DEFAULT_SEED
            from kcpp_analysis.data.prepare.demo import prepare_demo

            path = prepare_demo(
                out, seed=seed if seed is not None else DEFAULT_SEED, reuse=not force, force=force
            )
        else:
            from kcpp_analysis.data.prepare.sources import prepare_from_sources

            path = prepare_from_sources(
                sources,
                out,
                synthesise_missing=synthesise_missing,
                seed=seed,
                force=force,
                allow_loss=allow_loss,
            )
    except KcppError as exc:
        console.print(f"[bold red]kcpp prepare failed:[/] {exc}")
        raise typer.Exit(2) from None
    except OSError as exc:
        console.print(f"[bold red]kcpp prepare failed:[/] {os_error(exc)}")
        raise typer.Exit(2) from None
    console.print(f"prepared dataset: {path}  ({time.perf_counter() - t0:.1f} s)")


@app.command()
def report(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Prepared dataset folder. Omit to use (and build if needed) the demo dataset."
        ),
    ] = None,
    year: Annotated[
        str | None,
        typer.Option(help="SIA financial year, e.g. 2025/26 (default: params/sia.yaml)."),
    ] = None,
    themes: Annotated[
        list[str] | None,
        typer.Option("--themes", help="Theme ids to run (repeatable; default all)."),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option(help="Notebooks run in parallel (default: number of cores).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Outputs root (default: outputs/).")] = None,
    notebooks: Annotated[
        Path | None,
        typer.Option(
            help="Folder with your own theme_report.ipynb and sia_overview.ipynb templates (default: notebooks/)."
        ),
    ] = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Compute every page again, even when the published set was built from the same dataset, parameters and code (default: reuse it).",
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run every theme notebook and the overview, and export the HTML report set."""
    _setup_logging(verbose)
    from kcpp_analysis.run.pipeline import run_report

    try:
        result = run_report(
            data=data,
            year=year,
            themes=themes,
            jobs=jobs,
            out=out,
            notebooks=notebooks,
            console=console,
            fresh=fresh,
        )
    except KcppError as exc:
        console.print(f"[bold red]kcpp report failed before running any notebook:[/] {exc}")
        raise typer.Exit(2) from None
    except OSError as exc:
        console.print(f"[bold red]kcpp report failed:[/] {os_error(exc)}")
        raise typer.Exit(2) from None
    if not result.ok:
        for f in result.failures:
            console.print(f"[bold red]FAILED[/] {f}")
        if not result.published:
            console.print(
                "[bold red]report set NOT published[/]: the previous set (if any) is unchanged; "
                f"this run's output, for diagnosis: {result.out_dir}"
            )
        raise typer.Exit(1)
    if result.manifest.get("reused_from"):
        console.print(
            "nothing changed since the set built "
            f"{result.manifest['reused_from']} (dataset, parameters, code, packages, last "
            "year's set): its pages were reused; --fresh computes them again"
        )
    console.print(f"report set: {result.out_dir / 'index.html'}")


reference_app = typer.Typer(help="Reference extracts of real open geography (LSOA 2021).")
app.add_typer(reference_app, name="reference")


@reference_app.command("build")
def reference_build(
    lad: Annotated[str, typer.Option(help="Local authority district code (2024), e.g. E08000034.")],
    from_: Annotated[
        Path,
        typer.Option("--from", help="Folder holding the national open files (see PROVENANCE.md)."),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder (default: the package's resources/reference/<LAD>)."),
    ] = None,
) -> None:
    """Build the reference extract for one local authority from the national files."""
    _setup_logging(False)
    from kcpp_analysis.data.national import ENGLAND_DIR, build_benchmark
    from kcpp_analysis.data.reference import build_reference

    try:
        path = build_reference(lad, from_, out)
        eng = build_benchmark(from_, (path.parent / "england") if out else ENGLAND_DIR)
    except KcppError as exc:
        console.print(f"[bold red]kcpp reference build failed:[/] {exc}")
        raise typer.Exit(2) from None
    man = __import__("json").loads((path / "manifest.json").read_text())
    console.print(
        f"reference extract for {man['lad_name']} ({lad}): {man['n_lsoas']} LSOAs, "
        f"{man['n_wards']} wards, Census 2021 population {man['population_census2021']:,}: {path}"
    )
    console.print(f"England benchmark tables (all local authorities): {eng}")


def main() -> None:  # pragma: no cover - entry point
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
