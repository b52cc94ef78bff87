"""``kcpp report``: execute the theme notebooks and the overview, export HTML.

Steps:

1. validate every params file, the report parameters (year format, known themes) and the
   prepared dataset (full schema validation) **before** any notebook runs;
2. execute ``notebooks/theme_report.ipynb`` once per theme and ``notebooks/sia_overview.ipynb``
   with papermill, in parallel worker processes (default: one per core), each notebook with
   its own kernel and working directory;
3. convert each executed notebook to self-contained HTML with code hidden (nbconvert);
4. write ``index.html`` and ``run.log``; check that no victim identifier from the dataset
   appears in any file of the set (HTML, tables, executed notebooks, saved results, index,
   log and the manifest itself);
5. write ``manifest.json`` listing every file with its size, SHA-256 and owner (the
   notebook that wrote it), flush every file to disk and verify it against the manifest.

Everything is written into a marked staging folder beside the target while holding the
target's lock (:mod:`kcpp_analysis.core.outputset`: one writer per folder, workers die with the
run, abandoned staging folders are removed by the next run). Only a set in which every
notebook succeeded, the privacy check passed and every file verified replaces
``outputs/<year>/``, by an atomic exchange of folder names. Otherwise the previous set is
left untouched, this run's output is kept in ``outputs/<year>.failed/`` for diagnosis
(failed notebooks keep their executed copy with the error under ``notebooks/``; the other
notebooks still run) and the exit status is non-zero.

``--themes`` (some themes only) updates those themes and the overview in the published set
and carries the other themes' files over unchanged, provided the published set was built
from the same inputs (dataset, parameters, SIA year, code, package versions and last year's
set; else it is refused with the reason); ``index.html`` and ``manifest.json`` give each
page's build time. A full run whose inputs are all unchanged since the published set (and
whose files are intact) reuses every page and PDF instead of computing them again; the log
says so, and ``fresh=True`` (``kcpp report --fresh``) recomputes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import time
from pathlib import Path

from pydantic import ValidationError

from kcpp_analysis.config.params import Params, load_params
from kcpp_analysis.core.errors import ConfigError, KcppError
from kcpp_analysis.core.outputset import (
    MARKER,
    discard,
    exclusive,
    inventory,
    new_staging,
    remove_abandoned,
    swap_in,
    verify,
)
from kcpp_analysis.core.paths import default_outputs_dir, notebooks_dir
from kcpp_analysis.core.periods import check_fy_label, fy_bounds
from kcpp_analysis.data.dataset import Dataset, load_dataset
from kcpp_analysis.run.pipeline.early import EarlyPrints
from kcpp_analysis.run.pipeline.execute import execute_one
from kcpp_analysis.run.pipeline.export import (
    early_overview_documents,
    index_html,
    page_meta,
    set_documents,
)
from kcpp_analysis.run.pipeline.partial import (
    carried_results,
    carry_over,
    code_hash,
    copy_owned,
    foreign_files,
    is_report_set,
    relative_to_set,
    reusable,
    run_inputs,
)
from kcpp_analysis.run.pipeline.pdf import Printer, page_count, print_documents
from kcpp_analysis.run.pipeline.plan import (
    OVERVIEW_TEMPLATE,
    THEME_TEMPLATE,
    NotebookParameters,
    NotebookResult,
    RunPlan,
    RunResult,
    year_slug,
)
from kcpp_analysis.run.pipeline.publish import leaks_in, versions, victim_tokens
from kcpp_analysis.run.pipeline.schedule import (
    estimated_work,
    execute_all,
    longest_first,
    start_fork_server,
)

log = logging.getLogger(__name__)

__all__ = ["RunResult", "code_hash", "execute_one", "run_report", "year_slug"]


def _resolve_dataset(data: Path | None, params: Params) -> tuple[Path, Dataset, float]:
    """The prepared dataset (the demo, prepared or reused, when none is given), validated."""
    t0 = time.perf_counter()
    if data is None:
        from kcpp_analysis.data.prepare.demo import prepare_demo

        data = prepare_demo(params=params)
    data = Path(data).resolve()
    ds = load_dataset(data, validate=True, params=params)
    return data, ds, time.perf_counter() - t0


def _check_year(ds: Dataset, year: str) -> None:
    """The SIA year must lie within the dataset's coverage."""
    s, e = fy_bounds(year)
    lo, hi = ds.coverage
    if s < lo or e > hi:
        raise ConfigError(
            f"SIA year {year} ({s.date()} to {e.date()}) is not covered by the "
            f"dataset ({lo.date()} to {hi.date()}); choose --year within it"
        )


def kernel_noise(text: str, status: str) -> str:
    """A kernel's stderr as the run log keeps it: after a successful notebook, the kernel's
    own shutdown messages (the interrupt it receives when it is stopped) are dropped, so a
    clean run's log holds no "ERROR | KeyboardInterrupt".

    >>> kernel_noise("[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel\\nreal", "succeeded")
    'real'
    """
    lines = text.strip().splitlines()
    if status == "succeeded":
        lines = [x for x in lines if "KeyboardInterrupt" not in x]
    return "\n".join(lines).strip()


def _last_seconds(final: Path) -> dict[str, float]:
    """Each notebook's time in the published set's manifest ({} when there is none)."""
    try:
        m = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
        return {n["name"]: float(n.get("seconds") or 0) for n in m.get("notebooks", [])}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _progress(console, results: list[NotebookResult]):
    from rich.table import Table

    t = Table(title="kcpp report", show_edge=False)
    t.add_column("notebook")
    t.add_column("status")
    t.add_column("time", justify="right")
    colour = {"queued": "dim", "running": "yellow", "succeeded": "green", "failed": "bold red"}
    for r in results:
        label = "done" if r.status == "succeeded" else r.status
        t.add_row(
            r.title, f"[{colour[r.status]}]{label}[/]", f"{r.seconds:.1f}s" if r.seconds else ""
        )
    return t


def run_report(
    *,
    data: str | Path | None = None,
    year: str | None = None,
    themes: list[str] | None = None,
    jobs: int | None = None,
    out: str | Path | None = None,
    notebooks: str | Path | None = None,
    params_dir: str | Path | None = None,
    console=None,
    fresh: bool = False,
) -> RunResult:
    """Build the report set; see the module docstring for the steps.

    Parameters
    ----------
    data : path, optional
        Prepared dataset; None prepares (or reuses, by content hash) the demo dataset.
    year : str, optional
        SIA financial year (default ``params/sia.yaml``'s ``sia_year``).
    themes : list of str, optional
        Theme ids (default: all). The overview always runs.
    jobs : int, optional
        Parallel notebooks (default: number of cores).
    out : path, optional
        Outputs root (default ``outputs/``); the set goes to ``<out>/<year-slug>/``.
    notebooks : path, optional
        Folder with the two notebook templates (default: the project's ``notebooks/``).
    fresh : bool
        Compute every page even when the published set was built from the same inputs
        (default: such a set's pages and PDFs are reused).

    Raises
    ------
    KcppError
        For invalid parameters or dataset, before any notebook runs.
    """
    t_start = time.perf_counter()
    start_fork_server()  # the workers' imports, meanwhile, in a process of their own
    from kcpp_analysis.report.sections import check_params

    params = load_params(params_dir)
    check_params(params)
    year = year or params.sia.sia_year
    try:
        check_fy_label(year)
    except ValueError as exc:
        raise ConfigError(f"--year: {exc}") from None
    themes = list(themes or params.themes)
    unknown = [t for t in themes if t not in params.themes]
    if unknown:
        raise ConfigError(f"--themes: unknown theme(s) {unknown}; known: {list(params.themes)}")
    # every path is made absolute once, here: notebooks run in their own working folders
    nb_dir = (Path(notebooks) if notebooks else notebooks_dir()).resolve()
    for t in (THEME_TEMPLATE, OVERVIEW_TEMPLATE):
        if not (nb_dir / t).exists():
            raise KcppError(f"notebook template {nb_dir / t} not found")
    data_path, ds, t_data = _resolve_dataset(Path(data) if data else None, params)
    _check_year(ds, year)
    jobs = max(1, jobs or os.cpu_count() or 1)

    root = (Path(out) if out else default_outputs_dir()).resolve()
    root.mkdir(parents=True, exist_ok=True)
    final = root / year_slug(year)
    if final.exists() and not is_report_set(final):
        raise KcppError(
            f"{final} exists and is not a kcpp report set (no manifest.json naming an SIA "
            "year); refusing to replace it. Move it, or choose another --out."
        )
    if final.exists():
        listed = json.loads((final / "manifest.json").read_text(encoding="utf-8")).get("files", {})
        foreign = foreign_files(final, listed)
        if foreign:
            raise KcppError(
                f"{final} holds {len(foreign)} file(s) kcpp did not write "
                f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}); the set is "
                "replaced as a whole, so move them out first (nothing was changed)"
            )
    with exclusive(final):
        remove_abandoned(final)
        inputs = run_inputs(params, ds, year, nb_dir, final)
        stage = new_staging(final)
        reused_from = ""
        try:
            whole = set(themes) >= set(params.themes)
            old = reusable(final, inputs) if whole and not fresh else None
            if old is not None:
                names = {nb["name"] for nb in old["notebooks"]}
                carried = carried_results(old, names, params)
                copy_owned(final, stage, old, names)
                reused_from = old.get("created", "")
            else:
                carried = carry_over(final, stage, themes, params, inputs)
        except BaseException:
            discard(stage)
            raise
        (stage / "notebooks").mkdir(exist_ok=True)
        (stage / "tables").mkdir(exist_ok=True)
        # the run's own log file: INFO and above from this package, whatever the caller set
        pkg_log = logging.getLogger("kcpp_analysis")
        old_level = pkg_log.level
        handler = logging.FileHandler(stage / "run.log", encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        pkg_log.addHandler(handler)
        if pkg_log.getEffectiveLevel() > logging.INFO:
            pkg_log.setLevel(logging.INFO)
        try:
            plan = RunPlan(
                params=params,
                dataset=ds,
                data_path=data_path,
                year=year,
                themes=themes,
                jobs=jobs,
                nb_dir=nb_dir,
                stage=stage,
                final=final,
                t_start=t_start,
                t_data=t_data,
                handler=handler,
                carried=carried,
                console=console,
                inputs=inputs,
                reused_from=reused_from,
            )
            with Printer(jobs) as printer:  # one browser for the run's PDFs, closed on any exit
                return _run(plan, printer)
        except BaseException:
            discard(stage)
            raise
        finally:
            pkg_log.removeHandler(handler)
            pkg_log.setLevel(old_level)
            handler.close()


def _run(plan: RunPlan, printer: Printer) -> RunResult:
    """Execute the notebooks, write the index and manifest, check and publish."""
    params, ds, data_path, year = plan.params, plan.dataset, plan.data_path, plan.year
    themes, jobs, nb_dir, stage = plan.themes, plan.jobs, plan.nb_dir, plan.stage
    final, console, handler = plan.final, plan.console, plan.handler
    # kernels' own stderr goes to run.log only, never to the console
    kernel_log = logging.getLogger("kcpp_analysis.kernels")
    kernel_log.propagate = False
    kernel_log.setLevel(logging.INFO)
    for h in list(kernel_log.handlers):
        kernel_log.removeHandler(h)
    kernel_log.addHandler(handler)
    log.info(
        "kcpp report %s: dataset %s (%s), themes %s, %d job(s)",
        year,
        data_path,
        ds.fingerprint[:12],
        themes,
        jobs,
    )
    results, jobs_list = [], []
    meta = page_meta(params, ds, year)
    specs = [(t, "theme", params.themes[t].title, THEME_TEMPLATE) for t in themes]
    specs.append(("overview", "overview", "SIA overview: plan on a page", OVERVIEW_TEMPLATE))
    reused = {r.name for r in plan.carried}
    specs = [s for s in specs if s[0] not in reused]
    if plan.reused_from:
        log.info(
            "dataset, parameters, code, packages and last year's set unchanged since the set "
            "built %s: every page and PDF reused, nothing computed (--fresh recomputes)",
            plan.reused_from,
        )
    for name, kind, title, template in specs:
        try:
            p = NotebookParameters(
                year=year,
                data_dir=str(data_path),
                output_dir=str(stage),
                theme=name if kind == "theme" else None,
            )
        except ValidationError as exc:  # pragma: no cover - values validated above
            raise ConfigError(str(exc)) from None
        parameters = {k: v for k, v in p.model_dump().items() if v is not None}
        r = NotebookResult(
            name=name, kind=kind, title=title, html=f"{name}.html", ipynb=f"notebooks/{name}.ipynb"
        )
        results.append(r)
        jobs_list.append(
            {
                "name": name,
                "title": title,
                "template": str(nb_dir / template),
                "ipynb": str(stage / r.ipynb),
                "html": str(stage / r.html),
                "workdir": str(stage / ".work" / name),
                "parameters": parameters,
                "page_meta": meta,
            }
        )
    t_exec = time.perf_counter()
    by_name = {r.name: r for r in results}
    live = None
    if console is not None:
        from rich.live import Live

        live = Live(
            _progress(console, results), console=console, refresh_per_second=4, transient=False
        )
        live.start()

    def on_result(j: dict, res) -> None:
        r = by_name[j["name"]]
        if isinstance(res, BaseException):
            r.status, r.error = "failed", f"worker crashed: {res}"
        else:
            r.status, r.error, r.seconds = res["status"], res["error"], res["seconds"]
            r.written = relative_to_set(res.get("written", []), stage)
            if res.get("stderr_outputs", "").strip():
                kernel_log.info(
                    "%s warnings (kept off the page):\n%s",
                    r.name,
                    res["stderr_outputs"].strip()[-8000:],
                )
            noise = kernel_noise(res.get("kernel_stderr", ""), r.status)
            if noise:
                kernel_log.info("%s kernel stderr:\n%s", r.name, noise)
        log.info("%s: %s in %.1fs %s", r.name, r.status, r.seconds, r.error)
        if r.name == "overview":
            early.overview_ended()

    # the theme packs, then the overview's first documents, print while the overview runs
    # (one core is free then)
    early = EarlyPrints(
        stage,
        stage / ".work" / "overview" / "written.txt",
        early_overview_documents(params),
        printer,
    )

    def on_themes_done() -> None:
        early.start([r.html for r in results if r.kind == "theme" and r.status == "succeeded"])

    def on_tick() -> None:
        for j in jobs_list:
            r = by_name[j["name"]]
            if r.status == "queued" and (Path(j["workdir"]) / ".started").exists():
                r.status = "running"
        if live:
            live.update(_progress(console, results))

    try:
        execute_all(
            longest_first(jobs_list, _last_seconds(final) or estimated_work(params)),
            jobs,
            stage / ".work",
            on_result,
            on_themes_done=on_themes_done,
            on_tick=on_tick,
        )
    finally:
        printed_early = early.finish(
            any(r.name == "overview" and r.status == "succeeded" for r in results)
        )
        if live:
            live.stop()
    t_exec = time.perf_counter() - t_exec
    shutil.rmtree(stage / ".work", ignore_errors=True)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    for r in results:
        r.built = created
    # themes carried over from the published set come first, in the params' order
    order = {t: i for i, t in enumerate(params.themes)}
    results = sorted([*plan.carried, *results], key=lambda r: order.get(r.name, len(order)))
    for r in results:
        if r.status != "succeeded":
            (stage / r.html).unlink(missing_ok=True)

    def owner_of(rel: str) -> str:
        if rel.endswith(".pdf"):  # a PDF belongs to whoever wrote its HTML
            rel = rel[: -len(".pdf")] + ".html"
        for r in results:
            if rel in (r.html, r.ipynb) or rel in r.written:
                return r.name
        return "set"

    # PDFs of the other reader-facing documents (headless Chromium)
    t_pdf = time.perf_counter()
    documents = set_documents(results, params, stage)
    # a carried-over page keeps its PDF (the same HTML, byte for byte); the rest are printed
    kept = {
        d["html"]: {"pdf": pdf.as_posix(), "pages": page_count(stage / pdf)}
        for d in documents
        if d["print"] and (stage / (pdf := Path(d["html"]).with_suffix(".pdf"))).is_file()
    }
    printed = dict(printed_early)
    printed.update(
        print_documents(
            stage,
            [
                d["html"]
                for d in documents
                if d["print"] and d["html"] not in {**kept, **printed_early}
            ],
            jobs,
            printer=printer,
        )
    )
    printer.close()
    for d in documents:
        d.update({**kept, **printed}.get(d["html"], {}))
    t_pdf = time.perf_counter() - t_pdf

    manifest = {
        "sia_year": year,
        "created": created,
        "status": "succeeded" if all(r.status == "succeeded" for r in results) else "failed",
        "dataset": {
            "path": str(data_path),
            "fingerprint": ds.fingerprint,
            "synthetic_tables": ds.meta.get("synthetic_tables", []),
            "generator": ds.meta.get("generator"),
            "coverage": ds.meta.get("coverage"),
            "rows": {t: v["rows"] for t, v in ds.meta.get("tables", {}).items()},
        },
        "inputs": plan.inputs,
        "reused_from": plan.reused_from or None,
        "params_sha256": params.hashes,
        "packages": versions(),
        "code_sha256": code_hash(nb_dir),
        "jobs": jobs,
        "themes_run": [n for n in [*themes, "overview"] if n not in reused],
        "notebooks": [
            {
                "name": r.name,
                "kind": r.kind,
                "title": r.title,
                "status": r.status,
                "seconds": r.seconds,
                "error": r.error,
                "html": r.html if r.status == "succeeded" else None,
                "ipynb": r.ipynb,
                "built": r.built,
            }
            for r in results
        ],
        "tables": sorted(p.name for p in (stage / "tables").glob("*.csv")),
        "documents": documents,
        "privacy_check": "not run",
        "timings_seconds": {
            "load_and_validate": round(plan.t_data, 2),
            "execute_and_export": round(t_exec, 2),
            "pdf": round(t_pdf, 2),
            "pdf_while_the_overview_ran": round(early.seconds, 2),
        },
    }
    (stage / "index.html").write_text(
        index_html(results, year, ds, manifest, params, documents), encoding="utf-8"
    )
    log.info("notebooks finished: %s", manifest["status"])
    handler.flush()

    # privacy: no victim identifier may appear in any file of the set, the manifest included
    leaks = leaks_in(stage, victim_tokens(ds), extra={"manifest.json": json.dumps(manifest)})
    for leak in leaks:
        log.error("privacy check failed: %s", leak)
    if leaks:
        for r in results:
            if any(leak.startswith((r.html, r.ipynb)) for leak in leaks):
                r.status, r.error = "failed", "victim identifiers found in the output"
        for leak in leaks:  # never keep a leaking file, even unpublished
            (stage / leak.split(" (")[0]).unlink(missing_ok=True)
        manifest["status"] = "failed"
    manifest["privacy_check"] = "passed" if not leaks else f"failed: {leaks}"
    manifest["timings_seconds"]["total"] = round(time.perf_counter() - plan.t_start, 2)
    skip = {"manifest.json", "run.log"}
    files = inventory(stage, skip=skip)
    manifest["files"] = {rel: {**v, "owner": owner_of(rel)} for rel, v in files.items()}
    text = json.dumps(manifest, indent=2) + "\n"
    (stage / "manifest.json").write_text(text, encoding="utf-8")
    handler.flush()

    # verify every file against the manifest on disk; publish only a complete, clean set
    problems = verify(stage, manifest["files"], skip=skip)
    problems += [f"privacy check failed: {leak}" for leak in leaks]
    published = manifest["status"] == "succeeded" and not problems
    if published:
        log.info("report set verified (%d files); publishing to %s", len(files), final)
        handler.flush()
        swap_in(stage, final)
        return RunResult(out_dir=final, notebooks=results, manifest=manifest)
    for pr in problems:
        log.error("not published: %s", pr)
    handler.flush()
    failed = final.with_name(f"{final.name}.failed")
    kept = stage
    if not failed.exists() or (failed / MARKER).is_file():
        discard(failed)
        stage.rename(failed)
        kept = failed
    return RunResult(
        out_dir=kept, notebooks=results, manifest=manifest, published=False, problems=problems
    )
