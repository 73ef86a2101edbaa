"""interactionLog writes: the row and its events in few statements, refusals in the
order they always had, and nothing written by a refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

import crm.models  # noqa: F401
from crm.audit.models import AuditEvent, OutboxEvent
from crm.customers import service as customer_service
from crm.insights import aggregates
from crm.insights.models import CustomerInsight
from crm.insights.refresh import refresh_insights
from crm.interactions.models import Interaction
from tests.client import SYSTEM, Api
from tests.test_insights import build_base
from tests.test_interactions_api import cid
from tests.test_query_counts import statements_of

LOG = """mutation($input: InteractionLogInput!) { interactionLog(input: $input) {
  created interaction { id externalRef amount { amount currency } }
  errors { field code } } }"""


def purchase(customer: int, **fields: Any) -> dict[str, Any]:
    return {
        "input": {
            "customerId": cid(customer),
            "channel": "WEB",
            "direction": "INBOUND",
            "kind": "PURCHASE",
            "amount": "40.00",
            "currency": "EUR",
            **fields,
        }
    }


async def written(api: Api) -> dict[str, int]:
    return {
        m.__name__: await api.count(m) for m in (Interaction, AuditEvent, OutboxEvent)
    }


async def test_a_purchase_costs_a_fixed_few_statements(api: Api):
    # Given refreshed insights (a purchase then re-scores its customer)
    ids = await build_base(api, customers=6)
    await refresh_insights(api.db)
    _, token = await api.staff("manager")
    # When a purchase and a support contact are logged
    bought = await statements_of(api, LOG, purchase(ids[0]), token=token)
    contact = purchase(ids[1], kind="SUPPORT", amount=None, currency=None)
    contacted = await statements_of(api, LOG, contact, token=token)
    # Then PostgreSQL writes the row with its audit and outbox events in one
    # statement; the purchase adds one read of the fit and settings, one aggregate
    # and one upsert of the customer's measures. SQLite writes the events apart.
    events = 1 if api.db.dialect == "postgresql" else 3
    assert len(contacted) == events, contacted
    assert len(bought) == events + 3, bought
    assert not any("FROM customer \nWHERE customer.id" in s for s in bought[1:])
    # And the measures moved
    async with api.db.transaction(write=False) as session:
        row = await session.get(CustomerInsight, ids[0])
        assert row is not None and row.last_purchase_at is not None


async def test_the_row_and_its_events_are_written_alike_on_every_database(api: Api):
    # Given a customer
    customer = await api.customer(display_name="Ada")
    staff_id, token = await api.staff("manager")
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)
    # When a purchase is logged
    logged = (
        await api.data(
            LOG,
            purchase(customer, externalRef="shop-9", occurredAt=when.isoformat()),
            token=token,
        )
    )["interactionLog"]
    assert logged["errors"] == [] and logged["created"] is True
    assert logged["interaction"]["amount"] == {"amount": "40.0000", "currency": "EUR"}
    # Then the row, its audit event and its outbox event say the same
    async with api.db.transaction(write=False) as session:
        [row] = (await session.scalars(select(Interaction))).all()
        [audit] = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.entity_type == "Interaction")
            )
        ).all()
        [outbox] = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.topic == "interaction.logged")
            )
        ).all()
    assert (row.customer_id, row.kind, row.amount) == (
        customer,
        "purchase",
        Decimal("40.0000"),
    )
    assert (row.version, row.source, row.recorded_by) == (
        1,
        "staff",
        f"staff:{staff_id}",
    )
    assert row.occurred_at == when
    assert (audit.action, audit.entity_type, audit.entity_id) == (
        "interaction.logged",
        "Interaction",
        row.id,
    )
    assert (audit.actor_kind, audit.actor_ref) == ("staff", f"staff:{staff_id}")
    assert audit.changes["amount"] == {"before": None, "after": "40.00"}
    assert audit.changes["occurred_at"]["after"] == when.isoformat()
    assert audit.changes["external_ref"] == {"before": None, "after": "shop-9"}
    assert "body" not in audit.changes  # unset fields are not changes
    assert outbox.topic == "interaction.logged" and outbox.delivered_at is None
    assert outbox.payload == {
        "entity": "Interaction",
        "id": row.id,
        "actor": f"staff:{staff_id}",
        "customer_id": customer,
        "kind": "purchase",
    }
    assert outbox.occurred_at == audit.occurred_at


async def test_refusals_keep_their_order_and_write_nothing(api: Api):
    # Given an open customer with a logged reference, and an archived customer
    ada = await api.customer(display_name="Ada")
    gone = await api.customer(display_name="Gone")
    other = await api.customer(display_name="Bob")
    async with api.db.transaction() as session:
        await customer_service.archive_customer(session, SYSTEM, gone, archived=True)
    _, token = await api.staff("manager")
    first = (await api.data(LOG, purchase(ada, externalRef="r-1"), token=token))[
        "interactionLog"
    ]
    before = await written(api)
    inconsistent = {"amount": None}  # a purchase needs an amount

    async def log(customer: int, **fields: Any) -> dict[str, Any]:
        body = await api.gql(LOG, purchase(customer, **fields), token=token)
        assert not body.get("errors"), body
        return body["data"]["interactionLog"]

    # When an archived customer is given an inconsistent purchase: ARCHIVED first
    refused = await log(gone, **inconsistent)
    assert refused["errors"] == [{"field": "customerId", "code": "ARCHIVED"}]
    # And an unknown customer is NOT_FOUND, whatever the input
    code = await api.error_code(LOG, purchase(10**6, **inconsistent), token=token)
    assert code == "NOT_FOUND"
    # And a known reference returns the first record, even with another input
    again = await log(ada, externalRef="r-1", **inconsistent)
    assert again["created"] is False and again["errors"] == []
    assert again["interaction"] == first["interaction"]
    # And another customer's reference is a DUPLICATE
    dup = await log(gone, externalRef="r-1")
    assert dup["errors"] == [{"field": "customerId", "code": "ARCHIVED"}]
    dup = await log(other, externalRef="r-1")
    assert dup["errors"] == [{"field": "externalRef", "code": "DUPLICATE"}]
    # And an inconsistent purchase of an open customer is refused on its field
    missing = await log(ada, **inconsistent)
    assert missing["errors"] == [{"field": "amount", "code": "REQUIRED"}]
    # Then none of them wrote a row or an event
    assert await written(api) == before


def test_the_insight_aggregates_are_built_once_and_cacheable():
    rates = aggregates.rate_table({"EUR": Decimal(1), "USD": Decimal("0.92")})
    stmt = aggregates.aggregate_statement(rates, by_ids=True)
    # Built once per rate table: an update of one customer reuses it
    assert aggregates.aggregate_statement(rates, by_ids=True) is stmt
    # And SQLAlchemy can cache its compiled form (custom elements have cache keys)
    assert stmt._generate_cache_key() is not None
    assert aggregates.aggregate_statement(rates, by_ids=False)._generate_cache_key()
