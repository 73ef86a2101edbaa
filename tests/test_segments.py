"""Segments through the GraphQL API: rules, refresh and history, static members,
preview, explanations, satisfaction, visibility to customers, and refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from crm.audit.models import AuditEvent, OutboxEvent
from crm.consent import service as consent_service
from crm.customers import service as customer_service
from crm.ids import to_global_id
from crm.interactions.models import Interaction
from crm.segments.models import Segment, SegmentMembership
from tests.client import SYSTEM, Api

ERRORS = "errors { field code message }"
CREATE = f"""mutation($input: SegmentCreateInput!) {{
  segmentCreate(input: $input) {{
    segment {{ id name kind size rule refreshedAt customerVisible }} {ERRORS}
  }}
}}"""
UPDATE = f"""mutation($input: SegmentUpdateInput!) {{
  segmentUpdate(input: $input) {{ segment {{ id name rule version }} {ERRORS} }}
}}"""
REFRESH = f"""mutation($id: ID!) {{
  segmentRefresh(input: {{id: $id}}) {{
    segment {{ id size refreshedAt }} entered left {ERRORS}
  }}
}}"""
ADD = f"""mutation($input: SegmentMembersInput!) {{
  segmentMembersAdd(input: $input) {{ segment {{ id size }} entered left {ERRORS} }}
}}"""
REMOVE = f"""mutation($input: SegmentMembersInput!) {{
  segmentMembersRemove(input: $input) {{ segment {{ id size }} entered left {ERRORS} }}
}}"""
MEMBERS = """query($id: ID!) {
  segment(id: $id) { size members(first: 50) { totalCount nodes { displayName } } }
}"""
HISTORY = """query($id: ID!, $first: Int, $after: String) {
  segment(id: $id) {
    history(first: $first, after: $after) {
      totalCount
      edges { cursor node { change at customerId customer { displayName } } }
      pageInfo { hasNextPage }
    }
  }
}"""
PREVIEW = """query($rule: SegmentRule!, $first: Int) {
  segmentPreview(rule: $rule, first: $first) {
    count customers { nodes { displayName } pageInfo { hasNextPage } }
  }
}"""

THREE_PURCHASES_IN_90_DAYS = {
    "activity": {"kinds": ["PURCHASE"], "withinDays": 90, "count": {"gte": 3}}
}


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


async def buy(api: Api, customer: int, amount: str, when: datetime) -> int:
    return await api.interaction(
        customer,
        kind="purchase",
        channel="store",
        amount=amount,
        currency="EUR",
        occurred_at=when,
    )


async def create(api: Api, token: str, **input_: Any) -> dict[str, Any]:
    data = await api.data(CREATE, {"input": input_}, token=token)
    payload = data["segmentCreate"]
    assert payload["errors"] == [], payload["errors"]
    return payload["segment"]  # type: ignore[no-any-return]


async def refresh(api: Api, token: str, segment_id: str) -> dict[str, Any]:
    payload = (await api.data(REFRESH, {"id": segment_id}, token=token))[
        "segmentRefresh"
    ]
    assert payload["errors"] == [], payload["errors"]
    return payload  # type: ignore[no-any-return]


async def rows(api: Api, stmt: Any) -> list[Any]:
    async with api.db.transaction(write=False) as session:
        return list((await session.execute(stmt)).all())


async def member_names(api: Api, token: str, segment_id: str) -> list[str]:
    data = await api.data(MEMBERS, {"id": segment_id}, token=token)
    return sorted(n["displayName"] for n in data["segment"]["members"]["nodes"])


# --- dynamic segments -----------------------------------------------------------------


async def test_a_dynamic_segment_follows_its_rule_and_records_who_entered_and_left(
    api: Api,
):
    # given Ann with 3 recent purchases, Bob with 2, Cy with 3 but one long ago
    ann = await api.customer(display_name="Ann")
    bob = await api.customer(display_name="Bob")
    cy = await api.customer(display_name="Cy")
    for days in (5, 20, 40):
        await buy(api, ann, "10", ago(days=days))
    for days in (3, 30):
        await buy(api, bob, "10", ago(days=days))
    for days in (10, 50, 200):
        await buy(api, cy, "10", ago(days=days))
    _, token = await api.staff("manager")
    # when a manager creates "3+ purchases in the last 90 days" and refreshes it
    segment = await create(
        api, token, name="Frequent buyers", rule=THREE_PURCHASES_IN_90_DAYS
    )
    assert segment["kind"] == "DYNAMIC"
    assert segment["size"] == 0 and segment["refreshedAt"] is None
    assert segment["rule"] == THREE_PURCHASES_IN_90_DAYS
    first = await refresh(api, token, segment["id"])
    # then Ann entered
    assert (first["entered"], first["left"], first["segment"]["size"]) == (1, 0, 1)
    assert await member_names(api, token, segment["id"]) == ["Ann"]
    # when Bob buys a third time and Ann is archived, and it is refreshed again
    await buy(api, bob, "10", ago(days=1))
    async with api.db.transaction() as session:
        await customer_service.archive_customer(session, SYSTEM, ann, archived=True)
    second = await refresh(api, token, segment["id"])
    # then Bob entered and Ann left
    assert (second["entered"], second["left"], second["segment"]["size"]) == (1, 1, 1)
    assert await member_names(api, token, segment["id"]) == ["Bob"]
    # and the history holds both stints, newest first, page by page
    data = await api.data(HISTORY, {"id": segment["id"], "first": 10}, token=token)
    history = data["segment"]["history"]
    assert history["totalCount"] == 3
    seen = [
        (e["node"]["change"], e["node"]["customer"]["displayName"])
        for e in history["edges"]
    ]
    assert seen == [("ENTERED", "Bob"), ("LEFT", "Ann"), ("ENTERED", "Ann")]
    assert history["edges"][0]["node"]["customerId"] == gid("Customer", bob)
    paged, after = [], None
    for _ in range(3):
        page = await api.data(
            HISTORY, {"id": segment["id"], "first": 1, "after": after}, token=token
        )
        edge = page["segment"]["history"]["edges"][0]
        paged.append((edge["node"]["change"], edge["node"]["customer"]["displayName"]))
        after = edge["cursor"]
    assert paged == seen
    assert cy not in (ann, bob)
    # and each entry and leave is an event in the outbox, the refreshes audited
    events = await rows(
        api,
        select(OutboxEvent.topic, OutboxEvent.payload)
        .where(OutboxEvent.topic.like("segment.customer_%"))  # type: ignore[attr-defined]
        .order_by(OutboxEvent.id),  # type: ignore[arg-type]
    )
    assert [(t, p["id"]) for t, p in events] == [
        ("segment.customer_entered", ann),
        ("segment.customer_entered", bob),
        ("segment.customer_left", ann),
    ]
    assert events[0][1]["segment"] == segment["id"]
    audits = await rows(
        api,
        select(AuditEvent.action, AuditEvent.changes)
        .where(AuditEvent.entity_type == "Segment")
        .order_by(AuditEvent.id),  # type: ignore[arg-type]
    )
    assert [a for a, _ in audits] == [
        "segment.created",
        "segment.refreshed",
        "segment.refreshed",
    ]
    assert audits[2][1]["entered"] == 1 and audits[2][1]["left"] == 1


async def test_behavioural_conditions_count_sum_and_look_for_silence(api: Api):
    # given customers with different purchase, refund and rating histories
    start_of_year = datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
    big = await api.customer(display_name="Big spender")
    await buy(api, big, "350", ago(minutes=5))
    netted = await api.customer(display_name="Refunded")
    await buy(api, netted, "200", ago(minutes=5))
    await buy(api, netted, "150", ago(minutes=4))
    await api.interaction(
        netted,
        kind="refund",
        channel="store",
        amount="100",
        currency="EUR",
        occurred_at=ago(minutes=3),
    )
    last_year = await api.customer(display_name="Last year")
    await buy(api, last_year, "900", start_of_year - timedelta(days=2))
    quiet = await api.customer(display_name="Quiet")
    await api.interaction(quiet, kind="support", occurred_at=ago(days=200))
    unhappy = await api.customer(display_name="Unhappy")
    await api.interaction(unhappy, kind="feedback", rating=4, occurred_at=ago(days=2))
    happy = await api.customer(display_name="Happy")
    await api.interaction(happy, kind="feedback", rating=9, occurred_at=ago(days=2))
    _, token = await api.staff("analyst")

    async def preview(rule: dict[str, Any]) -> list[str]:
        data = await api.data(PREVIEW, {"rule": rule, "first": 20}, token=token)
        names = [n["displayName"] for n in data["segmentPreview"]["customers"]["nodes"]]
        assert data["segmentPreview"]["count"] == len(names)
        return sorted(names)

    # then "spent >= 300 this year" nets refunds and ignores last year
    spent = {"kinds": ["PURCHASE", "REFUND"], "period": "YEAR_TO_DATE"}
    assert await preview({"activity": {**spent, "amount": {"gte": "300"}}}) == [
        "Big spender"
    ]
    # and "no interaction for 180 days" finds the quiet one and the one never seen
    silent = await preview({"activity": {"withinDays": 180, "count": {"eq": 0}}})
    assert silent == ["Last year", "Quiet"]
    # and "gave a rating <= 6" finds the unhappy one
    assert await preview({"activity": {"rating": {"lte": 6}}}) == ["Unhappy"]
    # and behaviour combines with attributes through and/or/not
    combined = {
        "or": [
            {"displayName": {"startsWith": "Hap"}},
            {"activity": {"kinds": ["REFUND"]}},
        ],
        "not": {"activity": {"rating": {"gte": 10}}},
    }
    assert await preview(combined) == ["Happy", "Refunded"]


async def test_preview_counts_and_lists_without_saving_anything(api: Api):
    # given five active customers and one lead
    for i in range(5):
        await api.customer(display_name=f"Active {i}", lifecycle_stage="active")
    await api.customer(display_name="Lead", lifecycle_stage="lead")
    _, token = await api.staff("agent")
    # when an agent previews "active customers" with a page of two
    data = await api.data(
        PREVIEW, {"rule": {"lifecycleStage": {"eq": "ACTIVE"}}, "first": 2}, token=token
    )
    # then the count covers all five and the page holds two
    preview = data["segmentPreview"]
    assert preview["count"] == 5
    assert len(preview["customers"]["nodes"]) == 2
    assert preview["customers"]["pageInfo"]["hasNextPage"] is True
    # and nothing was written
    assert await api.count(Segment) == 0
    assert await api.count(SegmentMembership) == 0


async def test_a_rule_that_cannot_compile_is_bad_user_input_naming_its_part(api: Api):
    _, token = await api.staff("manager")
    cases = [
        (
            {
                "and": [
                    {"lifecycleStage": {"eq": "ACTIVE"}},
                    {"activity": {"kinds": ["PURCHASE"], "count": {"gte": -1}}},
                ]
            },
            "rule.and[1].activity.count",
        ),
        ({"activity": {"withinDays": 0}}, "rule.activity.withinDays"),
        ({"activity": {"count": {}}}, "rule.activity.count"),
        (
            {"or": [{"tags": {"hasAny": []}}, {"not": {"email": {"contains": ""}}}]},
            None,
        ),
        (
            {"activity": {"withinDays": 5, "period": "MONTH_TO_DATE"}},
            "rule.activity.period",
        ),
    ]
    for rule, field in cases:
        for document, variables in (
            (PREVIEW, {"rule": rule}),
            (CREATE, {"input": {"name": "Bad", "rule": rule}}),
        ):
            body = await api.gql(document, variables, token=token)
            if field is None:  # valid: an empty hasAny simply matches no one
                assert not body.get("errors"), body
                continue
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT", error
            assert error["extensions"]["field"] == field, error
    # and no bad rule was saved (only the valid one)
    assert await api.count(Segment) == 1


async def test_a_dynamic_segment_needs_a_rule_and_a_visible_one_a_customer_name(
    api: Api,
):
    _, token = await api.staff("manager")
    data = await api.data(CREATE, {"input": {"name": "No rule"}}, token=token)
    assert data["segmentCreate"]["errors"] == [
        {
            "field": "rule",
            "code": "REQUIRED",
            "message": "A dynamic segment needs a rule.",
        }
    ]
    data = await api.data(
        CREATE,
        {"input": {"name": "Tier", "kind": "STATIC", "customerVisible": True}},
        token=token,
    )
    assert [e["field"] for e in data["segmentCreate"]["errors"]] == ["customerName"]
    data = await api.data(
        CREATE,
        {"input": {"name": "Both", "kind": "STATIC", "rule": {"tags": {"has": "x"}}}},
        token=token,
    )
    assert [e["code"] for e in data["segmentCreate"]["errors"]] == ["INVALID"]
    assert await api.count(Segment) == 0


async def test_updating_the_rule_makes_the_segment_due_and_is_audited(api: Api):
    _, token = await api.staff("manager")
    await api.customer(display_name="Vip", tags=["vip"])
    segment = await create(api, token, name="VIPs", rule={"tags": {"has": "vip"}})
    await refresh(api, token, segment["id"])
    data = await api.data(
        UPDATE,
        {
            "input": {
                "id": segment["id"],
                "expectedVersion": 1,
                "name": "Very important",
                "rule": {"tags": {"hasAny": ["vip", "gold"]}},
            }
        },
        token=token,
    )
    updated = data["segmentUpdate"]["segment"]
    assert updated["name"] == "Very important"
    assert updated["rule"] == {"tags": {"hasAny": ["vip", "gold"]}}
    assert updated["version"] == 2
    stale = await api.data(
        UPDATE, {"input": {"id": segment["id"], "expectedVersion": 1}}, token=token
    )
    assert stale["segmentUpdate"]["errors"][0]["code"] == "CONFLICT"
    (row,) = await rows(api, select(Segment.refreshed_at, Segment.size))
    assert row == (None, 1)  # due again; members stay until the refresh
    audits = await rows(
        api,
        select(AuditEvent.changes).where(AuditEvent.action == "segment.updated"),
    )
    assert set(audits[0][0]) == {"name", "rule"}


async def test_deleting_a_segment_removes_its_members_and_is_audited(api: Api):
    _, token = await api.staff("manager")
    await api.customer(display_name="Vip", tags=["vip"])
    segment = await create(api, token, name="VIPs", rule={"tags": {"has": "vip"}})
    await refresh(api, token, segment["id"])
    data = await api.data(
        """mutation($id: ID!) { segmentDelete(input: {id: $id}) {
          deletedId errors { code } } }""",
        {"id": segment["id"]},
        token=token,
    )
    assert data["segmentDelete"]["deletedId"] == segment["id"]
    assert await api.count(Segment) == 0
    assert await api.count(SegmentMembership) == 0
    code = await api.error_code(MEMBERS, {"id": segment["id"]}, token=token)
    assert code == "NOT_FOUND"
    (action,) = await rows(
        api, select(AuditEvent.action).where(AuditEvent.action == "segment.deleted")
    )
    assert action == ("segment.deleted",)


# --- static segments ------------------------------------------------------------------


async def test_static_members_are_added_and_removed_by_ids_and_by_filter(api: Api):
    # given five customers, two of them at Acme
    ids = [await api.customer(display_name=f"C{i}") for i in range(3)]
    acme = [
        await api.customer(display_name=f"Acme {i}", company="Acme") for i in range(2)
    ]
    _, token = await api.staff("manager")
    segment = await create(api, token, name="Hand-picked", kind="STATIC")
    sid = segment["id"]
    # when two are added by ID (one twice) and Acme by filter
    added = (
        await api.data(
            ADD,
            {
                "input": {
                    "segmentId": sid,
                    "customerIds": [
                        gid("Customer", i) for i in (ids[0], ids[1], ids[0])
                    ],
                }
            },
            token=token,
        )
    )["segmentMembersAdd"]
    assert (added["entered"], added["segment"]["size"]) == (2, 2)
    by_filter = (
        await api.data(
            ADD,
            {"input": {"segmentId": sid, "where": {"company": {"eq": "Acme"}}}},
            token=token,
        )
    )["segmentMembersAdd"]
    assert (by_filter["entered"], by_filter["segment"]["size"]) == (2, 4)
    again = (
        await api.data(
            ADD,
            {"input": {"segmentId": sid, "customerIds": [gid("Customer", ids[0])]}},
            token=token,
        )
    )["segmentMembersAdd"]
    assert again["entered"] == 0
    # and one is removed
    removed = (
        await api.data(
            REMOVE,
            {"input": {"segmentId": sid, "customerIds": [gid("Customer", acme[0])]}},
            token=token,
        )
    )["segmentMembersRemove"]
    assert (removed["left"], removed["segment"]["size"]) == (1, 3)
    # then the members and history say so
    assert await member_names(api, token, sid) == ["Acme 1", "C0", "C1"]
    data = await api.data(HISTORY, {"id": sid, "first": 10}, token=token)
    assert data["segment"]["history"]["totalCount"] == 5
    # and an unknown customer, a refresh, or both IDs and filter are payload errors
    unknown = (
        await api.data(
            ADD,
            {"input": {"segmentId": sid, "customerIds": [gid("Customer", 999999)]}},
            token=token,
        )
    )["segmentMembersAdd"]
    assert [e["code"] for e in unknown["errors"]] == ["NOT_FOUND"]
    both = (
        await api.data(
            ADD,
            {
                "input": {
                    "segmentId": sid,
                    "customerIds": [gid("Customer", ids[2])],
                    "where": {"company": {"eq": "Acme"}},
                }
            },
            token=token,
        )
    )["segmentMembersAdd"]
    assert [e["code"] for e in both["errors"]] == ["REQUIRED"]
    static_refresh = (await api.data(REFRESH, {"id": sid}, token=token))[
        "segmentRefresh"
    ]
    assert [e["code"] for e in static_refresh["errors"]] == ["NOT_DYNAMIC"]
    assert await member_names(api, token, sid) == ["Acme 1", "C0", "C1"]


async def test_members_cannot_be_added_to_a_dynamic_segment(api: Api):
    customer = await api.customer(display_name="Someone")
    _, token = await api.staff("manager")
    segment = await create(api, token, name="Dyn", rule={"tags": {"has": "x"}})
    payload = (
        await api.data(
            ADD,
            {
                "input": {
                    "segmentId": segment["id"],
                    "customerIds": [gid("Customer", customer)],
                }
            },
            token=token,
        )
    )["segmentMembersAdd"]
    assert payload["errors"][0] == {
        "field": "segmentId",
        "code": "NOT_STATIC",
        "message": "A dynamic segment's members follow its rule; change the rule.",
    }
    assert await api.count(SegmentMembership) == 0


# --- reading segments -----------------------------------------------------------------


async def test_segments_are_listed_filtered_and_sorted(api: Api):
    _, token = await api.staff("manager")
    for name in ("Bravo", "Alpha", "Charlie"):
        await create(api, token, name=name, kind="STATIC")
    await create(api, token, name="Delta", rule={"tags": {"has": "d"}})
    query = """query($where: SegmentWhere, $order: SegmentOrder, $after: String) {
      segments(where: $where, orderBy: $order, first: 2, after: $after) {
        totalCount nodes { name kind } pageInfo { endCursor hasNextPage }
      }
    }"""
    data = await api.data(query, {"where": {"kind": {"eq": "STATIC"}}}, token=token)
    assert data["segments"]["totalCount"] == 3
    assert [n["name"] for n in data["segments"]["nodes"]] == ["Alpha", "Bravo"]
    cursor = data["segments"]["pageInfo"]["endCursor"]
    rest = await api.data(
        query, {"where": {"kind": {"eq": "STATIC"}}, "after": cursor}, token=token
    )
    assert [n["name"] for n in rest["segments"]["nodes"]] == ["Charlie"]
    desc = await api.data(
        query, {"order": {"field": "NAME", "direction": "DESC"}}, token=token
    )
    assert [n["name"] for n in desc["segments"]["nodes"]] == ["Delta", "Charlie"]


async def test_explain_shows_which_clauses_matched_for_a_customer(api: Api):
    # given an active customer tagged vip with one purchase
    customer = await api.customer(
        display_name="Eve", lifecycle_stage="active", tags=["vip"]
    )
    await buy(api, customer, "20", ago(days=3))
    _, token = await api.staff("manager")
    rule = {
        "and": [
            {"lifecycleStage": {"eq": "ACTIVE"}},
            {"activity": {"kinds": ["PURCHASE"], "count": {"gte": 2}}},
        ],
        "not": {"tags": {"has": "vip"}},
    }
    segment = await create(api, token, name="Explained", rule=rule)
    # when the segment is asked why Eve is (not) in it
    data = await api.data(
        """query($id: ID!, $customer: ID!) { segment(id: $id) {
          explain(customerId: $customer) {
            member matches customer { displayName }
            clauses { path text negated matched }
          } } }""",
        {"id": segment["id"], "customer": gid("Customer", customer)},
        token=token,
    )
    explained = data["segment"]["explain"]
    # then each leaf clause says whether it holds
    assert explained["member"] is False and explained["matches"] is False
    assert explained["customer"]["displayName"] == "Eve"
    assert [(c["path"], c["negated"], c["matched"]) for c in explained["clauses"]] == [
        ("rule.and[0].lifecycleStage", False, True),
        ("rule.and[1].activity", False, False),
        ("rule.not.tags", True, True),
    ]
    assert explained["clauses"][0]["text"] == "lifecycle stage is active"
    assert explained["clauses"][1]["text"] == (
        "number of purchase interactions ever is at least 2"
    )
    assert explained["clauses"][2]["text"] == "tags includes vip"


async def test_satisfaction_is_nps_over_ratings_and_csat_over_csat_answers(
    api: Api,
):
    # given members rating 10, 9, 7 and 3 (NPS), answering CSAT with 5, 4 and 2,
    # and a non-member rating 0
    _, token = await api.staff("manager")
    ratings: list[dict[str, Any]] = []
    for i, (rating, survey) in enumerate(
        ((10, "nps"), (9, None), (7, "nps"), (3, "nps"), (5, "csat"), (4, "csat"))
    ):
        customer = await api.customer(display_name=f"M{i}", tags=["panel"])
        ratings.append({"customer_id": customer, "rating": rating, "survey": survey})
        if i == 5:
            ratings.append({"customer_id": customer, "rating": 2, "survey": "csat"})
    outsider = await api.customer(display_name="Out")
    ratings.append({"customer_id": outsider, "rating": 0, "survey": "nps"})
    async with api.db.transaction() as session:
        await session.execute(
            insert(Interaction),
            [
                {
                    **r,
                    "channel": "web",
                    "direction": "inbound",
                    "kind": "feedback",
                    "occurred_at": ago(days=3),
                    "created_at": ago(days=3),
                    "updated_at": ago(days=3),
                    "visibility": "internal",
                    "source": "import",
                    "recorded_by": "system:tests",
                }
                for r in ratings
            ],
        )
    segment = await create(api, token, name="Panel", rule={"tags": {"has": "panel"}})
    await refresh(api, token, segment["id"])
    # when the segment's satisfaction is read
    data = await api.data(
        """query($id: ID!) { segment(id: $id) { satisfaction {
          responses promoters passives detractors nps csatResponses csat } } }""",
        {"id": segment["id"]},
        token=token,
    )
    # then NPS = 50% promoters - 25% detractors, CSAT = 2 of 3 answers 4 or 5
    assert data["segment"]["satisfaction"] == {
        "responses": 4,
        "promoters": 2,
        "passives": 1,
        "detractors": 1,
        "nps": 25.0,
        "csatResponses": 3,
        "csat": 66.7,
    }


async def test_behavioural_rules_leave_out_customers_who_withdrew_profiling(
    api: Api,
):
    # given two recent buyers, one of whom withdrew consent to profiling
    kept = await api.customer(display_name="Kept", tags=["buyer"])
    withdrawn = await api.customer(display_name="Withdrawn", tags=["buyer"])
    for customer in (kept, withdrawn):
        await buy(api, customer, "50", ago(days=2))
    async with api.db.transaction() as session:
        await consent_service.record_consent(
            session,
            SYSTEM,
            withdrawn,
            {"purpose": "profiling", "granted": False, "source": "staff"},
        )
    _, token = await api.staff("manager")
    behavioural = {"activity": {"kinds": ["PURCHASE"], "withinDays": 30}}
    by_tag = {"tags": {"has": "buyer"}}
    # then previews and refreshes of behavioural rules leave them out
    data = await api.data(PREVIEW, {"rule": behavioural}, token=token)
    names = [n["displayName"] for n in data["segmentPreview"]["customers"]["nodes"]]
    assert names == ["Kept"]
    segment = await create(api, token, name="Recent buyers", rule=behavioural)
    await refresh(api, token, segment["id"])
    assert await member_names(api, token, segment["id"]) == ["Kept"]
    # and rules over attributes alone do not (they are not profiling)
    tagged = await create(api, token, name="Tagged buyers", rule=by_tag)
    await refresh(api, token, tagged["id"])
    assert await member_names(api, token, tagged["id"]) == ["Kept", "Withdrawn"]


async def test_customer_segments_show_current_memberships_with_their_join_time(
    api: Api,
):
    ann = await api.customer(display_name="Ann", tags=["a"])
    await api.customer(display_name="Bob")
    _, token = await api.staff("manager")
    segment = await create(api, token, name="Tagged a", rule={"tags": {"has": "a"}})
    refreshed = await refresh(api, token, segment["id"])
    query = """{ customers(first: 10, orderBy: {field: DISPLAY_NAME}) { nodes {
      displayName segments { joinedAt segment { name size } } } } }"""
    data = await api.data(query, token=token)
    by_name = {n["displayName"]: n["segments"] for n in data["customers"]["nodes"]}
    assert by_name["Bob"] == []
    assert by_name["Ann"] == [
        {
            "joinedAt": refreshed["segment"]["refreshedAt"],
            "segment": {"name": "Tagged a", "size": 1},
        }
    ]
    # and a partner app without segments:read reads null there
    key = await api.partner_key(["customers:read"])
    data = await api.data(query, token=key)
    assert all(n["segments"] is None for n in data["customers"]["nodes"])
    assert ann


# --- the customer's own view ----------------------------------------------------------


async def test_a_customer_sees_only_the_visible_segments_they_are_in(api: Api):
    # given a customer in a visible and a hidden segment, and a visible one they
    # are not in
    me = await api.customer(display_name="Me", email="me@example.com")
    other = await api.customer(display_name="Other")
    _, token = await api.staff("manager")
    gold = await create(
        api,
        token,
        name="Top 5% by spend",
        kind="STATIC",
        customerVisible=True,
        customerName="Gold",
        customerDescription="Free shipping on every order.",
    )
    hidden = await create(api, token, name="Churn risk", kind="STATIC")
    silver = await create(
        api,
        token,
        name="Next 10%",
        kind="STATIC",
        customerVisible=True,
        customerName="Silver",
    )
    for segment, who in ((gold, me), (hidden, me), (silver, other)):
        await api.data(
            ADD,
            {
                "input": {
                    "segmentId": segment["id"],
                    "customerIds": [gid("Customer", who)],
                }
            },
            token=token,
        )
    # when the customer reads their own segments
    customer_token = api.customer_token(me)
    data = await api.data(
        "{ me { segments { name description joinedAt } } }", token=customer_token
    )
    # then only Gold appears, under its customer-facing name
    (mine,) = data["me"]["segments"]
    assert mine["name"] == "Gold"
    assert mine["description"] == "Free shipping on every order."
    # and the firm's segment fields are refused to a customer
    code = await api.error_code("{ segments { nodes { id } } }", token=customer_token)
    assert code == "FORBIDDEN"
    code = await api.error_code(
        "query($id: ID!) { segment(id: $id) { name } }",
        {"id": hidden["id"]},
        token=customer_token,
    )
    assert code == "FORBIDDEN"


# --- refusals -------------------------------------------------------------------------


async def test_an_agent_cannot_create_and_an_analyst_cannot_refresh(api: Api):
    _, agent = await api.staff("agent")
    body = await api.gql(
        CREATE, {"input": {"name": "Mine", "rule": {"tags": {"has": "x"}}}}, token=agent
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None
    assert await api.count(Segment) == 0
    await api.customer(display_name="Tagged", tags=["x"])
    _, manager = await api.staff("manager")
    segment = await create(api, manager, name="X", rule={"tags": {"has": "x"}})
    _, analyst = await api.staff("analyst")
    code = await api.error_code(REFRESH, {"id": segment["id"]}, token=analyst)
    assert code == "FORBIDDEN"
    assert await api.count(SegmentMembership) == 0
    (refreshed_at,) = await rows(api, select(Segment.refreshed_at))
    assert refreshed_at == (None,)
    # and the analyst reads it all the same
    assert (await api.data(MEMBERS, {"id": segment["id"]}, token=analyst))["segment"][
        "size"
    ] == 0


async def test_a_partner_key_needs_segments_read_and_customers_read_for_members(
    api: Api,
):
    _, manager = await api.staff("manager")
    segment = await create(api, manager, name="Static", kind="STATIC")
    without = await api.partner_key(["customers:read"])
    code = await api.error_code("{ segments { nodes { id } } }", token=without)
    assert code == "FORBIDDEN"
    code = await api.error_code(
        PREVIEW, {"rule": {"tags": {"has": "x"}}}, token=without
    )
    assert code == "FORBIDDEN"
    only_segments = await api.partner_key(["segments:read"])
    data = await api.data("{ segments { nodes { name } } }", token=only_segments)
    assert data["segments"]["nodes"] == [{"name": "Static"}]
    body = await api.gql(MEMBERS, {"id": segment["id"]}, token=only_segments)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["segment", "members"]


async def test_a_rule_may_only_use_fields_the_caller_may_read(api: Api):
    # analysts may not read internal notes, so they may not filter on them
    _, analyst = await api.staff("analyst")
    body = await api.gql(
        PREVIEW,
        {"rule": {"activity": {"where": {"body": {"contains": "angry"}}}}},
        token=analyst,
    )
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["field"] == "rule.activity.where.body"
    partner = await api.partner_key(["customers:read", "segments:read"])
    body = await api.gql(
        PREVIEW, {"rule": {"activity": {"kinds": ["PURCHASE"]}}}, token=partner
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["extensions"]["field"] == "rule.activity"


async def test_unknown_segment_ids_are_not_found(api: Api):
    _, token = await api.staff("manager")
    missing = gid("Segment", 424242)
    assert (
        await api.error_code(
            "query($id: ID!) { segment(id: $id) { name } }",
            {"id": missing},
            token=token,
        )
        == "NOT_FOUND"
    )
    assert await api.error_code(REFRESH, {"id": missing}, token=token) == "NOT_FOUND"
    wrong_type = gid("Customer", 1)
    assert (
        await api.error_code(REFRESH, {"id": wrong_type}, token=token)
        == "BAD_USER_INPUT"
    )


NODE = """query($id: ID!) {
  node(id: $id) { id __typename ... on Segment { name } }
}"""


async def test_node_finds_a_segment_for_staff_and_nothing_for_a_customer(api: Api):
    # Given a segment and a customer
    _, admin = await api.staff("admin")
    created = await create(api, admin, name="Reachable by node", kind="STATIC")
    segment_id = created["id"]
    customer = await api.customer(display_name="Curious")

    # When staff ask node(id:) for it, they get the segment
    found = await api.data(NODE, {"id": segment_id}, token=admin)
    assert found["node"] == {
        "id": segment_id,
        "__typename": "Segment",
        "name": "Reachable by node",
    }

    # And a customer gets the same NOT_FOUND as for an ID that does not exist
    body = await api.gql(NODE, {"id": segment_id}, token=api.customer_token(customer))
    assert body["data"] == {"node": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
