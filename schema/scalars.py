"""Input conversion: strawberry inputs to the plain dicts the domain takes."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry


def plain(value: Any) -> Any:
    """Inputs, enums and lists as plain Python (UNSET keys dropped, enum values)."""
    if value is strawberry.UNSET:
        return strawberry.UNSET
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is strawberry.UNSET:
                continue
            key = f.name.rstrip("_")
            out[key] = plain(v)
        return out
    return value


def provided(input_: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields a client actually sent (null included, omitted excluded)."""
    data = plain(input_)
    return {k: v for k, v in data.items() if k not in exclude}


def given(value: Any) -> Any:
    """An optional input's value, None when it was omitted or null."""
    return None if value is strawberry.UNSET else value
