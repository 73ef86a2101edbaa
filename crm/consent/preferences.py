"""Contact preferences: preferred channel, contact frequency, language.

One row per customer once anything was stated; no row reads as "not stated".
Setting a field to null clears it; fields left out keep their value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm import events
from crm.actors import Actor
from crm.columns import utcnow
from crm.consent import policies
from crm.consent.models import ContactChannel, ContactFrequency, ContactPreference
from crm.consent.service import dialect_insert, my_active_id, open_customer
from crm.validation import Errors, clean_enum, clean_locale

FIELDS = ("preferred_channel", "contact_frequency", "language")


def clean_preferences(data: Mapping[str, Any]) -> dict[str, Any]:
    errors = Errors()
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name == "preferred_channel":
            cleaned[name] = clean_enum(errors, name, value, ContactChannel)
        elif name == "contact_frequency":
            cleaned[name] = clean_enum(errors, name, value, ContactFrequency)
        elif name == "language":
            cleaned[name] = clean_locale(errors, name, value)
        else:
            errors.add(name, "UNKNOWN_FIELD", f"{name} cannot be set.")
    if not data:
        errors.add(None, "REQUIRED", "Give at least one preference to set.")
    errors.raise_if_any()
    return cleaned


def snapshot(row: ContactPreference | None) -> dict[str, Any]:
    return {name: getattr(row, name) if row is not None else None for name in FIELDS}


async def _apply(
    session: AsyncSession, actor: Actor, customer_id: int, fields: Mapping[str, Any]
) -> ContactPreference:
    before_row = await session.get(ContactPreference, customer_id)
    before = snapshot(before_row)
    after = {**before, **fields}
    now = utcnow()
    insert = dialect_insert(session)
    stmt = insert(ContactPreference).values(
        customer_id=customer_id, updated_by=actor.ref, updated_at=now, **after
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={
            **{name: stmt.excluded[name] for name in fields},
            "updated_by": stmt.excluded.updated_by,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    changes = events.diff(before, after)
    if changes or before_row is None:
        await session.execute(stmt)
        await events.record(
            session,
            actor,
            action="preferences.changed",
            entity_type="Customer",
            entity_id=customer_id,
            changes={f"preferences.{k}": v for k, v in changes.items()},
            payload={"customer_id": customer_id, **after},
        )
    if before_row is not None:
        await session.refresh(before_row)
        return before_row
    row = await session.get(ContactPreference, customer_id)
    assert row is not None
    return row


async def set_my_preferences(
    session: AsyncSession, actor: Actor, data: Mapping[str, Any]
) -> ContactPreference:
    """The signed-in customer states how they like to be contacted."""
    customer_id = await my_active_id(session, actor)
    return await _apply(session, actor, customer_id, clean_preferences(data))


async def set_preferences(
    session: AsyncSession, actor: Actor, customer_id: int, data: Mapping[str, Any]
) -> ContactPreference:
    """Staff (or a partner with customers:write) note a customer's preferences."""
    policies.can_set_preferences(actor)
    fields = clean_preferences(data)
    customer = await open_customer(session, actor, customer_id)
    assert customer.id is not None
    return await _apply(session, actor, customer.id, fields)


async def preferences_by_customer(
    session: AsyncSession, customer_ids: Sequence[int]
) -> dict[int, ContactPreference]:
    """Preferences of many customers the caller already reads, in one statement."""
    wanted = list(set(customer_ids))
    if not wanted:
        return {}
    rows = await session.scalars(
        select(ContactPreference).where(col(ContactPreference.customer_id).in_(wanted))
    )
    return {row.customer_id: row for row in rows}


async def my_preferences(
    session: AsyncSession, actor: Actor
) -> ContactPreference | None:
    customer_id = await my_active_id(session, actor)
    return await session.get(ContactPreference, customer_id)
