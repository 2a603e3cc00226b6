"""What every frozen settings dataclass can say about itself: defaults, choices, JSON.

``TrainConfig`` and ``ColorizeConfig`` inherit :class:`Settings`, so the CLI and the widgets
read any setting's default and allowed values the same way, and every config round-trips
through JSON naming unknown keys instead of failing deep inside.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Literal, TypeVar

T = TypeVar("T")

#: Numeric precision of a run (``"auto"``: see
#: :func:`~napari_colorgan.core.devices.compute_dtype`). Here, not beside that function, so
#: configs are read without importing torch.
Precision = Literal["auto", "fp32", "bf16", "fp16"]


def from_plain(cls: type[T], data: dict[str, Any]) -> T:
    """Build the dataclass ``cls`` from plain JSON ``data``, naming unknown keys."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{cls.__name__} got unknown settings {unknown}; known: {sorted(names)}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**kwargs)


class Settings:
    """Mixin for frozen settings dataclasses: defaults, choices and the JSON round trip."""

    @classmethod
    def default(cls, name: str) -> Any:
        """The default value of setting ``name`` (what the CLI and widgets start from)."""
        return {f.name: f.default for f in dataclasses.fields(cls)}[name]  # type: ignore[arg-type]

    @classmethod
    def choices(cls, name: str) -> tuple[str, ...]:
        """The allowed values of a setting typed as a ``Literal``."""
        return typing.get_args(typing.get_type_hints(cls)[name])

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Inverse of :meth:`to_dict`."""
        return from_plain(cls, data)
