"""The import graph is the architecture: docs/architecture.md's layer table, enforced.

Every `import` of a `fitwheel` module — at module level, under `TYPE_CHECKING` or inside a
function — must go to a package the importing package's row allows. Nothing outside the probe
and the edge looks at the running machine.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "fitwheel"
TABLE_ROW = re.compile(r"^\| `(fitwheel(?:\.[a-z_]+)?)` \|[^|]*\|([^|]*)\|$")


def layer_table() -> dict[str, set[str]]:
    """package -> the packages it may import, from docs/architecture.md."""
    allowed: dict[str, set[str]] = {}
    for line in (ROOT / "docs" / "architecture.md").read_text().splitlines():
        match = TABLE_ROW.match(line.strip())
        if match:
            name = match.group(1).removeprefix("fitwheel").removeprefix(".") or "__init__"
            allowed[name] = {part.strip() for part in match.group(2).split(",") if part.strip()}
    return allowed


def package_of(path: Path) -> str:
    """`src/fitwheel/index/client.py` -> `index`; `src/fitwheel/detect.py` -> `detect`."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported fitwheel module) for every import in the file, wherever it stands."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: only the vendorable runtime uses them, inside itself
                continue
            names = [node.module or ""]
            if node.module == "fitwheel":
                names = [f"fitwheel.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == "fitwheel" or name.startswith("fitwheel."):
                yield node.lineno, name


def target_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_the_table_covers_every_package_and_has_no_cycle() -> None:
    table = layer_table()
    present = {package_of(p) for p in PACKAGE.rglob("*.py")}
    assert present - set(table) == set(), "add a row to docs/architecture.md"
    for name, allowed in table.items():
        assert allowed <= set(table), (name, allowed - set(table))
    # A layer table with a cycle would allow a cycle in the code.
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name not in done:
            for other in table[name]:
                visit(other, (*path, name))
            done.add(name)

    for name in table:
        visit(name, ())


def test_every_import_follows_the_layer_table() -> None:
    table = layer_table()
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        package = package_of(path)
        for line, module in imports(path):
            target = target_package(module)
            if target != package and target not in table[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {package} imports {module}")
    assert wrong == []


def test_runtime_imports_nothing_outside_the_standard_library() -> None:
    import sys

    for path in (PACKAGE / "runtime").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            for root in roots:
                assert root in sys.stdlib_module_names, f"{path}: imports {root}"


MACHINE_CALLS = re.compile(r"\bimport platform\b|\bfrom platform import\b|\bsys_tags\(")


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if package_of(p) not in ("probe", "detect")),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_only_the_probe_looks_at_the_running_machine(path: Path) -> None:
    assert MACHINE_CALLS.findall(path.read_text()) == []


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The reader is not fooled by an import tucked into a function."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from fitwheel.select import choose\n    return choose\n")
    assert list(imports(module)) == [(2, "fitwheel.select")]
