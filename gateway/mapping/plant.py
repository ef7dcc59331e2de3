"""The machine sources of a plant file (its `machines[].source`), and those of the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from shopfloor.yaml_file import YamlFileError, read_yaml

from .spec import MachineSource, Source


class MappingFileError(YamlFileError):
    """A plant file whose machine sources cannot be used (`path:line: where: message`)."""


class _Machine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # the plant file's machines are real machines: an id is never a pattern here
    id: str = Field(min_length=1, max_length=128, pattern=r"^[^/+#\s{}]+$")
    counter_wrap: int | None = Field(default=None, gt=1, le=2**63)
    source: Source | None = None


def _as_machine(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


class _Plant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    machines: list[Annotated[_Machine, BeforeValidator(_as_machine)]] = []


def load_sources(path: Path) -> list[MachineSource]:
    """Every machine of the plant file that declares a source, in the file's order."""
    plant = read_yaml(path, _Plant, error=MappingFileError)
    return [
        MachineSource(id=m.id, counter_wrap=m.counter_wrap, source=m.source)
        for m in plant.machines
        if m.source is not None
    ]
