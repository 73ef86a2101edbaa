"""The planned path: one SQL statement per root field, at any page size."""

from __future__ import annotations

from tests.test_query_counts import recording, seed, statements_of

NESTED = """
query($n: Int!) {
  customers(first: $n) {
    totalCount
    edges { cursor node {
      id displayName email lifecycleStage
      interactions(first: 5) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id occurredAt kind amount { amount currency } } }
      }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_a_nested_page_with_counts_is_one_statement_at_any_size(api):
    # given 40 customers with 6 interactions each
    token = await seed(api, customers=40, per_customer=6)
    # when a small and a large nested page with both totalCounts are read
    small = await statements_of(api, NESTED, {"n": 3}, token=token)
    large = await statements_of(api, NESTED, {"n": 40}, token=token)
    # then each is one statement
    assert len(small) == len(large) == 1, large
    data = await api.data(NESTED, {"n": 40}, token=token)
    page = data["customers"]
    assert page["totalCount"] == 40
    assert len(page["edges"]) == 40
    assert page["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": page["edges"][-1]["cursor"],
    }
    for edge in page["edges"]:
        nested = edge["node"]["interactions"]
        assert nested["totalCount"] == 6
        assert len(nested["edges"]) == 5
        assert nested["pageInfo"]["hasNextPage"] is True


async def test_reads_by_id_and_interaction_lists_are_one_statement(api):
    token = await seed(api, customers=5, per_customer=3)
    data = await api.data(
        "{ customers(first: 1) { edges { node { id } } } "
        "interactions(first: 1) { edges { node { id } } } }",
        token=token,
    )
    customer_id = data["customers"]["edges"][0]["node"]["id"]
    interaction_id = data["interactions"]["edges"][0]["node"]["id"]
    by_id = await statements_of(
        api,
        "query($id: ID!) { customer(id: $id) { id displayName version } }",
        {"id": customer_id},
        token=token,
    )
    one = await statements_of(
        api,
        "query($id: ID!) { interaction(id: $id) { id kind body } }",
        {"id": interaction_id},
        token=token,
    )
    listed = await statements_of(
        api,
        "{ interactions(first: 10, where: {kind: {eq: PURCHASE}}) "
        "{ totalCount edges { node { id amount { amount } } } } }",
        token=token,
    )
    assert len(by_id) == len(one) == len(listed) == 1


async def test_an_empty_page_reads_as_empty(api):
    token = await seed(api, customers=0, per_customer=0)
    with recording(api.db):
        data = await api.data(
            "{ interactions(first: 5) { totalCount pageInfo { hasNextPage "
            "hasPreviousPage startCursor endCursor } edges { cursor } } }",
            token=token,
        )
    assert data["interactions"] == {
        "totalCount": 0,
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "edges": [],
    }
