"""Customer.auditTrail on a page of customers: constant statements, same answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crm import events
from crm.audit.models import AuditEvent
from crm.ids import to_global_id
from tests.client import SYSTEM, Api
from tests.test_query_counts import statements_of

# Literal sizes: the cost limit prices a variable page size at its maximum.
TRAILS = """
query {
  customers(first: %(n)d) { edges { node {
    id
    auditTrail(first: %(size)d) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node {
        id action entityId actor { ref }
        changes { field before after withheld }
      } }
    }
  } } }
}"""

ONE_PAGE = """
query($id: ID!, $after: String) {
  customer(id: $id) {
    auditTrail(first: 2, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id action changes { field before after withheld } } }
    }
  }
}"""


async def _seed(api: Api, customers: int) -> list[int]:
    """Customers whose trails hold 1 + i % 5 events (creation, then updates), one
    of them a strategic value (a figure agents may not read)."""
    ids = [await api.customer(given_name=f"Trail{i:02d}") for i in range(customers)]
    async with api.db.transaction() as session:
        await events.record_many(
            session,
            SYSTEM,
            [
                {
                    "action": "customer.strategic_value_set"
                    if n == 1
                    else "customer.updated",
                    "entity_type": "Customer",
                    "entity_id": customer_id,
                    "changes": {"strategic_value": {"before": None, "after": 4}}
                    if n == 1
                    else {"tags": {"before": [], "after": [f"t{n}"]}},
                }
                for i, customer_id in enumerate(ids)
                for n in range(i % 5)
            ],
        )
    return ids


async def _event_ids(api: Api, customer_id: int) -> list[str]:
    async with api.db.transaction(write=False) as session:
        found = await session.scalars(
            select(AuditEvent.id)
            .where(
                AuditEvent.entity_type == "Customer",
                AuditEvent.entity_id == customer_id,
            )
            .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
        )
        return [to_global_id("AuditEvent", i) for i in found]


async def test_audit_trails_of_a_page_cost_the_same_statements_at_any_size(api: Api):
    # Given 30 customers with trails of 1 to 5 events
    await _seed(api, 30)
    _, token = await api.staff("manager")
    # When a small and a large page are read with trails and their counts
    small = await statements_of(api, TRAILS % {"n": 3, "size": 2}, token=token)
    large = await statements_of(api, TRAILS % {"n": 30, "size": 2}, token=token)
    # Then both run the same statements: the planned page, the customers whose
    # trails the resolvers read, the trails, the counts
    assert len(small) == len(large) == 4, large
    trails = [s for s in large if "FROM audit_event" in s]
    assert sum("row_number()" in s for s in trails) == 1
    assert sum("GROUP BY" in s for s in trails) == 1
    # And the page size of the trails changes nothing either
    deeper = await statements_of(api, TRAILS % {"n": 30, "size": 4}, token=token)
    assert len(deeper) == len(large)


async def test_batched_trails_match_the_keyset_trail_event_for_event(api: Api):
    # Given customers with trails of 1 to 5 events
    ids = await _seed(api, 10)
    _, token = await api.staff("manager")
    # When their first pages of 2 are read for the whole page
    data = await api.data(TRAILS % {"n": 10, "size": 2}, token=token)
    by_id = {
        e["node"]["id"]: e["node"]["auditTrail"] for e in data["customers"]["edges"]
    }
    assert len(by_id) == 10
    for customer_id in ids:
        gid = to_global_id("Customer", customer_id)
        trail = by_id[gid]
        expected = await _event_ids(api, customer_id)
        # Then each holds the newest events, counted in full
        assert trail["totalCount"] == len(expected) == 1 + ids.index(customer_id) % 5
        assert [e["node"]["id"] for e in trail["edges"]] == expected[:2]
        assert trail["pageInfo"]["hasNextPage"] == (len(expected) > 2)
        assert trail["pageInfo"]["hasPreviousPage"] is False
        assert all(e["node"]["entityId"] == gid for e in trail["edges"])
        # And the customer read alone answers alike, cursors included
        alone = (await api.data(ONE_PAGE, {"id": gid}, token=token))["customer"][
            "auditTrail"
        ]
        assert alone["edges"] == [
            {k: v for k, v in edge.items() if k != "node"}
            | {"node": _without(edge["node"], "entityId", "actor")}
            for edge in trail["edges"]
        ]
        # And its cursors carry on through the keyset pages to the end
        seen = [e["node"]["id"] for e in trail["edges"]]
        after = trail["pageInfo"]["endCursor"]
        while after is not None and len(seen) < len(expected):
            page = (await api.data(ONE_PAGE, {"id": gid, "after": after}, token=token))[
                "customer"
            ]["auditTrail"]
            assert page["totalCount"] == len(expected)
            seen += [e["node"]["id"] for e in page["edges"]]
            after = (
                page["pageInfo"]["endCursor"]
                if page["pageInfo"]["hasNextPage"]
                else None
            )
        assert seen == expected


def _without(node: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k not in names}


async def test_batched_trails_withhold_strategic_values_and_need_audit_read(api: Api):
    # Given customers, one with a strategic value in its trail
    ids = await _seed(api, 3)
    _, agent = await api.staff("agent")
    _, manager = await api.staff("manager")
    strategic = to_global_id("Customer", ids[2])

    def changes(data: dict[str, Any]) -> list[dict[str, Any]]:
        [node] = [
            e["node"]
            for e in data["customers"]["edges"]
            if e["node"]["id"] == strategic
        ]
        return [
            c
            for edge in node["auditTrail"]["edges"]
            if edge["node"]["action"] == "customer.strategic_value_set"
            for c in edge["node"]["changes"]
        ]

    # When an agent (no financials:read) reads the page, the figure is withheld
    seen = changes(await api.data(TRAILS % {"n": 3, "size": 5}, token=agent))
    assert seen == [
        {"field": "strategicValue", "before": None, "after": None, "withheld": True}
    ]
    # While a manager reads it
    seen = changes(await api.data(TRAILS % {"n": 3, "size": 5}, token=manager))
    assert seen == [
        {"field": "strategicValue", "before": None, "after": 4, "withheld": False}
    ]
    # And a partner key without audit:read is refused, as before
    raw = await api.partner_key(["customers:read"])
    code = await api.error_code(
        "{ customers { nodes { auditTrail { totalCount } } } }", token=raw
    )
    assert code == "FORBIDDEN"
