"""Who sees which insights: staff by role, partner keys, the customer's own view;
configuration by admins; strategic value by those allowed to set it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, select

from crm.audit.models import AuditEvent
from crm.columns import utcnow
from crm.insights.models import InsightPolicy, InsightSettings, StrategicValueOverride
from crm.insights.refresh import refresh_insights
from tests.client import Api
from tests.test_insights import build_base, gid, insights_of
from tests.test_query_counts import statements_of

FINANCIAL = """query($id: ID!) { customer(id: $id) { insights {
  value { revenue12m { amount } }
  predictedValue { predictedLifetimeValue { amount } }
  rfm { cell monetary { amount } }
  retention { probabilityAlive churnRisk }
  classification { loyalty profitability strategicValue valueGroup lowValue }
} } }"""


async def test_agents_see_no_financial_or_strategic_measure(api: Api):
    # Given refreshed insights
    ids = await build_base(api)
    await refresh_insights(api.db)
    _, agent = await api.staff("agent")
    # When an agent reads a customer's insights
    data = await api.data(FINANCIAL, {"id": gid(ids[5])}, token=agent)
    found = data["customer"]["insights"]
    # Then non-financial measures are there, financial and strategic ones null
    assert found["rfm"]["cell"] is not None
    assert found["rfm"]["monetary"] is None
    assert found["retention"]["churnRisk"] is not None
    assert found["value"] is None
    assert found["predictedValue"] is None
    assert found["classification"]["loyalty"] is not None
    for name in ("profitability", "strategicValue", "valueGroup", "lowValue"):
        assert found["classification"][name] is None
    # And filtering or reading history by a financial measure is refused
    code = await api.error_code(
        "{ customers(where: {insights: {predictedValue: {gt: 0}}}) { totalCount } }",
        token=agent,
    )
    assert code == "FORBIDDEN"
    code = await api.error_code(
        """query($id: ID!) { customer(id: $id) {
             insightHistory(kind: PREDICTED_VALUE) { totalCount } } }""",
        {"id": gid(ids[5])},
        token=agent,
    )
    assert code == "FORBIDDEN"
    # While a non-financial filter works
    churn = await api.data(
        "{ customers(where: {insights: {churnRisk: {in: [LOW, MEDIUM, HIGH]}}}) "
        "{ totalCount } }",
        token=agent,
    )
    assert churn["customers"]["totalCount"] == 12


async def test_analysts_read_financial_measures_and_partner_keys_read_none(api: Api):
    ids = await build_base(api)
    await refresh_insights(api.db)
    _, analyst = await api.staff("analyst")
    found = (await api.data(FINANCIAL, {"id": gid(ids[5])}, token=analyst))["customer"][
        "insights"
    ]
    assert found["value"]["revenue12m"]["amount"] is not None
    assert found["classification"]["profitability"] in range(1, 6)
    key = await api.partner_key(["customers:read"])
    data = await api.data(
        "query($id: ID!) { customer(id: $id) { insights { computedAt } } }",
        {"id": gid(ids[5])},
        token=key,
    )
    assert data["customer"]["insights"] is None
    code = await api.error_code(
        "{ customers(where: {insights: {churnRisk: {eq: HIGH}}}) { totalCount } }",
        token=key,
    )
    assert code == "FORBIDDEN"


ME = """{ me { insights { computedAt
  spendSummary { title purchases spend12m { amount currency } spendLifetime { amount } }
  tier { name nextTier progress }
  status { label }
  comparison { available reason minimumGroupSize medianSpend12m { amount } }
} } }"""


async def publish(api: Api, admin: str, kind: str, visible: bool = True) -> dict:
    body = await api.data(
        """mutation($input: InsightPolicySetInput!) { insightPolicySet(input: $input) {
             policy { kind visibleToCustomers title } errors { field code } } }""",
        {
            "input": {
                "kind": kind,
                "visibleToCustomers": visible,
                "title": f"Your {kind.lower()}",
            }
        },
        token=admin,
    )
    return body["insightPolicySet"]  # type: ignore[no-any-return]


async def test_customers_see_only_published_kinds_with_the_numbers_staff_see(
    api: Api,
):
    ids = await build_base(api)
    await refresh_insights(api.db)
    _, admin = await api.staff("admin")
    customer = api.customer_token(ids[4])
    # Before anything is published, the customer sees nothing
    nothing = (await api.data(ME, token=customer))["me"]["insights"]
    assert nothing["spendSummary"] is None and nothing["status"] is None
    # When the firm publishes the spend summary and the status
    assert (await publish(api, admin, "SPEND_SUMMARY"))["errors"] == []
    assert (await publish(api, admin, "RFM_STATUS"))["errors"] == []
    mine = (await api.data(ME, token=customer))["me"]["insights"]
    staff = await insights_of(api, ids[4], admin)
    # Then the customer sees them, with the same figures as staff
    assert (
        mine["spendSummary"]["spend12m"]["amount"]
        == staff["value"]["revenue12m"]["amount"]
    )
    assert mine["spendSummary"]["purchases"] == staff["activity"]["purchases"]
    assert mine["spendSummary"]["title"] == "Your spend_summary"
    assert mine["status"]["label"]
    assert mine["tier"] is None
    assert mine["comparison"] is None


async def test_confidential_kinds_can_never_be_published(api: Api):
    ids = await build_base(api)
    await refresh_insights(api.db)
    _, admin = await api.staff("admin")
    for kind in ("PROFITABILITY", "STRATEGIC_VALUE", "VALUE_GROUP", "LOW_VALUE"):
        result = await publish(api, admin, kind)
        assert result["policy"] is None
        assert result["errors"] == [{"field": "kind", "code": "CONFIDENTIAL"}]
    assert await api.count(InsightPolicy) == 0
    result = await publish(api, admin, "CHURN_RISK")
    assert result["errors"] == [{"field": "kind", "code": "NOT_SHAREABLE"}]
    # Even a policy row forced into the table publishes nothing confidential
    async with api.db.transaction() as session:
        await session.execute(
            insert(InsightPolicy),
            [
                {
                    "kind": k,
                    "visible_to_customers": True,
                    "updated_by": "sql",
                    "updated_at": utcnow(),
                }
                for k in ("profitability", "value_group", "churn_risk")
            ],
        )
    mine = await api.data(ME, token=api.customer_token(ids[0]))
    assert all(
        v is None for k, v in mine["me"]["insights"].items() if k != "computedAt"
    )
    policies = await api.data(
        "{ insightPolicies { kind visibleToCustomers publishable } }", token=admin
    )
    listed = {p["kind"]: p for p in policies["insightPolicies"]}
    assert listed["PROFITABILITY"]["publishable"] is False
    assert listed["SPEND_SUMMARY"]["publishable"] is True


async def test_comparison_with_customers_like_them_needs_a_large_enough_cohort(
    api: Api,
):
    # Given 12 buyers in one cohort and a k of 5, and 3 in another
    small = await build_base(api, customers=3, locale="fr-FR")
    ids = await build_base(api)
    _, admin = await api.staff("admin")
    await api.data(
        """mutation { insightSettingsSet(input: {cohortMinSize: 5}) {
             settings { cohortMinSize } errors { code } } }""",
        token=admin,
    )
    await refresh_insights(api.db)
    await publish(api, admin, "PEER_COMPARISON")
    # The first buyers' cohort: those who first bought in the same year, en-GB
    async with api.db.transaction(write=False) as session:
        from crm.insights.models import CustomerInsight

        years = {
            r.customer_id: r.first_purchase_at.year
            for r in await session.scalars(select(CustomerInsight))
            if r.first_purchase_at is not None
        }
    busiest = max({years[i] for i in ids}, key=[years[i] for i in ids].count)
    same_year = [i for i in ids if years[i] == busiest]
    assert len(same_year) >= 5
    mine = (await api.data(ME, token=api.customer_token(same_year[0])))["me"][
        "insights"
    ]
    # Then a member of the large cohort sees its medians
    assert mine["comparison"]["available"] is True
    assert mine["comparison"]["medianSpend12m"] is not None
    # A customer of the small cohort sees no figures, and why
    theirs = (await api.data(ME, token=api.customer_token(small[0])))["me"]["insights"]
    assert theirs["comparison"] == {
        "available": False,
        "reason": theirs["comparison"]["reason"],
        "minimumGroupSize": 5,
        "medianSpend12m": None,
    }
    assert "Too few customers" in theirs["comparison"]["reason"]


async def test_strategic_value_is_set_with_a_reason_audited_and_cleared(api: Api):
    ids = await build_base(api)
    await refresh_insights(api.db)
    _, manager = await api.staff("manager")
    _, agent = await api.staff("agent")
    doc = """mutation($input: StrategicValueSetInput!) {
             strategicValueSet(input: $input) {
               customer { insights { classification { strategicValue
                 strategicValueSource } } } errors { field code } } }"""
    target = {"customerId": gid(ids[0]), "value": 5, "reason": "Key reference"}
    # An agent may not
    assert await api.error_code(doc, {"input": target}, token=agent) == "FORBIDDEN"
    assert await api.count(StrategicValueOverride) == 0
    # Out of range or without a reason: payload errors, nothing written
    bad = await api.data(doc, {"input": {**target, "value": 9}}, token=manager)
    assert bad["strategicValueSet"]["errors"] == [
        {"field": "value", "code": "OUT_OF_RANGE"}
    ]
    bad = await api.data(doc, {"input": {**target, "reason": " "}}, token=manager)
    assert bad["strategicValueSet"]["errors"] == [
        {"field": "reason", "code": "REQUIRED"}
    ]
    assert await api.count(StrategicValueOverride) == 0
    # A manager sets it: the current row follows at once, and it is audited
    done = await api.data(doc, {"input": target}, token=manager)
    shown = done["strategicValueSet"]["customer"]["insights"]["classification"]
    assert shown == {"strategicValue": 5, "strategicValueSource": "STAFF"}
    async with api.db.transaction(write=False) as session:
        audit = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "customer.strategic_value_set"  # type: ignore[arg-type]
            )
        )
    assert audit is not None and audit.changes["strategic_value"]["after"] == 5
    # A refresh keeps it; null clears it back to the rule
    await refresh_insights(api.db)
    kept = await insights_of(api, ids[0], manager)
    assert kept["classification"]["strategicValueSource"] == "STAFF"
    cleared = await api.data(
        doc, {"input": {"customerId": gid(ids[0]), "value": None}}, token=manager
    )
    assert (
        cleared["strategicValueSet"]["customer"]["insights"]["classification"][
            "strategicValueSource"
        ]
        == "RULE"
    )


async def test_settings_and_tier_ladder_are_admin_only_and_checked(api: Api):
    ids = await build_base(api)
    _, admin = await api.staff("admin")
    _, manager = await api.staff("manager")
    settings_doc = """mutation($input: InsightSettingsSetInput!) {
        insightSettingsSet(input: $input) { settings { rfmWindowDays }
          errors { field code } } }"""
    assert (
        await api.error_code(
            settings_doc, {"input": {"rfmWindowDays": 90}}, token=manager
        )
        == "FORBIDDEN"
    )
    bad = await api.data(
        settings_doc,
        {"input": {"rfmWindowDays": 5, "churnHighBelow": 0.9}},
        token=admin,
    )
    assert bad["insightSettingsSet"]["errors"] == [
        {"field": "rfmWindowDays", "code": "OUT_OF_RANGE"}
    ]
    assert await api.count(InsightSettings) == 0
    ladder_doc = """mutation($input: TierLadderSetInput!) {
        tierLadderSet(input: $input) {
        tierLadder { basis tiers { name threshold } } errors { field code } } }"""
    wrong = await api.data(
        ladder_doc,
        {
            "input": {
                "basis": "REVENUE_12M",
                "tiers": [
                    {"name": "Gold", "threshold": "100"},
                    {"name": "Silver", "threshold": "50"},
                ],
            }
        },
        token=admin,
    )
    assert wrong["tierLadderSet"]["errors"] == [
        {"field": "tiers.1.threshold", "code": "NOT_ASCENDING"}
    ]
    ok = await api.data(
        ladder_doc,
        {
            "input": {
                "basis": "REVENUE_12M",
                "tiers": [
                    {"name": "Silver", "threshold": "20"},
                    {"name": "Gold", "threshold": "60"},
                ],
            }
        },
        token=admin,
    )
    assert ok["tierLadderSet"]["errors"] == []
    await refresh_insights(api.db)
    found = await insights_of(api, ids[4], admin)  # 12-month spend 150
    assert found["tier"] == {"name": "Gold", "nextTier": None, "progress": 1.0}
    low = await insights_of(api, ids[0], admin)  # 12-month spend 10
    assert low["tier"]["name"] is None and low["tier"]["nextTier"] == "Silver"
    assert low["tier"]["progress"] == 0.5


async def test_a_customers_page_with_insights_runs_as_many_statements_at_any_size(
    api: Api,
):
    await build_base(api, customers=25)
    await refresh_insights(api.db)
    _, analyst = await api.staff("analyst")
    query = """query($n: Int!) { customers(first: $n) { nodes { id insights {
        rfm { cell } value { margin12m { amount } }
        classification { strategicValue strategicValueReason } tier { name } } } } }"""
    small = await statements_of(api, query, {"n": 3}, token=analyst)
    large = await statements_of(api, query, {"n": 25}, token=analyst)
    assert len(small) == len(large)


async def test_a_data_export_holds_the_published_insights_with_the_same_figures(
    api: Api,
):
    # Given a refreshed base and a firm that publishes the spend summary only
    ids = await build_base(api)
    await refresh_insights(api.db)
    _, admin = await api.staff("admin")
    assert (await publish(api, admin, "SPEND_SUMMARY"))["errors"] == []
    customer = api.customer_token(ids[4])

    # When the customer exports their data
    body = await api.data(
        """mutation { myDataExport(input: {format: JSON}) { json errors { code } } }""",
        token=customer,
    )
    document = body["myDataExport"]["json"]

    # Then it holds the published kind with the numbers me.insights shows, nothing else
    mine = (await api.data(ME, token=customer))["me"]["insights"]
    [record] = document["sections"]["insights"]
    assert record["kind"] == "spend_summary"
    assert record["title"] == "Your spend_summary"
    assert record["purchases"] == mine["spendSummary"]["purchases"]
    assert Decimal(record["spend_12m"]) == Decimal(
        mine["spendSummary"]["spend12m"]["amount"]
    )
    text = str(document).lower()
    for confidential in ("profitability", "strategic", "value_group", "p_alive"):
        assert confidential not in text
