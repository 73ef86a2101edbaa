"""Customer filters over consent and contact preferences (for lists and segments).

Plugged into CUSTOMER_SPEC as custom keys:

    customers(where: {consent: {purpose: MARKETING, channel: EMAIL, granted: true}})
    customers(where: {preferences: {contactFrequency: {neq: NEVER}}})

`consent` needs the right to read consents. `preferences` needs no more than
reading customers: preferences are contact data, visible on Customer.preferences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlmodel import col

from crm.actors import Actor
from crm.consent import rules
from crm.consent.models import (
    ConsentChannel,
    ConsentPurpose,
    ContactChannel,
    ContactFrequency,
    ContactPreference,
)
from crm.errors import BadInput
from crm.filtering import (
    EntitySpec,
    FieldSpec,
    compile_where,
    require_field_permission,
)
from crm.permissions import Permission


def _enum(enum: type[Any], raw: Any, path: str) -> Any:
    try:
        return enum(raw.lower() if isinstance(raw, str) else raw)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise BadInput(
            f"{path}: {raw!r} is not one of {allowed}.", field=path
        ) from None


def consent_condition(
    value: Any, actor: Actor, path: str, entity: Any
) -> ColumnElement[bool]:
    """{purpose, channel=any, granted=true}: the consent that applies now is (not)
    granted, defaults applied (one indexed lookup per customer)."""
    require_field_permission(Permission.CONSENTS_READ, actor, path)
    if not isinstance(value, Mapping):
        raise BadInput(
            f"{path} must be an object: purpose, channel, granted.", field=path
        )
    unknown = set(value) - {"purpose", "channel", "granted"}
    if unknown:
        raise BadInput(f"{path}: unknown keys {sorted(unknown)}.", field=path)
    if value.get("purpose") is None:
        raise BadInput(f"{path}.purpose is required.", field=f"{path}.purpose")
    purpose = _enum(ConsentPurpose, value["purpose"], f"{path}.purpose")
    channel = _enum(
        ConsentChannel, value.get("channel") or ConsentChannel.ANY, f"{path}.channel"
    )
    if not purpose.per_channel and channel is not ConsentChannel.ANY:
        raise BadInput(
            f"{path}.channel: {purpose.value} is decided for every channel; use ANY.",
            field=f"{path}.channel",
        )
    wanted = value.get("granted", True)
    if wanted is None:
        wanted = True
    if not isinstance(wanted, bool):
        raise BadInput(
            f"{path}.granted must be true or false.", field=f"{path}.granted"
        )
    condition = rules.granted(purpose, channel, entity.id)
    return condition if wanted else ~condition


def _preference(name: str) -> Callable[[Any], ColumnElement[Any]]:
    """The customer's stated `name`, NULL when not stated (a correlated lookup by
    primary key)."""

    def column(customer: Any) -> ColumnElement[Any]:
        return (
            select(getattr(ContactPreference, name))
            .where(col(ContactPreference.customer_id) == customer.id)
            .correlate(customer)
            .scalar_subquery()
        )

    return column


PREFERENCES_SPEC = EntitySpec(
    name="Preferences",
    # Compiled over the customer: each field looks its value up by customer id.
    model=lambda: _customer_model(),
    fields={
        "preferred_channel": FieldSpec(
            _preference("preferred_channel"), "enum", enum=ContactChannel
        ),
        "contact_frequency": FieldSpec(
            _preference("contact_frequency"), "enum", enum=ContactFrequency
        ),
        "language": FieldSpec(_preference("language"), "string"),
    },
)


def _customer_model() -> type[Any]:
    from crm.customers.models import Customer

    return Customer


def preferences_condition(
    value: Any, actor: Actor, path: str, entity: Any
) -> ColumnElement[bool]:
    """A where over the customer's contact preferences; unstated ones are NULL, so
    `contactFrequency: {neq: NEVER}` keeps customers who never said."""
    return compile_where(PREFERENCES_SPEC, value, actor, path=path, entity=entity)


# Add to CUSTOMER_SPEC's `custom` (crm/customers/filters.py).
CONSENT_FILTERS: dict[str, Callable[[Any, Actor, str, Any], ColumnElement[bool]]] = {
    "consent": consent_condition,
    "preferences": preferences_condition,
}
