"""Permission-matrix entries for the insights root fields (see tests/matrix/core.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from crm.permissions import Permission as P
from tests.matrix.core import ERRORS, Op, World, gid, input_of, mutation

OPERATIONS: dict[tuple[str, str], Op] = {
    ("Query", "defections"): Op(
        "query($since: DateTime!) { defections(since: $since, first: 5) "
        "{ totalCount nodes { crossedAt } } }",
        lambda w: {"since": datetime(2020, 1, 1, tzinfo=UTC).isoformat()},
        gate=P.INSIGHTS_READ,
        also=frozenset({P.CUSTOMERS_READ}),
    ),
    ("Query", "insightPolicies"): Op(
        "{ insightPolicies { kind visibleToCustomers } }", gate=P.INSIGHTS_READ
    ),
    ("Query", "insightSettings"): Op(
        "{ insightSettings { rfmWindowDays } }", gate=P.INSIGHTS_READ
    ),
    ("Query", "tierLadder"): Op("{ tierLadder { basis } }", gate=P.INSIGHTS_READ),
    ("Mutation", "insightsRefresh"): Op(
        f"mutation {{ insightsRefresh {{ refresh {{ customers }} {ERRORS} }} }}",
        gate=P.INSIGHTS_CONFIGURE,
        payload_errors=True,
    ),
    ("Mutation", "strategicValueSet"): mutation(
        "strategicValueSet",
        "StrategicValueSetInput",
        f"customer {{ id }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "customerId": gid("Customer", w.customer),
                "value": 4,
                "reason": "Set in the matrix",
            }
        ),
        gate=P.STRATEGIC_VALUE_WRITE,
        also=frozenset({P.CUSTOMERS_READ}),
    ),
    ("Mutation", "insightPolicySet"): mutation(
        "insightPolicySet",
        "InsightPolicySetInput",
        f"policy {{ kind }} {ERRORS}",
        variables=input_of(
            lambda w: {"kind": "SPEND_SUMMARY", "visibleToCustomers": True}
        ),
        gate=P.INSIGHTS_CONFIGURE,
    ),
    ("Mutation", "tierLadderSet"): mutation(
        "tierLadderSet",
        "TierLadderSetInput",
        f"tierLadder {{ basis }} {ERRORS}",
        variables=input_of(
            lambda w: {
                "basis": "REVENUE_12M",
                "tiers": [{"name": "Silver", "threshold": "100"}],
            }
        ),
        gate=P.INSIGHTS_CONFIGURE,
    ),
    ("Mutation", "insightSettingsSet"): mutation(
        "insightSettingsSet",
        "InsightSettingsSetInput",
        f"settings {{ rfmWindowDays }} {ERRORS}",
        variables=input_of(lambda w: {"rfmWindowDays": 180}),
        gate=P.INSIGHTS_CONFIGURE,
    ),
}


async def build(session: AsyncSession, world: World) -> dict[str, int]:
    """The rows these operations work on, by name (world.extra): none beyond the
    core world (insights are computed, not written by hand)."""
    return {}
