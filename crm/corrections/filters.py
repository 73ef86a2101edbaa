"""The correction filter vocabulary and ordering."""

from __future__ import annotations

from typing import Any

from crm.corrections.models import CorrectionStatus, ProfileCorrection
from crm.filtering import EntitySpec, FieldSpec
from crm.pagination import SortKey


def _col(name: str) -> Any:
    return lambda entity: getattr(entity, name)


CORRECTION_SPEC = EntitySpec(
    name="Correction",
    model=lambda: ProfileCorrection,
    fields={
        "status": FieldSpec(_col("status"), "enum", enum=CorrectionStatus),
        "requested_at": FieldSpec(_col("requested_at"), "datetime"),
    },
)


def correction_order() -> list[SortKey]:
    """Newest first (IDs grow with time)."""
    return [SortKey(ProfileCorrection.id, "int", descending=True)]  # type: ignore[arg-type]
