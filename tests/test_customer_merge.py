from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from crm.actors import Anonymous, StaffActor
from crm.audit.models import AuditEvent, OutboxEvent
from crm.customers import service
from crm.customers.merge import merge_customers
from crm.customers.models import Customer
from crm.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from crm.ids import decode_id, to_global_id
from crm.interactions.models import Interaction
from crm.interactions.service import log_interaction
from crm.permissions import StaffRole
from crm.segments.models import SegmentMembership
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


# --- segment memberships, through the GraphQL API ---------------------------------

SEGMENT_CREATE = """mutation($input: SegmentCreateInput!) {
  segmentCreate(input: $input) { segment { id size } errors { code } }
}"""
MEMBERS_ADD = """mutation($input: SegmentMembersInput!) {
  segmentMembersAdd(input: $input) { segment { size } errors { code } }
}"""
SEGMENT_REFRESH = """mutation($id: ID!) {
  segmentRefresh(input: {id: $id}) { segment { size } entered left errors { code } }
}"""
SEGMENT = """query($id: ID!) {
  segment(id: $id) {
    size
    members(first: 50) { nodes { id } }
    history(first: 50) { edges { node { change customerId } } }
  }
}"""
CUSTOMER_MERGE = """mutation($t: ID!, $s: ID!) {
  customerMerge(input: {targetId: $t, sourceId: $s}) {
    customer { id } movedInteractions errors { field code }
  }
}"""


def cid(pk):
    return to_global_id("Customer", pk)


async def new_segment(api, token, **input_):
    payload = (await api.data(SEGMENT_CREATE, {"input": input_}, token=token))[
        "segmentCreate"
    ]
    assert payload["errors"] == []
    return payload["segment"]["id"]


async def static_segment(api, token, members):
    sid = await new_segment(api, token, name="Hand-picked", kind="STATIC")
    added = (
        await api.data(
            MEMBERS_ADD,
            {"input": {"segmentId": sid, "customerIds": [cid(m) for m in members]}},
            token=token,
        )
    )["segmentMembersAdd"]
    assert added["errors"] == [] and added["segment"]["size"] == len(members)
    return sid


async def gql_merge(api, token, target, source):
    data = await api.data(
        CUSTOMER_MERGE, {"t": cid(target), "s": cid(source)}, token=token
    )
    return data["customerMerge"]


async def segment_view(api, token, sid):
    segment = (await api.data(SEGMENT, {"id": sid}, token=token))["segment"]
    members = sorted(n["id"] for n in segment["members"]["nodes"])
    history = [
        (e["node"]["change"], e["node"]["customerId"])
        for e in segment["history"]["edges"]
    ]
    return segment["size"], members, history


async def stints(api, sid):
    """(customer, current?) of every stint of a segment, oldest first."""
    async with api.db.transaction(write=False) as session:
        found = await session.execute(
            select(col(SegmentMembership.customer_id), col(SegmentMembership.left_at))
            .where(col(SegmentMembership.segment_id) == decode_id(sid, "Segment"))
            .order_by(col(SegmentMembership.id))
        )
        return [(customer, left is None) for customer, left in found]


async def membership_events(api):
    async with api.db.transaction(write=False) as session:
        found = await session.scalars(
            select(OutboxEvent)
            .where(col(OutboxEvent.topic).like("segment.customer_%"))
            .order_by(col(OutboxEvent.id))
        )
        return [(e.topic, e.payload) for e in found]


async def test_a_merge_hands_the_sources_static_memberships_to_the_target(api):
    # given a static segment whose only member is the source
    target = await api.customer(display_name="Ann")
    source = await api.customer(display_name="Annie")
    _, token = await api.staff("manager")
    sid = await static_segment(api, token, [source])
    before = await membership_events(api)

    # when the source is merged into the target
    payload = await gql_merge(api, token, target, source)

    # then the target is a member in its place and the size is unchanged
    assert payload["errors"] == []
    size, members, history = await segment_view(api, token, sid)
    assert (size, members) == (1, [cid(target)])
    assert await stints(api, sid) == [(source, False), (target, True)]
    # and the history shows the source's stint closed and the target's opened
    assert sorted(history) == sorted(
        [("ENTERED", cid(source)), ("LEFT", cid(source)), ("ENTERED", cid(target))]
    )
    # and each change is one outbox event, shaped as the segment's own events
    events = (await membership_events(api))[len(before) :]
    assert [(topic, p["id"]) for topic, p in events] == [
        ("segment.customer_left", source),
        ("segment.customer_entered", target),
    ]
    own_shape = set(before[0][1])
    for _, p in events:
        assert set(p) == own_shape
        assert (p["entity"], p["segment"]) == ("Customer", sid)
        assert p["segment_id"] == decode_id(sid, "Segment")
    assert events[0][1]["at"] == events[1][1]["at"]
    async with api.db.transaction(write=False) as session:
        merged = await session.scalar(
            select(OutboxEvent).where(col(OutboxEvent.topic) == "customer.merged")
        )
    assert merged is not None
    assert (merged.payload["segments_left"], merged.payload["segments_entered"]) == (
        1,
        1,
    )


async def test_a_target_already_in_the_static_segment_keeps_its_one_stint(api):
    # given a static segment holding the source, the target and one other customer
    target = await api.customer(display_name="Ann")
    source = await api.customer(display_name="Annie")
    other = await api.customer(display_name="Bob")
    _, token = await api.staff("manager")
    sid = await static_segment(api, token, [source, target, other])
    before = await membership_events(api)

    # when the source is merged into the target
    assert (await gql_merge(api, token, target, source))["errors"] == []

    # then the segment shrinks by one and the target has no second stint
    size, members, _ = await segment_view(api, token, sid)
    assert size == 2
    assert members == sorted([cid(target), cid(other)])
    assert sorted(await stints(api, sid)) == sorted(
        [(source, False), (target, True), (other, True)]
    )
    events = (await membership_events(api))[len(before) :]
    assert [(topic, p["id"]) for topic, p in events] == [
        ("segment.customer_left", source)
    ]


async def test_a_dynamic_segment_loses_the_source_and_waits_for_a_refresh(api):
    # given a dynamic segment of VIPs holding the source (the target is no VIP)
    target = await api.customer(display_name="Ann")
    source = await api.customer(display_name="Annie", tags=["vip"])
    _, token = await api.staff("manager")
    sid = await new_segment(api, token, name="VIPs", rule={"tags": {"has": "vip"}})
    first = (await api.data(SEGMENT_REFRESH, {"id": sid}, token=token))[
        "segmentRefresh"
    ]
    assert first["segment"]["size"] == 1
    before = await membership_events(api)

    # when the source is merged into the target (which takes its tag)
    assert (await gql_merge(api, token, target, source))["errors"] == []

    # then the source's stint is closed, the size recounted, the target not added
    size, members, _ = await segment_view(api, token, sid)
    assert (size, members) == (0, [])
    assert await stints(api, sid) == [(source, False)]
    events = (await membership_events(api))[len(before) :]
    assert [(topic, p["id"]) for topic, p in events] == [
        ("segment.customer_left", source)
    ]
    # and the next refresh lets the target in by the rule
    again = (await api.data(SEGMENT_REFRESH, {"id": sid}, token=token))[
        "segmentRefresh"
    ]
    assert (again["entered"], again["left"], again["segment"]["size"]) == (1, 0, 1)
    assert (await segment_view(api, token, sid))[1] == [cid(target)]


async def test_a_refused_merge_leaves_segment_memberships_alone(api):
    # given a static segment holding the source
    target = await api.customer(display_name="Ann")
    source = await api.customer(display_name="Annie")
    _, manager = await api.staff("manager")
    _, agent = await api.staff("agent")
    sid = await static_segment(api, manager, [source])
    before = (await segment_view(api, manager, sid), await membership_events(api))

    # when an agent, who may not merge, tries it
    code = await api.error_code(
        CUSTOMER_MERGE, {"t": cid(target), "s": cid(source)}, token=agent
    )

    # then it is forbidden and the segment is as it was
    assert code == "FORBIDDEN"
    after = (await segment_view(api, manager, sid), await membership_events(api))
    assert after == before
    assert await stints(api, sid) == [(source, True)]
