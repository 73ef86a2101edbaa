"""`where:` filters on customers and interactions, as a client sends them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.ids import to_global_id
from crm.interactions import service as interaction_service
from crm.staff import service as staff_service
from tests.client import SYSTEM

CUSTOMERS = """
query($where: CustomerWhere) {
  customers(where: $where, first: 100) {
    totalCount
    edges { node { givenName } }
  }
}"""

INTERACTIONS = """
query($where: InteractionWhere) {
  interactions(
    where: $where, first: 100, orderBy: {field: OCCURRED_AT, direction: ASC}
  ) {
    totalCount
    edges { node { subject } }
  }
}"""


# Each list, and the field of its rows the tests compare.
LISTS = {"customers": CUSTOMERS, "interactions": INTERACTIONS}
LEAVES = {"customers": "givenName", "interactions": "subject"}


@dataclass
class World:
    """Four customers and their interactions; names are the given names."""

    token: str
    ids: dict[str, int]
    owner: int
    other_owner: int


async def seed_world(api) -> World:
    """Seed in one transaction (through the domain services): it keeps tests fast."""
    async with api.db.transaction() as session:
        staff = [
            await staff_service.create_staff(
                session,
                SYSTEM,
                email=f"{role}@staff.test",
                display_name=role.title(),
                role=role,
                password=None,
            )
            for role in ("manager", "agent")
        ]
        owner, other_owner = (m.id for m in staff)
        people: list[dict[str, Any]] = [
            {
                "given_name": "Ada",
                "family_name": "Lovelace",
                "email": "Ada.Lovelace@Example.com",
                "company": "Analytical Engines",
                "tags": ["vip", "newsletter"],
                "lifecycle_stage": "active",
                "owner_id": owner,
            },
            {
                "given_name": "Bob",
                "family_name": "Builder",
                "email": "bob@builders.test",
                "company": "Builders_Co",
                "tags": ["newsletter"],
                "lifecycle_stage": "lead",
            },
            {
                "given_name": "Carla",
                "family_name": "Diaz",
                "email": "carla@example.com",
                "company": "50% Off Ltd",
                "lifecycle_stage": "prospect",
                "owner_id": other_owner,
            },
            {
                "given_name": "Dan",
                "tags": ["vip"],
                "lifecycle_stage": "churned",
                "owner_id": owner,
            },
        ]
        ids: dict[str, int] = {}
        for month, fields in enumerate(people, start=1):
            customer = await customer_service.create_customer(session, SYSTEM, fields)
            assert customer.id is not None
            ids[fields["given_name"]] = customer.id
            await session.execute(
                update(Customer)
                .where(Customer.id == customer.id)
                .values(created_at=datetime(2026, month, 1, tzinfo=UTC))
            )
        jan = datetime(2026, 1, 10, 12, tzinfo=UTC)
        interactions: list[tuple[str, dict[str, Any]]] = [
            (
                "Ada",
                {
                    "subject": "ada-purchase",
                    "kind": "purchase",
                    "amount": "150",
                    "currency": "EUR",
                    "cost_to_serve": "20",
                    "channel": "store",
                    "rating": 9,
                    "sentiment": 0.8,
                    "occurred_at": jan,
                    "body": "Bought the engine",
                },
            ),
            (
                "Ada",
                {
                    "subject": "ada-support",
                    "body": "Asked about 100% warranty",
                    "rating": 4,
                    "sentiment": -0.5,
                    "occurred_at": jan.replace(day=11),
                    "visibility": "shared",
                },
            ),
            (
                "Bob",
                {
                    "subject": "bob-purchase",
                    "kind": "purchase",
                    "amount": "50",
                    "currency": "USD",
                    "channel": "web",
                    "direction": "outbound",
                    "occurred_at": jan.replace(day=12),
                },
            ),
            (
                "Carla",
                {
                    "subject": "carla-note",
                    "kind": "note",
                    "channel": "phone",
                    "occurred_at": jan.replace(day=13),
                    "external_ref": "crm-7",
                },
            ),
        ]
        for name, fields in interactions:
            data = {"channel": "email", "direction": "inbound", "kind": "support"}
            await interaction_service.log_interaction(
                session, SYSTEM, ids[name], {**data, **fields}
            )
    assert owner is not None and other_owner is not None
    return World(
        token=api.token_for(owner), ids=ids, owner=owner, other_owner=other_owner
    )


@pytest.fixture
async def world(api) -> World:
    return await seed_world(api)


async def listed(
    api, token: str, wheres: list[dict[str, Any]], *, root: str = "customers"
) -> list[list[str]]:
    """The given names (subjects) each `where` selects; totalCount must agree."""
    leaf = LEAVES[root]
    results: list[list[str]] = []
    for where in wheres:
        data = await api.data(LISTS[root], {"where": where}, token=token)
        found = [e["node"][leaf] for e in data[root]["edges"]]
        assert data[root]["totalCount"] == len(found), where
        results.append(found)
    return results


async def expect_all(
    api,
    token: str,
    cases: list[tuple[dict[str, Any], list[str]]],
    *,
    root: str = "customers",
) -> None:
    """Run every (where, expected) case; report every mismatch at once."""
    found = await listed(api, token, [w for w, _ in cases], root=root)
    wrong = [
        {"where": where, "expected": expected, "got": got}
        for (where, expected), got in zip(cases, found, strict=True)
        if got != expected
    ]
    assert wrong == []


async def names(api, world: World, where: dict[str, Any]) -> list[str]:
    """Given names of the customers matching `where`, checked against totalCount."""
    (found,) = await listed(api, world.token, [where])
    return found


async def subjects(
    api, world: World, where: dict[str, Any], token: str | None = None
) -> list[str]:
    (found,) = await listed(api, token or world.token, [where], root="interactions")
    return found


def staff_gid(pk: int) -> str:
    return to_global_id("StaffMember", pk)


# --- customers: one operator at a time -------------------------------------------


FIELD_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"displayName": {"eq": "Ada Lovelace"}}, ["Ada"]),
    ({"displayName": {"eq": "ada lovelace"}}, []),
    ({"company": {"neq": "Analytical Engines"}}, ["Bob", "Carla", "Dan"]),
    ({"givenName": {"in": ["Ada", "Bob", "Zed"]}}, ["Ada", "Bob"]),
    ({"givenName": {"in": []}}, []),
    ({"givenName": {"notIn": ["Ada", "Bob"]}}, ["Carla", "Dan"]),
    ({"company": {"notIn": ["Analytical Engines"]}}, ["Bob", "Carla", "Dan"]),
    ({"displayName": {"gt": "Bob Builder"}}, ["Carla", "Dan"]),
    ({"displayName": {"gte": "Bob Builder"}}, ["Bob", "Carla", "Dan"]),
    ({"displayName": {"lt": "Bob Builder"}}, ["Ada"]),
    ({"displayName": {"lte": "Bob Builder"}}, ["Ada", "Bob"]),
    ({"displayName": {"gte": "B", "lt": "D"}}, ["Bob", "Carla"]),
    ({"familyName": {"contains": "LOVE"}}, ["Ada"]),
    ({"familyName": {"contains": "i"}}, ["Bob", "Carla"]),
    ({"company": {"startsWith": "anaLYT"}}, ["Ada"]),
    ({"company": {"startsWith": "Engines"}}, []),
    ({"company": {"isNull": True}}, ["Dan"]),
    ({"company": {"isNull": False}}, ["Ada", "Bob", "Carla"]),
    ({"email": {"eq": "ADA.LOVELACE@example.COM"}}, ["Ada"]),
    ({"email": {"eq": " ada.lovelace@example.com "}}, ["Ada"]),
    (
        {"email": {"in": ["BOB@BUILDERS.TEST", "carla@Example.com"]}},
        ["Bob", "Carla"],
    ),
    ({"email": {"contains": "EXAMPLE.com"}}, ["Ada", "Carla"]),
    ({"email": {"isNull": True}}, ["Dan"]),
    ({"tags": {"has": "vip"}}, ["Ada", "Dan"]),
    ({"tags": {"has": "VIP"}}, []),
    ({"tags": {"hasAny": ["vip", "newsletter"]}}, ["Ada", "Bob", "Dan"]),
    ({"tags": {"hasAll": ["vip", "newsletter"]}}, ["Ada"]),
    ({"tags": {"hasNone": ["vip"]}}, ["Bob", "Carla"]),
    ({"tags": {"hasNone": ["vip", "newsletter"]}}, ["Carla"]),
    ({"tags": {"isEmpty": True}}, ["Carla"]),
    ({"tags": {"isEmpty": False}}, ["Ada", "Bob", "Dan"]),
    ({"lifecycleStage": {"in": ["ACTIVE", "LEAD"]}}, ["Ada", "Bob"]),
    ({"lifecycleStage": {"eq": "CHURNED"}}, ["Dan"]),
    ({"lifecycleStage": {"neq": "CHURNED"}}, ["Ada", "Bob", "Carla"]),
    ({"lifecycleStage": {"notIn": ["ACTIVE", "LEAD"]}}, ["Carla", "Dan"]),
    ({"owner": {"isNull": True}}, ["Bob"]),
    ({"createdAt": {"gte": "2026-02-01T00:00:00Z"}}, ["Bob", "Carla", "Dan"]),
    ({"createdAt": {"gt": "2026-02-01T00:00:00Z"}}, ["Carla", "Dan"]),
    (
        {
            "createdAt": {
                "gte": "2026-02-01T00:00:00+00:00",
                "lt": "2026-04-01T00:00:00+00:00",
            }
        },
        ["Bob", "Carla"],
    ),
    # 01:00 at +02:00 is 23:00 UTC the day before: Bob's midnight is after it.
    ({"createdAt": {"gt": "2026-02-01T01:00:00+02:00"}}, ["Bob", "Carla", "Dan"]),
    ({"createdAt": {"lte": "2026-01-31T23:59:59-01:00"}}, ["Ada", "Bob"]),
    ({"createdAt": {"eq": "2026-03-01T01:00:00+01:00"}}, ["Carla"]),
    (
        {"createdAt": {"in": ["2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"]}},
        ["Ada", "Dan"],
    ),
    ({"createdAt": {"neq": "2026-01-01T00:00:00Z"}}, ["Bob", "Carla", "Dan"]),
    ({}, ["Ada", "Bob", "Carla", "Dan"]),
]


async def test_customer_field_operators(api, world):
    await expect_all(api, world.token, FIELD_CASES)


async def test_customers_by_owner_and_id(api, world):
    assert await names(api, world, {"owner": {"eq": staff_gid(world.owner)}}) == [
        "Ada",
        "Dan",
    ]
    assert await names(
        api, world, {"owner": {"in": [staff_gid(world.other_owner)]}}
    ) == ["Carla"]
    assert await names(api, world, {"owner": {"neq": staff_gid(world.owner)}}) == [
        "Bob",
        "Carla",
    ]
    bob = to_global_id("Customer", world.ids["Bob"])
    assert await names(api, world, {"id": {"eq": bob}}) == ["Bob"]
    assert await names(api, world, {"id": {"notIn": [bob]}}) == ["Ada", "Carla", "Dan"]


# --- combining ---------------------------------------------------------------


COMBINED_CASES: list[tuple[dict[str, Any], list[str]]] = [
    (
        {
            "or": [{"tags": {"has": "vip"}}, {"lifecycleStage": {"eq": "LEAD"}}],
            "not": {"givenName": {"eq": "Dan"}},
        },
        ["Ada", "Bob"],
    ),
    (
        {
            "and": [
                {"tags": {"has": "newsletter"}},
                {
                    "or": [
                        {"givenName": {"eq": "Bob"}},
                        {"company": {"isNull": True}},
                    ]
                },
            ]
        },
        ["Bob"],
    ),
    ({"not": {"not": {"givenName": {"eq": "Carla"}}}}, ["Carla"]),
    ({"and": []}, ["Ada", "Bob", "Carla", "Dan"]),
    ({"or": []}, []),
    # A customer with no company is not "at Analytical Engines": not keeps Dan.
    ({"not": {"company": {"eq": "Analytical Engines"}}}, ["Bob", "Carla", "Dan"]),
    ({"not": {"company": {"contains": "Co"}}}, ["Ada", "Carla", "Dan"]),
    (
        {"not": {"or": [{"company": {"eq": "Builders_Co"}}, {"tags": {"has": "vip"}}]}},
        ["Carla"],
    ),
]


async def test_and_or_not_combine(api, world):
    await expect_all(api, world.token, COMBINED_CASES)


# --- relations -----------------------------------------------------------------


RELATION_CASES: list[tuple[dict[str, Any], list[str]]] = [
    (
        {"some": {"kind": {"eq": "PURCHASE"}, "amount": {"gte": "100"}}},
        ["Ada"],
    ),
    ({"some": {"kind": {"eq": "PURCHASE"}}}, ["Ada", "Bob"]),
    ({"some": {}}, ["Ada", "Bob", "Carla"]),
    ({"none": {"kind": {"eq": "PURCHASE"}}}, ["Carla", "Dan"]),
    ({"none": {}}, ["Dan"]),
    # every: vacuously true for Dan, who has no interactions at all.
    ({"every": {"kind": {"eq": "PURCHASE"}}}, ["Bob", "Dan"]),
    # Ada's support call has no amount, so not every one is >= 100.
    ({"every": {"amount": {"gte": "100"}}}, ["Dan"]),
    ({"every": {"amount": {"isNull": True}}}, ["Carla", "Dan"]),
    (
        {
            "some": {"channel": {"in": ["WEB", "PHONE"]}},
            "none": {"rating": {"lt": 5}},
        },
        ["Bob", "Carla"],
    ),
    (
        {"some": {"occurredAt": {"gte": "2026-01-11T00:00:00Z"}}},
        ["Ada", "Bob", "Carla"],
    ),
]


async def test_customers_by_their_interactions(api, world):
    cases = [({"interactions": where}, expected) for where, expected in RELATION_CASES]
    await expect_all(api, world.token, cases)


async def test_relation_filters_can_walk_back_to_the_same_table(api, world):
    # customers with some interaction whose customer is a VIP: the VIPs with any
    assert await names(
        api,
        world,
        {"interactions": {"some": {"customer": {"tags": {"has": "vip"}}}}},
    ) == ["Ada"]
    # interactions of customers who bought something: every one of theirs
    assert await subjects(
        api,
        world,
        {"customer": {"interactions": {"some": {"kind": {"eq": "PURCHASE"}}}}},
    ) == ["ada-purchase", "ada-support", "bob-purchase"]
    # interactions of customers with another interaction (not this one) of 4 or less
    assert await subjects(
        api,
        world,
        {
            "kind": {"eq": "PURCHASE"},
            "customer": {"interactions": {"some": {"rating": {"lte": 4}}}},
        },
    ) == ["ada-purchase"]


async def test_a_relation_filter_does_not_bring_back_archived_customers(api, world):
    async with api.db.transaction() as session:
        await customer_service.archive_customer(
            session, SYSTEM, world.ids["Bob"], archived=True
        )
    # "no interaction of an active customer" says nothing of the customer's own
    # archiving: Bob stays hidden
    where = {"interactions": {"none": {"customer": {"archived": {"eq": False}}}}}
    assert await names(api, world, where) == ["Dan"]
    assert await names(api, world, {"archived": {"eq": True}}) == ["Bob"]


# --- interactions ---------------------------------------------------------------


INTERACTION_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"kind": {"eq": "PURCHASE"}}, ["ada-purchase", "bob-purchase"]),
    ({"kind": {"in": ["NOTE", "SUPPORT"]}}, ["ada-support", "carla-note"]),
    ({"kind": {"notIn": ["PURCHASE"]}}, ["ada-support", "carla-note"]),
    ({"channel": {"neq": "EMAIL"}}, ["ada-purchase", "bob-purchase", "carla-note"]),
    ({"direction": {"eq": "OUTBOUND"}}, ["bob-purchase"]),
    ({"visibility": {"eq": "SHARED"}}, ["ada-support"]),
    (
        {"source": {"eq": "IMPORT"}},
        ["ada-purchase", "ada-support", "bob-purchase", "carla-note"],
    ),
    ({"source": {"in": ["STAFF", "PARTNER"]}}, []),
    ({"amount": {"gt": "50"}}, ["ada-purchase"]),
    ({"amount": {"gte": "50"}}, ["ada-purchase", "bob-purchase"]),
    ({"amount": {"lt": "150"}}, ["bob-purchase"]),
    ({"amount": {"lte": "150.0000"}}, ["ada-purchase", "bob-purchase"]),
    ({"amount": {"eq": "50.00"}}, ["bob-purchase"]),
    ({"amount": {"neq": "50"}}, ["ada-purchase", "ada-support", "carla-note"]),
    ({"amount": {"in": ["50", "75"]}}, ["bob-purchase"]),
    ({"amount": {"isNull": True}}, ["ada-support", "carla-note"]),
    ({"currency": {"eq": "eur"}}, ["ada-purchase"]),
    ({"rating": {"gte": 4, "lt": 9}}, ["ada-support"]),
    ({"rating": {"notIn": [9]}}, ["ada-support", "bob-purchase", "carla-note"]),
    ({"sentiment": {"lt": 0}}, ["ada-support"]),
    ({"sentiment": {"gte": -0.5}}, ["ada-purchase", "ada-support"]),
    ({"subject": {"startsWith": "ADA-"}}, ["ada-purchase", "ada-support"]),
    ({"subject": {"contains": "PURCH"}}, ["ada-purchase", "bob-purchase"]),
    ({"body": {"contains": "engine"}}, ["ada-purchase"]),
    ({"externalRef": {"eq": "crm-7"}}, ["carla-note"]),
    (
        {
            "occurredAt": {
                "gt": "2026-01-11T12:00:00Z",
                "lte": "2026-01-13T12:00:00Z",
            }
        },
        ["bob-purchase", "carla-note"],
    ),
    (
        {"occurredAt": {"lt": "2026-01-11T13:00:01+01:00"}},
        ["ada-purchase", "ada-support"],
    ),
    (
        {"customer": {"lifecycleStage": {"in": ["LEAD", "PROSPECT"]}}},
        ["bob-purchase", "carla-note"],
    ),
    (
        {"customer": {"email": {"eq": "ADA.LOVELACE@EXAMPLE.COM"}}},
        ["ada-purchase", "ada-support"],
    ),
    (
        {"not": {"amount": {"gte": "100"}}},
        ["ada-support", "bob-purchase", "carla-note"],
    ),
]


async def test_interaction_filters(api, world):
    await expect_all(api, world.token, INTERACTION_CASES, root="interactions")


async def test_interactions_by_customer_id(api, world):
    ada = to_global_id("Customer", world.ids["Ada"])
    carla = to_global_id("Customer", world.ids["Carla"])
    assert await subjects(api, world, {"customerId": {"eq": ada}}) == [
        "ada-purchase",
        "ada-support",
    ]
    assert await subjects(api, world, {"customerId": {"in": [carla, ada]}}) == [
        "ada-purchase",
        "ada-support",
        "carla-note",
    ]


async def test_a_customers_nested_interactions_take_the_same_filters(api, world):
    data = await api.data(
        """query($where: InteractionWhere) {
          customers(where: {tags: {has: "vip"}}) {
            edges { node { givenName interactions(where: $where) {
              totalCount nodes { subject }
            } } }
          }
        }""",
        {"where": {"amount": {"isNull": False}}},
        token=world.token,
    )
    assert [
        (
            e["node"]["givenName"],
            e["node"]["interactions"]["totalCount"],
            [n["subject"] for n in e["node"]["interactions"]["nodes"]],
        )
        for e in data["customers"]["edges"]
    ] == [("Ada", 1, ["ada-purchase"]), ("Dan", 0, [])]


# --- LIKE wildcards --------------------------------------------------------------


async def test_like_wildcards_in_the_input_are_literal(api):
    _, token = await api.staff("agent")
    for given, company in (
        ("Pct", "100% Cotton"),
        ("Nopct", "1000 Cotton"),
        ("Under", "a_b"),
        ("Nounder", "axb"),
        ("Slash", "back\\slash"),
        ("Noslash", "backslash"),
    ):
        await api.customer(given_name=given, company=company)

    cases = [
        ("contains", "0%", ["Pct"]),
        ("contains", "%", ["Pct"]),
        ("startsWith", "100%", ["Pct"]),
        ("contains", "_", ["Under"]),
        ("startsWith", "a_", ["Under"]),
        ("contains", "\\", ["Slash"]),
        ("contains", "k\\s", ["Slash"]),
        ("eq", "a_b", ["Under"]),
    ]
    await expect_all(
        api, token, [({"company": {op: value}}, names) for op, value, names in cases]
    )


async def test_contains_ignores_the_case_of_accented_letters(api):
    _, token = await api.staff("agent")
    await api.customer(given_name="JOSÉ", company="École Normale")
    await expect_all(
        api,
        token,
        [
            ({"givenName": {"contains": "josé"}}, ["JOSÉ"]),
            ({"company": {"startsWith": "éCOLE"}}, ["JOSÉ"]),
        ],
    )


# --- bad filters -----------------------------------------------------------------


def nested_not(levels: int, leaf: dict[str, Any] | None = None) -> dict[str, Any]:
    where: dict[str, Any] = leaf or {"givenName": {"eq": "Ada"}}
    for _ in range(levels):
        where = {"not": where}
    return where


async def test_a_filter_twelve_levels_deep_is_accepted(api, world):
    assert await names(api, world, nested_not(12)) == ["Ada"]


BAD_CUSTOMER_FILTERS: list[dict[str, Any]] = [
    {"createdAt": {"gt": "2026-01-01T00:00:00"}},
    {"createdAt": {"in": ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00"]}},
    {"id": {"eq": to_global_id("StaffMember", 1)}},
    {"owner": {"eq": to_global_id("Customer", 1)}},
    {"id": {"in": ["garbage"]}},
    {"interactions": {"some": {"customerId": {"eq": to_global_id("Interaction", 1)}}}},
    nested_not(13),
    nested_not(40),
    {"interactions": {"some": nested_not(12, {"rating": {"eq": 1}})}},
    {"or": [{"givenName": {"eq": str(i)}} for i in range(201)]},
    {"givenName": {"contains": "a\x00b"}},
    {"email": {"in": ["a@b.co", "\x00"]}},
    {"tags": {"hasAny": ["vip", "v\x00"]}},
    {"company": {"startsWith": "x" * 1001}},
]


async def refusals(
    api, token: str, wheres: list[dict[str, Any]], *, root: str = "customers"
) -> list[tuple[Any, list[str]]]:
    """(data, error codes) of each filter."""
    found = []
    for where in wheres:
        body = await api.gql(LISTS[root], {"where": where}, token=token)
        found.append((body["data"], [e["extensions"]["code"] for e in body["errors"]]))
    return found


async def test_bad_customer_filters_are_bad_user_input(api):
    _, token = await api.staff("manager")
    refused = await refusals(api, token, BAD_CUSTOMER_FILTERS)
    assert refused == [(None, ["BAD_USER_INPUT"])] * len(BAD_CUSTOMER_FILTERS)


BAD_INTERACTION_FILTERS: list[dict[str, Any]] = [
    {"occurredAt": {"lte": "2026-01-01T10:00:00"}},
    {"id": {"eq": to_global_id("Customer", 1)}},
    {"customerId": {"neq": to_global_id("Interaction", 1)}},
    {"customer": {"createdAt": {"gt": "2026-01-01"}}},
    {"customer": {"not": {"owner": {"in": [to_global_id("Customer", 1)]}}}},
]


async def test_bad_interaction_filters_are_bad_user_input(api):
    _, token = await api.staff("manager")
    refused = await refusals(api, token, BAD_INTERACTION_FILTERS, root="interactions")
    assert refused == [(None, ["BAD_USER_INPUT"])] * len(BAD_INTERACTION_FILTERS)


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (
            {"and": [{"createdAt": {"gt": "2026-01-01T00:00:00"}}]},
            "where.and[0].createdAt.gt",
        ),
        (
            {"interactions": {"some": {"customerId": {"in": ["x"]}}}},
            "where.interactions.some.customerId.in",
        ),
        ({"owner": {"eq": to_global_id("Customer", 1)}}, "where.owner.eq"),
        (nested_not(13), "where" + ".not" * 13),
    ],
)
async def test_a_bad_filter_error_names_the_field(api, where, field):
    _, token = await api.staff("agent")
    body = await api.gql(CUSTOMERS, {"where": where}, token=token)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


# --- rights -----------------------------------------------------------------------


async def test_analysts_cannot_filter_on_bodies(api, world):
    _, analyst = await api.staff("analyst")
    for query, where in (
        (INTERACTIONS, {"body": {"contains": "engine"}}),
        (INTERACTIONS, {"or": [{"body": {"isNull": True}}]}),
        (CUSTOMERS, {"interactions": {"some": {"body": {"contains": "engine"}}}}),
    ):
        assert (
            await api.error_code(query, {"where": where}, token=analyst) == "FORBIDDEN"
        )
    # but the same analyst may filter on money
    assert await subjects(api, world, {"costToServe": {"gt": "10"}}, token=analyst) == [
        "ada-purchase"
    ]


async def test_agents_cannot_filter_on_cost_to_serve(api, world):
    _, agent = await api.staff("agent")
    for query, where in (
        (INTERACTIONS, {"costToServe": {"gt": "0"}}),
        (CUSTOMERS, {"interactions": {"none": {"costToServe": {"isNull": True}}}}),
        (
            INTERACTIONS,
            {"customer": {"interactions": {"some": {"costToServe": {"gt": "0"}}}}},
        ),
    ):
        assert await api.error_code(query, {"where": where}, token=agent) == "FORBIDDEN"
    # but the same agent may filter on bodies
    assert await subjects(
        api, world, {"body": {"contains": "warranty"}}, token=agent
    ) == ["ada-support"]


async def test_nested_interactions_filter_rights_apply_too(api, world):
    _, analyst = await api.staff("analyst")
    code = await api.error_code(
        """{ customers { edges { node {
            interactions(where: {body: {isNull: false}}) { totalCount }
        } } } }""",
        token=analyst,
    )
    assert code == "FORBIDDEN"
