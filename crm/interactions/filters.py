"""The interaction filter vocabulary and orderings."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement

from crm.filtering import EntitySpec, FieldSpec, RelationSpec
from crm.interactions.models import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Source,
    Visibility,
)
from crm.pagination import SortKey
from crm.permissions import Permission


def _col(name: str) -> Any:
    return lambda entity: getattr(entity, name)


def _enum(name: str, enum: type[StrEnum]) -> FieldSpec:
    return FieldSpec(_col(name), "enum", enum=enum)


INTERACTION_FIELDS: dict[str, FieldSpec] = {
    "id": FieldSpec(_col("id"), "id", id_type="Interaction"),
    "customer_id": FieldSpec(_col("customer_id"), "id", id_type="Customer"),
    "occurred_at": FieldSpec(_col("occurred_at"), "datetime"),
    "created_at": FieldSpec(_col("created_at"), "datetime"),
    "channel": _enum("channel", Channel),
    "direction": _enum("direction", Direction),
    "kind": _enum("kind", InteractionKind),
    "visibility": _enum("visibility", Visibility),
    "source": _enum("source", Source),
    "subject": FieldSpec(_col("subject"), "string"),
    "body": FieldSpec(
        _col("body"), "string", permission=Permission.INTERNAL_NOTES_READ
    ),
    "amount": FieldSpec(_col("amount"), "decimal"),
    "currency": FieldSpec(_col("currency"), "string", normalize=lambda v: v.upper()),
    "cost_to_serve": FieldSpec(
        _col("cost_to_serve"), "decimal", permission=Permission.FINANCIALS_READ
    ),
    "rating": FieldSpec(_col("rating"), "int"),
    "sentiment": FieldSpec(_col("sentiment"), "float"),
    "external_ref": FieldSpec(_col("external_ref"), "string"),
}


def _customer_link(interaction: Any, customer: Any) -> ColumnElement[bool]:
    return customer.id == interaction.customer_id  # type: ignore[no-any-return]


def _customer_spec() -> EntitySpec:
    from crm.customers.filters import CUSTOMER_SPEC

    return CUSTOMER_SPEC


INTERACTION_SPEC = EntitySpec(
    name="Interaction",
    model=lambda: Interaction,
    fields=INTERACTION_FIELDS,
    relations={
        "customer": RelationSpec(
            _customer_spec,
            _customer_link,
            many=False,
            permission=Permission.CUSTOMERS_READ,
        )
    },
)


class InteractionOrderField(StrEnum):
    OCCURRED_AT = "occurred_at"
    CREATED_AT = "created_at"


def interaction_order(field: InteractionOrderField, descending: bool) -> list[SortKey]:
    return [
        SortKey(getattr(Interaction, field.value), "datetime", descending),
        SortKey(Interaction.id, "int", descending),  # type: ignore[arg-type]
    ]
