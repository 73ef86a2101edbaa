"""N+1 guards: the SQL statements a list query runs do not grow with the page.

These guard the field-by-field path (`MUTUAL_PLANNER=off`, and every subtree the
planner leaves to the resolvers); tests/test_planner_counts.py guards the
planned one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert

from crm.customers import service as customer_service
from crm.db import Database
from crm.interactions.models import Interaction
from crm.staff import service as staff_service
from tests.client import SYSTEM
from tests.conftest import make_app


@pytest.fixture(scope="module")
def resolver_app(database: Database):  # type: ignore[no-untyped-def]
    return make_app(database, planner=False)


@pytest.fixture
async def api(resolver_app, db):  # type: ignore[no-untyped-def]
    """The client of an app whose fields all resolve one by one."""
    from tests.client import Api

    transport = httpx.ASGITransport(app=resolver_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mutual.test"
    ) as http:
        yield Api(http, resolver_app, db)


# Transaction control and connection setup are not data statements.
_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b", re.I)


@contextmanager
def recording(database: Database) -> Iterator[list[str]]:
    """The SQL statements run on `database` (both engines) while the block runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not _CONTROL.match(statement):
            statements.append(statement)

    engines = {id(e): e for e in (database.read_engine, database.write_engine)}
    for engine in engines.values():
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines.values():
            event.remove(engine.sync_engine, "before_cursor_execute", record)


async def statements_of(
    api, query: str, variables: dict[str, Any] | None = None, *, token: str
) -> list[str]:
    """The data statements of one request, without the token's staff lookup."""
    with recording(api.db) as statements:
        await api.data(query, variables, token=token)
    return [s for s in statements if not _is_auth_lookup(s)]


def _is_auth_lookup(statement: str) -> bool:
    # api/auth.py reads the caller by primary key (session.get) before the operation.
    flat = " ".join(statement.split())
    return (
        flat.startswith("SELECT staff_member.id")
        and re.search(r"WHERE staff_member\.id = (\?|\$1)", flat) is not None
    )


def kind_of(statement: str) -> str:
    if "row_number()" in statement:
        return "interactions"
    if "FROM staff_member" in statement:
        return "owners"
    if "FROM customer" in statement:
        return "page"
    return statement


async def seed(api, customers: int, per_customer: int) -> str:
    """Customers with owners and interactions, in one transaction; a manager token."""
    async with api.db.transaction() as session:
        owners = [
            await staff_service.create_staff(
                session,
                SYSTEM,
                email=f"owner{i}@staff.test",
                display_name=f"Owner {i}",
                role="manager",
                password=None,
            )
            for i in range(3)
        ]
        start = datetime(2026, 1, 1, tzinfo=UTC)
        rows: list[dict[str, Any]] = []
        for c in range(customers):
            customer = await customer_service.create_customer(
                session,
                SYSTEM,
                {
                    "given_name": f"Customer{c:03d}",
                    "owner_id": owners[c % 3].id if c % 4 else None,
                },
            )
            for i in range(per_customer):
                bought = i % 3 == 0
                when = start + timedelta(hours=c * 10 + i)
                rows.append(
                    {
                        "customer_id": customer.id,
                        "channel": "email",
                        "direction": "inbound",
                        "kind": "purchase" if bought else ("support", "visit")[i % 2],
                        "amount": Decimal("9.99") if bought else None,
                        "currency": "EUR" if bought else None,
                        "occurred_at": when,
                        "created_at": when,
                        "updated_at": when,
                        "visibility": "internal",
                        "source": "import",
                        "recorded_by": "system:tests",
                    }
                )
        # Interactions in bulk: this guards reads, and keeps the seed fast.
        if rows:
            await session.execute(insert(Interaction), rows)
    assert owners[0].id is not None
    return api.token_for(owners[0].id)


PAGE = """
query($n: Int!) {
  customers(first: $n) {
    edges { node {
      id displayName owner { displayName }
      interactions(first: 5) {
        edges { node { id kind amount { amount currency } } }
      }
    } }
  }
}"""


async def test_a_nested_customer_page_runs_the_same_three_statements_at_any_size(
    api,
):
    # given 60 customers with owners and 6 interactions each
    token = await seed(api, customers=60, per_customer=6)
    # when a small and a large page are read with owners and interactions
    small = await statements_of(api, PAGE, {"n": 5}, token=token)
    large = await statements_of(api, PAGE, {"n": 50}, token=token)
    # then both run the same statements: the page, the owners, the interactions
    assert len(small) == len(large) == 3, large
    assert [kind_of(s) for s in small] == [kind_of(s) for s in large]
    assert sorted(kind_of(s) for s in large) == ["interactions", "owners", "page"]
    # and the data is all there
    data = await api.data(PAGE, {"n": 50}, token=token)
    nodes = [e["node"] for e in data["customers"]["edges"]]
    assert len(nodes) == 50
    assert all(len(n["interactions"]["edges"]) == 5 for n in nodes)
    assert sum(n["owner"] is None for n in nodes) == 13  # every 4th has no owner
    purchases = [
        i["node"]
        for n in nodes
        for i in n["interactions"]["edges"]
        if i["node"]["kind"] == "PURCHASE"
    ]
    assert purchases
    assert {p["amount"]["amount"] for p in purchases} == {"9.9900"}


async def test_the_auth_lookup_is_the_only_other_statement(api):
    token = await seed(api, customers=3, per_customer=1)
    with recording(api.db) as everything:
        await api.data(PAGE, {"n": 5}, token=token)
    with recording(api.db) as nothing_asked:
        await api.data("{ __typename }", token=token)
    # a query that reads no data still authenticates: one statement
    assert len(nothing_asked) == 1
    assert _is_auth_lookup(nothing_asked[0])
    assert len(everything) == 3 + 1


async def test_total_count_costs_one_statement_only_when_selected(api):
    token = await seed(api, customers=8, per_customer=2)
    without = await statements_of(
        api, "{ customers(first: 3) { edges { node { id } } } }", token=token
    )
    with_count = await statements_of(
        api,
        "{ customers(first: 3) { totalCount edges { node { id } } } }",
        token=token,
    )
    assert len(without) == 1
    assert len(with_count) == 2
    assert "count(" in with_count[1].lower()
    assert not any("count(" in s.lower() for s in without)
    only_count = await statements_of(
        api, "{ interactions { totalCount } }", token=token
    )
    assert len(only_count) == 2  # the page is read even when only counted


async def test_nested_total_counts_cost_one_group_by_for_the_whole_page(api):
    token = await seed(api, customers=30, per_customer=3)
    query = """query($n: Int!) {
      customers(first: $n) { edges { node {
        id interactions(first: 2) { totalCount edges { node { id } } }
      } } }
    }"""
    small = await statements_of(api, query, {"n": 3}, token=token)
    large = await statements_of(api, query, {"n": 30}, token=token)
    assert len(small) == len(large) == 3
    (grouped,) = [s for s in large if "GROUP BY" in s]
    assert "count(" in grouped.lower()
    data = await api.data(query, {"n": 30}, token=token)
    counts = {
        e["node"]["interactions"]["totalCount"] for e in data["customers"]["edges"]
    }
    assert counts == {3}
    # and without totalCount there is no GROUP BY
    plain = await statements_of(
        api,
        "{ customers { edges { node { interactions { edges { node { id } } } } } } }",
        token=token,
    )
    assert len(plain) == 2
    assert not any("GROUP BY" in s for s in plain)


async def test_interaction_customers_are_loaded_in_one_statement(api):
    token = await seed(api, customers=20, per_customer=2)
    query = """query($n: Int!) {
      interactions(first: $n) {
        edges { node { id customer { displayName owner { id } } } }
      }
    }"""
    small = await statements_of(api, query, {"n": 4}, token=token)
    large = await statements_of(api, query, {"n": 40}, token=token)
    assert len(small) == len(large) == 3  # interactions, customers, owners


async def test_differently_filtered_nested_lists_cost_one_statement_each(api):
    token = await seed(api, customers=20, per_customer=3)
    query = """query($n: Int!) {
      customers(first: $n) { edges { node {
        bought: interactions(where: {kind: {eq: PURCHASE}}) { edges { node { id } } }
        other: interactions(where: {kind: {neq: PURCHASE}}) { edges { node { id } } }
        again: interactions(where: {kind: {eq: PURCHASE}}) { edges { node { id } } }
      } } }
    }"""
    small = await statements_of(api, query, {"n": 2}, token=token)
    large = await statements_of(api, query, {"n": 20}, token=token)
    assert len(small) == len(large) == 3  # the page, then one per distinct filter
