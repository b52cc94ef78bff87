"""Output sets are safe by construction (issue #10): verified swaps, partial runs, locks,
workers that die with the run, and faults (disk full, SIGKILL, two runs at once).

The run-level tests use two tiny notebook templates (a parameters cell and a cell that
writes one table through the toolkit's ledger) so that the pipeline, not the analysis, is
what they time; the real templates are covered by ``test_pipeline.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from kcpp_analysis.core import outputset
from kcpp_analysis.core.errors import KcppError
from kcpp_analysis.run.pipeline import run_report as _run_report

YEAR = "2025-26"


def run_report(**kw):
    """These tests re-run into one folder with the fault environment changed (KCPP_TEST_*),
    which is not an input kcpp knows of, so every run computes afresh (``--fresh``); reuse
    of an unchanged set has its own tests below."""
    return _run_report(fresh=True, **kw)


TINY_CELL = """\
import os, time, pathlib
from kcpp_analysis.core.ledger import record_written
name = theme or "overview"
if os.environ.get("KCPP_TEST_FAIL") == name:
    raise RuntimeError("deliberately broken")
time.sleep(float(os.environ.get("KCPP_TEST_SLEEP", "0")))
p = pathlib.Path(output_dir) / "tables" / f"{name}_table.csv"
p.parent.mkdir(parents=True, exist_ok=True)
rows = int(os.environ.get("KCPP_TEST_ROWS", "3"))
var = os.environ.get("KCPP_TEST_STAMP_FROM", "KCPP_TEST_STAMP")  # which variable to stamp
stamp = os.environ.get(var, "1" if var == "KCPP_TEST_STAMP" else "unset")
p.write_text("a,b\\n" + f"{stamp},2\\n" * rows)
record_written(p)
print(name, "done")
"""


def _tiny_templates(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for fname in ("theme_report.ipynb", "sia_overview.ipynb"):
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell(
            'year = "2025/26"\ndata_dir = ""\noutput_dir = ""\ntheme = None'
        )
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell(TINY_CELL)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.write(nb, folder / fname)
    return folder


@pytest.fixture()
def tiny(tmp_path):
    return _tiny_templates(tmp_path / "templates")


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _published_set(demo_dir: Path, tmp_path: Path, tiny: Path) -> tuple[Path, dict[str, str]]:
    """A set published by a first good run of the tiny notebooks into ``tmp_path/out``, and
    the SHA-256 of each of its files (what a later run must keep or change)."""
    out = tmp_path / "out"
    assert run_report(data=demo_dir, out=out, notebooks=tiny, jobs=2).ok
    return out, _hashes(out / YEAR)


def _cli(args: list[str], env: dict | None = None, **kw) -> subprocess.Popen:
    e = {**os.environ, "COLUMNS": "400", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "kcpp_analysis.run.cli", *args],
        env=e,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        **kw,
    )


# -- unit: the folder rules -----------------------------------------------------------------


def test_verify_flags_empty_truncated_leftover_and_unlisted_files(tmp_path):
    d = tmp_path / "set"
    d.mkdir()
    (d / "a.html").write_text("page")
    (d / "b.csv").write_text("x\n1\n")
    files = outputset.inventory(d)
    assert outputset.verify(d, files) == []
    (d / "b.csv").write_text("x\n")  # truncated after the manifest was written
    (d / "c.csv").write_text("")  # empty and unlisted
    (d / "risk.html.tmp").write_text("half")
    files["gone.csv"] = {"bytes": 3, "sha256": "0" * 64}
    problems = outputset.verify(d, files)
    text = "\n".join(problems)
    assert "b.csv: size or SHA-256 differs" in text
    assert "c.csv: not listed" in text
    assert "risk.html.tmp: unfinished temporary file" in text
    assert "gone.csv: listed in the manifest but missing" in text
    (d / "e.csv").write_text("")
    files["e.csv"] = {"bytes": 0, "sha256": hashlib.sha256(b"").hexdigest()}
    assert "e.csv: empty file" in "\n".join(outputset.verify(d, files))


def test_swap_replaces_the_folder_atomically_and_removes_the_old_content(tmp_path):
    target = tmp_path / "2025-26"
    target.mkdir()
    (target / "old.html").write_text("old")
    stage = outputset.new_staging(target)
    (stage / "new.html").write_text("new")
    outputset.swap_in(stage, target)
    assert sorted(p.name for p in target.iterdir()) == ["new.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-26"]


def test_only_marked_staging_folders_are_removed(tmp_path):
    target = tmp_path / "2025-26"
    marked = outputset.new_staging(target)
    (marked / "x").write_text("abandoned")
    mine = tmp_path / ".2025-26.staging-123"  # same pattern, not made by kcpp
    mine.mkdir()
    (mine / "notes.txt").write_text("someone else's")
    other = outputset.new_staging(tmp_path / "2024-25")
    with outputset.exclusive(target):
        gone = outputset.remove_abandoned(target)
    assert gone == [marked]
    assert (mine / "notes.txt").read_text() == "someone else's"
    assert other.exists()


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    target = tmp_path / "2025-26"
    with outputset.exclusive(target):
        code = (
            "from kcpp_analysis.core import outputset\n"
            f"with outputset.exclusive(__import__('pathlib').Path({str(target)!r})): pass\n"
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert r.returncode != 0
        assert f"process {os.getpid()}" in r.stderr and "BusyError" in r.stderr
    # released on exit: a second writer now succeeds
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# -- runs with tiny templates -------------------------------------------------------------


def test_report_refuses_a_folder_it_did_not_write(demo_dir, tmp_path, tiny):
    out = tmp_path / "out"
    (out / YEAR).mkdir(parents=True)
    (out / YEAR / "thesis.docx").write_text("precious")
    with pytest.raises(KcppError, match="not a kcpp report set"):
        run_report(data=demo_dir, out=out, notebooks=tiny, jobs=2)
    assert (out / YEAR / "thesis.docx").read_text() == "precious"


def test_manifest_lists_every_file_with_size_hash_and_owner(demo_dir, tmp_path, tiny):
    res = run_report(data=demo_dir, out=tmp_path / "out", notebooks=tiny, jobs=2)
    assert res.ok and res.published
    d = tmp_path / "out" / YEAR
    m = json.loads((d / "manifest.json").read_text())
    on_disk = {k: v for k, v in _hashes(d).items() if k not in ("manifest.json", "run.log")}
    assert {k: v["sha256"] for k, v in m["files"].items()} == on_disk
    assert m["files"]["tables/risk_table.csv"]["owner"] == "risk"
    assert m["files"]["risk.html"]["owner"] == "risk"
    assert m["files"]["notebooks/overview.ipynb"]["owner"] == "overview"
    assert m["files"]["index.html"]["owner"] == "set"
    assert not any(p.name.startswith(".") for p in d.iterdir())  # no marker, no staging
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f".{YEAR}.lock", YEAR]


def test_a_run_without_chromium_publishes_the_html_set(demo_dir, tmp_path, tiny):
    """No Chromium (the conftest points ``KCPP_CHROMIUM`` at nothing): the HTML set is
    published without PDFs, and the log names the package to install."""
    import os

    assert not Path(os.environ["KCPP_CHROMIUM"]).exists()
    res = run_report(data=demo_dir, out=tmp_path / "out", notebooks=tiny, jobs=2)
    assert res.ok and res.published
    d = tmp_path / "out" / YEAR
    assert not list(d.rglob("*.pdf"))
    m = json.loads((d / "manifest.json").read_text())
    assert m["documents"] and not any(doc.get("pdf") for doc in m["documents"])
    assert "apt-get install chromium" in (d / "run.log").read_text()


def test_a_failed_run_keeps_the_previous_set_and_exits_non_zero(
    demo_dir, tmp_path, tiny, monkeypatch
):
    out, before = _published_set(demo_dir, tmp_path, tiny)
    monkeypatch.setenv("KCPP_TEST_FAIL", "risk")
    monkeypatch.setenv("KCPP_TEST_STAMP", "2")
    res = run_report(data=demo_dir, out=out, notebooks=tiny, jobs=2)
    assert not res.ok and not res.published
    assert _hashes(out / YEAR) == before
    failed = out / f"{YEAR}.failed"
    assert res.out_dir == failed
    m = json.loads((failed / "manifest.json").read_text())
    assert {n["name"]: n["status"] for n in m["notebooks"]}["risk"] == "failed"
    assert "2,2" in (failed / "tables" / "asb_table.csv").read_text()  # this run's output
    # the next good run publishes and replaces the diagnosis folder's content
    monkeypatch.delenv("KCPP_TEST_FAIL")
    assert run_report(data=demo_dir, out=out, notebooks=tiny, jobs=2).ok
    assert "2,2" in (out / YEAR / "tables" / "risk_table.csv").read_text()


def test_a_partial_run_updates_only_its_themes_and_the_overview(
    demo_dir, tmp_path, tiny, monkeypatch, params
):
    out, before = _published_set(demo_dir, tmp_path, tiny)
    monkeypatch.setenv("KCPP_TEST_STAMP", "2")
    res = run_report(data=demo_dir, out=out, notebooks=tiny, jobs=2, themes=["risk"])
    assert res.ok
    after = _hashes(out / YEAR)
    assert set(after) == set(before)  # nothing lost: every theme's page and tables remain
    for t in params.themes:
        changed = after[f"tables/{t}_table.csv"] != before[f"tables/{t}_table.csv"]
        assert changed == (t == "risk"), t
        same_nb = after[f"notebooks/{t}.ipynb"] == before[f"notebooks/{t}.ipynb"]
        assert same_nb == (t != "risk"), t  # papermill stamps each execution's times
    assert after["tables/overview_table.csv"] != before["tables/overview_table.csv"]
    m = json.loads((out / YEAR / "manifest.json").read_text())
    assert [n["name"] for n in m["notebooks"]] == [*params.themes, "overview"]
    assert m["themes_run"] == ["risk", "overview"]
    index = (out / YEAR / "index.html").read_text()
    assert all(f'href="{t}.html"' in index for t in params.themes)


def test_a_rerun_with_nothing_changed_reuses_every_page_and_computes_nothing(
    demo_dir, tmp_path, tiny, monkeypatch
):
    out, before = _published_set(demo_dir, tmp_path, tiny)
    # a notebook that would fail if it ran: the re-run must not run it
    monkeypatch.setenv("KCPP_TEST_FAIL", "risk")
    res = _run_report(data=demo_dir, out=out, notebooks=tiny, jobs=2)
    assert res.ok and res.published
    after = _hashes(out / YEAR)
    changed = {f for f in set(before) | set(after) if before.get(f) != after.get(f)}
    # papermill stamps each execution into the notebook: identical notebooks were not re-run
    assert changed <= {"index.html", "manifest.json", "run.log"}, changed
    m = json.loads((out / YEAR / "manifest.json").read_text())
    assert m["reused_from"] and m["themes_run"] == []
    assert "every page and PDF reused" in (out / YEAR / "run.log").read_text()
    assert all(n["status"] == "succeeded" for n in m["notebooks"])
    # --fresh computes again (and here meets the broken notebook)
    res = _run_report(data=demo_dir, out=out, notebooks=tiny, jobs=2, fresh=True)
    assert not res.ok and not res.published
    assert _hashes(out / YEAR) == after


def test_a_rerun_computes_again_when_an_input_or_a_published_file_changed(
    demo_dir, tmp_path, tiny, params_copy
):
    from kcpp_analysis.config.params import load_params
    from kcpp_analysis.data.dataset import load_dataset
    from kcpp_analysis.run.pipeline.partial import reusable, run_inputs

    out = tmp_path / "out"
    assert _run_report(data=demo_dir, out=out, notebooks=tiny, params_dir=params_copy).ok
    final, ds = out / YEAR, load_dataset(demo_dir)

    def reused() -> bool:
        inputs = run_inputs(load_params(params_copy), ds, "2025/26", tiny, final)
        return reusable(final, inputs) is not None

    assert reused()
    sia = params_copy / "sia.yaml"
    sia.write_text(sia.read_text() + "\n# x\n")
    assert not reused()  # a parameters file changed
    sia.write_text(sia.read_text().replace("\n# x\n", ""))
    assert reused()
    table = final / "tables" / "risk_table.csv"
    original = table.read_text()
    table.write_text("a,b\n9,9\n")
    assert not reused()  # a published file was edited after publication
    table.write_text(original)
    assert reused()
    # last year's set appears beside this one: this year's cells are protected with it
    prev = out / "2024-25"
    prev.mkdir()
    (prev / "manifest.json").write_text(json.dumps({"sia_year": "2024/25", "files": {}}))
    assert not reused()
    (prev / "manifest.json").unlink()
    assert reused()
    nb = nbformat.read(tiny / "theme_report.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('a new section')"))
    nbformat.write(nb, tiny / "theme_report.ipynb")
    assert not reused()  # the code (here a notebook template) changed
    # and a run after an edit computes the page again: the edit does not survive
    table.write_text("a,b\n9,9\n")
    res = _run_report(data=demo_dir, out=out, notebooks=tiny, params_dir=params_copy)
    assert res.ok and not res.manifest["reused_from"]
    assert "9,9" not in table.read_text()


def test_a_partial_run_on_a_set_built_from_other_parameters_or_code_is_refused(
    demo_dir, tmp_path, tiny, params_copy
):
    out, before = _published_set(demo_dir, tmp_path, tiny)
    sia = params_copy / "sia.yaml"
    sia.write_text(sia.read_text() + "\n# changed\n")
    with pytest.raises(KcppError, match="differs in parameters"):
        run_report(data=demo_dir, out=out, notebooks=tiny, themes=["risk"], params_dir=params_copy)
    assert _hashes(out / YEAR) == before
    sia.write_text(sia.read_text().replace("\n# changed\n", ""))
    # the benchmark settings, an analyst's framing file and the severity weights count too
    changes = [
        ("benchmark.yaml", lambda f: f.write_text(f.read_text() + "\n# changed\n")),
        ("framing/serious_violence.md", lambda f: f.write_text("What next: a new approach.\n")),
        ("crime_severity_weights.csv", lambda f: f.write_text("offence_code,weight\n8A,100\n")),
    ]
    for rel, change in changes:
        f = params_copy / rel
        f.parent.mkdir(exist_ok=True)
        old_text = f.read_text() if f.exists() else None
        change(f)
        with pytest.raises(KcppError, match="differs in parameters"):
            run_report(
                data=demo_dir, out=out, notebooks=tiny, themes=["risk"], params_dir=params_copy
            )
        assert _hashes(out / YEAR) == before, rel
        if old_text is None:
            f.unlink()
        else:
            f.write_text(old_text)
    # the same parameters, but a changed notebook template: refused too
    nb = nbformat.read(tiny / "theme_report.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('a new section')"))
    nbformat.write(nb, tiny / "theme_report.ipynb")
    with pytest.raises(KcppError, match="differs in code"):
        run_report(data=demo_dir, out=out, notebooks=tiny, themes=["risk"])
    assert _hashes(out / YEAR) == before
    assert sorted(p.name for p in out.iterdir()) == [f".{YEAR}.lock", YEAR]


# -- faults (subprocesses) ----------------------------------------------------------------


def _report_args(demo_dir, out, tiny, *extra) -> list[str]:
    return [
        "report",
        "--data",
        str(demo_dir),
        "--out",
        str(out),
        "--notebooks",
        str(tiny),
        "--fresh",
        *extra,
    ]


@pytest.mark.slow
def test_disk_full_keeps_the_previous_set(demo_dir, tmp_path, tiny):
    """A file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes big writes fail with EFBIG."""
    out, before = _published_set(demo_dir, tmp_path, tiny)
    limit = 1 << 20

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    p = _cli(
        _report_args(demo_dir, out, tiny, "--jobs", "2"),
        env={"KCPP_TEST_ROWS": "400000", "KCPP_TEST_STAMP": "2"},  # a 2.4 MB table
        preexec_fn=small_disk,
    )
    text, _ = p.communicate(timeout=300)
    assert p.returncode == 1, text
    assert "NOT published" in text
    assert _hashes(out / YEAR) == before
    assert not [d for d in out.iterdir() if ".staging-" in d.name]


def _descendants(pid: int) -> set[int]:
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.add(k)
            todo.append(k)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and prctl")
def test_sigkill_takes_the_workers_with_it_and_the_next_run_cleans_up(demo_dir, tmp_path, tiny):
    out = tmp_path / "out"
    p = _cli(_report_args(demo_dir, out, tiny, "--jobs", "2"), env={"KCPP_TEST_SLEEP": "120"})
    try:
        started = lambda: list(out.glob(f".{YEAR}.staging-*/.work/*/.started"))  # noqa: E731
        assert _wait_for(lambda: len(started()) >= 2, 120), "notebooks never started"
        # wait until both kernels run (worker -> kernel), then kill the parent alone
        assert _wait_for(lambda: len(_descendants(p.pid)) >= 4, 60)
        tree = _descendants(p.pid)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
        assert _wait_for(lambda: not [q for q in tree if _alive(q)], 30), (
            f"{len([q for q in tree if _alive(q)])} of {len(tree)} child processes outlived "
            "the killed run"
        )
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stale = list(out.glob(f".{YEAR}.staging-*"))
    assert len(stale) == 1
    res = run_report(data=demo_dir, out=out, notebooks=tiny, jobs=2)
    assert res.ok
    assert not stale[0].exists()
    assert sorted(d.name for d in out.iterdir()) == [f".{YEAR}.lock", YEAR]


@pytest.mark.slow
def test_two_runs_to_one_folder_one_is_refused_and_the_set_is_never_missing(
    demo_dir, tmp_path, tiny
):
    out = tmp_path / "out"
    assert run_report(data=demo_dir, out=out, notebooks=tiny, jobs=2).ok
    first = _cli(
        _report_args(demo_dir, out, tiny, "--jobs", "2"),
        env={"KCPP_TEST_SLEEP": "4", "KCPP_TEST_STAMP": "2"},
    )
    try:
        assert _wait_for(lambda: list(out.glob(f".{YEAR}.staging-*")), 120)
        second = _cli(_report_args(demo_dir, out, tiny, "--jobs", "1"))
        seen_missing = False
        while second.poll() is None or first.poll() is None:
            seen_missing |= not (out / YEAR / "index.html").exists()
            time.sleep(0.01)
        text2 = second.stdout.read()
        assert second.returncode == 2, text2
        assert f"process {first.pid}" in text2 and "is writing to" in text2
        assert first.returncode == 0, first.stdout.read()
        assert not seen_missing
        assert "2,2" in (out / YEAR / "tables" / "risk_table.csv").read_text()
    finally:
        for q in (first,):
            if q.poll() is None:
                os.killpg(q.pid, signal.SIGKILL)


OVERVIEW_WAITS = """\
import os, pathlib
from kcpp_analysis.core.ledger import record_written
from kcpp_analysis.report.overview import wait_for_themes
flag = pathlib.Path(os.environ["KCPP_THEMES_DONE"])
early = not flag.exists()
wait_for_themes()
tables = sorted(p.name for p in (pathlib.Path(output_dir) / "tables").glob("*_table.csv"))
p = pathlib.Path(output_dir) / "tables" / "overview_table.csv"
p.write_text("started_before_the_themes_ended,themes_seen\\n" + f"{early},{len(tables)}\\n")
record_written(p)
"""


def test_the_overview_starts_while_the_last_theme_runs_and_assesses_after_it(
    demo_dir, tmp_path, tiny, params
):
    nb = nbformat.read(tiny / "sia_overview.ipynb", as_version=4)
    nb.cells[1] = nbformat.v4.new_code_cell(OVERVIEW_WAITS)
    nbformat.write(nb, tiny / "sia_overview.ipynb")
    from kcpp_analysis.run.pipeline.schedule import estimated_work, longest_first

    # the theme the scheduler starts last is the slow one, so the overview must start
    # while it runs
    order = longest_first([{"name": n} for n in params.themes], estimated_work(params))
    last = order[-1]["name"]
    nb = nbformat.read(tiny / "theme_report.ipynb", as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace(
        "time.sleep(", f"time.sleep(6 if name == {last!r} else "
    )
    nbformat.write(nb, tiny / "theme_report.ipynb")
    res = run_report(data=demo_dir, out=tmp_path / "out", notebooks=tiny, jobs=2)
    assert res.ok, res.failures
    row = (res.out_dir / "tables" / "overview_table.csv").read_text().splitlines()[1]
    assert row == f"True,{len(params.themes)}"  # started early; saw every theme's output


def test_wait_for_themes_returns_waits_or_gives_up(tmp_path, monkeypatch):
    from kcpp_analysis.report.overview import wait_for_themes

    monkeypatch.delenv("KCPP_THEMES_DONE", raising=False)
    wait_for_themes(timeout=0)  # not under kcpp report: nothing to wait for
    flag = tmp_path / "work" / "themes-done"
    flag.parent.mkdir()
    monkeypatch.setenv("KCPP_THEMES_DONE", str(flag))
    with pytest.raises(RuntimeError, match="did not end within"):
        wait_for_themes(timeout=0.2)
    flag.write_text("done\n")
    wait_for_themes(timeout=0)
    flag.unlink()
    flag.parent.rmdir()  # the run stopped and its working folder is gone
    with pytest.raises(RuntimeError, match="has stopped"):
        wait_for_themes(timeout=60)


def test_a_first_run_starts_the_theme_with_most_section_work_first(params):
    """With no earlier manifest, themes are ordered by the sections their priorities with
    incident data compute; a priority without incident data adds nothing."""
    from kcpp_analysis.run.pipeline.schedule import estimated_work, longest_first

    work = estimated_work(params)
    per_theme = {
        th.id: sum(1 for pr in th.priorities if pr.selection is not None)
        for th in params.themes.values()
    }
    busiest = max(per_theme, key=per_theme.get)
    jobs = [{"name": n} for n in [*sorted(params.themes), "overview"]]
    order = [j["name"] for j in longest_first(jobs, work)]
    assert order[0] == busiest and order[-1] == "overview"
    import copy

    no_data = copy.deepcopy(params)
    th = no_data.themes[busiest]
    no_data.themes[busiest] = th.model_copy(
        update={"priorities": [p.model_copy(update={"selection": None}) for p in th.priorities]}
    )
    assert estimated_work(no_data)[busiest] == 0


def test_workers_forked_for_a_later_run_see_that_runs_environment(
    demo_dir, tmp_path, tiny, monkeypatch
):
    """Workers are forked from a fork server started by the first run of this process, so
    they would start from its environment; each job carries the run's own instead."""
    from kcpp_analysis.run.pipeline.schedule import worker_context

    assert worker_context().get_start_method() == "forkserver"
    monkeypatch.setenv("KCPP_TEST_STAMP", "7")
    assert run_report(data=demo_dir, out=tmp_path / "a", notebooks=tiny, jobs=2).ok
    monkeypatch.setenv("KCPP_TEST_STAMP", "8")
    monkeypatch.setenv("KCPP_TEST_ROWS", "1")
    res = run_report(data=demo_dir, out=tmp_path / "b", notebooks=tiny, jobs=2)
    assert res.ok, res.failures
    for name in ("risk", "overview"):
        assert (res.out_dir / "tables" / f"{name}_table.csv").read_text() == "a,b\n8,2\n"


def test_kernels_running_side_by_side_share_the_cores_native_threads(
    demo_dir, tmp_path, tiny, monkeypatch
):
    """Each kernel's OpenBLAS (and OpenMP, MKL, numexpr) pool gets the cores divided among the
    notebooks running at once, so their spin-waiting threads do not take each other's cores;
    a limit the user set is theirs to keep."""
    monkeypatch.setenv("KCPP_TEST_STAMP_FROM", "OPENBLAS_NUM_THREADS")
    monkeypatch.setenv("KCPP_TEST_ROWS", "1")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    res = run_report(data=demo_dir, out=tmp_path / "a", notebooks=tiny, jobs=2)
    share = max(1, (os.cpu_count() or 1) // 2)
    assert res.ok and (res.out_dir / "tables" / "risk_table.csv").read_text() == f"a,b\n{share},2\n"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    res = run_report(data=demo_dir, out=tmp_path / "b", notebooks=tiny, jobs=2)
    assert res.ok and (res.out_dir / "tables" / "risk_table.csv").read_text() == "a,b\n3,2\n"
