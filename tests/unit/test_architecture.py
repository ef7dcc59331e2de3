"""Which way imports flow (STYLE.md, "The house"), checked on the source with `ast`: nothing runs.

launcher -> {tracker, gateway, device_sim} -> shopfloor. The ground imports nothing of ours, the
services import neither the launcher nor each other, no modules import each other in a circle
(module-level and function-level imports alike), and no import inside a function points up.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the house, floor by floor: a package may import its own floor's package and those below it
FLOORS = {"shopfloor": 0, "tracker": 1, "gateway": 1, "device_sim": 1, "launcher": 2}


@dataclass(frozen=True)
class Import:
    """One import of one of our modules: where it is written and what it loads."""

    source: str  # the importing module
    target: str  # the imported module (the package's __init__ when the name is no module)
    line: int
    in_function: bool
    type_checking: bool  # under `if TYPE_CHECKING:`: for the type checker only, never run

    def __str__(self) -> str:
        where = "in a function" if self.in_function else "at module level"
        return f"{self.source}:{self.line} imports {self.target} ({where})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of our packages -> its file."""
    return {
        _module_name(path): path
        for package in FLOORS
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an `from ... import` names, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    package = source.split(".") if is_package else source.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(source: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    known = modules()
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    module = _resolve(source, is_package, node)
    for alias in node.names:
        submodule = f"{module}.{alias.name}"
        yield submodule if submodule in known else module


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(
    node: ast.AST, in_function: bool, type_checking: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function, type_checking
        inner = in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        checking = type_checking or (isinstance(child, ast.If) and _is_type_checking(child))
        yield from _walk(child, inner, checking)


@cache
def imports() -> tuple[Import, ...]:
    """Every import of one of our modules, written anywhere in our packages."""
    found = []
    for source, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node, in_function, type_checking in _walk(tree, False, False):
            for target in _targets(source, is_package, node):
                if target.split(".")[0] in FLOORS:
                    found.append(Import(source, target, node.lineno, in_function, type_checking))
    return tuple(found)


def _package(module: str) -> str:
    return module.split(".")[0]


def _of(package: str) -> list[Import]:
    return [i for i in imports() if _package(i.source) == package]


def test_the_ground_imports_nothing_of_ours_above_it() -> None:
    wrong = [str(i) for i in _of("shopfloor") if _package(i.target) != "shopfloor"]
    assert not wrong, "shopfloor/ is the ground, it imports nothing of ours:\n" + "\n".join(wrong)


def test_services_import_neither_the_launcher_nor_each_other() -> None:
    wrong = [
        str(i)
        for package in ("tracker", "gateway", "device_sim")
        for i in _of(package)
        if _package(i.target) not in (package, "shopfloor")
    ]
    assert not wrong, "a service imports only itself and shopfloor/:\n" + "\n".join(wrong)


def test_no_function_hides_an_import_that_points_up() -> None:
    wrong = [
        str(i)
        for i in imports()
        if i.in_function and FLOORS[_package(i.target)] > FLOORS[_package(i.source)]
    ]
    assert not wrong, "imports that point up the house, hidden in functions:\n" + "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for i in imports():
        if not i.type_checking and i.target != i.source:
            graph[i.source].add(i.target)
    cycles = _cycles(graph)
    lines = [
        " <-> ".join(cycle)
        + "\n    "
        + "\n    ".join(
            str(i)
            for i in imports()
            if i.source in cycle and i.target in cycle and not i.type_checking
        )
        for cycle in cycles
    ]
    assert not cycles, "modules that import each other:\n" + "\n".join(lines)


def test_the_wheel_ships_our_packages_and_no_top_level_bench() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(shipped) == sorted(f"{package}*" for package in FLOORS)
    assert not (ROOT / "bench").exists(), "the benchmarks live in launcher/bench/"
    assert project["project"]["scripts"]["shopfloor"] == "launcher.cli:main"
