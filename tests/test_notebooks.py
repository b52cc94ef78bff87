"""The committed notebooks: no outputs, one parameters cell, no logic."""

import ast
import json

import pytest

from kcpp_analysis.core.paths import notebooks_dir

NOTEBOOKS = sorted(notebooks_dir().glob("*.ipynb"))


def test_both_templates_exist():
    assert {p.name for p in NOTEBOOKS} == {"theme_report.ipynb", "sia_overview.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], path.name
            assert cell.get("execution_count") is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_single_tagged_parameters_cell_and_no_function_definitions(path):
    nb = json.loads(path.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = "".join(cell["source"])
        # IPython magics (%autoreload) are not Python; the rest of the cell must be
        tree = ast.parse("\n".join(ln for ln in code.splitlines() if not ln.startswith("%")))
        defs = [
            n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))
        ]
        assert not defs, f"{path.name} defines functions: logic belongs in kcpp_analysis"
        src = "".join(cell["source"])
        assert "sys.path" not in src


def _git_state(root):
    """New files (untracked or ignored) in the repository, from
    ``git status --porcelain --ignored``: what a run could add to the tree."""
    import subprocess

    res = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        pytest.skip("not a git checkout")
    return {ln for ln in res.stdout.splitlines() if ln.startswith(("??", "!!"))}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["theme_report.ipynb", "sia_overview.ipynb"])
def test_notebook_runs_as_is_and_writes_nothing_into_the_repository(tmp_path, monkeypatch, name):
    """What an analyst gets from "Run all" in JupyterLab: no parameters injected at all.
    The defaults use the demo dataset (prepared in the cache) and write under
    outputs/interactive/; both are pointed at tmp_path here, and the repository's
    `git status --porcelain --ignored` must not change."""
    import nbformat
    import papermill as pm

    from kcpp_analysis.core.paths import PROJECT_ROOT

    monkeypatch.setenv("KCPP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KCPP_OUTPUTS", str(tmp_path / "outputs"))
    before = _git_state(PROJECT_ROOT)
    out = tmp_path / "executed.ipynb"
    pm.execute_notebook(
        str(notebooks_dir() / name),
        str(out),
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    assert _git_state(PROJECT_ROOT) == before
    nb = nbformat.read(out, as_version=4)
    text = json.dumps([c.get("outputs") for c in nb.cells])
    assert "SYNTHETIC DATA" in text
    if name == "theme_report.ipynb":
        assert "Tackling violence, abuse and exploitation" in text
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    assert (tmp_path / "outputs" / "interactive" / "tables").is_dir()
    assert (tmp_path / "cache" / "prepared" / "demo" / "dataset.json").exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_is_tagged_for_the_html(path):
    """Readers see outputs only: every code cell is tagged remove-input or remove-cell."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] == "code":
            assert tags & {"remove-input", "remove-cell"}, "".join(cell["source"])[:60]
