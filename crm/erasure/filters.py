"""The erasure request filter vocabulary and ordering."""

from __future__ import annotations

from typing import Any

from crm.erasure.models import ErasureRequest, ErasureSource, ErasureStatus
from crm.filtering import EntitySpec, FieldSpec
from crm.pagination import SortKey


def _col(name: str) -> Any:
    return lambda entity: getattr(entity, name)


ERASURE_SPEC = EntitySpec(
    name="ErasureRequest",
    model=lambda: ErasureRequest,
    fields={
        "status": FieldSpec(_col("status"), "enum", enum=ErasureStatus),
        "source": FieldSpec(_col("source"), "enum", enum=ErasureSource),
        "requested_at": FieldSpec(_col("requested_at"), "datetime"),
        "due_at": FieldSpec(_col("due_at"), "datetime"),
    },
)


def erasure_order() -> list[SortKey]:
    """Newest first (IDs grow with time)."""
    return [SortKey(ErasureRequest.id, "int", descending=True)]  # type: ignore[arg-type]
