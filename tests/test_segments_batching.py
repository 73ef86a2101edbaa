"""N+1 guards for segment lists: members, history, totals and satisfaction of a
whole page of segments cost one statement each, whatever the page size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from crm.interactions.models import Interaction
from tests.client import Api
from tests.test_query_counts import statements_of
from tests.test_segments import ADD, REMOVE, create, gid
from tests.test_segments_review import withdraw

LIST = """query($n: Int!) {
  segments(first: $n) { edges { node {
    id name
    members(first: 1) {
      totalCount
      edges { cursor node { id displayName } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
    history(first: 2) {
      totalCount
      edges { cursor node { change at customerId } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
    satisfaction { responses promoters detractors nps csatResponses csat }
  } } }
}"""

ONE = """query($id: ID!, $after: String, $hafter: String) {
  segment(id: $id) {
    members(first: 1, after: $after) {
      totalCount
      edges { cursor node { id displayName } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
    history(first: 2, after: $hafter) {
      totalCount
      edges { cursor node { change at customerId } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
    satisfaction { responses promoters detractors nps csatResponses csat }
  }
}"""

BACKWARDS = """query($id: ID!) {
  segment(id: $id) {
    members(last: 100) { edges { cursor node { id displayName } } }
    history(last: 100) { edges { cursor node { change at customerId } } }
  }
}"""


async def seed(api: Api, segments: int) -> tuple[str, list[int]]:
    """Static segments S00.. with 0..3 members each (one left again), ratings; a
    manager token and the customers."""
    customers = [await api.customer(display_name=f"C{i}") for i in range(5)]
    for i, customer in enumerate(customers):
        await api.interaction(customer, kind="feedback", channel="web", rating=10 - i)
    async with api.db.transaction() as session:
        when = datetime.now(UTC) - timedelta(days=2)
        await session.execute(
            insert(Interaction),
            [
                {
                    "customer_id": customers[0],
                    "rating": 5,
                    "survey": "csat",
                    "channel": "web",
                    "direction": "inbound",
                    "kind": "feedback",
                    "occurred_at": when,
                    "created_at": when,
                    "updated_at": when,
                    "visibility": "internal",
                    "source": "import",
                    "recorded_by": "system:tests",
                }
            ],
        )
    _, manager = await api.staff("manager")
    for s in range(segments):
        segment = await create(api, manager, name=f"S{s:02d}", kind="STATIC")
        chosen = [customers[(s + k) % 5] for k in range(s % 4)]
        if chosen:
            ids = [gid("Customer", c) for c in chosen]
            add = {"input": {"segmentId": segment["id"], "customerIds": ids}}
            await api.data(ADD, add, token=manager)
        if len(chosen) == 3:
            drop = {
                "segmentId": segment["id"],
                "customerIds": [gid("Customer", chosen[0])],
            }
            await api.data(REMOVE, {"input": drop}, token=manager)
    return manager, customers


async def test_a_segment_page_costs_the_same_statements_at_any_size(api: Api):
    # given 12 segments with members, history and ratings
    manager, _ = await seed(api, 12)
    # when a page of 2 and a page of 12 are read with members, history, satisfaction
    small = await statements_of(api, LIST, {"n": 2}, token=manager)
    large = await statements_of(api, LIST, {"n": 12}, token=manager)
    # then both run the same five statements: the planned page with its members
    # and their count, the segments whose history and satisfaction the resolvers
    # read, a first page and a total of history, and the satisfaction
    assert len(small) == len(large) == 5, large
    data = await api.data(LIST, {"n": 12}, token=manager)
    assert len(data["segments"]["edges"]) == 12


async def test_batched_pages_are_those_of_one_segment_read_alone(api: Api):
    # given segments, one of whose members withdrew partner sharing
    manager, customers = await seed(api, 8)
    await withdraw(api, customers[1], "partner_sharing")
    partner = await api.partner_key(
        ["segments:read", "customers:read", "interactions:read"]
    )
    for token in (manager, partner):
        # when the list is read and each segment alone, and its next pages
        listed = await api.data(LIST, {"n": 8}, token=token)
        for edge in listed["segments"]["edges"]:
            node = edge["node"]
            alone = (await api.data(ONE, {"id": node["id"]}, token=token))["segment"]
            # then the batched first pages, totals, cursors and figures are identical
            for field in ("members", "history", "satisfaction"):
                assert node[field] == alone[field], (token, node["name"], field)
            # and match, cursors included, the one-segment path read backwards
            back = await api.data(BACKWARDS, {"id": node["id"]}, token=token)
            for field in ("members", "history"):
                batched = node[field]["edges"]
                assert back["segment"][field]["edges"][: len(batched)] == batched
            # and their cursors continue where a single read would
            after: dict[str, Any] = {
                "id": node["id"],
                "after": node["members"]["pageInfo"]["endCursor"],
                "hafter": node["history"]["pageInfo"]["endCursor"],
            }
            rest = (await api.data(ONE, after, token=token))["segment"]
            seen = [e["node"]["id"] for e in node["members"]["edges"]]
            more = [e["node"]["id"] for e in rest["members"]["edges"]]
            assert len(seen) + len(more) == len(set(seen + more))
            assert rest["members"]["totalCount"] == node["members"]["totalCount"]
            if node["members"]["pageInfo"]["hasNextPage"]:
                assert more
            if node["history"]["pageInfo"]["hasNextPage"]:
                assert rest["history"]["edges"]
    # and the partner never sees the customer who withdrew partner sharing
    hidden = gid("Customer", customers[1])
    listed = await api.data(LIST, {"n": 8}, token=partner)
    for edge in listed["segments"]["edges"]:
        node = edge["node"]
        assert hidden not in [e["node"]["id"] for e in node["members"]["edges"]]
        assert hidden not in [e["node"]["customerId"] for e in node["history"]["edges"]]
    staff = await api.data(LIST, {"n": 8}, token=manager)
    totals = sum(e["node"]["members"]["totalCount"] for e in staff["segments"]["edges"])
    partner_totals = sum(
        e["node"]["members"]["totalCount"] for e in listed["segments"]["edges"]
    )
    assert partner_totals < totals


async def test_a_partner_without_customers_read_is_refused_members_in_a_list(
    api: Api,
):
    # given segments and a partner key that may read segments but not customers
    await seed(api, 3)
    partner = await api.partner_key(["segments:read"])
    # when it lists the segments with their members
    result = await api.gql(LIST, {"n": 3}, token=partner)
    # then every members field is refused, as it is for one segment
    codes = {e["extensions"]["code"] for e in result["errors"]}
    assert codes == {"FORBIDDEN"}
