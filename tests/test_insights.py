"""Insights: a refresh over a small base, incremental updates, history, defections."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select

from crm.analytics.bgnbd import BGNBDParams, probability_alive
from crm.analytics.rfm import rfm_cells, rfm_scores
from crm.columns import utcnow
from crm.insights.models import CustomerInsight, InsightModelFit, InsightSnapshot
from crm.insights.refresh import refresh_insights
from crm.interactions.models import Interaction
from tests.client import SYSTEM, Api

DAY = timedelta(days=1)


async def build_base(api: Api, customers: int = 12, locale: str = "en-GB") -> list[int]:
    """Customers with purchase histories ending at different times (one refund, a
    cost to serve, two ratings), written in one bulk insert."""
    now = utcnow()
    ids = [
        await api.customer(display_name=f"Buyer {i}", locale=locale)
        for i in range(customers)
    ]
    rows: list[dict[str, Any]] = []

    def row(customer_id: int, days_ago: float, **fields: Any) -> None:
        when = now - days_ago * DAY
        rows.append(
            {
                "customer_id": customer_id,
                "occurred_at": when,
                "channel": "web",
                "direction": "inbound",
                "visibility": "shared",
                "source": "import",
                "recorded_by": SYSTEM.ref,
                "created_at": when,
                "updated_at": when,
                "version": 1,
                **fields,
            }
        )

    for i, customer_id in enumerate(ids):
        last = 10 + 30 * i
        for k in range(1 + i % 5):
            row(
                customer_id,
                last + 20 * k,
                kind="purchase",
                amount=Decimal(10 + 5 * i),
                currency="EUR",
            )
    if customers > 3:
        row(ids[3], 5, kind="refund", amount=Decimal("7.50"), currency="EUR")
        row(ids[2], 4, kind="support", cost_to_serve=Decimal("3.25"), currency="EUR")
        row(ids[1], 3, kind="feedback", rating=9)
        row(ids[1], 2, kind="feedback", rating=3)
    async with api.db.transaction() as session:
        await session.execute(insert(Interaction), rows)
    return ids


INSIGHTS = """
query($id: ID!) { customer(id: $id) { insights {
  computedAt modelVersion currency profilingWithdrawn
  activity { purchases lastPurchaseAt }
  rfm { recencyDays frequency monetary { amount } recencyScore frequencyScore
        monetaryScore cell explanation }
  value { revenueLifetime { amount } revenue12m { amount }
          costToServeLifetime { amount } margin12m { amount } explanation }
  retention { repeatPurchases weeksFirstToLast weeksSinceFirst probabilityAlive
              expectedPurchases churnRisk explanation }
  predictedValue { predictedLifetimeValue { amount } percentile explanation }
  satisfaction { npsResponses promoters detractors nps }
  classification { profitability loyalty strategicValue strategicValueSource
                   valueGroup lowValue willingness valueCreationMode }
  tier { name nextTier progress }
} } }
"""


def gid(pk: int) -> str:
    from crm.ids import to_global_id

    return to_global_id("Customer", pk)


async def insights_of(api: Api, customer_id: int, token: str) -> dict[str, Any]:
    data = await api.data(INSIGHTS, {"id": gid(customer_id)}, token=token)
    return data["customer"]["insights"]


async def test_a_refresh_computes_measures_that_match_an_independent_computation(
    api: Api,
):
    # Given a small base with known histories
    ids = await build_base(api)
    _, admin = await api.staff("admin")
    # When an admin refreshes
    body = await api.data(
        "mutation { insightsRefresh { refresh { customers modelVersion "
        "stages { name seconds } } errors { code } } }",
        token=admin,
    )
    refresh = body["insightsRefresh"]["refresh"]
    assert refresh["customers"] == 12
    assert [s["name"] for s in refresh["stages"]] == [
        "aggregates",
        "fits",
        "scores",
        "write",
    ]
    # Then money, BG/NBD inputs and outputs agree with a computation by hand
    found = await insights_of(api, ids[4], admin)
    assert found["activity"]["purchases"] == 5
    assert Decimal(found["value"]["revenueLifetime"]["amount"]) == Decimal("150.00")
    assert found["rfm"]["recencyDays"] == 130
    retention = found["retention"]
    assert retention["repeatPurchases"] == 4
    assert retention["weeksFirstToLast"] == 80 / 7
    assert retention["weeksSinceFirst"] == 210 / 7
    async with api.db.transaction(write=False) as session:
        fit = await session.scalar(select(InsightModelFit))
    assert fit is not None and fit.bgnbd is not None
    params = BGNBDParams(log_likelihood=0.0, **fit.bgnbd)
    expected = probability_alive(params, 4, 80 / 7, 210 / 7)[0]
    assert abs(retention["probabilityAlive"] - expected) < 1e-9
    assert "BG/NBD" in retention["explanation"]
    # The refund and the cost to serve count where they belong
    refunded = await insights_of(api, ids[3], admin)
    assert Decimal(refunded["value"]["revenueLifetime"]["amount"]) == Decimal(
        4 * 25 - 7.5
    ).quantize(Decimal("0.0001"))
    served = await insights_of(api, ids[2], admin)
    assert Decimal(served["value"]["costToServeLifetime"]["amount"]) == Decimal("3.25")
    rated = await insights_of(api, ids[1], admin)
    assert rated["satisfaction"] == {
        "npsResponses": 2,
        "promoters": 1,
        "detractors": 1,
        "nps": 0.0,
    }
    # RFM cells are the analytics module's over the window buyers
    async with api.db.transaction(write=False) as session:
        rows = (
            await session.scalars(
                select(CustomerInsight).order_by(CustomerInsight.customer_id)
            )
        ).all()
    buyers = [r for r in rows if r.frequency > 0]
    r, f, m = rfm_scores(
        [b.recency_days for b in buyers],
        [b.frequency for b in buyers],
        [float(b.monetary or 0) for b in buyers],
    )
    assert [b.rfm_cell for b in buyers] == list(rfm_cells(r, f, m))
    # And every customer got one snapshot
    assert await api.count(InsightSnapshot) == 12


async def test_logging_a_purchase_moves_the_measures_without_a_refit(api: Api):
    # Given refreshed insights
    ids = await build_base(api)
    await refresh_insights(api.db)
    _, manager = await api.staff("manager")
    before = await insights_of(api, ids[0], manager)
    # When a purchase is logged through the API
    logged = await api.data(
        """mutation($input: InteractionLogInput!) { interactionLog(input: $input) {
             interaction { id } errors { code } } }""",
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
    assert logged["interactionLog"]["errors"] == []
    # Then the customer's measures moved, with the same model
    after = await insights_of(api, ids[0], manager)
    assert after["activity"]["purchases"] == before["activity"]["purchases"] + 1
    assert Decimal(after["value"]["revenue12m"]["amount"]) == Decimal(
        before["value"]["revenue12m"]["amount"]
    ) + Decimal(40)
    assert after["rfm"]["recencyDays"] == 0
    assert after["modelVersion"] == before["modelVersion"]
    assert after["retention"]["repeatPurchases"] == 1
    assert await api.count(InsightModelFit) == 1
    # And deleting it moves them back
    await api.data(
        """mutation($input: InteractionIdInput!) { interactionDelete(input: $input) {
             deletedId } }""",
        {"input": {"id": logged["interactionLog"]["interaction"]["id"]}},
        token=manager,
    )
    again = await insights_of(api, ids[0], manager)
    assert again["activity"]["purchases"] == before["activity"]["purchases"]


async def test_history_and_defections_follow_the_snapshots(api: Api):
    # Given a frequent buyer who stopped, refreshed right after and much later
    ids = await build_base(api)
    frequent = ids[-1]
    async with api.db.transaction() as session:
        first = utcnow() - 400 * DAY
        await session.execute(
            insert(Interaction),
            [
                {
                    "customer_id": frequent,
                    "occurred_at": first + 7 * k * DAY,
                    "channel": "web",
                    "direction": "inbound",
                    "kind": "purchase",
                    "amount": Decimal(30),
                    "currency": "EUR",
                    "visibility": "shared",
                    "source": "import",
                    "recorded_by": SYSTEM.ref,
                    "created_at": first,
                    "updated_at": first,
                    "version": 1,
                }
                for k in range(12)
            ],
        )
    early = first + 78 * DAY
    await refresh_insights(api.db, as_of=early)
    await refresh_insights(api.db)
    _, analyst = await api.staff("analyst")
    # When staff read the customer's churn history
    history = await api.data(
        """query($id: ID!) { customer(id: $id) {
             insightHistory(kind: CHURN_RISK, first: 10) {
               totalCount nodes { takenAt value label } } } }""",
        {"id": gid(frequent)},
        token=analyst,
    )
    points = history["customer"]["insightHistory"]
    # Then it shows both refreshes, newest first, the risk rising
    assert points["totalCount"] == 2
    assert [p["label"] for p in points["nodes"]] == ["high", "low"]
    assert points["nodes"][0]["value"] < points["nodes"][1]["value"]
    # And the crossing is a defection, with the predicted value at stake
    since = (early + DAY).isoformat()
    found = await api.data(
        """query($since: DateTime!) { defections(since: $since, first: 50) {
             totalCount nodes { crossedAt churnRisk probabilityAlive
               predictedValueAtStake { amount currency }
               customer { id } lastInteraction { kind } } } }""",
        {"since": since},
        token=analyst,
    )
    defected = {n["customer"]["id"]: n for n in found["defections"]["nodes"]}
    assert gid(frequent) in defected
    assert defected[gid(frequent)]["churnRisk"] == "HIGH"
    assert defected[gid(frequent)]["predictedValueAtStake"]["currency"] == "EUR"
    assert defected[gid(frequent)]["lastInteraction"]["kind"] == "PURCHASE"
    # A period before the crossing holds none of them
    none = await api.data(
        """query($since: DateTime!, $until: DateTime!) {
             defections(since: $since, until: $until) { totalCount } }""",
        {"since": (early - 10 * DAY).isoformat(), "until": since},
        token=analyst,
    )
    assert none["defections"]["totalCount"] == 0


async def test_customers_who_withdrew_profiling_keep_only_descriptive_figures(
    api: Api,
):
    from crm.consent import service as consent_service

    # Given a customer who withdrew consent to profiling
    ids = await build_base(api)
    async with api.db.transaction() as session:
        await consent_service.record_consent(
            session,
            SYSTEM,
            ids[4],
            {"purpose": "profiling", "granted": False, "source": "staff"},
        )
    # When insights are refreshed
    report = await refresh_insights(api.db)
    _, admin = await api.staff("admin")
    found = await insights_of(api, ids[4], admin)
    # Then spend is kept, but no score, prediction or classification
    assert found["profilingWithdrawn"] is True
    assert Decimal(found["value"]["revenueLifetime"]["amount"]) == Decimal(150)
    assert found["rfm"] is None
    assert found["retention"] is None
    assert found["classification"] is None
    assert found["predictedValue"] is None or (
        found["predictedValue"]["predictedLifetimeValue"] is None
    )
    # And the model was fitted without them
    assert report.customers == 12


async def test_filters_and_orderings_by_insights_select_the_right_customers(
    api: Api,
):
    # Given the demo base (its seed ends with a refresh)
    from crm.demo import seed_demo

    await seed_demo(api.db, customers=120, seed=5)
    _, analyst = await api.staff("analyst")
    # Filter: churn risk and top predicted value, as a segment rule would
    data = await api.data(
        """{ customers(first: 50, where: {insights: {
               predictedValuePercentile: {gte: 50}, purchases: {gte: 1}}}) {
             totalCount nodes { id insights { predictedValue { percentile } } } } }""",
        token=analyst,
    )
    nodes = data["customers"]["nodes"]
    assert nodes and all(
        n["insights"]["predictedValue"]["percentile"] >= 50 for n in nodes
    )
    async with api.db.transaction(write=False) as session:
        wanted = await session.scalar(
            select(func.count()).where(CustomerInsight.clv_percentile >= 50)
        )
    assert data["customers"]["totalCount"] == wanted


async def test_ordering_by_predicted_value_pages_through_every_customer(api: Api):
    # Given the demo base, refreshed
    from crm.demo import seed_demo

    await seed_demo(api.db, customers=120, seed=5)
    _, analyst = await api.staff("analyst")
    # When an analyst pages through customers by predicted value, highest first
    query = """query($after: String) { customers(first: 5, after: $after,
                 orderBy: {field: PREDICTED_VALUE, direction: DESC}) {
                 pageInfo { endCursor hasNextPage }
                 nodes { id insights { predictedValue {
                   predictedLifetimeValue { amount } } } } } }"""
    seen: list[str] = []
    values: list[Decimal] = []
    after = None
    while True:
        page = (await api.data(query, {"after": after}, token=analyst))["customers"]
        for node in page["nodes"]:
            seen.append(node["id"])
            predicted = (node["insights"] or {}).get("predictedValue") or {}
            amount = (predicted.get("predictedLifetimeValue") or {}).get("amount")
            values.append(Decimal(amount) if amount is not None else Decimal(-1))
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # Then every customer comes once, in order (those without a value last)
    assert len(seen) == len(set(seen)) == 120
    assert values == sorted(values, reverse=True)


def test_the_value_creation_matrix_in_the_docs_is_the_code_table():
    from pathlib import Path

    from crm.analytics.competence import value_creation_matrix_markdown

    docs = (Path(__file__).parent.parent / "docs" / "insights.md").read_text()
    assert value_creation_matrix_markdown() in docs


def test_a_frozen_numpy_base_scores_alike_fresh_and_incremental():
    from crm.insights import scoring
    from crm.insights.models import InsightSettings

    # Given aggregates of a base, scored fresh
    rng = np.random.default_rng(3)
    n = 200
    purchases = rng.integers(0, 8, n)
    now = 1_800_000_000.0
    first = now - rng.integers(30, 700, n) * 86400.0
    last = np.minimum(first + rng.integers(0, 300, n) * 86400.0, now)
    agg = {
        "customer_id": np.arange(1, n + 1),
        "locale": np.array(["en-GB"] * n, dtype=object),
        "purchases": purchases,
        "first_purchase": np.where(purchases > 0, first, np.nan),
        "last_purchase": np.where(
            purchases > 0, np.where(purchases > 1, last, first), np.nan
        ),
        "last_interaction": np.where(purchases > 0, last, np.nan),
        "gross_spend": purchases * 25.0,
        "revenue_lifetime": purchases * 25.0,
        "revenue_12m": purchases * 10.0,
        "cost_lifetime": np.zeros(n),
        "cost_12m": np.zeros(n),
        "frequency": np.minimum(purchases, 3),
        "monetary": np.minimum(purchases, 3) * 25.0,
        "purchases_12m": np.minimum(purchases, 3),
        "nps_responses": np.zeros(n, dtype=np.int64),
        "promoters": np.zeros(n, dtype=np.int64),
        "detractors": np.zeros(n, dtype=np.int64),
        "csat_responses": np.zeros(n, dtype=np.int64),
        "satisfied": np.zeros(n, dtype=np.int64),
        "feedback": rng.integers(0, 3, n),
        "inbound_contacts": rng.integers(0, 3, n),
        "self_service": np.zeros(n, dtype=np.int64),
        "corrections": np.zeros(n, dtype=np.int64),
        "strategic_override": np.zeros(n, dtype=np.int64),
        "withdrawn": np.zeros(n, dtype=bool),
    }
    settings = InsightSettings()
    inputs = scoring.inputs_of(agg, now)
    fit = scoring.fit_models(inputs)
    fresh = scoring.score(agg, inputs, fit, settings, fresh=True)
    # When the same customers are scored with the kept cut points
    again = scoring.score(agg, inputs, fit, settings, fresh=False)
    # Then every rank-based score agrees
    for name in (
        "rfm_r",
        "rfm_f",
        "rfm_m",
        "profitability_score",
        "loyalty_score",
        "strategic_score",
    ):
        assert list(again[name]) == list(fresh[name]), name
    assert list(again["willingness"]) == list(fresh["willingness"])
