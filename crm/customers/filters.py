"""The customer filter vocabulary and the orderings a list can take."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement

from crm.actors import Actor
from crm.consent.filters import CONSENT_FILTERS
from crm.customers.models import Customer, LifecycleStage
from crm.errors import Forbidden
from crm.filtering import EntitySpec, FieldSpec, RelationSpec
from crm.pagination import SortKey
from crm.permissions import Permission


def _col(name: str) -> Any:
    return lambda entity: getattr(entity, name)


def _archived(entity: Any) -> ColumnElement[Any]:
    return entity.archived_at.is_not(None)  # type: ignore[no-any-return]


def _text(name: str) -> FieldSpec:
    return FieldSpec(_col(name), "string")


CUSTOMER_FIELDS: dict[str, FieldSpec] = {
    "id": FieldSpec(_col("id"), "id", id_type="Customer"),
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
    "owner": FieldSpec(
        _col("owner_id"), "id", id_type="StaffMember", permission=Permission.STAFF_READ
    ),
    "created_at": FieldSpec(_col("created_at"), "datetime"),
    "updated_at": FieldSpec(_col("updated_at"), "datetime"),
    "archived": FieldSpec(_archived, "bool"),
}


def _interactions_link(customer: Any, interaction: Any) -> ColumnElement[bool]:
    return interaction.customer_id == customer.id  # type: ignore[no-any-return]


def _interaction_spec() -> EntitySpec:
    from crm.interactions.filters import INTERACTION_SPEC

    return INTERACTION_SPEC


def _insight_spec() -> EntitySpec:
    from crm.insights.filters import INSIGHT_SPEC

    return INSIGHT_SPEC


def _insight_link(customer: Any, insight: Any) -> ColumnElement[bool]:
    from crm.insights.filters import insight_link

    return insight_link(customer, insight)


CUSTOMER_SPEC = EntitySpec(
    name="Customer",
    model=lambda: Customer,
    fields=CUSTOMER_FIELDS,
    relations={
        "interactions": RelationSpec(
            _interaction_spec,
            _interactions_link,
            permission=Permission.INTERACTIONS_READ,
        ),
        # The customer's current insight measures (one row, crm.insights).
        "insights": RelationSpec(
            _insight_spec,
            _insight_link,
            many=False,
            permission=Permission.INSIGHTS_READ,
        ),
    },
    # Consent (needs consents:read) and contact preferences (crm.consent).
    custom=CONSENT_FILTERS,
)


class CustomerOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    DISPLAY_NAME = "display_name"
    # Insight measures (crm.insights.filters.ORDER_COLUMNS).
    PREDICTED_VALUE = "predicted_value"
    REVENUE_12M = "revenue_12m"
    MARGIN_12M = "margin_12m"
    PROBABILITY_ALIVE = "probability_alive"
    LOYALTY = "loyalty"
    RECENCY_DAYS = "recency_days"


_OWN_COLUMNS = frozenset(
    {
        CustomerOrderField.CREATED_AT,
        CustomerOrderField.UPDATED_AT,
        CustomerOrderField.DISPLAY_NAME,
    }
)


def customer_order(
    field: CustomerOrderField, descending: bool, actor: Actor | None = None
) -> list[SortKey]:
    """The sort keys of `field`; sorting by an insight needs the right to read it
    (INSIGHTS_READ, and FINANCIALS_READ for financial ones): FORBIDDEN otherwise,
    also when no actor is given."""
    if field not in _OWN_COLUMNS:
        from crm.insights.filters import order_expression

        expression, kind, financial = order_expression(field.value, Customer.id)
        path = "order_by.field"
        for permission in (Permission.INSIGHTS_READ, Permission.FINANCIALS_READ):
            if permission is Permission.FINANCIALS_READ and not financial:
                continue
            if actor is None or not actor.can(permission):
                raise Forbidden(f"You may not sort by {field.name}.", field=path)
        return [
            SortKey(expression, kind, descending),
            SortKey(Customer.id, "int", descending),  # type: ignore[arg-type]
        ]
    column = getattr(Customer, field.value)
    own_kind = "str" if field is CustomerOrderField.DISPLAY_NAME else "datetime"
    return [
        SortKey(column, own_kind, descending),  # type: ignore[arg-type]
        SortKey(Customer.id, "int", descending),  # type: ignore[arg-type]
    ]


def mentions_archived(where: Any) -> bool:
    """Whether a filter says anything about the customer's own `archived` (if not,
    archived rows are hidden). A condition inside a relation filter is about
    other rows, so it does not count."""
    if isinstance(where, dict):
        if where.get("archived") is not None:
            return True
        return any(mentions_archived(where.get(key)) for key in ("and", "or", "not"))
    if isinstance(where, list):
        return any(mentions_archived(item) for item in where)
    return False
