from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crm.actors import Anonymous, StaffActor
from crm.audit.models import AuditEvent, OutboxEvent
from crm.customers import service
from crm.customers.merge import merge_customers
from crm.customers.models import Customer
from crm.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from crm.interactions.models import Interaction
from crm.interactions.service import log_interaction
from crm.permissions import StaffRole
from crm.staff.models import StaffMember

NOTE = {
    "channel": "email",
    "direction": "inbound",
    "kind": "note",
    "occurred_at": datetime(2024, 5, 1, tzinfo=UTC),
}


async def create(db, actor, **data):
    async with db.transaction() as session:
        return await service.create_customer(session, actor, data)


async def log(db, actor, customer_id, n):
    async with db.transaction() as session:
        for i in range(n):
            data = {**NOTE, "subject": f"note {i}"}
            await log_interaction(session, actor, customer_id, data)


async def merge(db, actor, **kwargs):
    async with db.transaction() as session:
        return await merge_customers(session, actor, **kwargs)


async def state(db):
    """Customers, interaction owners and audit/outbox counts: what a merge touches."""
    async with db.transaction(write=False) as session:
        customers = (
            await session.scalars(select(Customer).order_by(Customer.id))
        ).all()
        owners = (
            await session.scalars(
                select(Interaction.customer_id).order_by(Interaction.id)
            )
        ).all()
        audits = await session.scalar(select(func.count()).select_from(AuditEvent))
        outbox = await session.scalar(select(func.count()).select_from(OutboxEvent))
    snapshots = [(c.id, c.version, service.snapshot(c)) for c in customers]
    return snapshots, owners, audits, outbox


async def load(db, customer_id):
    async with db.transaction(write=False) as session:
        return await session.get(Customer, customer_id)


async def pair(db, actor):
    target = await create(
        db,
        actor,
        given_name="Ann",
        company="Acme",
        tags=["vip", "North"],
        attributes={"tier": "gold", "source": "web"},
    )
    source = await create(
        db,
        actor,
        external_ref="crm-7",
        email="Ann@Example.com",
        phone="+44 20 1234",
        given_name="Annie",
        family_name="Lee",
        company="Other",
        tags=["north", "newsletter"],
        attributes={"tier": "silver", "shoe": 38},
    )
    return target, source


async def test_a_merge_moves_interactions_fills_gaps_and_archives_the_source(
    db, system_actor
):
    target, source = await pair(db, system_actor)
    await log(db, system_actor, source.id, 3)
    await log(db, system_actor, target.id, 1)

    result = await merge(db, system_actor, target_id=target.id, source_id=source.id)

    assert result.moved_interactions == 3
    assert result.customer.id == target.id
    merged = await load(db, target.id)
    assert merged.email == "Ann@Example.com"
    assert merged.email_key == "ann@example.com"
    assert merged.external_ref == "crm-7"
    assert merged.phone == "+44 20 1234"
    assert merged.family_name == "Lee"
    assert (merged.given_name, merged.company) == ("Ann", "Acme")  # target wins
    assert merged.tags == ["vip", "North", "newsletter"]
    assert merged.attributes == {"tier": "gold", "source": "web", "shoe": 38}
    assert merged.version == target.version + 1
    old = await load(db, source.id)
    assert old.archived_at is not None
    assert old.merged_into_id == target.id
    # The moved unique keys are freed on the source; the rest of it stays.
    assert (old.email, old.email_key, old.external_ref) == (None, None, None)
    assert old.phone == "+44 20 1234"
    _, owners, _, _ = await state(db)
    assert owners == [target.id] * 4


async def test_a_merge_leaves_audit_rows_on_both_customers(db, system_actor):
    target, source = await pair(db, system_actor)
    await log(db, system_actor, source.id, 2)

    await merge(db, system_actor, target_id=target.id, source_id=source.id)

    async with db.transaction(write=False) as session:
        audits = (
            await session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ).all()
        outbox = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.topic == "customer.merged")
            )
        ).all()
    by_action = {(a.action, a.entity_id): a for a in audits}
    merged = by_action["customer.merged", target.id]
    assert merged.changes["email"] == {"before": None, "after": "Ann@Example.com"}
    assert merged.changes["tags"]["after"] == ["vip", "North", "newsletter"]
    into = by_action["customer.merged_into", source.id]
    assert into.changes["merged_into_id"] == {"before": None, "after": target.id}
    assert into.changes["email"] == {"before": "Ann@Example.com", "after": None}
    # The source's own history stays under its id.
    assert ("customer.created", source.id) in by_action
    (event,) = outbox
    assert event.payload["source_id"] == source.id
    assert event.payload["moved_interactions"] == 2


async def test_the_target_keeps_its_own_unique_keys(db, system_actor):
    target = await create(db, system_actor, email="t@example.com", external_ref="t")
    source = await create(db, system_actor, email="s@example.com", external_ref="s")

    await merge(db, system_actor, target_id=target.id, source_id=source.id)

    merged, old = await load(db, target.id), await load(db, source.id)
    assert (merged.email, merged.external_ref) == ("t@example.com", "t")
    assert (old.email, old.external_ref) == ("s@example.com", "s")


async def test_the_target_takes_the_source_owner_when_it_has_none(db, system_actor):
    async with db.transaction() as session:
        staff = StaffMember(
            email="sam@firm.test",
            email_key="sam@firm.test",
            display_name="Sam",
            role=StaffRole.AGENT.value,
        )
        session.add(staff)
    target = await create(db, system_actor, email="t@example.com")
    source = await create(db, system_actor, email="s@example.com", owner_id=staff.id)

    await merge(db, system_actor, target_id=target.id, source_id=source.id)

    assert (await load(db, target.id)).owner_id == staff.id


async def test_merging_a_customer_into_itself_is_refused(db, system_actor):
    target, _ = await pair(db, system_actor)
    before = await state(db)

    with pytest.raises(ValidationFailed) as raised:
        await merge(db, system_actor, target_id=target.id, source_id=target.id)

    assert [(e.field, e.code) for e in raised.value.errors] == [
        ("source_id", "SAME_CUSTOMER")
    ]
    assert await state(db) == before


async def test_an_already_merged_source_is_refused(db, system_actor):
    target, source = await pair(db, system_actor)
    third = await create(db, system_actor, email="third@example.com")
    await merge(db, system_actor, target_id=target.id, source_id=source.id)
    before = await state(db)

    with pytest.raises(ValidationFailed) as raised:
        await merge(db, system_actor, target_id=third.id, source_id=source.id)

    assert [(e.field, e.code) for e in raised.value.errors] == [
        ("source_id", "ARCHIVED")
    ]
    assert await state(db) == before


async def test_an_archived_target_is_refused(db, system_actor):
    target, source = await pair(db, system_actor)
    async with db.transaction() as session:
        await service.archive_customer(session, system_actor, target.id, archived=True)
    before = await state(db)

    with pytest.raises(ValidationFailed) as raised:
        await merge(db, system_actor, target_id=target.id, source_id=source.id)

    assert [(e.field, e.code) for e in raised.value.errors] == [
        ("target_id", "ARCHIVED")
    ]
    assert await state(db) == before


@pytest.mark.parametrize("missing", ["target_id", "source_id"])
async def test_a_missing_customer_is_not_found(db, system_actor, missing):
    target, source = await pair(db, system_actor)
    ids = {"target_id": target.id, "source_id": source.id, missing: 999_999}
    before = await state(db)

    with pytest.raises(NotFound) as raised:
        await merge(db, system_actor, **ids)

    assert raised.value.field == missing
    assert await state(db) == before


async def test_stale_expected_versions_are_a_conflict(db, system_actor):
    target, source = await pair(db, system_actor)
    await log(db, system_actor, source.id, 1)
    before = await state(db)

    with pytest.raises(ValidationFailed) as raised:
        await merge(
            db,
            system_actor,
            target_id=target.id,
            source_id=source.id,
            expected_target_version=target.version + 1,
            expected_source_version=source.version + 5,
        )

    assert [(e.field, e.code) for e in raised.value.errors] == [
        ("expected_target_version", "CONFLICT"),
        ("expected_source_version", "CONFLICT"),
    ]
    assert await state(db) == before


async def test_current_expected_versions_are_accepted(db, system_actor):
    target, source = await pair(db, system_actor)

    result = await merge(
        db,
        system_actor,
        target_id=target.id,
        source_id=source.id,
        expected_target_version=target.version,
        expected_source_version=source.version,
    )

    assert result.moved_interactions == 0


async def test_a_union_over_the_tag_limit_is_refused(db, system_actor):
    target = await create(db, system_actor, tags=[f"t{i}" for i in range(30)])
    source = await create(db, system_actor, tags=[f"s{i}" for i in range(30)])
    before = await state(db)

    with pytest.raises(ValidationFailed) as raised:
        await merge(db, system_actor, target_id=target.id, source_id=source.id)

    assert [(e.field, e.code) for e in raised.value.errors] == [("tags", "TOO_MANY")]
    assert await state(db) == before


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        (StaffActor(staff_id=1, role=StaffRole.ANALYST), Forbidden),
        (StaffActor(staff_id=1, role=StaffRole.AGENT), Forbidden),
        (Anonymous(), Unauthenticated),
    ],
)
async def test_a_caller_without_merge_permission_changes_nothing(
    db, system_actor, actor, error
):
    target, source = await pair(db, system_actor)
    await log(db, system_actor, source.id, 1)
    before = await state(db)

    with pytest.raises(error):
        await merge(db, actor, target_id=target.id, source_id=source.id)

    assert await state(db) == before
