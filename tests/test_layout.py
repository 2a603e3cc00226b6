"""The source tree keeps its shape: imports point one way, and functions stay short.

GUI (``_widgets``) and CLI (``cli``) build on ``core``; ``core`` never imports them or the
package root; the widgets never import the CLI; and no module imports itself round a cycle.
The imports are read from the sources (lazy and TYPE_CHECKING ones included), not run.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "napari_colorgan"
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported_modules(name: str) -> set[str]:
    """Modules of this package that ``name`` imports anywhere in its source."""
    path = SOURCES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # ``from pkg import module`` imports the module.
            found.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in SOURCES)
    return {m for m in found if m in SOURCES and m != name}


GRAPH = {name: imported_modules(name) for name in SOURCES}


def test_the_tree_is_parsed():
    assert "napari_colorgan.core.infer.graph" in GRAPH
    assert "napari_colorgan.core.model.colorizer" in GRAPH["napari_colorgan.core.infer.job"]


def _layer(name: str) -> str:
    for prefix in ("napari_colorgan.core", "napari_colorgan.cli", "napari_colorgan._widgets"):
        if name == prefix or name.startswith(prefix + "."):
            return prefix.rpartition(".")[2]
    return "root"


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [("core", {"root", "cli", "_widgets"}), ("_widgets", {"cli"}), ("cli", {"_widgets"})],
)
def test_imports_point_one_way(source, forbidden):
    wrong = [
        f"{a} -> {b}"
        for a, targets in GRAPH.items()
        for b in targets
        if _layer(a) == source and _layer(b) in forbidden
    ]
    assert wrong == []


def test_no_import_cycles():
    # Tarjan-free: a module is on a cycle when it can reach itself.
    def reachable(start: str) -> set[str]:
        seen, todo = set(), list(GRAPH[start])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo.extend(GRAPH[m])
        return seen

    cycles = sorted(m for m in GRAPH if m in reachable(m))
    assert cycles == []


def test_functions_are_short():
    long = []
    for name, path in SOURCES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert long == []
