"""The package's layers point one way, with no import circle and no private name shared.

The import graph is read from the source with :mod:`ast`, function-level imports included
(an import inside a function is still a dependency). Layers, bottom to top: core, config,
data, analysis, presentation, report, run; the package root only re-exports (lazily).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "kcpp_analysis"
LAYERS = ["core", "config", "data", "analysis", "presentation", "report", "run"]
MAX_LINES = 700


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, list[str], int]]:
    """(imported module, names, line) for every import of the package in ``path``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("kcpp_analysis"):
                continue
            names = [a.name for a in node.names]
            for n in names:  # "from pkg import module" imports the module
                if f"{mod}.{n}" in modules:
                    out.append((f"{mod}.{n}", [], node.lineno))
            out.append((mod, names, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("kcpp_")]
    return out


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_belongs_to_a_layer():
    stray = [m for m in _modules() if m != "kcpp_analysis" and _layer(m) is None]
    assert stray == [], f"modules outside the layer folders: {stray}"


def test_no_import_points_up_a_layer():
    modules = _modules()
    upward = []
    for mod, path in modules.items():
        if mod == "kcpp_analysis":
            continue  # the root only re-exports the public API, lazily
        own = _layer(mod)
        for target, _, line in _imports(path, modules):
            if target == "kcpp_analysis" or target.startswith("kcpp_analysis.core"):
                if target == "kcpp_analysis":
                    upward.append(f"{mod}:{line} imports the package root")
                continue
            t = _layer(target)
            if t is not None and t > own:
                upward.append(f"{mod}:{line} ({LAYERS[own]}) imports {target} ({LAYERS[t]})")
    assert upward == [], "\n".join(upward)


def test_the_import_graph_has_no_circle():
    modules = _modules()
    graph = {
        m: {t for t, _, _ in _imports(p, modules) if t in modules and t != m}
        for m, p in modules.items()
        if m != "kcpp_analysis"
    }
    # a package's __init__ re-exporting its own modules is not a circle with them
    for m in graph:
        graph[m] = {t for t in graph[m] if not m.startswith(t + ".")}
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node) :] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()

    for m in sorted(graph):
        visit(m)
    assert cycles == [], "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles[:10])


def test_no_private_name_is_imported_from_another_module():
    modules = _modules()
    found = []
    for mod, path in modules.items():
        for target, names, line in _imports(path, modules):
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            if private and target != mod:
                found.append(f"{mod}:{line} imports {private} from {target}")
            if target.rsplit(".", 1)[-1].startswith("_") and target in modules:
                found.append(f"{mod}:{line} imports the private module {target}")
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: _module_name(p))
def test_no_module_is_over_700_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{_module_name(path)} has {n} lines (split it by concern)"


# --------------------------------------------------------------------------------------
# dependencies: every third-party package the code imports is declared, and the three
# install routes (pyproject, the pip lock, the conda environment) agree
# --------------------------------------------------------------------------------------
#: import name -> distribution name where they differ
DIST = {"PIL": "pillow", "yaml": "pyyaml", "jinja2": "jinja2", "jupyter_client": "jupyter_client"}


def _declared() -> set[str]:
    import tomllib

    deps = tomllib.loads((PKG.parent / "pyproject.toml").read_text())["project"]["dependencies"]
    return {d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in deps}


def _third_party_imports() -> set[str]:
    import sys

    out = set()
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module.split(".")[0]]
            else:
                continue
            out |= {n for n in names if n not in sys.stdlib_module_names and n != "kcpp_analysis"}
    return out


def test_every_imported_package_is_declared():
    declared = _declared()
    missing = sorted(
        n
        for n in _third_party_imports()
        if DIST.get(n, n).lower().replace("-", "_") not in {d.replace("-", "_") for d in declared}
    )
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_declared_package_is_used_and_pinned_in_both_environments():
    declared = {d.replace("-", "_") for d in _declared()}
    used = {DIST.get(n, n).lower().replace("-", "_") for n in _third_party_imports()}
    # tools the package runs rather than imports: the kernel and the notebook UI
    runtime = {"ipykernel", "jupyterlab", "nbclient", "pandera"}
    unused = sorted(declared - used - runtime)
    assert not unused, f"declared but never imported: {unused}"
    norm = lambda n: n.lower().replace("-", "_")  # noqa: E731
    lock = {
        norm(m)
        for m in re.findall(
            r"(?m)^([A-Za-z0-9_.-]+)==", (PKG.parent / "requirements.lock").read_text()
        )
    }
    env = {
        norm(m)
        for m in re.findall(
            r"(?m)^\s*-\s*([A-Za-z0-9_.-]+)=", (PKG.parent / "environment.yml").read_text()
        )
    }
    for d in declared:
        assert d in lock, f"{d} is not pinned in requirements.lock"
        assert d in env, f"{d} is not in environment.yml"
