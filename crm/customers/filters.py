"""The customer filter vocabulary and the orderings a list can take."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement

from crm.customers.models import Customer, LifecycleStage
from crm.filtering import EntitySpec, FieldSpec, RelationSpec
from crm.ids import decode_id
from crm.pagination import SortKey


def _col(name: str) -> Any:
    return lambda: getattr(Customer, name)


def _archived() -> ColumnElement[Any]:
    return Customer.archived_at.is_not(None)  # type: ignore[union-attr]


def _customer_id(value: Any) -> int:
    return decode_id(value, "Customer", field="where.id")


def _staff_id(value: Any) -> int:
    return decode_id(value, "StaffMember", field="where.owner")


def _text(name: str) -> FieldSpec:
    return FieldSpec(_col(name), "string")


CUSTOMER_FIELDS: dict[str, FieldSpec] = {
    "id": FieldSpec(_col("id"), "id", decode_id=_customer_id),
    "external_ref": _text("external_ref"),
    "email": FieldSpec(
        _col("email_key"), "string", normalize=lambda v: v.strip().lower()
    ),
    "phone": _text("phone"),
    "given_name": _text("given_name"),
    "family_name": _text("family_name"),
    "display_name": _text("display_name"),
    "company": _text("company"),
    "locale": _text("locale"),
    "time_zone": _text("time_zone"),
    "lifecycle_stage": FieldSpec(_col("lifecycle_stage"), "enum", enum=LifecycleStage),
    "tags": FieldSpec(_col("tags"), "tags"),
    "owner": FieldSpec(_col("owner_id"), "id", decode_id=_staff_id),
    "created_at": FieldSpec(_col("created_at"), "datetime"),
    "updated_at": FieldSpec(_col("updated_at"), "datetime"),
    "archived": FieldSpec(_archived, "bool"),
}


def _interactions_link() -> ColumnElement[bool]:
    from crm.interactions.models import Interaction

    return Interaction.customer_id == Customer.id  # type: ignore[return-value]


def _interaction_spec() -> EntitySpec:
    from crm.interactions.filters import INTERACTION_SPEC

    return INTERACTION_SPEC


CUSTOMER_SPEC = EntitySpec(
    name="Customer",
    fields=CUSTOMER_FIELDS,
    relations={"interactions": RelationSpec(_interaction_spec, _interactions_link)},
)


class CustomerOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    DISPLAY_NAME = "display_name"


def customer_order(field: CustomerOrderField, descending: bool) -> list[SortKey]:
    column = getattr(Customer, field.value)
    kind = "str" if field is CustomerOrderField.DISPLAY_NAME else "datetime"
    return [
        SortKey(column, kind, descending),  # type: ignore[arg-type]
        SortKey(Customer.id, "int", descending),  # type: ignore[arg-type]
    ]


def mentions_archived(where: Any) -> bool:
    """Whether a filter mentions `archived` (if not, archived rows are hidden)."""
    if isinstance(where, dict):
        return any(
            key == "archived" or mentions_archived(value)
            for key, value in where.items()
        )
    if isinstance(where, list):
        return any(mentions_archived(item) for item in where)
    return False
