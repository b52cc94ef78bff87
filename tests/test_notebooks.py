"""The committed notebooks: no outputs, one parameters cell, no logic."""

import ast
import json

import pytest

from kcpp_analysis.paths import notebooks_dir

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


@pytest.mark.slow
def test_theme_notebook_runs_as_is_with_its_default_parameters(tmp_path):
    """What an analyst gets from "Run all" in JupyterLab: no parameters injected at all
    (the defaults use the demo dataset and write tables to outputs/interactive/)."""
    import nbformat
    import papermill as pm

    out = tmp_path / "theme.ipynb"
    pm.execute_notebook(
        str(notebooks_dir() / "theme_report.ipynb"),
        str(out),
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    text = json.dumps([c.get("outputs") for c in nb.cells])
    assert "Tackling violence, abuse and exploitation" in text and "SYNTHETIC DATA" in text
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
