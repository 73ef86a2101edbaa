"""The data and the operations of the planner's differential test.

tests/test_planner_equivalence.py runs every operation of `build_corpus` for every
caller against two apps over one database, planned (planner=True) and resolved
field by field (planner=False), and wants the same bytes back. This module holds:

- `seed`: a small, varied data set written through the API (and a few direct
  UPDATEs for timestamp ties): customers with and without emails, owners, tags,
  attributes and locales, an archived one, a merged pair, interactions of every
  kind, channel, direction and visibility with money in two currencies, ratings,
  external references and same-instant ties, static and dynamic segments, consents
  (partner sharing withdrawn for one customer), preferences and insights.
- `build_corpus`: at least 300 distinct operations generated from a fixed seed
  over that data and real cursors (read beforehand through the reference path).
- `first_difference`: where two JSON bodies part, for a readable failure.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from crm.customers.models import Customer
from crm.db import Database
from crm.ids import to_global_id
from crm.insights.refresh import refresh_insights
from crm.interactions.models import Interaction

# --- GraphQL text from Python values --------------------------------------------------


class E(str):
    """An enum value: written bare in a GraphQL literal, as a string in JSON."""

    __slots__ = ()


def literal(value: Any) -> str:
    """`value` as a GraphQL input literal (dict keys are field names)."""
    if isinstance(value, E):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    assert isinstance(value, dict), value
    return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"


def literal_or(value: Any) -> str:
    """A variable reference or a literal."""
    return value.ref if isinstance(value, Var) else literal(value)


def args_text(args: dict[str, Any]) -> str:
    """`(a: 1, b: $b)` for the arguments that are given (a str starting with $ is a
    variable reference)."""
    parts = []
    for name, value in args.items():
        if value is None:
            continue
        if isinstance(value, Var):
            parts.append(f"{name}: {value.ref}")
        else:
            parts.append(f"{name}: {literal(value)}")
    return "(" + ", ".join(parts) + ")" if parts else ""


@dataclass(frozen=True)
class Var:
    name: str

    @property
    def ref(self) -> str:
        return "$" + self.name


# --- the data ---------------------------------------------------------------------

KINDS = ["PURCHASE", "REFUND", "SUPPORT", "VISIT", "CAMPAIGN", "FEEDBACK", "NOTE"]
KINDS += ["OTHER"]
CHANNELS = ["EMAIL", "PHONE", "CHAT", "WEB", "STORE", "SOCIAL", "SMS", "EVENT"]
CHANNELS += ["OTHER"]
CUSTOMER_ORDER_FIELDS = [
    "CREATED_AT",
    "UPDATED_AT",
    "DISPLAY_NAME",
    "PREDICTED_VALUE",
    "REVENUE_12M",
    "MARGIN_12M",
    "PROBABILITY_ALIVE",
    "LOYALTY",
    "RECENCY_DAYS",
]
INTERACTION_ORDER_FIELDS = ["OCCURRED_AT", "CREATED_AT"]
ROLES = ["admin", "manager", "agent", "analyst"]

# Customers: (given, family, display, email, company, locale, time zone, stage,
# tags, attributes, owner role, external ref, phone). Two share a display name.
PEOPLE: list[tuple[Any, ...]] = [
    ("Ada", "Lovelace", None, "ada@engines.test", "Analytical Engines", "en-GB",
     "Europe/London", "ACTIVE", ["vip", "newsletter"], {"tier": "gold", "n": 7},
     "manager", "crm-001", "+44 20 7946 0001"),
    ("Blaise", "Pascal", None, "blaise@calc.test", "Pascaline", "fr-FR",
     "Europe/Paris", "ACTIVE", ["vip"], {"tier": "silver"}, "agent", "crm-002",
     None),
    ("Carl", "Gauss", None, None, None, "de-DE", "Europe/Berlin", "PROSPECT",
     [], {}, None, "crm-003", "+49 30 1234567"),
    ("Dora", "Archer", None, "dora@archive.test", "Old Records", "en-US",
     "America/New_York", "CHURNED", ["legacy"], {"note": "archived"}, "manager",
     "crm-004", None),
    ("Emmy", "Noether", None, "emmy@rings.test", "Rings Ltd", "de-DE",
     "Europe/Berlin", "ACTIVE", ["vip", "research"], {"n": 3}, "admin",
     "crm-005", None),
    ("Emmy", "Noether", "Emmy N. (duplicate)", "e.noether@rings.test", None,
     None, None, "LEAD", ["duplicate"], {}, None, "crm-006", None),
    ("Sam", "Lee", "Sam Lee", "sam.lee@example.test", "Lee & Co", "en-GB",
     "Europe/London", "ACTIVE", ["newsletter"], {"tier": "bronze"}, "agent",
     None, "+44 20 7946 0007"),
    ("Sam", "Lee", "Sam Lee", None, None, "en-GB", None, "LEAD", [], {},
     None, None, None),
    (None, None, None, "info@acme.test", "Acme Corp", "en-US", "America/Chicago",
     "PROSPECT", ["b2b"], {"seats": 40}, "manager", "crm-009", None),
    ("Zoë", "Zimmermann", None, "zoe@zed.test", None, "fr-CA",
     "America/Toronto", "ACTIVE", ["vip", "b2b"], {"tier": "gold"}, "analyst",
     "crm-010", None),
    ("Ivan", "Petrov", None, None, "Volga Trade", "ru-RU", None, "CHURNED",
     ["legacy", "b2b"], {}, None, "crm-011", "+7 495 000 0011"),
    ("Jon", "Snow", None, "jon@north.test", None, "en-GB", "Europe/London",
     "LEAD", ["newsletter"], {"house": "stark"}, "agent", "crm-012", None),
    ("Kai", "Tanaka", None, "kai@tanaka.test", "Tanaka KK", "ja-JP",
     "Asia/Tokyo", "ACTIVE", [], {"n": 1}, "manager", None, None),
    ("Lea", "Müller", None, "lea@mueller.test", None, "de-AT", "Europe/Vienna",
     "PROSPECT", ["research"], {}, None, "crm-014", None),
    ("Mia", "Rossi", None, "mia@rossi.test", "Rossi SpA", "it-IT", "Europe/Rome",
     "ACTIVE", ["vip"], {"tier": "platinum"}, "admin", "crm-015", None),
    ("Noor", "Haddad", None, None, None, None, None, "LEAD", [], {}, None, None,
     None),
]  # fmt: skip
ARCHIVED = 3  # Dora
MERGE_TARGET, MERGE_SOURCE = 4, 5  # the duplicate Emmy merges into Emmy
PORTAL = 0  # Ada: the customer caller
NO_PARTNER_SHARING = 1  # Blaise
NO_PROFILING = 2  # Carl

NOTE_BODIES = [
    "Refund requested, follow up next week",
    "VIP: prefers phone, confidential pricing",
    "Complained about delivery; goodwill credit",
    "Upsell candidate for the annual plan",
]


@dataclass
class World:
    """What was seeded (primary keys), and cursors read through the reference path."""

    staff: dict[str, int]  # role -> pk
    customers: list[int] = field(default_factory=list)  # pks, in PEOPLE order
    interactions: list[dict[str, Any]] = field(default_factory=list)
    segments: dict[str, int] = field(default_factory=dict)  # name -> pk
    day0: datetime = field(default_factory=lambda: datetime.now(UTC))
    cursors: dict[str, list[str]] = field(default_factory=dict)

    def customer(self, index: int) -> str:
        return to_global_id("Customer", self.customers[index])

    def staff_gid(self, role: str) -> str:
        return to_global_id("StaffMember", self.staff[role])

    def segment(self, name: str) -> str:
        return to_global_id("Segment", self.segments[name])

    def interaction_gids(self, **match: Any) -> list[str]:
        return [
            to_global_id("Interaction", i["pk"])
            for i in self.interactions
            if all(i.get(k) == v for k, v in match.items())
        ]

    def at(self, days: float) -> str:
        """An instant `days` before the data's reference day, as GraphQL wants it."""
        return (self.day0 - timedelta(days=days)).isoformat()


# `gql(document, variables, token)`: the data of a request that must succeed.
Gql = Callable[[str, dict[str, Any], str], Awaitable[dict[str, Any]]]


def _interaction_inputs(index: int, day0: datetime) -> Iterator[dict[str, Any]]:
    """5 to 8 interactions of customer `index`: over the data set every kind,
    channel, direction and visibility, money in EUR and GBP, ratings, sentiments and
    external references; j 1 and 2 share an instant, and j 0 is the same instant
    for every customer (keyset ties within and across customers)."""
    for j in range(5 + index % 4):
        n = index * 8 + j
        kind = KINDS[(index + j * 3) % len(KINDS)]
        days = 0 if j == 0 else 3 * index + (1 if j in (1, 2) else j)
        occurred = day0 - timedelta(days=days, hours=0 if j < 3 else j)
        data: dict[str, Any] = {
            "occurredAt": occurred.isoformat(),
            "channel": CHANNELS[(index + j * 2) % len(CHANNELS)],
            "direction": "INBOUND" if n % 3 else "OUTBOUND",
            "kind": kind,
            "visibility": "INTERNAL"
            if kind in ("NOTE", "SUPPORT") or n % 5 == 0
            else "SHARED",
        }
        if n % 4 != 3:
            data["subject"] = f"{kind.title()} #{n}"
        if kind in ("NOTE", "SUPPORT", "FEEDBACK") or n % 6 == 0:
            data["body"] = NOTE_BODIES[n % len(NOTE_BODIES)] + f" ({n})"
        currency = "EUR" if n % 2 else "GBP"
        if kind in ("PURCHASE", "REFUND"):
            data["amount"] = f"{(n * 37) % 400 + 9}.{n % 100:02d}"
            data["currency"] = currency
        if n % 3 == 0 or kind == "SUPPORT":
            data["costToServe"] = f"{n % 17 + 1}.50"
            data["currency"] = currency
        if kind in ("FEEDBACK", "SUPPORT", "VISIT") or n % 7 == 0:
            data["rating"] = n % 11
        if n % 4 == 1:
            data["sentiment"] = round(((n % 9) - 4) / 4, 2)
        if n % 3 != 2:
            data["externalRef"] = f"ext-{index:02d}-{j}"
        yield data


async def seed(
    database: Database,
    gql: Gql,
    *,
    staff: dict[str, int],
    tokens: dict[str, str],
    writer_key: str,
    portal_token: Callable[[int], str],
) -> World:
    """Write the data set through the API; `tokens`: a staff token per role,
    `writer_key` a partner key that may log interactions."""
    day0 = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    world = World(staff=dict(staff), day0=day0 - timedelta(days=1))
    admin = tokens["admin"]

    async def batch(
        mutation: str, input_type: str, inputs: list[Any], token: str, selection: str
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(inputs), 25):
            chunk = inputs[start : start + 25]
            header = ", ".join(f"$i{n}: {input_type}!" for n in range(len(chunk)))
            body = " ".join(
                f"m{n}: {mutation}(input: $i{n}) {{ {selection} "
                "errors { field code message } }"
                for n in range(len(chunk))
            )
            data = await gql(
                f"mutation({header}) {{ {body} }}",
                {f"i{n}": value for n, value in enumerate(chunk)},
                token,
            )
            for n in range(len(chunk)):
                payload = data[f"m{n}"]
                assert not payload["errors"], (mutation, chunk[n], payload)
                out.append(payload)
        return out

    def pk(global_id: str) -> int:
        from crm.ids import parse_global_id

        return parse_global_id(global_id)[1]

    # Customers.
    inputs = []
    for row in PEOPLE:
        given, family, display, email, company, locale, tz, stage = row[:8]
        tags, attributes, owner, ref, phone = row[8:]
        fields = {
            "givenName": given,
            "familyName": family,
            "displayName": display,
            "email": email,
            "company": company,
            "locale": locale,
            "timeZone": tz,
            "lifecycleStage": stage,
            "tags": tags,
            "attributes": attributes,
            "externalRef": ref,
            "phone": phone,
            "ownerId": world.staff_gid(owner) if owner else None,
        }
        inputs.append({k: v for k, v in fields.items() if v is not None})
    created = await batch(
        "customerCreate", "CustomerCreateInput", inputs, admin, "customer { id }"
    )
    world.customers = [pk(p["customer"]["id"]) for p in created]

    # Interactions, recorded by staff of several roles and by a partner app.
    loggers = [admin, tokens["agent"], tokens["manager"], writer_key]
    by_logger: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for index in range(len(PEOPLE)):
        for j, data in enumerate(_interaction_inputs(index, world.day0)):
            data["customerId"] = world.customer(index)
            by_logger.setdefault((index + j) % len(loggers), []).append((index, data))
    for number, items in sorted(by_logger.items()):
        logged = await batch(
            "interactionLog",
            "InteractionLogInput",
            [data for _, data in items],
            loggers[number],
            "interaction { id }",
        )
        for (index, data), payload in zip(items, logged, strict=True):
            world.interactions.append(
                {
                    "pk": pk(payload["interaction"]["id"]),
                    "customer": index,
                    "kind": data["kind"],
                    "visibility": data["visibility"],
                }
            )

    # The portal customer's own feedback and survey answer, and the firm's answer.
    portal = portal_token(world.customers[PORTAL])
    asked = await gql(
        """mutation { myFeedbackSubmit(input: {kind: IDEA, subject: "Dark mode",
             body: "Please add a dark mode"}) {
             interaction { id } errors { code } } }""",
        {},
        portal,
    )
    await gql(
        """mutation { mySurveyAnswer(input: {survey: NPS, rating: 9,
             comment: "Great"}) { errors { code } } }""",
        {},
        portal,
    )
    await batch(
        "feedbackAnswer",
        "FeedbackAnswerInput",
        [
            {
                "interactionId": asked["myFeedbackSubmit"]["interaction"]["id"],
                "body": "Thanks, it is planned",
            }
        ],
        admin,
        "interaction { id }",
    )

    # A merge, an archive, consents and preferences.
    await batch(
        "customerMerge",
        "CustomerMergeInput",
        [
            {
                "targetId": world.customer(MERGE_TARGET),
                "sourceId": world.customer(MERGE_SOURCE),
            }
        ],
        admin,
        "movedInteractions",
    )
    await batch(
        "customerArchive",
        "CustomerIdInput",
        [{"id": world.customer(ARCHIVED)}],
        admin,
        "customer { id }",
    )
    consents = [
        (NO_PARTNER_SHARING, "PARTNER_SHARING", "ANY", False, "STAFF", None),
        (PORTAL, "MARKETING", "EMAIL", True, "PAPER_FORM", "Form 12/A"),
        (NO_PROFILING, "PROFILING", "ANY", False, "PHONE_CALL", "Call notes"),
        (6, "MARKETING", "ANY", True, "WEB_FORM", None),
    ]
    await batch(
        "consentRecord",
        "ConsentRecordInput",
        [
            {
                "customerId": world.customer(index),
                "purpose": purpose,
                "channel": channel,
                "granted": granted,
                "source": source,
                **({"evidence": evidence} if evidence else {}),
            }
            for index, purpose, channel, granted, source, evidence in consents
        ],
        admin,
        "consent { granted }",
    )
    await batch(
        "customerPreferencesSet",
        "CustomerPreferencesSetInput",
        [
            {
                "customerId": world.customer(PORTAL),
                "preferredChannel": "EMAIL",
                "contactFrequency": "MONTHLY",
                "language": "en-GB",
            },
            {"customerId": world.customer(6), "preferredChannel": "SMS"},
            {"customerId": world.customer(9), "language": "fr-CA"},
        ],
        admin,
        "preferences { language }",
    )

    # Segments: a static one members see, dynamic ones refreshed.
    made = await batch(
        "segmentCreate",
        "SegmentCreateInput",
        [
            {
                "name": "Hand-picked",
                "kind": "STATIC",
                "description": "Chosen by the sales team",
                "customerVisible": True,
                "customerName": "Friends of the firm",
                "customerDescription": "Early access to new features",
            },
            {
                "name": "Buyers",
                "rule": {"interactions": {"some": {"kind": {"eq": "PURCHASE"}}}},
            },
            {"name": "VIP", "rule": {"tags": {"has": "vip"}}},
        ],
        admin,
        "segment { id name }",
    )
    world.segments = {p["segment"]["name"]: pk(p["segment"]["id"]) for p in made}
    static = world.segment("Hand-picked")
    await batch(
        "segmentMembersAdd",
        "SegmentMembersInput",
        [
            {
                "segmentId": static,
                "customerIds": [world.customer(i) for i in (0, 1, 2, 6, 7, 9, 12)],
            }
        ],
        admin,
        "entered",
    )
    await batch(
        "segmentMembersRemove",
        "SegmentMembersInput",
        [{"segmentId": static, "customerIds": [world.customer(7)]}],
        admin,
        "left",
    )
    await batch(
        "segmentRefresh",
        "SegmentIdInput",
        [{"id": world.segment("Buyers")}, {"id": world.segment("VIP")}],
        admin,
        "entered",
    )

    # Timestamp ties for the keyset orderings: customers created in pairs at one
    # instant, updated in threes; interactions created when they occurred.
    async with database.transaction() as session:
        for index, customer_pk in enumerate(world.customers):
            await session.execute(
                update(Customer)
                .where(Customer.id == customer_pk)  # type: ignore[arg-type]
                .values(
                    created_at=world.day0 - timedelta(days=40 - index // 2),
                    updated_at=world.day0 - timedelta(hours=index % 3),
                )
            )
        await session.execute(
            update(Interaction).values(created_at=Interaction.occurred_at)
        )

    # Insights, with a tier ladder, published kinds and a strategic value.
    await batch(
        "tierLadderSet",
        "TierLadderSetInput",
        [
            {
                "basis": "REVENUE_LIFETIME",
                "tiers": [
                    {"name": "Bronze", "threshold": "0"},
                    {"name": "Silver", "threshold": "150"},
                    {"name": "Gold", "threshold": "500"},
                ],
            }
        ],
        admin,
        "tierLadder { basis }",
    )
    await refresh_insights(database)
    await batch(
        "insightPolicySet",
        "InsightPolicySetInput",
        [
            {"kind": kind, "visibleToCustomers": True, "title": kind.title()}
            for kind in ("SPEND_SUMMARY", "TIER", "RFM_STATUS", "PEER_COMPARISON")
        ],
        admin,
        "policy { kind }",
    )
    await batch(
        "strategicValueSet",
        "StrategicValueSetInput",
        [{"customerId": world.customer(9), "value": 5, "reason": "Key account"}],
        admin,
        "customer { id }",
    )
    return world


# --- cursors, read through the reference path ----------------------------------------


async def collect_cursors(
    world: World, run: Callable[[str, dict[str, Any], str], Awaitable[Any]],
    admin: str, portal: str,
) -> None:  # fmt: skip
    """Real cursors of every list the corpus pages through, read by `admin` (and the
    portal customer for their own lists)."""

    def edges(connection: dict[str, Any]) -> list[str]:
        return [edge["cursor"] for edge in connection["edges"]]

    # Every customer ordering and search in one request, aliased.
    lists: dict[str, str] = {"customers": ""}
    for field_name in CUSTOMER_ORDER_FIELDS:
        for direction in ("ASC", "DESC"):
            order = literal({"field": E(field_name), "direction": E(direction)})
            lists[f"customers:{field_name}:{direction}"] = f", orderBy: {order}"
    for term in SEARCH_TERMS[:3]:
        lists[f"search:{term}"] = f", search: {literal(term)}"
    names = list(lists)
    data = await run(
        "{ "
        + " ".join(
            f"l{n}: customers(first: 100{lists[key]}) {{ edges {{ cursor }} }}"
            for n, key in enumerate(names)
        )
        + " }",
        {},
        admin,
    )
    for n, key in enumerate(names):
        world.cursors[key] = edges(data[f"l{n}"])
    # Interactions in each ordering: across customers, and of one customer.
    orders = [
        (f"{name}:{direction}", {"field": E(name), "direction": E(direction)})
        for name in INTERACTION_ORDER_FIELDS
        for direction in ("ASC", "DESC")
    ]
    fields = [
        f"l{n}: interactions(first: 100, orderBy: {literal(order)}) "
        "{ edges { cursor } }"
        for n, (_, order) in enumerate(orders)
    ]
    data = await run(
        "query($c: ID!) { "
        + " ".join(fields)
        + " customer(id: $c) { "
        + " ".join(fields)
        + " } }",
        {"c": world.customer(MERGE_TARGET)},
        admin,
    )
    for n, (key, _) in enumerate(orders):
        world.cursors[f"interactions:{key}"] = edges(data[f"l{n}"])
        world.cursors[f"nested:{key}"] = edges(data["customer"][f"l{n}"])
    data = await run(
        "query($s: ID!, $id: ID!) { segment(id: $s) { members(first: 100) "
        "{ edges { cursor } } } segments(first: 100) { edges { cursor } } "
        "customer(id: $id) { auditTrail(first: 100) { edges { cursor } } } }",
        {"s": world.segment("Hand-picked"), "id": world.customer(PORTAL)},
        admin,
    )
    world.cursors["members"] = edges(data["segment"]["members"])
    world.cursors["segments"] = edges(data["segments"])
    world.cursors["audit"] = edges(data["customer"]["auditTrail"])
    data = await run(
        "{ me { interactions(first: 100) { edges { cursor node { id } } } } }",
        {},
        portal,
    )
    world.cursors["me"] = edges(data["me"]["interactions"])
    world.cursors["me:ids"] = [
        edge["node"]["id"] for edge in data["me"]["interactions"]["edges"]
    ]
    for key, values in world.cursors.items():
        assert values, f"no cursors for {key}"


# --- the operations ------------------------------------------------------------------

SEARCH_TERMS = ["emmy", "sam lee", "engines", "ad", "jon snw", "zzzz", "acme"]

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
CUSTOMER_SCALARS = [
    "id", "__typename", "externalRef", "email", "phone", "givenName", "familyName",
    "displayName", "company", "locale", "timeZone", "lifecycleStage", "tags",
    "attributes", "createdAt", "updatedAt", "archivedAt", "version", "archived",
    "erasedAt",
]  # fmt: skip
CUSTOMER_GUARDED = [
    "owner { id displayName email role active }",
    "owner { __typename id }",
    "mergedInto { id displayName archived }",
    "preferences { preferredChannel contactFrequency language updatedAt }",
]
# Fields the planner may leave to the resolvers (per-subtree fallback).
CUSTOMER_OTHER = [
    "segments { joinedAt segment { id name kind size customerVisible } }",
    "consents { purpose channel granted default source decidedAt decidedChannel }",
    "insights { computedAt modelVersion currency profilingWithdrawn activity "
    "{ purchases firstPurchaseAt lastPurchaseAt lastInteractionAt "
    "customerInitiated } }",
    "insights { rfm { windowDays recencyDays frequency monetary { amount currency } "
    "recencyScore frequencyScore monetaryScore cell } value { revenueLifetime "
    "{ amount currency } margin12m { amount currency } costToServe12m "
    "{ amount currency } } }",
    "insights { retention { repeatPurchases weeksFirstToLast probabilityAlive "
    "expectedPurchases churnRisk } predictedValue { predictedLifetimeValue "
    "{ amount currency } percentile horizonMonths } satisfaction { npsResponses "
    "promoters nps csatResponses csat } }",
    "insights { classification { profitability loyalty strategicValue "
    "strategicValueSource strategicValueReason valueGroup lowValue willingness "
    "valueCreationMode explanation } tier { name nextTier progress measure "
    "{ amount currency } } }",
    "auditTrail(first: 3) { totalCount " + PAGE_INFO + " edges { cursor node "
    "{ id action entityType entityId actor { kind ref label } changes "
    "{ field before after withheld } } } }",
    "consentHistory(first: 3) { totalCount nodes { purpose channel granted "
    "source evidence recordedBy } }",
    "accessLog(first: 2) { totalCount nodes { kind actorKind actorName views } }",
    "corrections(first: 2) { totalCount nodes { id status } }",
    "insightHistory(kind: LOYALTY, first: 2) { totalCount nodes { value label } }",
    "insightHistory(kind: PREDICTED_VALUE, last: 1) { totalCount nodes { value } }",
]
INTERACTION_SCALARS = [
    "id", "__typename", "occurredAt", "channel", "direction", "kind", "subject",
    "visibility", "source", "rating", "sentiment", "externalRef", "recordedBy",
    "createdAt", "updatedAt", "version",
]  # fmt: skip
INTERACTION_GUARDED = [
    "body",
    "amount { amount currency }",
    "costToServe { amount currency }",
    "costToServe { __typename amount }",
]


def customer_wheres(w: World) -> list[dict[str, Any]]:
    """A customer filter per operator and combination."""
    return [
        {"lifecycleStage": {"eq": E("ACTIVE")}},
        {"lifecycleStage": {"in": [E("LEAD"), E("PROSPECT")]}},
        {"email": {"contains": "TEST"}},
        {"email": {"eq": "ADA@engines.test"}},
        {"email": {"isNull": True}},
        {"displayName": {"startsWith": "s"}},
        {"displayName": {"gt": "M"}},
        {"displayName": {"lt": "E"}},
        {"displayName": {"gte": "Sam Lee", "lte": "Zz"}},
        {"displayName": {"in": ["Sam Lee", "Jon Snow"]}},
        {"company": {"neq": "Acme Corp"}},
        {"externalRef": {"startsWith": "crm-00"}},
        {"locale": {"in": ["en-GB", "fr-FR"]}},
        {"locale": {"startsWith": "de"}},
        {"phone": {"isNull": False}},
        {"tags": {"has": "vip"}},
        {"tags": {"hasAny": ["legacy", "research"]}},
        {"tags": {"hasNone": ["vip"]}},
        {"tags": {"isEmpty": True}},
        {"owner": {"eq": w.staff_gid("manager")}},
        {"owner": {"isNull": True}},
        {"owner": {"in": [w.staff_gid("agent"), w.staff_gid("admin")]}},
        {"id": {"in": [w.customer(i) for i in (0, 3, 5, 9)]}},
        {"createdAt": {"gt": w.at(36)}},
        {"createdAt": {"lt": w.at(36)}},
        {"updatedAt": {"gte": w.at(0.05)}},
        {"archived": {"eq": True}},
        {"archived": {"eq": False}},
        {"interactions": {"some": {"kind": {"eq": E("PURCHASE")}}}},
        {"interactions": {"none": {"kind": {"in": [E("REFUND"), E("FEEDBACK")]}}}},
        {"interactions": {"every": {"visibility": {"eq": E("SHARED")}}}},
        {"interactions": {"some": {"amount": {"gt": "200"}}}},
        {"interactions": {"some": {"body": {"contains": "refund"}}}},
        {"interactions": {"some": {"occurredAt": {"gt": w.at(10)}}}},
        {"insights": {"loyalty": {"gte": 2}}},
        {"insights": {"revenueLifetime": {"gt": "100"}}},
        {"insights": {"churnRisk": {"in": [E("LOW"), E("MEDIUM")]}}},
        {"consent": {"purpose": E("MARKETING"), "channel": E("EMAIL")}},
        {"consent": {"purpose": E("PARTNER_SHARING"), "granted": False}},
        {"preferences": {"preferredChannel": {"eq": E("EMAIL")}}},
        {"preferences": {"language": {"startsWith": "fr"}}},
        {
            "or": [
                {"tags": {"has": "vip"}},
                {"lifecycleStage": {"eq": E("CHURNED")}},
            ]
        },
        {
            "and": [
                {"not": {"locale": {"eq": "en-GB"}}},
            ]
        },
        {"not": {"tags": {"has": "newsletter"}}},
        {
            "or": [
                {"archived": {"eq": True}},
                {"interactions": {"some": {"rating": {"gte": 8}}}},
            ]
        },
    ]


def interaction_wheres(w: World) -> list[dict[str, Any]]:
    """An interaction filter per operator and combination."""
    return [
        {"kind": {"eq": E("PURCHASE")}},
        {"kind": {"in": [E("NOTE"), E("SUPPORT")]}},
        {"kind": {"notIn": [E("PURCHASE"), E("REFUND")]}},
        {"channel": {"in": [E("EMAIL"), E("PHONE"), E("CHAT")]}},
        {"channel": {"eq": E("STORE")}},
        {"direction": {"eq": E("OUTBOUND")}},
        {"visibility": {"eq": E("INTERNAL")}},
        {"source": {"eq": E("PARTNER")}},
        {"source": {"in": [E("STAFF"), E("CUSTOMER")]}},
        {"subject": {"contains": "purchase"}},
        {"subject": {"isNull": True}},
        {"body": {"contains": "vip"}},
        {"body": {"isNull": False}},
        {"amount": {"gt": "100"}},
        {"amount": {"lt": "50"}},
        {"currency": {"eq": "GBP"}},
        {"costToServe": {"gte": "5"}},
        {"rating": {"gte": 7}},
        {"rating": {"lt": 3}},
        {"rating": {"isNull": True}},
        {"sentiment": {"gt": 0}},
        {"externalRef": {"startsWith": "ext-0"}},
        {"occurredAt": {"gt": w.at(12)}},
        {"occurredAt": {"lt": w.at(20), "gte": w.at(40)}},
        {"occurredAt": {"eq": w.at(0)}},
        {"createdAt": {"lt": w.at(5)}},
        {"id": {"in": w.interaction_gids(kind="NOTE")[:4]}},
        {"customerId": {"eq": w.customer(MERGE_TARGET)}},
        {"customerId": {"in": [w.customer(i) for i in (0, 1, 3)]}},
        {"customer": {"tags": {"has": "vip"}}},
        {"customer": {"lifecycleStage": {"eq": E("ACTIVE")}}},
        {
            "or": [
                {"kind": {"eq": E("REFUND")}},
                {"rating": {"gte": 9}},
            ]
        },
        {"and": [{"channel": {"eq": E("EMAIL")}}, {"amount": {"isNull": True}}]},
        {"not": {"visibility": {"eq": E("SHARED")}}},
    ]


@dataclass(frozen=True)
class Op:
    """One GraphQL request of the corpus."""

    name: str
    document: str
    variables: dict[str, Any] = field(default_factory=dict)
    operation_name: str | None = None

    def body(self) -> bytes:
        payload: dict[str, Any] = {"query": self.document, "variables": self.variables}
        if self.operation_name:
            payload["operationName"] = self.operation_name
        return json.dumps(payload).encode()


class _Doc:
    """A document under construction: arguments become literals or variables."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.variables: dict[str, Any] = {}
        self.declared: list[str] = []

    def arg(self, value: Any, type_: str) -> Any:
        """`value` inline or, half the time, as a variable of `type_`."""
        if value is None or self.rng.random() < 0.5:
            return value
        name = f"v{len(self.declared)}"
        self.declared.append(f"${name}: {type_}")
        self.variables[name] = value
        return Var(name)

    def text(self, selection: str) -> str:
        header = f"query({', '.join(self.declared)}) " if self.declared else ""
        return header + "{ " + selection + " }"


class Corpus:
    """Operations generated from a fixed seed over a seeded `World`."""

    def __init__(self, world: World, seed: int = 20261207) -> None:
        self.w = world
        self.rng = random.Random(seed)
        self.ops: list[Op] = []
        self._seen: set[bytes] = set()
        self.c_wheres = customer_wheres(world)
        self.i_wheres = interaction_wheres(world)

    def add(
        self,
        name: str,
        document: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> None:
        op = Op(name, document, variables or {}, operation_name)
        key = op.body()
        if key not in self._seen:
            self._seen.add(key)
            self.ops.append(
                Op(f"{name}#{len(self.ops)}", document, op.variables, operation_name)
            )

    # -- pieces --

    def pick(self, items: list[Any], low: int, high: int) -> list[Any]:
        return self.rng.sample(items, self.rng.randint(low, min(high, len(items))))

    def connection(self, node: str) -> str:
        r = self.rng.random()
        parts = []
        if r < 0.45:
            parts.append(f"edges {{ cursor node {{ {node} }} }}")
        elif r < 0.7:
            parts.append(f"nodes {{ {node} }}")
        elif r < 0.85:
            parts.append(f"edges {{ node {{ {node} }} }}")
        else:
            parts += [f"nodes {{ {node} }}", "edges { cursor }"]
        if self.rng.random() < 0.5:
            parts.append("totalCount")
        r = self.rng.random()
        if r < 0.4:
            parts.append(PAGE_INFO)
        elif r < 0.6:
            parts.append("pageInfo { hasNextPage endCursor }")
        self.rng.shuffle(parts)
        return " ".join(parts)

    def page(self, doc: _Doc, cursors: str | None) -> dict[str, Any]:
        """Relay arguments, with real cursors of the list `cursors`."""
        pool = self.w.cursors.get(cursors or "", [])
        choice = self.rng.choice(
            ["none", "first", "first", "after", "after", "last", "before", "zero"]
        )
        size = self.rng.choice([1, 2, 3, 5, 8])
        if choice in ("after", "before") and not pool:
            choice = "first"
        if choice == "first":
            return {"first": doc.arg(size, "Int")}
        if choice == "after":
            cursor = doc.arg(self.rng.choice(pool), "String")
            return {"first": doc.arg(size, "Int"), "after": cursor}
        if choice == "last":
            return {"last": doc.arg(size, "Int")}
        if choice == "before":
            cursor = doc.arg(self.rng.choice(pool), "String")
            return {"last": doc.arg(size, "Int"), "before": cursor}
        if choice == "zero":
            return {"first": 0}
        return {}

    def interaction_node(self, with_customer: bool = True) -> str:
        parts = self.pick(INTERACTION_SCALARS, 1, 5)
        parts += self.pick(INTERACTION_GUARDED, 0, 2)
        if with_customer and self.rng.random() < 0.2:
            parts.append(
                "customer { id displayName "
                + self.rng.choice(["", "email", "owner { id }", "tags"])
                + " }"
            )
        return " ".join(parts)

    def interactions_field(
        self, doc: _Doc, *, nested: bool, name: str = "interactions"
    ) -> str:
        args: dict[str, Any] = {}
        if self.rng.random() < 0.35:
            args["where"] = doc.arg(self.rng.choice(self.i_wheres), "InteractionWhere")
        order_key = "OCCURRED_AT:DESC"
        if self.rng.random() < 0.5:
            field_name = self.rng.choice(INTERACTION_ORDER_FIELDS)
            direction = self.rng.choice(["ASC", "DESC"])
            order_key = f"{field_name}:{direction}"
            args["orderBy"] = doc.arg(
                {"field": E(field_name), "direction": E(direction)}, "InteractionOrder"
            )
        prefix = "nested" if nested else "interactions"
        args.update(self.page(doc, f"{prefix}:{order_key}"))
        node = self.interaction_node(with_customer=not nested)
        return f"{name}{args_text(args)} {{ {self.connection(node)} }}"

    def customer_node(self, doc: _Doc, *, nested: bool = True) -> str:
        parts = self.pick(CUSTOMER_SCALARS, 1, 5)
        parts += self.pick(CUSTOMER_GUARDED, 0, 1)
        if self.rng.random() < 0.15:
            parts.append(self.rng.choice(CUSTOMER_OTHER))
        if nested and self.rng.random() < 0.55:
            parts.append(self.interactions_field(doc, nested=True))
        return " ".join(parts)

    def customers_field(self, doc: _Doc, name: str = "customers") -> str:
        args: dict[str, Any] = {}
        if self.rng.random() < 0.4:
            args["where"] = doc.arg(self.rng.choice(self.c_wheres), "CustomerWhere")
        cursors = "customers"
        r = self.rng.random()
        if r < 0.15:
            term = self.rng.choice(SEARCH_TERMS)
            args["search"] = doc.arg(term, "String")
            cursors = f"search:{term}"
        elif r < 0.6:
            field_name = self.rng.choice(CUSTOMER_ORDER_FIELDS)
            direction = self.rng.choice(["ASC", "DESC"])
            args["orderBy"] = doc.arg(
                {"field": E(field_name), "direction": E(direction)}, "CustomerOrder"
            )
            cursors = f"customers:{field_name}:{direction}"
        args.update(self.page(doc, cursors))
        node = self.customer_node(doc)
        return f"{name}{args_text(args)} {{ {self.connection(node)} }}"

    # -- families of operations --

    def random_customers(self, count: int) -> None:
        for _ in range(count):
            doc = _Doc(self.rng)
            selection = self.customers_field(doc)
            if self.rng.random() < 0.1:
                selection = "__typename " + selection
            self.add("customers", doc.text(selection), doc.variables)

    def random_customer(self, count: int) -> None:
        indexes = list(range(len(self.w.customers)))
        for _ in range(count):
            doc = _Doc(self.rng)
            target = doc.arg(self.w.customer(self.rng.choice(indexes)), "ID!")
            node = self.customer_node(doc)
            self.add(
                "customer",
                doc.text(f"customer(id: {literal_or(target)}) {{ {node} }}"),
                doc.variables,
            )

    def random_interactions(self, count: int) -> None:
        for _ in range(count):
            doc = _Doc(self.rng)
            selection = self.interactions_field(doc, nested=False)
            self.add("interactions", doc.text(selection), doc.variables)

    def random_interaction(self, count: int) -> None:
        gids = self.w.interaction_gids()
        for _ in range(count):
            doc = _Doc(self.rng)
            target = doc.arg(self.rng.choice(gids), "ID!")
            node = self.interaction_node()
            if self.rng.random() < 0.3:
                node += " customer { " + self.customer_node(doc) + " }"
            self.add(
                "interaction",
                doc.text(f"interaction(id: {literal_or(target)}) {{ {node} }}"),
                doc.variables,
            )

    # -- every ordering, filter and search, once each --

    def orderings(self) -> None:
        """Every ordering, both directions, paged forwards and backwards from real
        cursors of that very list."""
        for field_name in CUSTOMER_ORDER_FIELDS:
            for direction in ("ASC", "DESC"):
                key = f"customers:{field_name}:{direction}"
                cursors = self.w.cursors[key]
                order = {"field": field_name, "direction": direction}
                base = (
                    "query($o: CustomerOrder, $f: Int, $a: String, $l: Int, "
                    "$b: String) { customers(orderBy: $o, first: $f, after: $a, "
                    "last: $l, before: $b) { totalCount edges { cursor node { id "
                    "displayName } } " + PAGE_INFO + " } }"
                )
                for page in ({"f": 3, "a": cursors[2]}, {"l": 2, "b": cursors[-3]}):
                    self.add(f"order:{key}", base, {"o": order, **page})
        for field_name in INTERACTION_ORDER_FIELDS:
            for direction in ("ASC", "DESC"):
                order = {"field": E(field_name), "direction": E(direction)}
                for prefix in ("interactions", "nested"):
                    cursors = self.w.cursors[f"{prefix}:{field_name}:{direction}"]
                    for page in (
                        {"first": 2, "after": cursors[1]},
                        {"last": 3, "before": cursors[-2]},
                    ):
                        field_text = (
                            f"interactions{args_text({'orderBy': order, **page})} "
                            "{ totalCount edges { cursor node { id occurredAt "
                            "createdAt kind } } " + PAGE_INFO + " }"
                        )
                        if prefix == "nested":
                            field_text = (
                                f"customer(id: {literal(self.w.customer(4))}) "
                                f"{{ id {field_text} }}"
                            )
                        self.add(f"order:{prefix}", "{ " + field_text + " }")

    def filters(self) -> None:
        for where in self.c_wheres:
            self.add(
                "where:customers",
                "query($w: CustomerWhere) { customers(where: $w, first: 20) "
                "{ totalCount nodes { id displayName } } }",
                {"w": where},
            )
        for n, where in enumerate(self.i_wheres):
            self.add(
                "where:interactions",
                "query($w: InteractionWhere) { interactions(where: $w, first: 10) "
                "{ totalCount nodes { id kind visibility } " + PAGE_INFO + " } }",
                {"w": where},
            )
            if n % 6 == 0:
                self.add(
                    "where:nested",
                    "{ customers(first: 6) { nodes { id interactions(where: "
                    + literal(where)
                    + ", first: 3) { totalCount nodes { id kind } } } } }",
                )

    def searches(self) -> None:
        for n, term in enumerate(SEARCH_TERMS):
            self.add(
                "search",
                "query($s: String) { customers(search: $s, first: 5) { totalCount "
                "edges { cursor node { id displayName email company } } "
                + PAGE_INFO
                + " } }",
                {"s": term},
            )
            if n % 3:
                continue
            self.add(
                "search:ordered",
                "query($s: String) { customers(search: $s, last: 3, orderBy: "
                "{field: DISPLAY_NAME, direction: DESC}) { nodes { id displayName } "
                "pageInfo { hasPreviousPage startCursor } } }",
                {"s": term},
            )
        for term in SEARCH_TERMS[:2]:
            cursors = self.w.cursors[f"search:{term}"]
            self.add(
                "search:after",
                "query($s: String, $a: String) { customers(search: $s, first: 2, "
                "after: $a) { edges { cursor node { id } } " + PAGE_INFO + " } }",
                {"s": term, "a": cursors[0]},
            )

    def fallbacks(self) -> None:
        """Each field the planner may leave to the resolvers, under a list and
        under one customer (customers 0, 2 and 9 have consents, a withdrawn
        profiling consent, a strategic value and segments)."""
        for n, selection in enumerate(CUSTOMER_OTHER):
            if n % 2 == 0:
                self.add(
                    "fallback:list",
                    "{ customers(first: 4, orderBy: {field: DISPLAY_NAME}) "
                    f"{{ nodes {{ id {selection} }} }} }}",
                )
            else:
                target = self.w.customer((0, 2, 9)[n // 2 % 3])
                self.add(
                    "fallback:customer",
                    f"{{ customer(id: {literal(target)}) {{ id {selection} }} }}",
                )

    # -- roots beside the lists --

    def nodes(self) -> None:
        w = self.w
        everything = (
            "__typename id ... on Customer { displayName email archived "
            "owner { id } interactions(first: 2) { totalCount nodes { id body } } } "
            "... on Interaction { kind body amount { amount currency } costToServe "
            "{ amount } customer { id displayName } } "
            "... on Segment { name kind size } "
            "... on StaffMember { displayName role } "
            "... on MyInteraction { kind subject body survey } "
            "... on MyProfile { displayName email }"
        )
        ids = {
            "customer": w.customer(0),
            "no-sharing": w.customer(NO_PARTNER_SHARING),
            "archived": w.customer(ARCHIVED),
            "merged": w.customer(MERGE_SOURCE),
            "note": w.interaction_gids(kind="NOTE", visibility="INTERNAL")[0],
            "shared": w.interaction_gids(visibility="SHARED")[0],
            "purchase": w.interaction_gids(kind="PURCHASE")[0],
            "of-no-sharing": w.interaction_gids(customer=NO_PARTNER_SHARING)[0],
            "segment": w.segment("Hand-picked"),
            "staff": w.staff_gid("agent"),
            "mine": w.cursors["me:ids"][0],
            "missing": to_global_id("Customer", 999_999),
            "missing-interaction": to_global_id("Interaction", 999_999),
            "unknown-type": to_global_id("Nope", 1),
            "garbage": "not-an-id",
        }
        for label, value in ids.items():
            self.add(
                f"node:{label}",
                f"query($id: ID!) {{ node(id: $id) {{ {everything} }} }}",
                {"id": value},
            )
        for label in ("note", "garbage"):
            self.add(
                f"node:{label}:typename",
                f"{{ node(id: {literal(ids[label])}) {{ __typename id }} }}",
            )
        self.add(
            "node:fragments",
            "query($a: ID!, $b: ID!) { a: node(id: $a) { ...N } b: node(id: $b) "
            "{ ...N } } fragment N on Node { id __typename ...C ...I } "
            "fragment C on Customer { displayName tags interactions(last: 2) "
            "{ edges { cursor node { ...I } } } } "
            "fragment I on Interaction { kind channel body rating }",
            {"a": ids["customer"], "b": ids["note"]},
        )
        groups = [
            list(ids.values()),
            [ids["customer"], ids["customer"], ids["merged"]],
            w.interaction_gids()[:12],
            [w.customer(i) for i in range(len(w.customers))],
            [],
        ]
        for group in groups:
            self.add(
                "nodes",
                f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {everything} }} }}",
                {"ids": group},
            )
        self.add(
            "nodes:too-many",
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            {"ids": [w.customer(0)] * 101},
        )
        for label in ("customer", "archived", "merged", "missing", "no-sharing"):
            self.add(
                f"customer:{label}",
                "query($id: ID!) { customer(id: $id) { id displayName archived "
                "mergedInto { id displayName } interactions(first: 3) { totalCount "
                "nodes { id kind } } } }",
                {"id": ids[label]},
            )
        for label in ("note", "shared", "purchase", "of-no-sharing", "missing"):
            self.add(
                f"interaction:{label}",
                "query($id: ID!) { interaction(id: $id) { id kind visibility body "
                "amount { amount currency } costToServe { amount currency } "
                "customer { id displayName } } }",
                {"id": ids.get(label, ids["missing-interaction"])},
            )

    def segments(self) -> None:
        w = self.w
        member = "id displayName email"
        for name, direction in (("NAME", "DESC"), ("CREATED_AT", "ASC")):
            self.add(
                "segments:order",
                "{ segments(first: 2, orderBy: "
                + literal({"field": E(name), "direction": E(direction)})
                + ") { totalCount edges { cursor node { id name } } "
                + PAGE_INFO
                + " } }",
            )
        self.add(
            "segments:order",
            "{ segments(last: 2, orderBy: {field: SIZE, direction: DESC}) "
            "{ nodes { id size } } }",
        )
        self.add(
            "segments:all",
            "{ segments { totalCount nodes { id __typename name description kind "
            "rule customerVisible customerName customerDescription builtinKey size "
            "refreshedAt version } } }",
        )
        for where in (
            {"kind": {"eq": E("STATIC")}},
            {"name": {"startsWith": "b"}},
            {"size": {"gt": 3}},
            {"or": [{"customerVisible": {"eq": True}}, {"name": {"eq": "VIP"}}]},
        ):
            self.add(
                "segments:where",
                "query($w: SegmentWhere) { segments(where: $w) { nodes { id name "
                "members(first: 3) { totalCount nodes { " + member + " } } } } }",
                {"w": where},
            )
        cursors = w.cursors["members"]
        for name in ("Hand-picked", "Buyers", "VIP"):
            self.add(
                "segment:members",
                "query($id: ID!) { segment(id: $id) { id name size members(first: 4) "
                "{ totalCount edges { cursor node { " + member + " interactions("
                "first: 2) { nodes { id kind amount { amount currency } } } } } "
                + PAGE_INFO
                + " } } }",
                {"id": w.segment(name)},
            )
        for page in ({"first": 2, "after": cursors[1]}, {"last": 2}):
            self.add(
                "segment:members:page",
                "query($id: ID!) { segment(id: $id) { members"
                + args_text(page)
                + " { edges { cursor node { id } } "
                + PAGE_INFO
                + " } } }",
                {"id": w.segment("Hand-picked")},
            )
        self.add(
            "segment:members:before",
            "query($id: ID!, $b: String) { segment(id: $id) { members(last: 2, "
            "before: $b) { nodes { id displayName } " + PAGE_INFO + " } } }",
            {"id": w.segment("Hand-picked"), "b": cursors[-1]},
        )
        self.add(
            "segment:history",
            "query($id: ID!) { segment(id: $id) { history(first: 3) { totalCount "
            "edges { node { change customerId customer { id displayName } } } "
            "pageInfo { hasNextPage } } } }",
            {"id": w.segment("Hand-picked")},
        )
        self.add(
            "segment:explain",
            "query($id: ID!, $c: ID!) { segment(id: $id) { explain(customerId: $c) "
            "{ member matches customer { id displayName } clauses { path text "
            "negated matched } } } }",
            {"id": w.segment("Buyers"), "c": w.customer(0)},
        )
        self.add(
            "segments:nested-members",
            "{ segments(first: 3, orderBy: {field: NAME}) { nodes { name "
            "members(first: 2) { nodes { id segments { segment { name } } } } } } }",
        )
        self.add(
            "segments:after",
            "query($a: String) { segments(first: 1, after: $a) { nodes { name } "
            + PAGE_INFO
            + " } }",
            {"a": w.cursors["segments"][0]},
        )

    def me(self) -> None:
        cursors = self.w.cursors["me"]
        interaction = (
            "id __typename occurredAt channel direction kind subject body "
            "amount { amount currency } rating survey feedbackKind "
            "answers { id body }"
        )
        selections = [
            "__typename",
            "profile { id __typename email phone givenName familyName displayName "
            "company locale timeZone createdAt updatedAt }",
            f"interactions {{ totalCount nodes {{ {interaction} }} {PAGE_INFO} }}",
            "interactions(first: 2) { edges { cursor node { id kind } } "
            + PAGE_INFO
            + " }",
            "interactions(last: 2) { edges { cursor node { id kind } } "
            + PAGE_INFO
            + " }",
            "interactions(where: {channel: {in: [EMAIL, PHONE, WEB]}}) "
            "{ totalCount nodes { id channel } }",
            "interactions(where: {occurredAt: {lt: "
            + literal(self.w.at(5))
            + "}}, first: 3) { nodes { id occurredAt } }",
            "segments { name description joinedAt }",
            "consents { purpose channel granted default source decidedAt }",
            "consentHistory(first: 2) { totalCount edges { cursor node { purpose "
            "channel granted source evidence } } pageInfo { hasNextPage } }",
            "preferences { preferredChannel contactFrequency language updatedAt }",
            "corrections { totalCount nodes { id status } }",
            "erasureRequest { status }",
            "accessLog(first: 3) { totalCount nodes { kind actorKind actorName "
            "actorRole views action } }",
            "dataExports(first: 1) { totalCount nodes { id status format } }",
            "insights { computedAt spendSummary { title description purchases "
            "lastPurchaseAt spend12m { amount currency } spendLifetime { amount "
            "currency } } tier { title name nextTier progress } status { title "
            "label } comparison { available reason minimumGroupSize } }",
        ]
        groups = [(0, 1), (2,), (3,), (4,), (5,), (6,), (7,), (8, 9), (10, 11, 12)]
        groups += [(13, 14), (15,)]
        assert sorted(n for group in groups for n in group) == list(
            range(len(selections))
        )
        for group in groups:
            self.add("me", "{ me { " + " ".join(selections[n] for n in group) + " } }")
        self.add(
            "me:all",
            "{ me { " + " ".join(selections[1:3] + selections[7:]) + " } }",
        )
        for page in (
            {"first": 2, "after": cursors[0]},
            {"last": 1, "before": cursors[-1]},
            {"first": 1, "after": cursors[-1]},
        ):
            self.add(
                "me:page",
                "{ me { interactions"
                + args_text(page)
                + " { edges { cursor node { id } } "
                + PAGE_INFO
                + " } } }",
            )
        self.add(
            "me:node",
            "query($id: ID!) { node(id: $id) { id ... on MyInteraction { kind "
            "subject answers { body } } } }",
            {"id": self.w.cursors["me:ids"][-1]},
        )
        self.add("viewer", "{ viewer { id displayName role active } }")

    # -- the forms of a document: fragments, aliases, directives, variables --

    def forms(self) -> None:
        w = self.w
        fragments = (
            "fragment CustomerBits on Customer { id displayName tags "
            "owner { ...StaffBits } } "
            "fragment StaffBits on StaffMember { id displayName } "
            "fragment InteractionBits on Interaction { id kind occurredAt body "
            "amount { amount currency } }"
        )
        directive_doc = (
            "query($inc: Boolean!, $skip: Boolean!) { customers(first: 4) "
            "{ edges { node { ...CustomerBits email @skip(if: $skip) "
            "interactions(first: 2) @include(if: $inc) { nodes "
            "{ ...InteractionBits } } ... @include(if: $inc) { company locale } "
            "... on Customer @skip(if: $skip) { externalRef } } } "
            "totalCount @include(if: $skip) } } " + fragments
        )
        for inc in (True, False):
            for skip in (True, False):
                self.add("directives", directive_doc, {"inc": inc, "skip": skip})
        spread_doc = (
            "query($yes: Boolean!) { customer(id: "
            + literal(w.customer(0))
            + ") { ...CustomerBits @include(if: $yes) "
            "interactions(first: 3) { edges { node { ...InteractionBits "
            "@skip(if: $yes) __typename } } } } } " + fragments
        )
        for yes in (True, False):
            self.add("directives:spread", spread_doc, {"yes": yes})
        self.add(
            "fragments:interactions",
            "{ interactions(first: 5) { edges { node { ...InteractionBits "
            "customer { ...CustomerBits } } } } } " + fragments,
        )
        self.add(
            "fragments:inline",
            "{ customers(first: 3) { nodes { ... on Customer { id "
            "interactions(first: 2) { nodes { ... on Interaction { kind } "
            "... on Node { id } } } } ... on Node { __typename } } } }",
        )
        self.add(
            "aliases:lists",
            "{ a: customers(first: 2) { nodes { id } } b: customers(last: 2, "
            "orderBy: {field: DISPLAY_NAME, direction: DESC}) { nodes { id name: "
            'displayName } } c: customers(where: {tags: {has: "vip"}}) '
            "{ count: totalCount } }",
        )
        self.add(
            "aliases:nested",
            "{ customers(first: 5, orderBy: {field: DISPLAY_NAME}) { nodes { id "
            "recent: interactions(first: 2) { nodes { id occurredAt } } "
            "oldest: interactions(first: 2, orderBy: {field: OCCURRED_AT, "
            "direction: ASC}) { nodes { id occurredAt } } "
            "money: interactions(where: {amount: {isNull: false}}) { totalCount "
            "nodes { amount { value: amount currency } } } } } }",
        )
        self.add(
            "aliases:fields",
            "query($id: ID!) { customer(id: $id) { n1: displayName n2: displayName "
            "who: owner { id } again: owner { displayName } "
            "one: interactions(first: 1) { nodes { id } } "
            "two: interactions(last: 1) { nodes { id } } } "
            "same: customer(id: $id) { id } }",
            {"id": w.customer(0)},
        )
        self.add(
            "aliases:merged",
            "{ customers(first: 2) { nodes { id } } customers(first: 2) "
            "{ nodes { displayName } totalCount } }",
        )
        self.add(
            "aliases:roots",
            "query($c: ID!, $i: ID!) { c: customer(id: $c) { id } i: interaction("
            "id: $i) { id kind } n: node(id: $c) { id } l: interactions(first: 1) "
            "{ nodes { id } } s: segments(first: 1) { nodes { id } } }",
            {"c": w.customer(9), "i": w.interaction_gids(kind="REFUND")[0]},
        )
        self.add(
            "typename",
            "{ __typename customers(first: 2) { __typename edges { __typename "
            "node { __typename } } pageInfo { __typename hasNextPage } } }",
        )
        multi = (
            "query A { customers(first: 1) { nodes { id } } } "
            "query B($n: Int = 2) { interactions(first: $n) { nodes { id } } }"
        )
        self.add("operations:A", multi, operation_name="A")
        self.add("operations:B", multi, {"n": 3}, operation_name="B")
        self.add("operations:missing-name", multi)
        defaults = (
            "query($n: Int = 3, $o: CustomerOrder = {field: UPDATED_AT, "
            "direction: DESC}) { customers(first: $n, orderBy: $o) "
            "{ nodes { id updatedAt } } }"
        )
        self.add("variables:defaults", defaults)
        self.add("variables:given", defaults, {"n": 1})
        self.add("variables:null", defaults, {"n": None, "o": None})
        self.add(
            "deep",
            "{ customers(first: 3) { nodes { id interactions(first: 2) { nodes "
            "{ id customer { id interactions(last: 1) { nodes { id customer "
            "{ displayName owner { id } } } } } } } } } }",
        )
        self.add(
            "page:big",
            "{ customers(first: 20) { edges { node { id displayName "
            "interactions(first: 5) { edges { node { id kind } } } } } } }",
        )
        self.add(
            "page:all-archived",
            "{ customers(first: 20, where: {archived: {eq: true}}) { nodes { id "
            "archived archivedAt mergedInto { id } interactions { totalCount } } } }",
        )

    def invalid(self) -> None:
        w = self.w
        cust = w.cursors["customers"]
        inter = w.cursors["interactions:OCCURRED_AT:DESC"]
        pages = [
            "first: 500",
            "first: -1",
            "first: 2, last: 2",
            f"last: 2, after: {literal(cust[1])}",
            f"first: 2, before: {literal(cust[1])}",
            'after: "garbage"',
            f"after: {literal(inter[0])}",
            f"after: {literal(w.cursors['members'][0])}",
            "after: "
            + literal(w.cursors["customers:DISPLAY_NAME:ASC"][2])
            + ", orderBy: {field: CREATED_AT}",
            "after: "
            + literal(w.cursors["customers:PREDICTED_VALUE:DESC"][1])
            + ", orderBy: {field: PREDICTED_VALUE, direction: DESC}",
        ]
        for page in pages:
            self.add(
                "invalid:customers", f"{{ customers({page}) {{ nodes {{ id }} }} }}"
            )
        for page in ("first: 500", f"after: {literal(cust[0])}"):
            self.add(
                "invalid:interactions",
                f"{{ interactions({page}) {{ nodes {{ id }} }} }}",
            )
            self.add(
                "invalid:nested",
                f"{{ customers(first: 3) {{ nodes {{ id interactions({page}) "
                "{ nodes { id } } } } }",
            )
        ids = [
            "garbage",
            "",
            w.interaction_gids()[0],
            to_global_id("Customer", 2**31),
        ]
        for value in ids:
            self.add(
                "invalid:customer",
                "query($id: ID!) { customer(id: $id) { id } }",
                {"id": value},
            )
        for value in ("garbage", w.customer(0), to_global_id("Interaction", 0)):
            self.add(
                "invalid:interaction",
                "query($id: ID!) { interaction(id: $id) { id } }",
                {"id": value},
            )
        wheres = [
            ("CustomerWhere", "customers", {"id": {"eq": "bad"}}),
            ("CustomerWhere", "customers", {"owner": {"eq": w.customer(0)}}),
            ("CustomerWhere", "customers", {"createdAt": {"gt": "yesterday"}}),
            ("CustomerWhere", "customers", {"insights": {"loyalty": {"gt": "x"}}}),
            ("InteractionWhere", "interactions", {"amount": {"gt": "abc"}}),
            ("InteractionWhere", "interactions", {"customerId": {"eq": "zzz"}}),
            ("InteractionWhere", "interactions", {"kind": {"eq": "NOPE"}}),
        ]
        for type_, root, where in wheres:
            self.add(
                f"invalid:where:{root}",
                f"query($w: {type_}) {{ {root}(where: $w) {{ nodes {{ id }} }} }}",
                {"w": where},
            )
        self.add(
            "invalid:order",
            "{ customers(orderBy: {field: NOPE}) { nodes { id } } }",
        )
        for term in ("   ", "%_\\"):
            self.add(
                "invalid:search",
                "query($s: String) { customers(search: $s, first: 3) "
                "{ totalCount nodes { id } } }",
                {"s": term},
            )
        self.add("invalid:field", "{ customers { nodes { nope } } }")
        self.add("invalid:syntax", "{ customers( }")
        self.add("invalid:empty", "")
        self.add(
            "invalid:missing-variable",
            "query($w: CustomerWhere!) { customers(where: $w) { nodes { id } } }",
        )
        self.add(
            "invalid:variable-type",
            "query($n: Int) { customers(first: $n) { nodes { id } } }",
            {"n": "three"},
        )
        self.add(
            "invalid:depth",
            "{ customers { nodes { interactions { nodes { customer { interactions "
            "{ nodes { customer { interactions { nodes { customer { interactions "
            "{ nodes { customer { id } } } } } } } } } } } } } }",
        )
        self.add(
            "invalid:aliases",
            "{ " + " ".join(f"a{n}: customers(first: 1) {{ nodes {{ id }} }}"
                            for n in range(31)) + " }",
        )  # fmt: skip
        self.add(
            "invalid:cost",
            "{ customers(first: 100) { nodes { interactions(first: 100) { nodes { "
            "customer { interactions(first: 100) { nodes { id } } } } } } } }",
        )
        self.add(
            "invalid:mutation",
            'mutation { customerArchive(input: {id: "garbage"}) '
            "{ customer { id } errors { code } } }",
        )


def build_corpus(world: World, *, seed: int = 20261207) -> list[Op]:
    corpus = Corpus(world, seed)
    corpus.orderings()
    corpus.filters()
    corpus.searches()
    corpus.fallbacks()
    corpus.nodes()
    corpus.segments()
    corpus.me()
    corpus.forms()
    corpus.invalid()
    corpus.random_customers(18)
    corpus.random_customer(8)
    corpus.random_interactions(10)
    corpus.random_interaction(6)
    return corpus.ops


# --- comparing two bodies ------------------------------------------------------------


def first_difference(left: Any, right: Any, path: str = "$") -> tuple[str, Any, Any]:
    """The first path at which two decoded JSON values differ (in key order)."""
    if type(left) is not type(right):
        return path, left, right
    if isinstance(left, dict):
        if list(left) != list(right):
            for key in dict.fromkeys([*left, *right]):
                if key not in left or key not in right:
                    return (
                        f"{path}.{key}",
                        left.get(key, "<absent>"),
                        right.get(key, "<absent>"),
                    )
            return f"{path} (key order)", list(left), list(right)
        for key in left:
            if left[key] != right[key] or type(left[key]) is not type(right[key]):
                return first_difference(left[key], right[key], f"{path}.{key}")
        return path, left, right
    if isinstance(left, list):
        for n, (a, b) in enumerate(zip(left, right, strict=False)):
            if a != b or type(a) is not type(b):
                return first_difference(a, b, f"{path}[{n}]")
        if len(left) != len(right):
            return f"{path} (length)", len(left), len(right)
        return path, left, right
    return path, left, right


def short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
