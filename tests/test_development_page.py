"""docs/development.md's layout names every module of the package, and only those."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "src" / "napari_colorgan"


def listed_modules() -> set[str]:
    """Paths of the .py files the page's layout block lists, from its indentation."""
    page = (ROOT / "docs" / "development.md").read_text()
    block = re.search(r"## Layout.*?```text\n(.*?)```", page, re.S).group(1)
    stack: list[str] = []
    found = set()
    for line in block.splitlines():
        name = line.strip().split(" ")[0]
        depth = (len(line) - len(line.lstrip())) // 2
        if depth == 0 and name != "src/napari_colorgan/":
            break  # tests/, benchmarks/, docs/: outside the package
        del stack[depth:]
        if name.endswith("/"):
            stack.append(name.rstrip("/"))
        elif name.endswith(".py"):
            found.add("/".join([*stack[1:], name]))
    return found


def test_the_layout_lists_every_module_and_no_other():
    actual = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" or p.parent == PACKAGE
    }
    assert listed_modules() == actual


def test_each_subpackage_docstring_names_its_modules():
    missing = []
    for init in PACKAGE.glob("core/*/__init__.py"):
        text = init.read_text()
        for module in init.parent.glob("*.py"):
            if module.name != "__init__.py" and f"``{module.stem}``" not in text:
                missing.append(f"{init.parent.name}: {module.stem}")
    assert missing == []
