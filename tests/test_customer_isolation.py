"""A customer reaches their own data and nothing else.

Customer A walks everything their token reaches (every field of their own view,
found by introspecting the schema, every page in both directions, filters, node and
nodes with other customers' IDs, other customers' cursors) while another customer B
holds recognisable data. No response may hold any of B's values, nor A's internal
interactions, nor a firm-only value of A's own records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)
from sqlalchemy import select

from crm.ids import to_global_id
from crm.insights.refresh import refresh_insights
from crm.interactions.models import Interaction
from schema import schema

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
# Arguments of `me { interactions }` the walk drives, with their GraphQL types.
PAGE_ARGS = {
    "where": "MyInteractionWhere",
    "first": "Int",
    "after": "String",
    "last": "Int",
    "before": "String",
}

# --- the selection of every field, from the schema ----------------------------------


def selection(type_: Any, path: tuple[str, ...] = ()) -> str:
    """Every field reachable from `type_` (a type is entered at most twice on a
    path, so recursive types end: an interaction's answers are interactions);
    '' for a leaf."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if path.count(named.name) >= 2:
        return ""
    here = (*path, named.name)
    if isinstance(named, GraphQLUnionType):
        parts = [f"... on {t.name} {selection(t, here)}" for t in named.types]
        return "{ __typename " + " ".join(parts) + " }"
    assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
    parts = ["__typename"]
    for name, spec in named.fields.items():
        required = [
            a for a, arg in spec.args.items() if isinstance(arg.type, GraphQLNonNull)
        ]
        assert not required, f"{named.name}.{name} needs {required}: extend the walk"
        if here.count(get_named_type(spec.type).name) >= 2:
            continue
        arguments = ""
        if named.name == "Me" and name == "interactions":
            arguments = "(" + ", ".join(f"{a}: ${a}" for a in PAGE_ARGS) + ")"
        parts.append(f"{name}{arguments} {selection(spec.type, here)}".strip())
    return "{ " + " ".join(parts) + " }"


def type_named(name: str) -> Any:
    return schema._schema.type_map[name]


ME_QUERY = (
    "query("
    + ", ".join(f"${a}: {t}" for a, t in PAGE_ARGS.items())
    + ") { me "
    + selection(type_named("Me"))
    + " }"
)
NODE_SELECTION = (
    "{ __typename id "
    + f"... on MyProfile {selection(type_named('MyProfile'))} "
    + f"... on MyInteraction {selection(type_named('MyInteraction'))} "
    # Firm types implement Node too: never returned to a customer.
    + "... on Customer { email displayName tags externalRef } "
    + "... on Interaction { subject body recordedBy } }"
)
NODE_QUERY = f"query($id: ID!) {{ node(id: $id) {NODE_SELECTION} }}"
NODES_QUERY = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {NODE_SELECTION} }}"


def test_the_walk_selects_every_field_of_the_customer_types():
    for name in ("Me", "MyProfile", "MyInteraction", "MyInteractionConnection"):
        for field_name in type_named(name).fields:
            assert f"{field_name}" in ME_QUERY, (name, field_name)
    for field_name in type_named("MyInteraction").fields:
        assert field_name in NODE_QUERY


# --- the data ------------------------------------------------------------------------

B_PROFILE = {
    "email": "bellatrix.b@bravo-isolation.test",
    "given_name": "Bellatrix",
    "family_name": "Brightwater",
    "company": "Bravo Holdings",
    "phone": "+1 555 0199 7777",
    "locale": "fr-CA",
    "time_zone": "America/Toronto",
}
A_PROFILE = {
    "email": "ada.a@alpha-isolation.test",
    "given_name": "Ada",
    "family_name": "Alphaworth",
    "company": "Alpha Works",
    "phone": "+44 20 7946 0123",
    "locale": "en-GB",
    "time_zone": "Europe/London",
    # Firm-only: never in A's view.
    "tags": ["a-tag-secret"],
    "attributes": {"a_attr_secret": "a-attr-value-secret"},
    "external_ref": "A-customer-extref-secret",
    "lifecycle_stage": "churned",
}
A_FIRM_ONLY = [
    "a-tag-secret",
    "a_attr_secret",
    "a-attr-value-secret",
    "A-customer-extref-secret",
    "CHURNED",
    "owner-secret@staff.test",
    "A-interaction-extref-secret",
    "4242.42",
    "-0.987",
    "system:tests",
    "SHARED",
    "IMPORT",
]


@dataclass
class World:
    a: int
    b: int
    a_token: str
    b_token: str
    # subject -> (id, channel, occurred_at) of A's shared interactions.
    a_shared: dict[str, tuple[int, str, datetime]] = field(default_factory=dict)
    a_internal: list[int] = field(default_factory=list)
    b_ids: list[str] = field(default_factory=list)
    forbidden_text: list[str] = field(default_factory=list)


CHANNELS = ["email", "chat", "web"]


async def build(api) -> World:
    owner, _ = await api.staff("agent", email="owner-secret@staff.test")
    a = await api.customer(**A_PROFILE, owner_id=owner)
    b = await api.customer(**B_PROFILE, tags=["b-tag"], external_ref="B-ext")
    world = World(a, b, api.customer_token(a), api.customer_token(b))
    world.b_ids = [to_global_id("Customer", b)]
    world.forbidden_text = [*B_PROFILE.values(), "Bellatrix Brightwater", *A_FIRM_ONLY]
    for n in range(7):
        subject = f"A-shared-alpha-{n}"
        occurred = T0 - timedelta(hours=2 * n)
        purchase = n % 2 == 0
        pk = await api.interaction(
            a,
            visibility="shared",
            subject=subject,
            body=f"A-shared-body-{n}",
            channel=CHANNELS[n % 3],
            kind="purchase" if purchase else "support",
            amount=f"{41 + n}.25" if purchase else None,
            currency="EUR",
            cost_to_serve="4242.42",
            sentiment=-0.987,
            rating=n,
            external_ref=f"A-interaction-extref-secret-{n}",
            occurred_at=occurred,
        )
        world.a_shared[subject] = (pk, CHANNELS[n % 3].upper(), occurred)
    for n in range(3):
        world.a_internal.append(
            await api.interaction(
                a,
                subject=f"A-internal-secret-{n}",
                body=f"A-internal-body-secret-{n}",
                kind="purchase",
                amount="333.33",
                currency="EUR",
                channel=CHANNELS[n % 3],
                occurred_at=T0 - timedelta(hours=4 * n + 1),
            )
        )
        world.forbidden_text += [
            f"A-internal-secret-{n}",
            f"A-internal-body-secret-{n}",
        ]
    world.forbidden_text.append("333.33")
    for n in range(7):
        shared = n < 5
        pk = await api.interaction(
            b,
            visibility="shared" if shared else "internal",
            subject=f"B-{'shared' if shared else 'internal'}-zeta-{n}",
            body=f"B-body-omega-{n}",
            kind="purchase",
            amount="777.77",
            currency="EUR",
            channel=CHANNELS[n % 3],
            occurred_at=T0 - timedelta(hours=2 * n + 1),
        )
        world.b_ids.append(to_global_id("Interaction", pk))
        world.forbidden_text += [f"B-shared-zeta-{n}", f"B-body-omega-{n}"]
    world.forbidden_text += ["B-internal-zeta", "777.77", "b-tag", "B-ext"]
    await self_service_data(api, world)
    # A's own idea and the firm's answer are A's shared interactions too.
    async with api.db.transaction(write=False) as session:
        rows = await session.execute(
            select(Interaction.id, Interaction.subject, Interaction.channel)
            .add_columns(Interaction.occurred_at)
            .where(Interaction.customer_id == a)
            .where(Interaction.subject.in_(["A-idea", "Re: A-idea"]))
        )
        for pk, subject, channel, occurred in rows:
            world.a_shared[subject] = (pk, channel.upper(), occurred)
    assert len(world.a_shared) == 9
    return world


async def self_service_data(api, world: World) -> None:
    """What each self-service domain holds for B, and A's firm-only counterparts:
    consents with evidence, corrections, feedback with the firm's answers, segments,
    published insights, a data export."""
    _, admin = await api.staff("admin")

    async def ok(document: str, variables: dict[str, Any], token: str) -> Any:
        data = await api.data(document, variables, token=token)
        [payload] = data.values()
        assert not payload.get("errors"), payload
        return payload

    for customer in (world.a, world.b):
        await ok(
            """mutation($input: ConsentRecordInput!) {
                 consentRecord(input: $input) { errors { code } } }""",
            {
                "input": {
                    "customerId": to_global_id("Customer", customer),
                    "purpose": "MARKETING",
                    "channel": "EMAIL",
                    "granted": True,
                    "source": "PAPER_FORM",
                    "evidence": f"{'A' if customer == world.a else 'B'}-consent-"
                    "evidence",
                }
            },
            admin,
        )
    await ok(
        """mutation($input: MyProfileCorrectionRequestInput!) {
             myProfileCorrectionRequest(input: $input) { errors { code } } }""",
        {"input": {"changes": {"company": "B-correction-company-secret"}}},
        world.b_token,
    )
    for who, token in (("A", world.a_token), ("B", world.b_token)):
        asked = await ok(
            """mutation($input: MyFeedbackSubmitInput!) {
                 myFeedbackSubmit(input: $input) {
                   interaction { id } errors { code } } }""",
            {
                "input": {
                    "kind": "IDEA",
                    "subject": f"{who}-idea",
                    "body": f"{who}-idea-body",
                }
            },
            token,
        )
        await ok(
            """mutation($input: FeedbackAnswerInput!) {
                 feedbackAnswer(input: $input) { errors { code } } }""",
            {
                "input": {
                    "interactionId": asked["interaction"]["id"],
                    "body": f"{who}-answer-from-the-firm",
                }
            },
            admin,
        )
        if who == "B":
            world.b_ids.append(asked["interaction"]["id"])
    for name, customer, visible in (
        ("B-visible-segment", world.b, True),
        ("A-hidden-segment-secret", world.a, False),
    ):
        created = await ok(
            """mutation($input: SegmentCreateInput!) {
                 segmentCreate(input: $input) { segment { id } errors { code } } }""",
            {
                "input": {
                    "name": f"{name}-firm-name",
                    "kind": "STATIC",
                    "customerVisible": visible,
                    **({"customerName": name} if visible else {}),
                }
            },
            admin,
        )
        await ok(
            """mutation($input: SegmentMembersInput!) {
                 segmentMembersAdd(input: $input) { errors { code } } }""",
            {
                "input": {
                    "segmentId": created["segment"]["id"],
                    "customerIds": [to_global_id("Customer", customer)],
                }
            },
            admin,
        )
    await refresh_insights(api.db)
    for kind in ("SPEND_SUMMARY", "TIER", "RFM_STATUS", "PEER_COMPARISON"):
        await ok(
            """mutation($input: InsightPolicySetInput!) {
                 insightPolicySet(input: $input) { errors { code } } }""",
            {"input": {"kind": kind, "visibleToCustomers": True, "title": kind}},
            admin,
        )
    exported = await ok(
        """mutation { myDataExport(input: {format: JSON}) {
             export { id } errors { code } } }""",
        {},
        world.b_token,
    )
    world.b_ids.append(exported["export"]["id"])
    world.forbidden_text += [
        "B-consent-evidence",
        "B-correction-company-secret",
        "B-idea",
        "B-answer-from-the-firm",
        "B-visible-segment",
        "A-hidden-segment-secret",
        "3888.85",  # B's spend
    ]


# --- checking what came back ---------------------------------------------------------


def ids_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" and isinstance(item, str):
                yield item
            else:
                yield from ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from ids_in(item)


@dataclass
class Recorder:
    api: Any
    world: World
    bodies: list[tuple[str, str]] = field(default_factory=list)

    async def ask(
        self, label: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.api.raw(query, variables, token=self.world.a_token)
        assert response.status_code == 200, (label, response.text)
        self.bodies.append((label, response.text))
        body = response.json()
        codes = {e["extensions"]["code"] for e in body.get("errors") or ()}
        assert "INTERNAL_SERVER_ERROR" not in codes, (label, body)
        return body

    def leaks(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        b_ids = set(self.world.b_ids)
        a_internal = {to_global_id("Interaction", pk) for pk in self.world.a_internal}
        for label, text in self.bodies:
            hits = [t for t in self.world.forbidden_text if t in text]
            hits += [i for i in ids_in(json.loads(text)) if i in b_ids | a_internal]
            if hits:
                found[label] = hits
        return found


def page_vars(**given: Any) -> dict[str, Any]:
    return {a: given.get(a) for a in PAGE_ARGS}


async def walk(
    rec: Recorder,
    label: str,
    where: dict | None,
    expected: list[str],
    sizes: tuple[int, ...] = (2,),
):
    """Every page forwards and backwards; each must be A's shared ones, in order."""
    for size in sizes:
        seen, after, pages = [], None, 0
        while True:
            body = await rec.ask(
                f"{label} first {size} page {pages}",
                ME_QUERY,
                page_vars(where=where, first=size, after=after),
            )
            assert not body.get("errors"), (label, body)
            listed = body["data"]["me"]["interactions"]
            assert listed["totalCount"] == len(expected), label
            seen += [e["node"]["subject"] for e in listed["edges"]]
            pages += 1
            if not listed["pageInfo"]["hasNextPage"]:
                break
            after = listed["pageInfo"]["endCursor"]
        assert seen == expected, (label, size)
        seen, before, pages = [], None, 0
        while True:
            body = await rec.ask(
                f"{label} last {size} page {pages}",
                ME_QUERY,
                page_vars(where=where, last=size, before=before),
            )
            assert not body.get("errors"), (label, body)
            listed = body["data"]["me"]["interactions"]
            seen = [e["node"]["subject"] for e in listed["edges"]] + seen
            pages += 1
            if not listed["pageInfo"]["hasPreviousPage"]:
                break
            before = listed["pageInfo"]["startCursor"]
        assert seen == expected, (label, size)


async def test_a_customer_reaches_nothing_of_another_customer_nor_firm_only_data(api):
    world = await build(api)
    rec = Recorder(api, world)
    newest_first = sorted(
        world.a_shared, key=lambda s: world.a_shared[s][2], reverse=True
    )

    # Everything at once, default page.
    body = await rec.ask("everything", ME_QUERY, page_vars())
    assert not body.get("errors"), body
    me = body["data"]["me"]
    assert me["profile"]["email"] == A_PROFILE["email"]
    assert [e["node"]["subject"] for e in me["interactions"]["edges"]] == newest_first

    # Every page, unfiltered and filtered (periods and channels B also has).
    filters: dict[str, tuple[dict | None, list[str]]] = {"all": (None, newest_first)}
    for channel in ("EMAIL", "CHAT", "WEB"):
        filters[f"channel {channel}"] = (
            {"channel": {"eq": channel}},
            [s for s in newest_first if world.a_shared[s][1] == channel],
        )
    filters["channels in"] = (
        {"channel": {"in": ["EMAIL", "WEB"]}},
        [s for s in newest_first if world.a_shared[s][1] in ("EMAIL", "WEB")],
    )
    start, end = T0 - timedelta(hours=7), T0 - timedelta(hours=1)
    filters["period"] = (
        {"occurredAt": {"gte": start.isoformat(), "lt": end.isoformat()}},
        [s for s in newest_first if start <= world.a_shared[s][2] < end],
    )
    filters["period and channel"] = (
        {"occurredAt": {"lte": T0.isoformat()}, "channel": {"neq": "CHAT"}},
        [
            s
            for s in newest_first
            if world.a_shared[s][1] != "CHAT" and world.a_shared[s][2] <= T0
        ],
    )
    for label, (where, expected) in filters.items():
        await walk(rec, label, where, expected, (1, 3) if where is None else (2,))

    # Cursors from B's own listing, used in A's: A's data or BAD_USER_INPUT.
    b_listing = await api.data(
        "{ me { interactions(first: 100) { edges { cursor } } } }",
        token=world.b_token,
    )
    b_cursors = [e["cursor"] for e in b_listing["me"]["interactions"]["edges"]]
    assert len(b_cursors) == 7  # 5 shared interactions, B's idea and its answer
    a_subjects = set(world.a_shared)
    for n, cursor in enumerate(b_cursors):
        for direction in (
            {"first": 100, "after": cursor},
            {"last": 100, "before": cursor},
        ):
            body = await rec.ask(
                f"B cursor {n} {direction}", ME_QUERY, page_vars(**direction)
            )
            if body.get("errors"):
                codes = {e["extensions"]["code"] for e in body["errors"]}
                assert codes == {"BAD_USER_INPUT"}, body
                continue
            edges = body["data"]["me"]["interactions"]["edges"]
            assert {e["node"]["subject"] for e in edges} <= a_subjects

    # node and nodes with B's IDs and A's internal ones: NOT_FOUND, null.
    refused = [
        *world.b_ids,
        *(to_global_id("Interaction", i) for i in world.a_internal),
    ]
    for global_id in refused:
        body = await rec.ask(f"node {global_id}", NODE_QUERY, {"id": global_id})
        assert body["data"] == {"node": None}
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    own = [
        to_global_id("Customer", world.a),
        *(to_global_id("Interaction", v[0]) for v in world.a_shared.values()),
    ]
    body = await rec.ask("nodes", NODES_QUERY, {"ids": [*refused, *own]})
    assert not body.get("errors"), body
    found = body["data"]["nodes"]
    assert found[: len(refused)] == [None] * len(refused)
    assert [n["__typename"] for n in found[len(refused) :]] == ["MyProfile"] + [
        "MyInteraction"
    ] * len(world.a_shared)

    # The firm's roots, with B's IDs: FORBIDDEN, nothing else.
    for query, variables in (
        ("query($id: ID!) { customer(id: $id) { email } }", {"id": world.b_ids[0]}),
        (
            "query($id: ID!) { interaction(id: $id) { subject } }",
            {"id": world.b_ids[1]},
        ),
        ("{ customers { nodes { email } } }", None),
        ("{ interactions { nodes { subject } } }", None),
    ):
        body = await rec.ask(query, query, variables)
        assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}

    # What A may see did come back (the walk is not vacuous) ...
    everything = "".join(text for _, text in rec.bodies)
    for visible in (
        *(v for k, v in A_PROFILE.items() if k in ("email", "phone", "company")),
        "A-shared-body-0",
        "41.2500",
    ):
        assert visible in everything, visible
    # ... and nothing it may not.
    assert rec.leaks() == {}
