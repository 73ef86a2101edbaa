"""Planned statements are cached per shape: never across callers' rights, always
with this request's ID, cursor and data."""

from __future__ import annotations

from decimal import Decimal

from crm.ids import to_global_id
from tests.test_query_counts import recording

BY_ID = "query($id: ID!) { customer(id: $id) { id displayName } }"
COSTS = """query($id: ID!) { customer(id: $id) {
  interactions(first: 5) { edges { node { costToServe { amount } body } } }
} }"""
PAGE = """query($after: String) { customers(first: 2, after: $after) {
  edges { node { displayName } } pageInfo { hasNextPage endCursor }
} }"""
ME = "{ me { profile { displayName } interactions { totalCount } } }"


async def test_one_statement_serves_every_id(api):
    # given two customers
    _, token = await api.staff("agent")
    ada = await api.customer(display_name="Ada")
    bob = await api.customer(display_name="Bob")
    # when the same query asks for each
    with recording(api.db) as statements:
        first = await api.data(
            BY_ID, {"id": to_global_id("Customer", ada)}, token=token
        )
        second = await api.data(
            BY_ID, {"id": to_global_id("Customer", bob)}, token=token
        )
    # then each gets its own customer, from the same SQL text
    assert first["customer"]["displayName"] == "Ada"
    assert second["customer"]["displayName"] == "Bob"
    reads = [s for s in statements if "json" in s.lower()]
    assert len(reads) == 2 and reads[0] == reads[1]
    # and an ID nobody has is NOT_FOUND, as before
    missing = {"id": to_global_id("Customer", bob + 1000)}
    assert await api.error_code(BY_ID, missing, token=token) == "NOT_FOUND"


async def test_cached_plans_never_cross_rights(api):
    # given a purchase with a cost and an internal note
    customer = await api.customer(display_name="Cara")
    await api.interaction(
        customer,
        kind="purchase",
        amount=Decimal("10"),
        currency="EUR",
        cost_to_serve=Decimal("2.5"),
    )
    await api.interaction(
        customer, kind="note", body="internal only", visibility="internal"
    )
    _, admin = await api.staff("admin")
    _, agent = await api.staff("agent")
    _, analyst = await api.staff("analyst")
    variables = {"id": to_global_id("Customer", customer)}

    def costs(data):
        nodes = [e["node"] for e in data["customer"]["interactions"]["edges"]]
        return sorted(str(n["costToServe"]) for n in nodes), sorted(
            str(n["body"]) for n in nodes
        )

    # when an admin, an agent, an analyst and the admin again ask the same query
    seen_by_admin = costs(await api.data(COSTS, variables, token=admin))
    seen_by_agent = costs(await api.data(COSTS, variables, token=agent))
    seen_by_analyst = costs(await api.data(COSTS, variables, token=analyst))
    again = costs(await api.data(COSTS, variables, token=admin))
    # then each sees what their role allows, whoever asked first:
    assert seen_by_admin == again
    # costs need financials:read (not agents)
    assert "{'amount': '2.5000'}" in seen_by_admin[0]
    assert seen_by_agent[0] == ["None", "None"]
    assert seen_by_analyst[0] == seen_by_admin[0]
    # internal notes need internal_notes:read (not analysts)
    assert "internal only" in seen_by_admin[1]
    assert "internal only" in seen_by_agent[1]
    assert "internal only" not in seen_by_analyst[1]


async def test_paging_with_one_statement_walks_the_whole_list(api):
    _, token = await api.staff("agent")
    for name in ("A", "B", "C", "D", "E"):
        await api.customer(display_name=name)
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = (await api.data(PAGE, {"after": after}, token=token))["customers"]
        seen += [e["node"]["displayName"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == ["A", "B", "C", "D", "E"]
    assert page["pageInfo"]["hasNextPage"] is False
    # a cursor that is not one of this list is refused as always
    bad = {"after": "not-a-cursor"}
    assert await api.error_code(PAGE, bad, token=token) == "BAD_USER_INPUT"


async def test_each_customer_sees_their_own_view_from_the_same_query(api):
    ada = await api.customer(display_name="Ada", email="ada@example.com")
    bob = await api.customer(display_name="Bob", email="bob@example.com")
    await api.interaction(ada, visibility="shared")
    for customer, name, count in ((ada, "Ada", 1), (bob, "Bob", 0), (ada, "Ada", 1)):
        data = await api.data(ME, token=api.customer_token(customer))
        assert data["me"]["profile"]["displayName"] == name
        assert data["me"]["interactions"]["totalCount"] == count


async def test_markers_in_a_customers_own_json_are_left_alone(api):
    # given a customer whose attributes look like the planner's own markers
    odd = {"__deferred__": 1, "__cursor__": [0.5, 1]}
    await api.customer(display_name="Marker Maria", attributes=odd)
    _, token = await api.staff("admin")
    # when a search page (raw cursors) with a deferred field reads them
    data = await api.data(
        """{ customers(first: 5, search: "maria") {
          edges { cursor node { attributes owner { id } } }
          pageInfo { endCursor } } }""",
        token=token,
    )
    # then the attributes come back as stored, and cursors are cursors
    (edge,) = data["customers"]["edges"]
    assert edge["node"]["attributes"] == odd
    assert edge["node"]["owner"] is None
    assert isinstance(edge["cursor"], str)
    assert data["customers"]["pageInfo"]["endCursor"] == edge["cursor"]
