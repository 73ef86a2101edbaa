"""Keyset pagination: first/after, last/before, orderings, limits and cursors."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import insert, update

from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.ids import to_global_id
from crm.interactions.models import Interaction
from tests.client import SYSTEM
from tests.test_query_counts import statements_of

CUSTOMERS = """
query($first: Int, $after: String, $last: Int, $before: String,
      $orderBy: CustomerOrder, $where: CustomerWhere) {
  customers(first: $first, after: $after, last: $last, before: $before,
            orderBy: $orderBy, where: $where) {
    edges { cursor node { id displayName } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

INTERACTIONS = """
query($first: Int, $after: String, $last: Int, $before: String,
      $orderBy: InteractionOrder) {
  interactions(first: $first, after: $after, last: $last, before: $before,
               orderBy: $orderBy) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

BASE = datetime(2026, 1, 1, tzinfo=UTC)
# Display names with ties (three "Ann Lee", two "Cy Oh") and time stamps with ties.
NAMES = [
    "Ann Lee",
    "Bo Ray",
    "Ann Lee",
    "Zed Ma",
    "Cy Oh",
    "Ann Lee",
    "Dee Fox",
    "Cy Oh",
    "Eve Kim",
    "Fay Wu",
]


def cursor_of(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


async def seed(api, count: int = 25) -> tuple[str, list[dict[str, Any]]]:
    """`count` customers with tied names and times, in one transaction.

    Returns a token and each customer's id, name and times, in id order.
    """
    _, token = await api.staff("analyst")
    rows = []
    async with api.db.transaction() as session:
        for i in range(count):
            name = NAMES[i % len(NAMES)]
            customer = await customer_service.create_customer(
                session, SYSTEM, {"display_name": name}
            )
            assert customer.id is not None
            # created: every third shares the previous one's time; updated: reversed
            created = BASE + timedelta(minutes=i - i % 3)
            updated = BASE + timedelta(hours=1, minutes=(count - i) // 2)
            await session.execute(
                update(Customer)
                .where(Customer.id == customer.id)
                .values(created_at=created, updated_at=updated)
            )
            rows.append(
                {
                    "id": to_global_id("Customer", customer.id),
                    "pk": customer.id,
                    "name": name,
                    "created_at": created,
                    "updated_at": updated,
                }
            )
    return token, rows


def expected_order(
    rows: list[dict[str, Any]], field: str, descending: bool
) -> list[str]:
    ordered = sorted(rows, key=lambda r: (r[field], r["pk"]), reverse=descending)
    return [r["id"] for r in ordered]


async def page(api, token: str, query: str = CUSTOMERS, **variables: Any) -> dict:
    data = await api.data(query, variables, token=token)
    return next(iter(data.values()))


async def walk_forward(
    api, token: str, size: int, query: str = CUSTOMERS, **variables: Any
) -> tuple[list[str], list[dict[str, Any]]]:
    """Every ID, following endCursor; and each page's pageInfo."""
    ids: list[str] = []
    infos = []
    after = None
    for _ in range(100):
        found = await page(api, token, query, first=size, after=after, **variables)
        ids += [e["node"]["id"] for e in found["edges"]]
        infos.append(found["pageInfo"])
        if found["edges"]:
            assert found["pageInfo"]["endCursor"] == found["edges"][-1]["cursor"]
            assert found["pageInfo"]["startCursor"] == found["edges"][0]["cursor"]
        if not found["pageInfo"]["hasNextPage"]:
            return ids, infos
        after = found["pageInfo"]["endCursor"]
    raise AssertionError("pagination never ended")


async def walk_backward(
    api, token: str, size: int, query: str = CUSTOMERS, **variables: Any
) -> tuple[list[str], list[dict[str, Any]]]:
    ids: list[str] = []
    infos = []
    before = None
    for _ in range(100):
        found = await page(api, token, query, last=size, before=before, **variables)
        ids = [e["node"]["id"] for e in found["edges"]] + ids
        infos.append(found["pageInfo"])
        if not found["pageInfo"]["hasPreviousPage"]:
            return ids, infos
        before = found["pageInfo"]["startCursor"]
    raise AssertionError("pagination never ended")


async def test_forward_pages_cover_every_customer_once(api):
    # given 25 customers
    token, rows = await seed(api)
    # when reading pages of 10 from the start
    ids, infos = await walk_forward(api, token, 10)
    # then every customer comes once, in creation order (ties by id)
    assert ids == expected_order(rows, "created_at", descending=False)
    assert [(i["hasPreviousPage"], i["hasNextPage"]) for i in infos] == [
        (False, True),
        (True, True),
        (True, False),
    ]


async def test_backward_pages_cover_every_customer_once(api):
    token, rows = await seed(api)
    ids, infos = await walk_backward(api, token, 10)
    assert ids == expected_order(rows, "created_at", descending=False)
    assert [(i["hasPreviousPage"], i["hasNextPage"]) for i in infos] == [
        (True, False),
        (True, True),
        (False, True),
    ]


async def test_pages_of_one_and_of_the_whole_list(api):
    token, rows = await seed(api, count=7)
    expected = expected_order(rows, "created_at", descending=False)
    assert (await walk_forward(api, token, 1))[0] == expected
    assert (await walk_backward(api, token, 1))[0] == expected
    whole = await page(api, token, first=7)
    assert [e["node"]["id"] for e in whole["edges"]] == expected
    assert whole["pageInfo"]["hasNextPage"] is False
    more = await page(api, token, first=100)
    assert [e["node"]["id"] for e in more["edges"]] == expected


async def test_the_default_page_holds_twenty(api):
    token, _ = await seed(api)
    found = await page(api, token)
    assert len(found["edges"]) == 20
    assert found["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": found["edges"][0]["cursor"],
        "endCursor": found["edges"][-1]["cursor"],
    }


async def test_after_the_last_item_is_an_empty_page(api):
    token, _ = await seed(api, count=3)
    full = await page(api, token, first=3)
    empty = await page(api, token, first=3, after=full["pageInfo"]["endCursor"])
    assert empty == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": True,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_first_zero_is_an_empty_page_that_knows_more_exist(api):
    token, _ = await seed(api, count=3)
    found = await page(api, token, first=0)
    assert found == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": True,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }
    counted = await api.data(
        "{ customers(first: 0) { totalCount edges { cursor } } }", token=token
    )
    assert counted["customers"] == {"totalCount": 3, "edges": []}
    found = await page(api, token, last=0)
    assert found["edges"] == []
    assert found["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize("field", ["CREATED_AT", "UPDATED_AT", "DISPLAY_NAME"])
async def test_every_order_pages_consistently_both_ways(api, field):
    token, rows = await seed(api, count=13)
    key = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at"}.get(field, "name")
    for direction in ("ASC", "DESC"):
        order = {"field": field, "direction": direction}
        expected = expected_order(rows, key, descending=direction == "DESC")
        forward, _ = await walk_forward(api, token, 5, orderBy=order)
        backward, _ = await walk_backward(api, token, 6, orderBy=order)
        assert forward == expected, direction
        assert backward == expected, direction


async def test_tied_display_names_are_ordered_by_id(api):
    token, rows = await seed(api, count=10)
    ann_lee = [r["id"] for r in rows if r["name"] == "Ann Lee"]
    asc = await page(
        api, token, first=3, orderBy={"field": "DISPLAY_NAME", "direction": "ASC"}
    )
    assert [e["node"]["id"] for e in asc["edges"]] == ann_lee
    desc = await page(
        api, token, last=3, orderBy={"field": "DISPLAY_NAME", "direction": "DESC"}
    )
    assert [e["node"]["id"] for e in desc["edges"]] == ann_lee[::-1]


async def test_pages_of_a_filtered_list(api):
    token, rows = await seed(api)
    where = {"displayName": {"in": ["Ann Lee", "Cy Oh"]}}
    expected = [
        r["id"]
        for r in sorted(rows, key=lambda r: (r["created_at"], r["pk"]))
        if r["name"] in ("Ann Lee", "Cy Oh")
    ]
    assert (await walk_forward(api, token, 3, where=where))[0] == expected
    assert (await walk_backward(api, token, 4, where=where))[0] == expected


async def test_interactions_page_in_both_directions_with_tied_times(api):
    # given 17 interactions, three to an hour, their creation times reversed
    token, customers = await seed(api, count=2)
    rows = [
        {
            "customer_id": customers[0]["pk"],
            "channel": "email",
            "direction": "inbound",
            "kind": "support",
            "occurred_at": BASE + timedelta(hours=i // 3),
            "created_at": BASE + timedelta(hours=(17 - i) // 4),
            "updated_at": BASE,
            "visibility": "internal",
            "source": "import",
            "recorded_by": "system:tests",
        }
        for i in range(17)
    ]
    async with api.db.transaction() as session:
        stmt = insert(Interaction).returning(
            Interaction.id, sort_by_parameter_order=True
        )
        pks = list((await session.scalars(stmt, rows)).all())
    stored = [
        {**row, "pk": pk, "id": to_global_id("Interaction", pk)}
        for row, pk in zip(rows, pks, strict=True)
    ]
    # when paging through each ordering, then every one comes once, ties by id
    for field in ("OCCURRED_AT", "CREATED_AT"):
        for direction in ("ASC", "DESC"):
            order = {"field": field, "direction": direction}
            expected = expected_order(stored, field.lower(), direction == "DESC")
            forward, _ = await walk_forward(api, token, 6, INTERACTIONS, orderBy=order)
            backward, _ = await walk_backward(
                api, token, 7, INTERACTIONS, orderBy=order
            )
            assert forward == expected, order
            assert backward == expected, order
    # and the default is newest first
    newest, _ = await walk_forward(api, token, 7, INTERACTIONS)
    assert newest == expected_order(stored, "occurred_at", True)


# --- refused arguments --------------------------------------------------------------


async def test_page_sizes_outside_zero_to_a_hundred_are_bad_user_input(api):
    token, _ = await seed(api, count=2)
    for variables in (
        {"first": 101},
        {"first": 10000},
        {"first": -1},
        {"last": 101},
        {"last": -5},
        {"first": 2, "last": 2},
        {"last": 2, "after": "x"},
        {"first": 2, "before": "x"},
    ):
        body = await api.gql(CUSTOMERS, variables, token=token)
        codes = [e["extensions"]["code"] for e in body["errors"]]
        assert (body["data"], codes) == (None, ["BAD_USER_INPUT"]), variables
    assert len((await page(api, token, first=100))["edges"]) == 2
    body = await api.gql(
        "{ customers { edges { node { interactions(first: 101) { totalCount } } } } }",
        token=token,
    )
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}


GARBAGE_CURSORS = [
    "garbage",
    "!!!!",
    "",
    "=",
    "é",
    cursor_of([]),
    cursor_of(["2026-01-01T00:00:00+00:00"]),
    cursor_of(["2026-01-01T00:00:00+00:00", 1, 2]),
    cursor_of(["2026-01-01T00:00:00", 1]),  # no offset
    cursor_of(["not a time", 1]),
    cursor_of([None, 1]),
    cursor_of(["2026-01-01T00:00:00+00:00", "1"]),
    cursor_of(["2026-01-01T00:00:00+00:00", 1.5]),
    cursor_of(["2026-01-01T00:00:00+00:00", True]),
    cursor_of(["2026-01-01T00:00:00+00:00", 2**40]),
    cursor_of(["0001-01-01T00:00:00+14:00", 1]),
    cursor_of({"a": 1}),
    cursor_of(["Ann Lee", 1]),  # a DISPLAY_NAME cursor
    base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    "A" * 5000,
]


async def test_cursors_that_are_not_from_this_list_are_bad_user_input(api):
    token, _ = await seed(api, count=2)
    tries = [{"first": 2, "after": cursor} for cursor in GARBAGE_CURSORS]
    tries += [{"last": 2, "before": cursor} for cursor in GARBAGE_CURSORS[::4]]
    for variables in tries:
        body = await api.gql(CUSTOMERS, variables, token=token)
        codes = [e["extensions"]["code"] for e in body["errors"]]
        assert (body["data"], codes) == (None, ["BAD_USER_INPUT"]), variables
    order = {"field": "DISPLAY_NAME", "direction": "ASC"}
    for cursor in (
        cursor_of([1, 1]),
        cursor_of([None, 1]),
        cursor_of(["Ann", 2**63]),
        cursor_of(["Ann", -(2**31) - 1]),
        cursor_of(["Ann\x00", 1]),
    ):
        body = await api.gql(
            CUSTOMERS, {"first": 2, "after": cursor, "orderBy": order}, token=token
        )
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        assert codes == ["BAD_USER_INPUT"], (cursor, body)


async def test_total_count_is_only_computed_when_asked_for(api):
    token, _ = await seed(api, count=4)
    listed = await statements_of(
        api, "{ customers(first: 2) { edges { node { id } } } }", token=token
    )
    counted = await statements_of(
        api, "{ customers(first: 2) { totalCount edges { node { id } } } }", token=token
    )
    assert not any("count(" in s.lower() for s in listed)
    # Planned: the count joins the page's one statement; resolved: one more.
    assert any("count(" in s.lower() for s in counted)
    assert len(counted) <= len(listed) + 1
    data = await api.data("{ customers(first: 2) { totalCount } }", token=token)
    assert data["customers"]["totalCount"] == 4


async def test_two_lists_in_one_request_are_both_answered(api):
    token, _ = await seed(api, count=3)
    data = await api.data(
        """{
          customers(first: 2) { totalCount edges { node { id } } }
          interactions(first: 2) { totalCount edges { node { id } } }
        }""",
        token=token,
    )
    assert data["customers"]["totalCount"] == 3
    assert data["interactions"]["totalCount"] == 0
