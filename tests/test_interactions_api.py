"""Interactions through GraphQL: logging, correcting, deleting, reading, rights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent, OutboxEvent
from crm.customers import service as customer_service
from crm.ids import to_global_id
from crm.interactions.models import Interaction
from tests.client import SYSTEM

LOG = """
mutation($input: InteractionLogInput!) {
  interactionLog(input: $input) {
    created
    interaction {
      id kind channel direction subject body visibility source rating sentiment
      externalRef recordedBy version occurredAt
      amount { amount currency }
      costToServe { amount currency }
      customer { id displayName }
    }
    errors { field code message }
  }
}"""

UPDATE = """
mutation($input: InteractionUpdateInput!) {
  interactionUpdate(input: $input) {
    interaction { id kind subject body rating version amount { amount currency } }
    errors { field code message }
  }
}"""

DELETE = """
mutation($id: ID!) {
  interactionDelete(input: {id: $id}) { deletedId errors { field code message } }
}"""

READ = """
query($id: ID!) {
  interaction(id: $id) {
    id kind subject body rating version
    amount { amount currency }
    costToServe { amount currency }
  }
}"""


def cid(pk: int) -> str:
    return to_global_id("Customer", pk)


def iid(pk: int) -> str:
    return to_global_id("Interaction", pk)


def pk(global_id: str) -> int:
    import base64

    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return int(raw.partition(":")[2])


def log_input(customer: int, **fields: Any) -> dict[str, Any]:
    return {
        "customerId": cid(customer),
        "channel": "EMAIL",
        "direction": "INBOUND",
        "kind": "SUPPORT",
        **fields,
    }


async def log(api, token: str, customer: int, **fields: Any) -> dict[str, Any]:
    data = await api.data(LOG, {"input": log_input(customer, **fields)}, token=token)
    return data["interactionLog"]


async def audit_rows(api, entity_type: str = "Interaction") -> list[AuditEvent]:
    async with api.db.transaction(write=False) as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type)
            .order_by(AuditEvent.id)
        )
        return list(rows)


# --- interactionLog -----------------------------------------------------------


CHANNELS = ["EMAIL", "PHONE", "CHAT", "WEB", "STORE", "SOCIAL", "SMS", "EVENT", "OTHER"]
PLAIN_KINDS = ["SUPPORT", "VISIT", "CAMPAIGN", "FEEDBACK", "NOTE", "OTHER"]


async def test_log_accepts_every_channel(api):
    # given a customer and an agent
    staff_id, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    for channel in CHANNELS:
        # when an interaction is logged on the channel
        payload = await log(api, token, customer, channel=channel, direction="OUTBOUND")
        # then it is stored with that channel, as the staff member's record
        assert payload["errors"] == []
        assert payload["created"] is True
        logged = payload["interaction"]
        assert (logged["channel"], logged["direction"]) == (channel, "OUTBOUND")
        assert (logged["source"], logged["visibility"]) == ("STAFF", "INTERNAL")
        assert logged["recordedBy"] == f"staff:{staff_id}"
        assert logged["version"] == 1
        assert logged["customer"]["id"] == cid(customer)
    assert await api.count(Interaction) == len(CHANNELS)


async def test_log_accepts_every_non_monetary_kind_without_amount(api):
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    for kind in PLAIN_KINDS:
        payload = await log(api, token, customer, kind=kind)
        assert payload["errors"] == []
        assert payload["interaction"]["kind"] == kind
        assert payload["interaction"]["amount"] is None


@pytest.mark.parametrize("kind", ["PURCHASE", "REFUND"])
async def test_log_a_monetary_kind_with_amount_and_currency(api, kind):
    _, token = await api.staff("manager")
    customer = await api.customer(email="c@example.com")
    payload = await log(
        api,
        token,
        customer,
        kind=kind,
        channel="STORE",
        amount="149.90",
        currency="eur",
        costToServe="12.5",
        occurredAt="2026-03-01T10:30:00+02:00",
        subject="Order 1001",
        body="Two chairs",
        rating=9,
        sentiment=0.5,
        visibility="SHARED",
    )
    assert payload["errors"] == []
    logged = payload["interaction"]
    assert logged["kind"] == kind
    assert logged["amount"] == {"amount": "149.9000", "currency": "EUR"}
    assert logged["costToServe"] == {"amount": "12.5000", "currency": "EUR"}
    assert logged["occurredAt"] == "2026-03-01T08:30:00+00:00"
    assert (logged["subject"], logged["body"]) == ("Order 1001", "Two chairs")
    assert (logged["rating"], logged["sentiment"]) == (9, 0.5)
    assert logged["visibility"] == "SHARED"
    # and reading it back gives the same money, in the same form
    read = await api.data(READ, {"id": logged["id"]}, token=token)
    assert read["interaction"]["amount"] == logged["amount"]
    assert read["interaction"]["costToServe"] == logged["costToServe"]


async def test_the_largest_amounts_keep_every_digit(api):
    _, token = await api.staff("manager")
    customer = await api.customer(email="c@example.com")
    payload = await log(
        api,
        token,
        customer,
        kind="PURCHASE",
        amount="12345678901234.5678",
        currency="EUR",
    )
    read = await api.data(READ, {"id": payload["interaction"]["id"]}, token=token)
    assert read["interaction"]["amount"]["amount"] == "12345678901234.5678"


INVALID_LOGS: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    (
        {"kind": "NOTE", "amount": "10", "currency": "EUR"},
        [("amount", "NOT_APPLICABLE")],
    ),
    ({"kind": "PURCHASE"}, [("amount", "REQUIRED")]),
    ({"kind": "PURCHASE", "amount": "10"}, [("currency", "REQUIRED")]),
    (
        {"kind": "PURCHASE", "amount": "-1", "currency": "EUR"},
        [("amount", "NEGATIVE")],
    ),
    (
        {"kind": "PURCHASE", "amount": "1.00001", "currency": "EUR"},
        [("amount", "INVALID")],
    ),
    (
        {"kind": "PURCHASE", "amount": "10", "currency": "euro"},
        [("currency", "INVALID_CURRENCY")],
    ),
    ({"rating": 11}, [("rating", "OUT_OF_RANGE")]),
    ({"rating": -1}, [("rating", "OUT_OF_RANGE")]),
    ({"sentiment": 1.5}, [("sentiment", "OUT_OF_RANGE")]),
    ({"occurredAt": "2026-03-01T10:30:00"}, [("occurredAt", "INVALID")]),
    ({"occurredAt": "1800-01-01T00:00:00Z"}, [("occurredAt", "OUT_OF_RANGE")]),
    ({"subject": "x" * 501}, [("subject", "TOO_LONG")]),
    ({"visibility": None}, [("visibility", "REQUIRED")]),
    (
        {"rating": 11, "currency": "euro", "subject": "\x00"},
        [
            ("subject", "INVALID"),
            ("currency", "INVALID_CURRENCY"),
            ("rating", "OUT_OF_RANGE"),
        ],
    ),
]


async def test_log_with_invalid_fields_is_a_payload_error_and_writes_nothing(api):
    # given a customer
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    audit_before = await api.count(AuditEvent)
    for fields, expected in INVALID_LOGS:
        # when an invalid interaction is logged
        payload = await log(api, token, customer, **fields)
        # then each problem is named with its code
        assert payload["interaction"] is None, fields
        assert payload["created"] is False
        assert [(e["field"], e["code"]) for e in payload["errors"]] == expected
        assert all(e["message"] for e in payload["errors"])
    # and nothing is written
    assert await api.count(Interaction) == 0
    assert await api.count(AuditEvent) == audit_before
    assert await api.count(OutboxEvent) == audit_before


async def test_log_for_an_archived_customer_is_refused(api):
    _, token = await api.staff("agent")
    customer = await api.customer(email="gone@example.com")
    async with api.db.transaction() as session:
        await customer_service.archive_customer(
            session, SYSTEM, customer, archived=True
        )
    payload = await log(api, token, customer)
    assert payload["interaction"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("customerId", "ARCHIVED")
    ]
    assert await api.count(Interaction) == 0


async def test_log_for_an_unknown_customer_is_not_found(api):
    _, token = await api.staff("agent")
    audit_before = await api.count(AuditEvent)
    body = await api.gql(LOG, {"input": log_input(424242)}, token=token)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    assert await api.count(Interaction) == 0
    assert await api.count(AuditEvent) == audit_before


async def test_log_with_a_malformed_customer_id_is_bad_user_input(api):
    _, token = await api.staff("agent")
    await api.customer(email="c@example.com")
    for customer_id in (
        "not-an-id",
        to_global_id("StaffMember", 1),
        to_global_id("Interaction", 1),
        "",
    ):
        variables = {"input": {**log_input(1), "customerId": customer_id}}
        body = await api.gql(LOG, variables, token=token)
        assert [e["extensions"] for e in body["errors"]] == [
            {"code": "BAD_USER_INPUT", "field": "input.customerId"}
        ]
    assert await api.count(Interaction) == 0


async def test_log_with_a_known_external_ref_returns_the_first_record(api):
    # given an interaction logged with an external reference
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    first = await log(api, token, customer, externalRef="shop-1", subject="First")
    assert first["created"] is True
    audit_after_first = await api.count(AuditEvent)
    # when the same reference is logged again (a retry)
    again = await log(api, token, customer, externalRef="shop-1", subject="Retry")
    # then the first record comes back, nothing new is written
    assert again["errors"] == []
    assert again["created"] is False
    assert again["interaction"]["id"] == first["interaction"]["id"]
    assert again["interaction"]["subject"] == "First"
    assert again["interaction"]["externalRef"] == "shop-1"
    assert await api.count(Interaction) == 1
    assert await api.count(AuditEvent) == audit_after_first


async def test_log_with_another_customers_external_ref_is_a_duplicate(api):
    _, token = await api.staff("agent")
    ada = await api.customer(email="ada@example.com")
    bob = await api.customer(email="bob@example.com")
    await log(api, token, ada, externalRef="shop-1")
    payload = await log(api, token, bob, externalRef="shop-1")
    assert payload["interaction"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("externalRef", "DUPLICATE")
    ]
    assert await api.count(Interaction) == 1


async def test_log_writes_one_audit_and_one_outbox_event(api):
    staff_id, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    payload = await log(
        api, token, customer, kind="PURCHASE", amount="5", currency="USD"
    )
    (event,) = await audit_rows(api)
    assert event.action == "interaction.logged"
    assert event.entity_id == pk(payload["interaction"]["id"])
    assert event.actor_ref == f"staff:{staff_id}"
    assert event.changes["kind"] == {"before": None, "after": "purchase"}
    assert event.changes["amount"] == {"before": None, "after": "5"}
    assert event.changes["customer_id"] == {"before": None, "after": customer}
    async with api.db.transaction(write=False) as session:
        outbox = list(
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.topic == "interaction.logged")
            )
        )
    assert len(outbox) == 1
    assert outbox[0].payload["customer_id"] == customer
    assert outbox[0].payload["kind"] == "purchase"
    assert payload["interaction"]["recordedBy"] == f"staff:{staff_id}"


# --- interactionUpdate ----------------------------------------------------------


async def test_update_changes_only_the_fields_sent(api):
    # given an interaction with a subject, body and rating
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    logged = await log(api, token, customer, subject="Call", body="Notes", rating=3)
    gid = logged["interaction"]["id"]
    # when only the rating is corrected
    data = await api.data(
        UPDATE, {"input": {"id": gid, "rating": 8, "expectedVersion": 1}}, token=token
    )
    # then the rating changes, the rest stays, the version goes up
    payload = data["interactionUpdate"]
    assert payload["errors"] == []
    assert payload["interaction"] == {
        "id": gid,
        "kind": "SUPPORT",
        "subject": "Call",
        "body": "Notes",
        "rating": 8,
        "version": 2,
        "amount": None,
    }
    # and null clears a field
    data = await api.data(UPDATE, {"input": {"id": gid, "subject": None}}, token=token)
    assert data["interactionUpdate"]["interaction"]["subject"] is None
    assert data["interactionUpdate"]["interaction"]["version"] == 3
    events = await audit_rows(api)
    assert [e.action for e in events] == [
        "interaction.logged",
        "interaction.updated",
        "interaction.updated",
    ]
    assert events[1].changes == {"rating": {"before": 3, "after": 8}}
    assert events[2].changes == {"subject": {"before": "Call", "after": None}}


async def test_update_that_changes_nothing_keeps_the_version_and_writes_no_event(api):
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    logged = await log(api, token, customer, rating=3)
    gid = logged["interaction"]["id"]
    data = await api.data(UPDATE, {"input": {"id": gid, "rating": 3}}, token=token)
    assert data["interactionUpdate"]["interaction"]["version"] == 1
    assert [e.action for e in await audit_rows(api)] == ["interaction.logged"]


async def test_update_with_a_stale_version_is_a_conflict_and_changes_nothing(api):
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    gid = (await log(api, token, customer, rating=3))["interaction"]["id"]
    for stale in (2, 0, -1):
        data = await api.data(
            UPDATE,
            {"input": {"id": gid, "rating": 9, "expectedVersion": stale}},
            token=token,
        )
        payload = data["interactionUpdate"]
        assert payload["interaction"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            ("expectedVersion", "CONFLICT")
        ]
    read = await api.data(READ, {"id": gid}, token=token)
    assert (read["interaction"]["rating"], read["interaction"]["version"]) == (3, 1)
    assert len(await audit_rows(api)) == 1


async def test_update_that_breaks_money_rules_is_refused(api):
    # given a purchase
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    logged = await log(
        api, token, customer, kind="PURCHASE", amount="20", currency="EUR"
    )
    gid = logged["interaction"]["id"]
    # when it becomes a note while keeping its amount
    data = await api.data(UPDATE, {"input": {"id": gid, "kind": "NOTE"}}, token=token)
    # then the amount no longer applies
    assert [(e["field"], e["code"]) for e in data["interactionUpdate"]["errors"]] == [
        ("amount", "NOT_APPLICABLE")
    ]
    # and clearing the amount of a purchase is refused too
    data = await api.data(UPDATE, {"input": {"id": gid, "amount": None}}, token=token)
    assert [(e["field"], e["code"]) for e in data["interactionUpdate"]["errors"]] == [
        ("amount", "REQUIRED")
    ]
    read = await api.data(READ, {"id": gid}, token=token)
    assert read["interaction"]["kind"] == "PURCHASE"
    assert read["interaction"]["version"] == 1
    assert len(await audit_rows(api)) == 1


async def test_update_of_an_unknown_interaction_is_not_found(api):
    _, token = await api.staff("agent")
    code = await api.error_code(
        UPDATE, {"input": {"id": iid(999), "rating": 1}}, token=token
    )
    assert code == "NOT_FOUND"


async def test_update_with_a_customer_id_as_interaction_id_is_bad_user_input(api):
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    code = await api.error_code(
        UPDATE, {"input": {"id": cid(customer), "rating": 1}}, token=token
    )
    assert code == "BAD_USER_INPUT"


# --- interactionDelete ------------------------------------------------------------


async def test_delete_removes_the_interaction_and_the_audit_keeps_its_values(api):
    # given a purchase
    staff_id, token = await api.staff("manager")
    customer = await api.customer(email="c@example.com")
    logged = await log(
        api,
        token,
        customer,
        kind="PURCHASE",
        amount="99.5",
        currency="GBP",
        subject="Order",
    )
    gid = logged["interaction"]["id"]
    # when a manager deletes it
    data = await api.data(DELETE, {"id": gid}, token=token)
    # then it is gone
    assert data["interactionDelete"] == {"deletedId": gid, "errors": []}
    assert await api.error_code(READ, {"id": gid}, token=token) == "NOT_FOUND"
    assert await api.count(Interaction) == 0
    # and the audit event holds what it was
    deleted = (await audit_rows(api))[-1]
    assert deleted.action == "interaction.deleted"
    assert deleted.entity_id == pk(gid)
    assert deleted.actor_ref == f"staff:{staff_id}"
    assert deleted.changes["subject"] == {"before": "Order", "after": None}
    assert deleted.changes["kind"] == {"before": "purchase", "after": None}
    assert deleted.changes["currency"] == {"before": "GBP", "after": None}
    assert deleted.changes["customer_id"] == {"before": customer, "after": None}
    assert float(deleted.changes["amount"]["before"]) == 99.5
    # and deleting it again is not found
    assert await api.error_code(DELETE, {"id": gid}, token=token) == "NOT_FOUND"


# --- reading ----------------------------------------------------------------------


async def seed_timeline(api) -> tuple[int, int, list[int]]:
    """Two customers; Ada has three interactions an hour apart, Bob one."""
    ada = await api.customer(email="ada@example.com", given_name="Ada")
    bob = await api.customer(email="bob@example.com", given_name="Bob")
    base = datetime(2026, 1, 1, 9, tzinfo=UTC)
    ids = [
        await api.interaction(ada, occurred_at=base, kind="visit", channel="web"),
        await api.interaction(
            ada,
            occurred_at=base + timedelta(hours=2),
            kind="purchase",
            amount="120",
            currency="EUR",
            channel="store",
        ),
        await api.interaction(ada, occurred_at=base + timedelta(hours=1)),
        await api.interaction(bob, occurred_at=base + timedelta(hours=3)),
    ]
    return ada, bob, ids


async def test_interactions_are_listed_newest_first_by_default(api):
    _, token = await api.staff("agent")
    _, _, ids = await seed_timeline(api)
    data = await api.data(
        "{ interactions { totalCount edges { node { id } } } }", token=token
    )
    listed = [e["node"]["id"] for e in data["interactions"]["edges"]]
    assert listed == [iid(ids[3]), iid(ids[1]), iid(ids[2]), iid(ids[0])]
    assert data["interactions"]["totalCount"] == 4


async def test_interactions_can_be_filtered_and_ordered_oldest_first(api):
    _, token = await api.staff("agent")
    ada, _, ids = await seed_timeline(api)
    data = await api.data(
        """query($where: InteractionWhere) {
          interactions(where: $where, orderBy: {field: OCCURRED_AT, direction: ASC}) {
            totalCount edges { node { id kind customer { email } } }
          }
        }""",
        {"where": {"customerId": {"eq": cid(ada)}, "kind": {"neq": "PURCHASE"}}},
        token=token,
    )
    assert data["interactions"]["totalCount"] == 2
    assert [e["node"] for e in data["interactions"]["edges"]] == [
        {"id": iid(ids[0]), "kind": "VISIT", "customer": {"email": "ada@example.com"}},
        {
            "id": iid(ids[2]),
            "kind": "SUPPORT",
            "customer": {"email": "ada@example.com"},
        },
    ]


async def test_a_customers_interactions_are_nested_with_their_own_filter(api):
    _, token = await api.staff("agent")
    ada, _, ids = await seed_timeline(api)
    data = await api.data(
        """query($id: ID!) {
          customer(id: $id) {
            all: interactions { totalCount edges { node { id } } }
            oldest: interactions(
              orderBy: {field: OCCURRED_AT, direction: ASC}, first: 1
            ) {
              edges { node { id } } pageInfo { hasNextPage }
            }
            bought: interactions(where: {kind: {eq: PURCHASE}}) {
              totalCount nodes { id amount { amount currency } }
            }
          }
        }""",
        {"id": cid(ada)},
        token=token,
    )
    customer = data["customer"]
    assert [e["node"]["id"] for e in customer["all"]["edges"]] == [
        iid(ids[1]),
        iid(ids[2]),
        iid(ids[0]),
    ]
    assert customer["all"]["totalCount"] == 3
    assert [e["node"]["id"] for e in customer["oldest"]["edges"]] == [iid(ids[0])]
    assert customer["oldest"]["pageInfo"]["hasNextPage"] is True
    assert customer["bought"]["totalCount"] == 1
    assert customer["bought"]["nodes"][0]["id"] == iid(ids[1])
    assert customer["bought"]["nodes"][0]["amount"]["currency"] == "EUR"
    assert float(customer["bought"]["nodes"][0]["amount"]["amount"]) == 120


async def test_nested_interactions_page_on_with_the_cursor(api):
    _, token = await api.staff("agent")
    ada, _, ids = await seed_timeline(api)
    query = """query($id: ID!, $after: String) {
      customer(id: $id) {
        interactions(first: 2, after: $after) {
          edges { node { id } } pageInfo { hasNextPage hasPreviousPage endCursor }
        }
      }
    }"""
    first = (await api.data(query, {"id": cid(ada)}, token=token))["customer"]
    page = first["interactions"]
    assert [e["node"]["id"] for e in page["edges"]] == [iid(ids[1]), iid(ids[2])]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    second = await api.data(
        query, {"id": cid(ada), "after": page["pageInfo"]["endCursor"]}, token=token
    )
    page = second["customer"]["interactions"]
    assert [e["node"]["id"] for e in page["edges"]] == [iid(ids[0])]
    assert page["pageInfo"]["hasNextPage"] is False
    assert page["pageInfo"]["hasPreviousPage"] is True


async def test_interaction_customer_resolves_the_owner_customer(api):
    _, token = await api.staff("analyst")
    _, bob, ids = await seed_timeline(api)
    data = await api.data(
        "query($id: ID!) { interaction(id: $id) { customer { id givenName } } }",
        {"id": iid(ids[3])},
        token=token,
    )
    assert data["interaction"]["customer"] == {"id": cid(bob), "givenName": "Bob"}
    node = await api.data(
        "query($id: ID!) { node(id: $id) { id ... on Interaction { kind } } }",
        {"id": iid(ids[3])},
        token=token,
    )
    assert node["node"] == {"id": iid(ids[3]), "kind": "SUPPORT"}


# --- rights -----------------------------------------------------------------------


async def test_analysts_cannot_log_update_or_delete(api):
    # given an interaction and an analyst
    _, token = await api.staff("analyst")
    customer = await api.customer(email="c@example.com")
    existing = await api.interaction(customer, rating=4)
    audit_before = await api.count(AuditEvent)
    # when the analyst tries each write, then each is forbidden
    assert (
        await api.error_code(LOG, {"input": log_input(customer)}, token=token)
        == "FORBIDDEN"
    )
    assert (
        await api.error_code(
            UPDATE, {"input": {"id": iid(existing), "rating": 9}}, token=token
        )
        == "FORBIDDEN"
    )
    assert (
        await api.error_code(DELETE, {"id": iid(existing)}, token=token) == "FORBIDDEN"
    )
    # and nothing changed
    assert await api.count(Interaction) == 1
    assert await api.count(AuditEvent) == audit_before
    read = await api.data(READ, {"id": iid(existing)}, token=token)
    assert (read["interaction"]["rating"], read["interaction"]["version"]) == (4, 1)


async def test_agents_cannot_delete_interactions(api):
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    existing = await api.interaction(customer)
    audit_before = await api.count(AuditEvent)
    assert (
        await api.error_code(DELETE, {"id": iid(existing)}, token=token) == "FORBIDDEN"
    )
    assert await api.count(Interaction) == 1
    assert await api.count(AuditEvent) == audit_before


async def test_anonymous_callers_cannot_read_or_write_interactions(api):
    customer = await api.customer(email="c@example.com")
    await api.interaction(customer)
    assert (
        await api.error_code("{ interactions { edges { node { id } } } }")
        == "UNAUTHENTICATED"
    )
    assert (
        await api.error_code(LOG, {"input": log_input(customer)}) == "UNAUTHENTICATED"
    )
    assert await api.count(Interaction) == 1


async def test_internal_bodies_are_hidden_from_analysts_but_shared_ones_are_not(api):
    _, analyst = await api.staff("analyst")
    _, agent = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    internal = await api.interaction(customer, body="secret", visibility="internal")
    shared = await api.interaction(customer, body="public", visibility="shared")
    query = "query($id: ID!) { interaction(id: $id) { body visibility } }"
    for token, expected in ((analyst, None), (agent, "secret")):
        data = await api.data(query, {"id": iid(internal)}, token=token)
        assert data["interaction"] == {"body": expected, "visibility": "INTERNAL"}
    data = await api.data(query, {"id": iid(shared)}, token=analyst)
    assert data["interaction"] == {"body": "public", "visibility": "SHARED"}


async def test_cost_to_serve_is_hidden_from_agents(api):
    _, analyst = await api.staff("analyst")
    _, agent = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    purchase = await api.interaction(
        customer, kind="purchase", amount="10", currency="EUR", cost_to_serve="2.5"
    )
    query = """query($id: ID!) {
      interaction(id: $id) { amount { currency } costToServe { amount currency } }
    }"""
    seen_by_agent = await api.data(query, {"id": iid(purchase)}, token=agent)
    assert seen_by_agent["interaction"] == {
        "amount": {"currency": "EUR"},
        "costToServe": None,
    }
    seen_by_analyst = await api.data(query, {"id": iid(purchase)}, token=analyst)
    cost = seen_by_analyst["interaction"]["costToServe"]
    assert cost["currency"] == "EUR"
    assert float(cost["amount"]) == 2.5


async def test_a_refused_write_in_a_mutation_leaves_no_audit_row(api):
    # given two writes in one operation, the second forbidden for an agent
    _, token = await api.staff("agent")
    customer = await api.customer(email="c@example.com")
    existing = await api.interaction(customer)
    audit_before = await api.count(AuditEvent)
    body = await api.gql(
        """mutation($log: InteractionLogInput!, $id: ID!) {
          interactionLog(input: $log) { interaction { id } }
          interactionDelete(input: {id: $id}) { deletedId }
        }""",
        {"log": log_input(customer), "id": iid(existing)},
        token=token,
    )
    # then the operation fails and neither write is kept
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await api.count(Interaction) == 1
    assert await api.count(AuditEvent) == audit_before
