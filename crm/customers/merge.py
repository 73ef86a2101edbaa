"""Merge a duplicate customer into the one that stays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from crm import events
from crm.actors import Actor
from crm.columns import utcnow
from crm.customers import policies, repository
from crm.customers.models import Customer
from crm.customers.service import clean_fields, derive, flush_unique, snapshot
from crm.errors import FieldError, NotFound, ValidationFailed
from crm.interactions.models import Interaction
from crm.segments.merging import move_memberships
from crm.validation import Errors

# Fields the target takes from the source when its own are empty.
FILLED_FIELDS = (
    "email",
    "phone",
    "given_name",
    "family_name",
    "company",
    "locale",
    "time_zone",
    "external_ref",
    "owner_id",
)
UNIQUE_FIELDS = ("email", "external_ref")


@dataclass
class MergeResult:
    customer: Customer
    moved_interactions: int


async def _load_pair(
    session: AsyncSession, actor: Actor, target_id: int, source_id: int
) -> tuple[Customer, Customer]:
    found = await repository.by_ids(session, actor, [target_id, source_id])
    for name, wanted in (("target_id", target_id), ("source_id", source_id)):
        if wanted not in found:
            raise NotFound("No customer with that ID.", field=name)
    return found[target_id], found[source_id]


def _check(
    target: Customer,
    source: Customer,
    expected_target_version: int | None,
    expected_source_version: int | None,
) -> None:
    errors = Errors()
    for name, customer in (("source_id", source), ("target_id", target)):
        if customer.archived_at is not None or customer.merged_into_id is not None:
            errors.add(name, "ARCHIVED", f"The customer of {name} is archived.")
    for name, customer, expected in (
        ("expected_target_version", target, expected_target_version),
        ("expected_source_version", source, expected_source_version),
    ):
        if expected is not None and customer.version != expected:
            errors.add(
                name,
                "CONFLICT",
                f"The customer is at version {customer.version}, not {expected}: "
                "someone changed it. Reload and retry.",
            )
    errors.raise_if_any()


def _merged_fields(target: Customer, source: Customer) -> dict[str, Any]:
    """What the target becomes: its own values first, the source's in the gaps."""
    fields = {
        name: getattr(source, name)
        for name in FILLED_FIELDS
        if getattr(target, name) is None and getattr(source, name) is not None
    }
    known = {t.lower() for t in target.tags}
    tags = [*target.tags, *(t for t in source.tags if t.lower() not in known)]
    attributes = {**source.attributes, **target.attributes}
    # The union must still obey the limits (50 tags, 100 attributes, 16 KiB).
    fields.update(clean_fields({"tags": tags, "attributes": attributes}))
    return fields


async def merge_customers(
    session: AsyncSession,
    actor: Actor,
    *,
    target_id: int,
    source_id: int,
    expected_target_version: int | None = None,
    expected_source_version: int | None = None,
) -> MergeResult:
    """Fold `source` into `target`: its interactions, its gaps, then archive it."""
    policies.can_merge(actor)
    if target_id == source_id:
        message = "A customer cannot be merged into itself."
        raise ValidationFailed([FieldError("source_id", "SAME_CUSTOMER", message)])
    target, source = await _load_pair(session, actor, target_id, source_id)
    _check(target, source, expected_target_version, expected_source_version)
    fields = _merged_fields(target, source)
    before_target, before_source = snapshot(target), snapshot(source)
    now = utcnow()

    moved_keys = [name for name in UNIQUE_FIELDS if name in fields]
    if moved_keys:
        # Free the unique keys on the source first, or the target's write collides.
        for name in moved_keys:
            setattr(source, name, None)
        derive(source)
        await flush_unique(session)

    moved = await session.execute(
        update(Interaction)
        .where(Interaction.customer_id == source.id)  # type: ignore[arg-type]
        .values(
            customer_id=target.id,
            updated_at=now,
            version=Interaction.version + 1,  # type: ignore[operator]
        )
        .execution_options(synchronize_session="fetch")
    )
    moved_count = moved.rowcount or 0  # type: ignore[attr-defined]

    for name, value in fields.items():
        setattr(target, name, value)
    derive(target)
    target.updated_at = now
    source.archived_at = now
    source.merged_into_id = target.id
    source.updated_at = now
    await flush_unique(session)

    assert target.id is not None and source.id is not None
    # The source leaves its segments; the target takes its static places.
    segments = await move_memberships(
        session, actor, source_id=source.id, target_id=target.id
    )
    await events.record_many(
        session,
        actor,
        [
            {
                "action": "customer.merged",
                "entity_type": "Customer",
                "entity_id": target.id,
                "changes": events.diff(before_target, snapshot(target)),
                "payload": {
                    "source_id": source.id,
                    "moved_interactions": moved_count,
                    "segments_left": segments.left,
                    "segments_entered": segments.entered,
                },
            },
            {
                "action": "customer.merged_into",
                "entity_type": "Customer",
                "entity_id": source.id,
                "changes": events.diff(before_source, snapshot(source)),
                "payload": {"target_id": target.id},
            },
        ],
    )
    return MergeResult(customer=target, moved_interactions=moved_count)
