"""The customer's own view (`me`): their profile and the interactions shared with them,
through their own types, and nothing of the firm's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from strawberry.permission import PermissionExtension

from crm.actors import (
    Anonymous,
    CustomerActor,
    PartnerActor,
    StaffActor,
    SystemActor,
)
from crm.audit.models import AuditEvent
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.errors import Forbidden, NotFound, Unauthenticated
from crm.ids import to_global_id
from crm.interactions.models import Interaction
from crm.me import service as me_service
from crm.pagination import page_request
from crm.permissions import StaffRole
from schema import schema
from schema.permissions import Has
from tests.client import SYSTEM
from tests.test_auth import operation
from tests.test_query_counts import recording

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

PROFILE = """{ me { profile {
  id email phone givenName familyName displayName company locale timeZone
  createdAt updatedAt
} } }"""

LIST = """
query($where: MyInteractionWhere, $first: Int, $after: String, $last: Int,
      $before: String) {
  me { interactions(where: $where, first: $first, after: $after, last: $last,
                    before: $before) {
    edges { cursor node { id subject } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }
}"""

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


def cid(pk: int) -> str:
    return to_global_id("Customer", pk)


def iid(pk: int) -> str:
    return to_global_id("Interaction", pk)


async def customer_with_history(api) -> tuple[int, dict[str, int]]:
    """A customer with shared interactions s0..s4 (s0 newest) on alternating
    channels, one internal note between them, and another customer's shared one."""
    me = await api.customer(
        email="ada@example.com",
        given_name="Ada",
        family_name="Lovelace",
        phone="+44 20 7946 0001",
        company="Analytical Engines",
        locale="en-GB",
        time_zone="Europe/London",
        tags=["vip"],
        attributes={"tier": "gold"},
        lifecycle_stage="active",
    )
    other = await api.customer(email="other@example.com")
    ids = {}
    for n in range(5):
        ids[f"s{n}"] = await api.interaction(
            me,
            visibility="shared",
            subject=f"s{n}",
            channel="email" if n % 2 == 0 else "chat",
            occurred_at=T0 - timedelta(days=n),
        )
    ids["internal"] = await api.interaction(
        me, subject="internal", occurred_at=T0 - timedelta(hours=12)
    )
    ids["other"] = await api.interaction(
        other, visibility="shared", subject="other", occurred_at=T0
    )
    return me, ids


def subjects(data) -> list[str]:
    return [e["node"]["subject"] for e in data["me"]["interactions"]["edges"]]


# --- the view ----------------------------------------------------------------------


async def test_a_customer_reads_their_own_profile(api):
    me, _ = await customer_with_history(api)
    data = await api.data(PROFILE, token=api.customer_token(me))
    profile = data["me"]["profile"]
    assert profile.pop("createdAt") and profile.pop("updatedAt")
    assert profile == {
        "id": cid(me),
        "email": "ada@example.com",
        "phone": "+44 20 7946 0001",
        "givenName": "Ada",
        "familyName": "Lovelace",
        "displayName": "Ada Lovelace",
        "company": "Analytical Engines",
        "locale": "en-GB",
        "timeZone": "Europe/London",
    }


async def test_a_customer_sees_only_their_shared_interactions_newest_first(api):
    me, _ = await customer_with_history(api)
    await api.interaction(
        me,
        visibility="shared",
        kind="purchase",
        amount="19.9",
        currency="EUR",
        rating=9,
        body="Thanks for your order.",
        subject="order",
        direction="outbound",
        channel="web",
        occurred_at=T0 + timedelta(days=1),
        cost_to_serve="3.5",
        sentiment=0.5,
    )
    data = await api.data(
        """{ me { interactions { totalCount nodes {
          subject body channel direction kind rating amount { amount currency }
        } } } }""",
        token=api.customer_token(me),
    )
    listed = data["me"]["interactions"]
    assert listed["totalCount"] == 6
    assert [n["subject"] for n in listed["nodes"]] == [
        "order",
        *(f"s{n}" for n in range(5)),
    ]
    assert listed["nodes"][0] == {
        "subject": "order",
        "body": "Thanks for your order.",
        "channel": "WEB",
        "direction": "OUTBOUND",
        "kind": "PURCHASE",
        "rating": 9,
        "amount": {"amount": "19.9000", "currency": "EUR"},
    }


async def test_interactions_filter_by_channel_and_period(api):
    me, _ = await customer_with_history(api)
    token = api.customer_token(me)
    cases = {
        "channel eq": ({"channel": {"eq": "CHAT"}}, ["s1", "s3"]),
        "channel in": (
            {"channel": {"in": ["CHAT", "EMAIL"]}},
            [f"s{n}" for n in range(5)],
        ),
        "channel in none": ({"channel": {"in": ["SMS"]}}, []),
        "period": (
            {
                "occurredAt": {
                    "gte": (T0 - timedelta(days=3)).isoformat(),
                    "lt": (T0 - timedelta(days=1)).isoformat(),
                }
            },
            ["s2", "s3"],
        ),
        "both": (
            {
                "channel": {"eq": "EMAIL"},
                "occurredAt": {"lte": (T0 - timedelta(days=1)).isoformat()},
            },
            ["s2", "s4"],
        ),
    }
    wrong = {}
    for name, (where, expected) in cases.items():
        got = subjects(await api.data(LIST, {"where": where}, token=token))
        if got != expected:
            wrong[name] = got
    assert wrong == {}


async def test_firm_filters_are_not_part_of_the_customer_filter(api):
    me, _ = await customer_with_history(api)
    token = api.customer_token(me)
    for where in (
        "{visibility: {eq: INTERNAL}}",
        "{costToServe: {gt: 0}}",
        '{customer: {email: {eq: "other@example.com"}}}',
        "{or: [{channel: {eq: CHAT}}]}",
    ):
        query = f"{{ me {{ interactions(where: {where}) {{ nodes {{ id }} }} }} }}"
        assert await api.error_code(query, token=token) == "GRAPHQL_VALIDATION_FAILED"


async def test_pages_walk_forwards_and_backwards_with_keyset_cursors(api):
    me, _ = await customer_with_history(api)
    token = api.customer_token(me)
    forwards, after = [], None
    while True:
        page = (await api.data(LIST, {"first": 2, "after": after}, token=token))["me"][
            "interactions"
        ]
        forwards += [e["node"]["subject"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forwards == [f"s{n}" for n in range(5)]

    backwards, before = [], None
    while True:
        page = (await api.data(LIST, {"last": 2, "before": before}, token=token))["me"][
            "interactions"
        ]
        backwards = [e["node"]["subject"] for e in page["edges"]] + backwards
        assert page["pageInfo"]["hasNextPage"] == (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backwards == forwards


async def test_bad_pages_and_filters_are_bad_user_input(api):
    me, _ = await customer_with_history(api)
    token = api.customer_token(me)
    cases = {
        "first over the cap": {"first": 101},
        "negative last": {"last": -1},
        "first and last": {"first": 1, "last": 1},
        "garbage cursor": {"after": "garbage"},
        "before with first": {"first": 1, "before": "x"},
        "naive time": {"where": {"occurredAt": {"gte": "2024-01-01T00:00:00"}}},
    }
    wrong = {}
    for name, variables in cases.items():
        body = await api.gql(LIST, variables, token=token)
        codes = [e["extensions"]["code"] for e in body.get("errors") or ()]
        if codes != ["BAD_USER_INPUT"] or body["data"]["me"]["interactions"]:
            wrong[name] = body
    assert wrong == {}
    page = await api.data(LIST, {"first": 100}, token=token)
    assert len(page["me"]["interactions"]["edges"]) == 5


async def test_total_count_is_counted_only_when_selected_and_sql_does_not_grow(api):
    me, _ = await customer_with_history(api)
    for n in range(10):
        await api.interaction(me, visibility="shared", subject=f"more{n}")
    token = api.customer_token(me)

    async def statements(query: str) -> list[str]:
        with recording(api.db) as seen:
            await api.data(query, token=token)
        return [s for s in seen if "interaction" in s]

    few = await statements("{ me { interactions(first: 2) { nodes { id } } } }")
    many = await statements("{ me { interactions(first: 15) { nodes { id } } } }")
    counted = await statements(
        "{ me { interactions(first: 15) { totalCount nodes { id } } } }"
    )
    # One statement each (planned: the count joins the page's statement)
    assert len(few) == len(many) == len(counted) == 1
    assert not any("count(" in s.lower() for s in many)
    assert "count(" in counted[0].lower()


# --- who may use it ------------------------------------------------------------------


ME = "{ me { profile { id } } }"


async def test_only_customers_have_a_me(api):
    me, _ = await customer_with_history(api)
    _, staff_token = await api.staff("admin")
    partner_key = await api.partner_key(["customers:read", "interactions:read"])
    assert await api.error_code(ME, token=staff_token) == "FORBIDDEN"
    assert await api.error_code(ME, token=partner_key) == "FORBIDDEN"
    assert await api.error_code(ME) == "UNAUTHENTICATED"
    assert await api.error_code(ME, token="not-a-token") == "UNAUTHENTICATED"
    assert (await api.data(ME, token=api.customer_token(me)))["me"]["profile"] == {
        "id": cid(me)
    }


def firm_root_fields() -> list[tuple[str, str]]:
    """Every root field behind a firm permission (Has(...))."""
    found = []
    for kind, root in (("query", schema.query), ("mutation", schema.mutation)):
        for field in root.__strawberry_definition__.fields:
            gates = [e for e in field.extensions if isinstance(e, PermissionExtension)]
            if any(isinstance(p, Has) for g in gates for p in g.permissions):
                found.append(
                    (kind, schema.config.name_converter.get_graphql_name(field))
                )
    return found


async def test_a_customer_token_is_forbidden_on_every_firm_root_field(api):
    me, ids = await customer_with_history(api)
    token = api.customer_token(me)
    roots = firm_root_fields()
    assert {("query", "customers"), ("mutation", "interactionLog")} <= set(roots)
    before = (await api.count(Customer), await api.count(Interaction))
    audit_before = await api.count(AuditEvent)
    wrong = {}
    for kind, name in roots:
        body = await api.gql(operation(kind, name), token=token)
        codes = {e["extensions"]["code"] for e in body.get("errors") or ()}
        if codes != {"FORBIDDEN"}:
            wrong[name] = body
    # With real arguments, on the customer's own records, too.
    real = {
        "customer": ("query($id: ID!) { customer(id: $id) { id } }", {"id": cid(me)}),
        "interaction": (
            "query($id: ID!) { interaction(id: $id) { id } }",
            {"id": iid(ids["s0"])},
        ),
        "customerCreate": (
            'mutation { customerCreate(input: {email: "new@example.com"}) '
            "{ customer { id } } }",
            None,
        ),
        "customerUpdate": (
            'mutation($id: ID!) { customerUpdate(input: {id: $id, company: "X"}) '
            "{ customer { id } } }",
            {"id": cid(me)},
        ),
        "interactionLog": (
            "mutation($id: ID!) { interactionLog(input: {customerId: $id, "
            "channel: WEB, direction: INBOUND, kind: FEEDBACK, "
            "visibility: SHARED}) { interaction { id } } }",
            {"id": cid(me)},
        ),
    }
    for name, (query, variables) in real.items():
        code = await api.error_code(query, variables, token=token)
        if code != "FORBIDDEN":
            wrong[f"{name} (real)"] = code
    assert wrong == {}
    assert (await api.count(Customer), await api.count(Interaction)) == before
    assert await api.count(AuditEvent) == audit_before


FIRM_ONLY = [
    "me { profile { tags } }",
    "me { profile { attributes } }",
    "me { profile { lifecycleStage } }",
    "me { profile { owner { id } } }",
    "me { profile { externalRef } }",
    "me { profile { version } }",
    "me { profile { archived } }",
    "me { profile { mergedInto { id } } }",
    "me { profile { auditTrail { totalCount } } }",
    "me { profile { interactions { totalCount } } }",
    "me { interactions { edges { node { costToServe { amount } } } } }",
    "me { interactions { nodes { sentiment } } }",
    "me { interactions { nodes { visibility } } }",
    "me { interactions { nodes { source } } }",
    "me { interactions { nodes { recordedBy } } }",
    "me { interactions { nodes { externalRef } } }",
    "me { interactions { nodes { customer { id } } } }",
    "me { interactions(orderBy: {field: CREATED_AT}) { nodes { id } } }",
    'node(id: "$id") { ... on MyProfile { tags } }',
    'node(id: "$id") { ... on MyInteraction { costToServe { amount } } }',
]


async def test_a_firm_only_field_is_a_validation_error_never_a_null(api):
    me, _ = await customer_with_history(api)
    token = api.customer_token(me)
    wrong = {}
    for selection in FIRM_ONLY:
        query = "{ " + selection.replace("$id", cid(me)) + " }"
        body = await api.gql(query, token=token)
        codes = {e["extensions"]["code"] for e in body.get("errors") or ()}
        if codes != {"GRAPHQL_VALIDATION_FAILED"} or body.get("data") is not None:
            wrong[selection] = body
    assert wrong == {}


# --- node(id:) -----------------------------------------------------------------------


async def test_node_gives_a_customer_their_own_types(api):
    me, ids = await customer_with_history(api)
    token = api.customer_token(me)
    profile = await api.data(NODE, {"id": cid(me)}, token=token)
    assert profile["node"] == {"__typename": "MyProfile", "id": cid(me)}
    shared = await api.data(
        "query($id: ID!) { node(id: $id) { __typename ... on MyInteraction "
        "{ subject } } }",
        {"id": iid(ids["s1"])},
        token=token,
    )
    assert shared["node"] == {"__typename": "MyInteraction", "subject": "s1"}


async def test_node_answers_everything_else_exactly_like_a_missing_id(api):
    me, ids = await customer_with_history(api)
    staff_id, _ = await api.staff("admin")
    other = await api.customer(email="third@example.com")
    token = api.customer_token(me)
    events = await api.data(
        "query($id: ID!) { customer(id: $id) { auditTrail { nodes { id } } } }",
        {"id": cid(me)},
        token=(await api.staff("admin"))[1],
    )
    audit_id = events["customer"]["auditTrail"]["nodes"][0]["id"]
    refused = {
        "another customer": cid(other),
        "my internal interaction": iid(ids["internal"]),
        "another's shared interaction": iid(ids["other"]),
        "a staff member": to_global_id("StaffMember", staff_id),
        "an audit event of mine": audit_id,
        "a missing customer": cid(424242),
        "a missing interaction": iid(424242),
        "an unknown type": to_global_id("Widget", 1),
        "my ID under another type": to_global_id("MyProfile", me),
    }
    answers = {}
    for name, global_id in refused.items():
        response = await api.raw(NODE, {"id": global_id}, token=token)
        assert response.status_code == 200
        answers[name] = response.content
    assert len(set(answers.values())) == 1, answers
    assert b'"code":"NOT_FOUND"' in answers["a missing customer"]

    listed = await api.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": [cid(me), *refused.values(), iid(ids["s0"])]},
        token=token,
    )
    assert listed["nodes"] == [
        {"__typename": "MyProfile", "id": cid(me)},
        *[None] * len(refused),
        {"__typename": "MyInteraction", "id": iid(ids["s0"])},
    ]


# --- the domain services -------------------------------------------------------------


async def test_the_services_refuse_every_caller_but_a_customer(db):
    page = page_request(first=10)
    callers = {
        "anonymous": (Anonymous(), Unauthenticated),
        "staff": (StaffActor(staff_id=1, role=StaffRole.ADMIN), Forbidden),
        "partner": (PartnerActor(partner_id=1, key_id=1, name="P"), Forbidden),
        "system": (SystemActor(name="tests"), Forbidden),
    }
    for actor, error in callers.values():
        async with db.transaction(write=False) as session:
            with pytest.raises(error):
                await me_service.my_profile(session, actor)
            with pytest.raises(error):
                await me_service.my_interactions(session, actor, page=page)
            with pytest.raises(error):
                await me_service.get_my_interaction(session, actor, 1)


async def test_an_archived_customer_sees_nothing_of_their_record(db):
    async with db.transaction() as session:
        customer = await customer_service.create_customer(
            session, SYSTEM, {"email": "gone@example.com"}
        )
        assert customer.id is not None
        customer_id = customer.id
        from crm.interactions import service as interaction_service

        logged = await interaction_service.log_interaction(
            session,
            SYSTEM,
            customer_id,
            {
                "channel": "web",
                "direction": "inbound",
                "kind": "purchase",
                "amount": Decimal("5"),
                "currency": "EUR",
                "visibility": "shared",
            },
        )
        await customer_service.archive_customer(
            session, SYSTEM, customer_id, archived=True
        )
    actor = CustomerActor(customer_id=customer_id)
    async with db.transaction(write=False) as session:
        with pytest.raises(NotFound):
            await me_service.my_profile(session, actor)
        assert logged.interaction.id is not None
        with pytest.raises(NotFound):
            await me_service.get_my_interaction(session, actor, logged.interaction.id)
        listed = await me_service.my_interactions(
            session, actor, page=page_request(first=10)
        )
        assert listed.page.items == []


async def test_sibling_fields_of_the_view_resolve_side_by_side(api):
    me, ids = await customer_with_history(api)
    query = """query($me: ID!, $i: ID!) {
      a: me { profile { email } interactions(first: 1) { totalCount } }
      b: me { interactions(last: 1) { nodes { subject } } profile { company } }
      c: node(id: $me) { id }
      d: nodes(ids: [$i, $me]) { id }
    }"""
    data = await api.data(
        query, {"me": cid(me), "i": iid(ids["s2"])}, token=api.customer_token(me)
    )
    assert data["a"] == {
        "profile": {"email": "ada@example.com"},
        "interactions": {"totalCount": 5},
    }
    assert data["b"]["interactions"]["nodes"] == [{"subject": "s4"}]
    assert data["d"] == [{"id": iid(ids["s2"])}, {"id": cid(me)}]
