"""Review fixes: what an agent can infer, interactions kept when an insight update
fails, currencies without a rate, refreshes over degenerate bases."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update

from crm.columns import utcnow
from crm.customers.models import Customer
from crm.insights.kinds import FINANCIAL_KINDS, HISTORY_KINDS
from crm.insights.models import (
    CustomerInsight,
    InsightModelFit,
    InsightSettings,
    InsightSnapshot,
)
from crm.insights.refresh import refresh_insights
from crm.interactions.models import Interaction
from tests.client import SYSTEM, Api
from tests.test_insights import build_base, gid, insights_of

DAY = timedelta(days=1)


def _purchase(customer_id: int, days_ago: float, amount: str, currency: str) -> dict:
    when = utcnow() - days_ago * DAY
    return {
        "customer_id": customer_id,
        "occurred_at": when,
        "channel": "web",
        "direction": "inbound",
        "kind": "purchase",
        "amount": Decimal(amount),
        "currency": currency,
        "visibility": "shared",
        "source": "import",
        "recorded_by": SYSTEM.ref,
        "created_at": when,
        "updated_at": when,
        "version": 1,
    }


async def _write(api: Api, rows: list[dict[str, Any]]) -> None:
    async with api.db.transaction() as session:
        await session.execute(insert(Interaction), rows)


async def test_agents_cannot_read_any_financial_kind_history_or_value_at_stake(
    api: Api,
):
    # Given refreshed insights twice (so there is history)
    ids = await build_base(api)
    await refresh_insights(api.db, as_of=utcnow() - DAY)
    await refresh_insights(api.db)
    _, agent = await api.staff("agent")
    # When an agent asks for the history of each financial kind
    for kind in sorted(FINANCIAL_KINDS & HISTORY_KINDS):
        code = await api.error_code(
            """query($id: ID!, $kind: InsightKind!) { customer(id: $id) {
                 insightHistory(kind: $kind) { nodes { value label } } } }""",
            {"id": gid(ids[3]), "kind": kind.name},
            token=agent,
        )
        # Then every one is refused
        assert code == "FORBIDDEN", kind
    # And ordering customers by a financial measure is refused too
    code = await api.error_code(
        "{ customers(orderBy: {field: PREDICTED_VALUE}) { totalCount } }",
        token=agent,
    )
    assert code == "FORBIDDEN"
    # And defections never show the value at stake
    found = await api.data(
        """query($since: DateTime!) { defections(since: $since) {
             nodes { predictedValueAtStake { amount } } } }""",
        {"since": (utcnow() - 1000 * DAY).isoformat()},
        token=agent,
    )
    assert all(n["predictedValueAtStake"] is None for n in found["defections"]["nodes"])


async def test_agents_see_the_tier_but_not_progress_on_a_money_ladder(api: Api):
    # Given a money tier ladder (thresholds readable by every staff member)
    ids = await build_base(api)
    async with api.db.transaction() as session:
        session.add(
            InsightSettings(
                tier_basis="revenue_12m",
                tier_ladder=[
                    {"name": "Silver", "threshold": "20"},
                    {"name": "Gold", "threshold": "60"},
                ],
            )
        )
    await refresh_insights(api.db)
    _, agent = await api.staff("agent")
    _, manager = await api.staff("manager")
    # When an agent and a manager read a customer's tier (12-month spend 10)
    doc = """query($id: ID!) { customer(id: $id) { insights {
               tier { name nextTier progress measure { amount } } } } }"""
    seen = (await api.data(doc, {"id": gid(ids[0])}, token=agent))["customer"]
    full = (await api.data(doc, {"id": gid(ids[0])}, token=manager))["customer"]
    # Then the agent sees the tier names, never progress that gives the spend away
    assert seen["insights"]["tier"] == {
        "name": None,
        "nextTier": "Silver",
        "progress": None,
        "measure": None,
    }
    # While the manager sees it all
    assert full["insights"]["tier"]["progress"] == 0.5
    assert Decimal(full["insights"]["tier"]["measure"]["amount"]) == Decimal(10)


async def test_a_purchase_is_kept_when_the_insight_update_fails(api: Api):
    # Given refreshed insights, then a stored fit that cannot be used
    ids = await build_base(api)
    await refresh_insights(api.db)
    async with api.db.transaction() as session:
        session.add(
            InsightModelFit(
                fitted_at=utcnow(),
                customers=0,
                bgnbd={"not_a_parameter": 1.0},
                cut_points={},
                settings={},
                stage_seconds={},
            )
        )
    _, manager = await api.staff("manager")
    before = await insights_of(api, ids[0], manager)
    interactions = await api.count(Interaction)
    # When a purchase is logged through the API
    logged = await api.data(
        """mutation($input: InteractionLogInput!) { interactionLog(input: $input) {
             interaction { id amount { amount } } errors { code } } }""",
        {
            "input": {
                "customerId": gid(ids[0]),
                "channel": "WEB",
                "direction": "INBOUND",
                "kind": "PURCHASE",
                "amount": "40.00",
                "currency": "EUR",
            }
        },
        token=manager,
    )
    # Then the purchase is recorded
    assert logged["interactionLog"]["errors"] == []
    assert Decimal(logged["interactionLog"]["interaction"]["amount"]["amount"]) == 40
    assert await api.count(Interaction) == interactions + 1
    # And the measures stay as they were, for the next full refresh to fix
    after = await insights_of(api, ids[0], manager)
    assert after["activity"] == before["activity"]
    await refresh_insights(api.db)
    fixed = await insights_of(api, ids[0], manager)
    assert fixed["activity"]["purchases"] == before["activity"]["purchases"] + 1


async def test_amounts_in_a_currency_without_a_rate_are_left_out_of_money(api: Api):
    # Given a customer buying in EUR (reporting) and in USD, with no USD rate
    [customer] = [await api.customer(display_name="Two currencies")]
    await _write(
        api,
        [
            _purchase(customer, 30, "100.00", "EUR"),
            _purchase(customer, 20, "1000.00", "USD"),
        ],
    )
    await refresh_insights(api.db)
    _, analyst = await api.staff("analyst")
    # Then the USD amount is not counted 1:1, though the purchase counts
    found = await insights_of(api, customer, analyst)
    assert found["activity"]["purchases"] == 2
    assert Decimal(found["value"]["revenueLifetime"]["amount"]) == Decimal(100)
    # When the firm sets a USD rate
    async with api.db.transaction() as session:
        session.add(InsightSettings(exchange_rates={"USD": "0.5"}))
    await refresh_insights(api.db)
    # Then it is converted
    found = await insights_of(api, customer, analyst)
    assert Decimal(found["value"]["revenueLifetime"]["amount"]) == Decimal(600)


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


async def _assert_clean(api: Api) -> None:
    async with api.db.transaction() as session:
        fits = (await session.scalars(select(InsightModelFit))).all()
        rows = (await session.scalars(select(CustomerInsight))).all()
    for fit in fits:
        assert _finite(fit.bgnbd) and _finite(fit.gamma_gamma)
        assert _finite(fit.cut_points)
    for row in rows:
        for name in ("p_alive", "expected_purchases", "willingness", "nps", "csat"):
            assert _finite(getattr(row, name)), name


async def test_refreshes_over_degenerate_bases_write_no_nan(api: Api):
    # An empty base
    empty = await refresh_insights(api.db)
    assert empty.customers == 0
    # One customer with one purchase
    first = await api.customer(display_name="Only")
    await _write(api, [_purchase(first, 40, "25.00", "EUR")])
    await refresh_insights(api.db)
    await _assert_clean(api)
    # All one-time buyers
    others = [await api.customer(display_name=f"Once {i}") for i in range(5)]
    await _write(
        api, [_purchase(c, 10 + 50 * i, "30.00", "EUR") for i, c in enumerate(others)]
    )
    report = await refresh_insights(api.db)
    assert report.customers == 6
    await _assert_clean(api)
    _, analyst = await api.staff("analyst")
    found = await insights_of(api, others[0], analyst)
    assert found["activity"]["purchases"] == 1
    assert found["retention"]["repeatPurchases"] == 0
    # Everyone withdrew consent to profiling (with repeat buyers among them)
    from crm.consent import service as consent_service

    ids = await build_base(api, customers=6)
    async with api.db.transaction() as session:
        for customer in [first, *others, *ids]:
            await consent_service.record_consent(
                session,
                SYSTEM,
                customer,
                {"purpose": "profiling", "granted": False, "source": "staff"},
            )
    report = await refresh_insights(api.db)
    assert report.customers == 12
    await _assert_clean(api)
    found = await insights_of(api, ids[4], analyst)
    assert found["profilingWithdrawn"] is True
    assert found["retention"] is None and found["rfm"] is None
    assert Decimal(found["value"]["revenueLifetime"]["amount"]) == Decimal(150)


async def test_archived_and_erased_customers_get_no_new_insight_rows(api: Api):
    # Given a refreshed base, then one customer archived and one erased
    ids = await build_base(api, customers=6)
    await refresh_insights(api.db)
    now = utcnow()
    async with api.db.transaction() as session:
        await session.execute(
            update(Customer).where(Customer.id == ids[1]).values(archived_at=now)  # type: ignore[arg-type]
        )
        await session.execute(
            update(Customer)
            .where(Customer.id == ids[2])  # type: ignore[arg-type]
            .values(archived_at=now, erased_at=now)
        )
    # When insights are refreshed again
    report = await refresh_insights(api.db)
    # Then neither gets a snapshot of that refresh
    assert report.customers == 4
    async with api.db.transaction() as session:
        latest = (
            await session.scalars(
                select(InsightSnapshot.customer_id).where(
                    InsightSnapshot.fit_id == report.fit_id  # type: ignore[arg-type]
                )
            )
        ).all()
    assert set(latest) == {ids[0], ids[3], ids[4], ids[5]}


async def test_long_silent_one_time_buyers_reach_high_risk_and_defect(api: Api):
    # Given repeat buyers (for a fit) and two one-time buyers: recent and long silent
    await build_base(api)
    recent = await api.customer(display_name="Bought last week")
    silent = await api.customer(display_name="Bought once, long ago")
    await _write(
        api,
        [_purchase(recent, 7, "30.00", "EUR"), _purchase(silent, 300, "30.00", "EUR")],
    )
    early = utcnow() - 290 * DAY
    await refresh_insights(api.db, as_of=early)
    await refresh_insights(api.db)
    _, agent = await api.staff("agent")
    # When staff read their retention
    doc = """query($id: ID!) { customer(id: $id) { insights { retention {
               repeatPurchases probabilityAlive churnRisk explanation } } } }"""
    fresh = (await api.data(doc, {"id": gid(recent)}, token=agent))["customer"]
    gone = (await api.data(doc, {"id": gid(silent)}, token=agent))["customer"]
    # Then the model's P(alive) is 1 for both, but only the long silent one is HIGH
    assert fresh["insights"]["retention"]["probabilityAlive"] == 1.0
    assert fresh["insights"]["retention"]["churnRisk"] == "LOW"
    assert gone["insights"]["retention"]["probabilityAlive"] == 1.0
    assert gone["insights"]["retention"]["churnRisk"] == "HIGH"
    assert "one-time buyer" in gone["insights"]["retention"]["explanation"]
    # And the long silent one crossed into HIGH since the early refresh: a defection
    found = await api.data(
        """query($since: DateTime!) { defections(since: $since, first: 50) {
             nodes { customer { id } } } }""",
        {"since": (early + DAY).isoformat()},
        token=agent,
    )
    defected = {n["customer"]["id"] for n in found["defections"]["nodes"]}
    assert gid(silent) in defected
    assert gid(recent) not in defected


async def test_agents_read_no_strategic_value_in_the_audit_trail(api: Api):
    # Given a strategic value a manager set with a reason
    ids = await build_base(api, customers=4)
    _, manager = await api.staff("manager")
    _, agent = await api.staff("agent")
    done = await api.data(
        """mutation($input: StrategicValueSetInput!) {
             strategicValueSet(input: $input) { errors { code } } }""",
        {"input": {"customerId": gid(ids[2]), "value": 5, "reason": "Key account"}},
        token=manager,
    )
    assert done["strategicValueSet"]["errors"] == []
    doc = """query($id: ID!) { customer(id: $id) { auditTrail(first: 5) {
               nodes { action changes { field after withheld } } } } }"""

    # When an agent reads the customer's audit trail, the figure and reason are withheld
    nodes = (await api.data(doc, {"id": gid(ids[2])}, token=agent))["customer"][
        "auditTrail"
    ]["nodes"]
    [event] = [n for n in nodes if n["action"] == "customer.strategic_value_set"]
    assert event["changes"]
    assert all(c["withheld"] and c["after"] is None for c in event["changes"])

    # And a manager reads them
    nodes = (await api.data(doc, {"id": gid(ids[2])}, token=manager))["customer"][
        "auditTrail"
    ]["nodes"]
    [event] = [n for n in nodes if n["action"] == "customer.strategic_value_set"]
    assert {c["after"] for c in event["changes"]} == {5, "Key account"}
