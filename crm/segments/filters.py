"""The segment filter vocabulary and the orderings a segment list can take."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from crm.filtering import EntitySpec, FieldSpec
from crm.pagination import SortKey
from crm.segments.models import Segment, SegmentKind


def _col(name: str) -> Any:
    return lambda entity: getattr(entity, name)


SEGMENT_SPEC = EntitySpec(
    name="Segment",
    model=lambda: Segment,
    fields={
        "id": FieldSpec(_col("id"), "id", id_type="Segment"),
        "name": FieldSpec(_col("name"), "string"),
        "kind": FieldSpec(_col("kind"), "enum", enum=SegmentKind),
        "builtin_key": FieldSpec(_col("builtin_key"), "string"),
        "customer_visible": FieldSpec(_col("customer_visible"), "bool"),
        "size": FieldSpec(_col("size"), "int"),
        "refreshed_at": FieldSpec(_col("refreshed_at"), "datetime"),
        "created_at": FieldSpec(_col("created_at"), "datetime"),
    },
)


class SegmentOrderField(StrEnum):
    NAME = "name"
    CREATED_AT = "created_at"
    SIZE = "size"


_KINDS = {
    SegmentOrderField.NAME: "str",
    SegmentOrderField.CREATED_AT: "datetime",
    SegmentOrderField.SIZE: "int",
}


def segment_order(field: SegmentOrderField, descending: bool) -> list[SortKey]:
    return [
        SortKey(getattr(Segment, field.value), _KINDS[field], descending),  # type: ignore[arg-type]
        SortKey(Segment.id, "int", descending),  # type: ignore[arg-type]
    ]
