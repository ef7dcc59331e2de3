"""YAML files validated with pydantic, every problem reported as `path:line: where: message`.

The plant file (tracker) and scenario files (device_sim) are read this way: the line of each
problem comes from the YAML node marks, duplicate keys are refused, and checks pydantic cannot
make (names referring to other entries) add problems of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    line: int | None
    where: str
    message: str


class YamlFileError(ValueError):
    """A YAML file that cannot be used; `str()` gives one `path:line: where: message` per line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(
            "\n".join(
                f"{path}{'' if p.line is None else f':{p.line}'}: "
                f"{p.where + ': ' if p.where else ''}{p.message}"
                for p in problems
            )
        )


def line_of(root: yaml.Node, loc: Sequence[str | int]) -> int:
    """1-based line of the deepest node `loc` reaches (a mapping key's line for a field)."""
    node, line = root, root.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    node, line = value, key.start_mark.line
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _duplicate_keys(node: yaml.Node, loc: Loc = ()) -> Iterator[tuple[Loc, int, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                yield loc, key.start_mark.line + 1, f"duplicate key {name!r}"
            seen.add(name)
            yield from _duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, i))


def where(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)


M = TypeVar("M", bound=BaseModel)


def parse_yaml(
    text: str,
    path: Path,
    model: type[M],
    checks: Callable[[M], Iterator[tuple[Loc, str]]] | None = None,
    error: type[YamlFileError] = YamlFileError,
) -> M:
    """Validate a YAML document as `model`, then with `checks`; raise `error` listing every
    problem with its line."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        raise error(path, [Problem(line, "", f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise error(path, [Problem(None, "", f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if root is None:
        raise error(path, [Problem(None, "", "is empty")])
    problems = [Problem(line, where(loc), msg) for loc, line, msg in _duplicate_keys(root)]
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        problems += [
            Problem(line_of(root, err["loc"]), where(err["loc"]), err["msg"])
            for err in exc.errors()
        ]
    else:
        if checks is not None:
            problems += [
                Problem(line_of(root, loc), where(loc), msg) for loc, msg in checks(validated)
            ]
    if problems:
        raise error(path, sorted(problems, key=lambda p: p.line or 0))
    return validated


def read_yaml(
    path: Path,
    model: type[M],
    checks: Callable[[M], Iterator[tuple[Loc, str]]] | None = None,
    error: type[YamlFileError] = YamlFileError,
) -> M:
    """Read and validate the YAML file at `path` (see `parse_yaml`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(path, [Problem(None, "", f"cannot be read: {exc}")]) from None
    return parse_yaml(text, path, model, checks, error)
