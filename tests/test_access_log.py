"""Access transparency: the customer sees who at the firm read or changed their
record; reads are counted in memory and written in bulk, outside the request."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import insert, select

from crm.access import recorder as recorder_module
from crm.access.models import AccessView
from crm.access.recorder import AccessRecorder, recorder_for
from crm.actors import StaffActor
from crm.audit.models import AuditEvent
from crm.columns import utcnow
from crm.customers import service as customer_service
from crm.ids import to_global_id
from crm.permissions import StaffRole
from crm.staff.models import StaffMember
from tests.client import SYSTEM
from tests.test_query_counts import statements_of

LOG = """query($first: Int, $after: String) {
  me { accessLog(first: $first, after: $after) {
  totalCount
  edges { cursor node {
    kind occurredAt actorKind actorName actorRole views firstViewedAt action
  } }
  pageInfo { hasNextPage endCursor }
} } }"""
FIRM_LOG = """query($id: ID!) { customer(id: $id) { accessLog {
  nodes { kind actorKind actorName actorRole views action }
} } }"""
READ = "query($id: ID!) { customer(id: $id) { id displayName } }"
UPDATE = """mutation($id: ID!) { customerUpdate(input: {id: $id, phone: "+1 555 0100"})
  { errors { code } } }"""


def cid(pk: int) -> str:
    return to_global_id("Customer", pk)


async def partner_call(api, key: str, query: str, variables: dict) -> dict:
    response = await api.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"X-Api-Key": key},
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def views(api) -> list[tuple[int, str, int]]:
    async with api.db.transaction(write=False) as session:
        rows = await session.scalars(select(AccessView).order_by(AccessView.id))
        return [(v.customer_id, v.actor_ref, v.views) for v in rows]


async def test_the_customer_sees_a_staff_view_and_a_partner_change_never_emails(api):
    recorder = recorder_for(api.db)
    recorder.discard()
    # Given a customer, an agent who reads them and a partner app that changes them
    customer = await api.customer(email="ada@example.com", given_name="Ada")
    token = api.customer_token(customer)
    agent_id, agent = await api.staff("agent")
    await api.data(READ, {"id": cid(customer)}, token=agent)
    await api.data(READ, {"id": cid(customer)}, token=agent)
    key = await api.partner_key(["customers:read", "customers:write"], name="Acme Shop")
    assert (await partner_call(api, key, UPDATE, {"id": cid(customer)}))[
        "customerUpdate"
    ]["errors"] == []
    # The customer's own reads and changes are not the firm's access
    await api.data("{ me { profile { email } } }", token=token)
    await api.data(
        """mutation { myProfileCorrectionRequest(input: {changes: {locale: "en-GB"}})
           { errors { code } } }""",
        token=token,
    )
    # When the buffer is flushed
    await recorder.flush()
    # Then the customer's log shows the partner's change and the agent's views
    body = await api.gql(LOG, token=token)
    log = body["data"]["me"]["accessLog"]
    entries = [e["node"] for e in log["edges"]]
    by_kind = {(e["kind"], e["actorKind"]): e for e in entries}
    assert log["totalCount"] == 3 == len(entries)
    view = by_kind[("VIEWED", "STAFF")]
    async with api.db.transaction(write=False) as session:
        member = await session.get(StaffMember, agent_id)
        assert member is not None
    assert view["actorName"] == member.display_name
    assert view["actorRole"] == "AGENT" and view["views"] == 2
    assert view["firstViewedAt"] <= view["occurredAt"]
    change = by_kind[("CHANGED", "PARTNER")]
    assert change["actorName"] == "Acme Shop" and change["action"] == "customer.updated"
    assert change["actorRole"] is None and change["views"] is None
    created = by_kind[("CHANGED", "SYSTEM")]
    assert created["action"] == "customer.created"
    # ... newest first, and never an email address
    assert [e["occurredAt"] for e in entries] == sorted(
        (e["occurredAt"] for e in entries), reverse=True
    )
    assert b"@" not in orjson.dumps(body)


async def test_list_pages_and_nodes_record_views_only_after_a_flush(api):
    recorder = recorder_for(api.db)
    recorder.discard()
    customers = [await api.customer(email=f"c{n}@example.com") for n in range(3)]
    manager_id, manager = await api.staff("manager")
    # When a manager lists customers twice, searches, and fetches them as nodes
    page = "{ customers(first: 10) { nodes { id } } }"
    await api.data(page, token=manager)
    await api.data(page, token=manager)
    await api.data(
        '{ customers(first: 10, search: "c1") { nodes { id } } }', token=manager
    )
    await api.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [cid(c) for c in customers[:2]]},
        token=manager,
    )
    # Then nothing was written by the requests themselves
    assert await views(api) == []
    # And a flush writes one row per customer and reader, counting every read
    written = await recorder.flush()
    assert written == 3
    ref = f"staff:{manager_id}"
    counts = {c: n for c, r, n in await views(api) if r == ref}
    assert counts == {customers[0]: 3, customers[1]: 4, customers[2]: 2}
    # Further reads the same day add to the same rows
    await api.data(page, token=manager)
    await recorder.flush()
    assert sorted(n for _, _, n in await views(api)) == [3, 4, 5]


async def test_customer_reads_and_system_reads_are_not_recorded(api):
    recorder = recorder_for(api.db)
    recorder.discard()
    customer = await api.customer(email="self@example.com")
    token = api.customer_token(customer)
    await api.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": cid(customer)}, token=token
    )
    recorder.saw(SYSTEM, [customer])
    assert recorder.pending == 0
    assert await recorder.flush() == 0


async def test_views_of_a_customer_deleted_before_the_flush_are_dropped(api):
    recorder = recorder_for(api.db)
    recorder.discard()
    kept = await api.customer(email="kept@example.com")
    gone = await api.customer(email="gone@example.com")
    _, agent = await api.staff("agent")
    await api.data("{ customers(first: 10) { nodes { id } } }", token=agent)
    async with api.db.transaction() as session:
        from crm.customers.models import Customer

        row = await session.get(Customer, gone)
        await session.delete(row)
    assert await recorder.flush() == 1
    assert [c for c, _, _ in await views(api)] == [kept]


async def test_staff_read_the_same_log_on_the_customer_partners_do_not(api):
    recorder = recorder_for(api.db)
    recorder.discard()
    customer = await api.customer(email="ada@example.com")
    _, agent = await api.staff("agent")
    _, analyst = await api.staff("analyst")
    await api.data(READ, {"id": cid(customer)}, token=agent)
    await recorder.flush()
    nodes = (await api.data(FIRM_LOG, {"id": cid(customer)}, token=analyst))[
        "customer"
    ]["accessLog"]["nodes"]
    assert [(n["kind"], n["actorRole"]) for n in nodes][:1] == [("VIEWED", "AGENT")]
    key = await api.partner_key(["customers:read"])
    data = await partner_call(api, key, FIRM_LOG, {"id": cid(customer)})
    assert data["customer"]["accessLog"] is None


async def test_the_log_pages_newest_first_with_cursors(api):
    recorder = recorder_for(api.db)
    recorder.discard()
    customer = await api.customer(email="ada@example.com")
    token = api.customer_token(customer)
    for role in ("agent", "manager", "analyst"):
        _, staff = await api.staff(role)
        await api.data(READ, {"id": cid(customer)}, token=staff)
    await recorder.flush()
    seen: list[str | None] = []
    after = None
    while True:
        log = (await api.data(LOG, {"first": 2, "after": after}, token=token))["me"][
            "accessLog"
        ]
        seen += [e["node"]["actorRole"] for e in log["edges"]]
        if not log["pageInfo"]["hasNextPage"]:
            break
        after = log["pageInfo"]["endCursor"]
    assert sorted(r for r in seen if r) == ["AGENT", "ANALYST", "MANAGER"]
    assert len(seen) == 4  # three readers and the creation
    bad = await api.gql(LOG, {"first": 2, "after": "bm9wZQ"}, token=token)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_flush_cancelled_mid_write_keeps_its_views_for_the_next(api):
    # Given views of two readers in the buffer
    recorder = recorder_for(api.db)
    recorder.discard()
    customer = await api.customer(email="ada@example.com")
    _, agent = await api.staff("agent")
    await api.data(READ, {"id": cid(customer)}, token=agent)
    await api.data(READ, {"id": cid(customer)}, token=agent)
    # When the flush is cancelled while it writes (the app shutting down)
    write = recorder._write

    async def cancelled(pending):  # type: ignore[no-untyped-def]
        raise asyncio.CancelledError

    recorder._write = cancelled  # type: ignore[method-assign]
    try:
        with pytest.raises(asyncio.CancelledError):
            await recorder.flush()
    finally:
        recorder._write = write  # type: ignore[method-assign]
    # Then nothing was lost: the final flush (close) writes both reads
    assert recorder.pending == 1
    await recorder.close()
    assert [(c, n) for c, _, n in await views(api)] == [(customer, 2)]


async def test_a_full_buffer_drops_new_views_instead_of_growing(api, monkeypatch):
    # Given a buffer at its hard limit (the database refusing writes for long)
    recorder = recorder_for(api.db)
    recorder.discard()
    monkeypatch.setattr(recorder_module, "HARD_LIMIT", 2)
    monkeypatch.setattr(recorder_module, "MAX_PENDING", 10)
    first, second, third = [
        await api.customer(email=f"c{i}@example.com") for i in range(3)
    ]
    _, agent = await api.staff("agent")
    # When three customers are read
    for customer in (first, second, third):
        await api.data(READ, {"id": cid(customer)}, token=agent)
    # Then the buffer holds two keys, counts the third as dropped, and more reads
    # of buffered customers still count
    assert recorder.pending == 2 and recorder.dropped == 1
    await api.data(READ, {"id": cid(first)}, token=agent)
    assert await recorder.flush() == 2
    assert recorder.dropped == 0
    assert sorted((c, n) for c, _, n in await views(api)) == [(first, 2), (second, 1)]


async def test_two_processes_flushing_one_day_keep_the_earliest_first_view(api):
    # Given two workers' buffers holding reads of one customer by one agent, the
    # first worker's read being the earlier one
    recorder_for(api.db).discard()
    customer = await api.customer(email="ada@example.com")
    agent_id, _ = await api.staff("agent")
    actor = StaffActor(staff_id=agent_id, role=StaffRole.AGENT, display_name="A")
    early, late = AccessRecorder(api.db), AccessRecorder(api.db)
    early.saw(actor, [customer])
    late.saw(actor, [customer])
    late.saw(actor, [customer])
    [earliest] = [seen.first for seen in early._pending.values()]
    [latest] = [seen.last for seen in late._pending.values()]
    # When the worker holding the later reads flushes first
    await late.flush()
    await early.flush()
    # Then the day's row counts all three reads, from the earliest to the latest
    async with api.db.transaction(write=False) as session:
        [row] = (await session.scalars(select(AccessView))).all()
    assert row.views == 3
    assert (row.first_seen_at, row.last_seen_at) == (earliest, latest)


FIRM_PAGE = """query($n: Int!) { customers(first: $n) { edges { node {
  id
  accessLog(first: 3) {
    totalCount
    edges { cursor node { kind occurredAt actorKind actorName actorRole views action } }
    pageInfo { hasNextPage endCursor }
  }
} } } }"""
CUSTOMER_LOG = """query($id: ID!, $after: String) { customer(id: $id) {
  accessLog(first: 3, after: $after) { edges { cursor node { kind actorName } } }
} }"""
MY_LOG = """{ me { accessLog(first: 3) {
  edges { cursor node { kind occurredAt actorKind actorName actorRole views action } }
} } }"""


async def seed_logs(api, customers: int) -> tuple[list[int], str]:
    """Customers whose logs hold two staff views, a staff change and then their
    creation (views and change written in bulk); a manager token."""
    agent_id, _ = await api.staff("agent")
    manager_id, manager = await api.staff("manager")
    start = utcnow() - timedelta(days=10)
    async with api.db.transaction() as session:
        ids = []
        for n in range(customers):
            customer = await customer_service.create_customer(
                session, SYSTEM, {"given_name": f"Customer{n:03d}"}
            )
            assert customer.id is not None
            ids.append(customer.id)
        views = [
            {
                "customer_id": customer_id,
                "actor_kind": "staff",
                "actor_ref": f"staff:{staff_id}",
                "actor_label": label,
                "actor_role": role,
                "day": (start + timedelta(days=day)).date(),
                "first_seen_at": start + timedelta(days=day, minutes=n),
                "last_seen_at": start + timedelta(days=day, minutes=n + 5),
                "views": day + 2,
            }
            for n, customer_id in enumerate(ids)
            for day, (staff_id, label, role) in enumerate(
                [(agent_id, "Agent", "agent"), (manager_id, "Manager", "manager")]
            )
        ]
        await session.execute(insert(AccessView), views)
        changes = [
            {
                "occurred_at": start + timedelta(days=3, minutes=n),
                "actor_kind": "staff",
                "actor_ref": f"staff:{manager_id}",
                "actor_label": "Manager",
                "action": "customer.updated",
                "entity_type": "Customer",
                "entity_id": customer_id,
                "changes": {},
            }
            for n, customer_id in enumerate(ids)
        ]
        await session.execute(insert(AuditEvent), changes)
    return ids, manager


async def test_a_customer_page_reads_access_logs_in_constant_statements(api):
    recorder_for(api.db).discard()
    # Given 20 customers with four log lines each, and a manager
    ids, manager = await seed_logs(api, 20)
    # When a small and a large customers page select the log and its count
    small = await statements_of(api, FIRM_PAGE, {"n": 3}, token=manager)
    large = await statements_of(api, FIRM_PAGE, {"n": 20}, token=manager)
    # Then both run the same statements: the planned page, the customers whose log
    # the resolvers read, which customers may be read, the first lines, their
    # views, their changes, the changers' roles, the counts
    assert len(small) == len(large) == 8, large
    # And each log is the one the customer sees, newest first, with the same cursors
    data = await api.data(FIRM_PAGE, {"n": 20}, token=manager)
    assert {e["node"]["id"] for e in data["customers"]["edges"]} == {
        cid(pk) for pk in ids
    }
    for pk in ids[:3]:
        log = next(
            e["node"]["accessLog"]
            for e in data["customers"]["edges"]
            if e["node"]["id"] == cid(pk)
        )
        assert log["totalCount"] == 4 and log["pageInfo"]["hasNextPage"] is True
        mine = (await api.data(MY_LOG, token=api.customer_token(pk)))["me"]["accessLog"]
        assert log["edges"] == mine["edges"]
        assert [(e["node"]["kind"], e["node"]["actorRole"]) for e in log["edges"]] == [
            ("CHANGED", None),
            ("CHANGED", "MANAGER"),
            ("VIEWED", "MANAGER"),
        ]
        rest = await api.data(
            CUSTOMER_LOG,
            {"id": cid(pk), "after": log["pageInfo"]["endCursor"]},
            token=manager,
        )
        assert [e["node"] for e in rest["customer"]["accessLog"]["edges"]] == [
            {"kind": "VIEWED", "actorName": "Agent"}
        ]
