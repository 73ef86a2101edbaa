"""Consent: the customer decides under `me`, staff record consent given elsewhere,
every decision is appended to a ledger that is never rewritten, and the state that
applies is read with its defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent, OutboxEvent
from crm.consent.models import ConsentEvent, ConsentState
from crm.ids import to_global_id

MY_CONSENTS = """{ me {
  consents { purpose channel granted default source decidedAt }
} }"""
MY_HISTORY = """query($first: Int, $after: String) { me {
  consentHistory(first: $first, after: $after) {
    totalCount
    edges { cursor node { purpose channel granted source evidence occurredAt } }
    pageInfo { hasNextPage endCursor }
  }
} }"""
SET = """mutation($input: MyConsentSetInput!) { myConsentSet(input: $input) {
  consent { purpose channel granted default source }
  errors { field code message }
} }"""
RECORD = """mutation($input: ConsentRecordInput!) { consentRecord(input: $input) {
  consent { purpose channel granted default source decidedAt decidedChannel }
  event { purpose channel granted source evidence recordedBy occurredAt }
  errors { field code message }
} }"""
FIRM = """query($id: ID!) { customer(id: $id) {
  consents { purpose channel granted default source }
  consentHistory(first: 10) { totalCount nodes { purpose channel granted source
    evidence recordedBy } }
} }"""


def cid(pk: int) -> str:
    return to_global_id("Customer", pk)


def slot(consents: list[dict[str, Any]], purpose: str, channel: str) -> dict[str, Any]:
    return next(
        c for c in consents if c["purpose"] == purpose and c["channel"] == channel
    )


async def ledger(api) -> list[tuple[Any, ...]]:
    async with api.db.transaction(write=False) as session:
        rows = await session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))
        return [
            (
                e.id,
                e.customer_id,
                e.purpose,
                e.channel,
                e.granted,
                e.source,
                e.evidence,
                e.recorded_by,
                e.occurred_at,
                e.recorded_at,
            )
            for e in rows
        ]


async def my_set(api, token: str, **input_: Any) -> dict[str, Any]:
    data = await api.data(SET, {"input": input_}, token=token)
    return data["myConsentSet"]


async def test_a_customer_who_never_decided_sees_the_documented_defaults(api):
    # Given a customer who never decided anything
    me = await api.customer(email="new@example.com")
    # When they read their consents
    data = await api.data(MY_CONSENTS, token=api.customer_token(me))
    consents = data["me"]["consents"]
    # Then every slot is listed, all defaults: profiling and partner sharing on,
    # marketing and research off, each marketing channel too
    assert len(consents) == 2 * 6 + 2
    assert all(c["default"] and c["source"] is None for c in consents)
    assert slot(consents, "PROFILING", "ANY")["granted"] is True
    assert slot(consents, "PARTNER_SHARING", "ANY")["granted"] is True
    assert slot(consents, "MARKETING", "EMAIL")["granted"] is False
    assert slot(consents, "RESEARCH", "ANY")["granted"] is False


async def test_grant_then_withdraw_applies_at_once_and_only_appends_to_the_ledger(api):
    me = await api.customer(email="ada@example.com")
    token = api.customer_token(me)
    # Given the customer granted marketing by email
    granted = await my_set(
        api, token, purpose="MARKETING", channel="EMAIL", granted=True
    )
    assert granted["errors"] == []
    assert granted["consent"] == {
        "purpose": "MARKETING",
        "channel": "EMAIL",
        "granted": True,
        "default": False,
        "source": "CUSTOMER",
    }
    first = await ledger(api)
    # When they withdraw it
    withdrawn = await my_set(
        api, token, purpose="MARKETING", channel="EMAIL", granted=False
    )
    # Then it applies at once
    assert withdrawn["consent"]["granted"] is False
    consents = (await api.data(MY_CONSENTS, token=token))["me"]["consents"]
    assert slot(consents, "MARKETING", "EMAIL")["granted"] is False
    assert slot(consents, "MARKETING", "SMS")["default"] is True
    # And the ledger kept the first row untouched and appended the second
    second = await ledger(api)
    assert second[: len(first)] == first
    assert len(second) == len(first) + 1
    # And the history reads newest first
    history = (await api.data(MY_HISTORY, {"first": 10}, token=token))["me"][
        "consentHistory"
    ]
    assert history["totalCount"] == 2
    assert [e["node"]["granted"] for e in history["edges"]] == [False, True]
    assert {e["node"]["source"] for e in history["edges"]} == {"CUSTOMER"}
    # And each change is audited on the customer with an outbox event
    async with api.db.transaction(write=False) as session:
        audits = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "consent.changed")
                .order_by(AuditEvent.id)  # type: ignore[arg-type]
            )
        ).all()
        outbox = (
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.topic == "consent.changed")
                .order_by(OutboxEvent.id)  # type: ignore[arg-type]
            )
        ).all()
    assert [(a.entity_type, a.entity_id) for a in audits] == [("Customer", me)] * 2
    assert audits[1].changes == {
        "consent.marketing.email": {"before": True, "after": False}
    }
    assert audits[0].actor_ref == f"customer:{me}"
    assert [o.payload["granted"] for o in outbox] == [True, False]


async def test_history_pages_with_keyset_cursors(api):
    me = await api.customer(email="pages@example.com")
    token = api.customer_token(me)
    for granted in (True, False, True):
        await my_set(api, token, purpose="RESEARCH", channel="ANY", granted=granted)
    page1 = (await api.data(MY_HISTORY, {"first": 2}, token=token))["me"][
        "consentHistory"
    ]
    assert page1["pageInfo"]["hasNextPage"] is True
    page2 = (
        await api.data(
            MY_HISTORY,
            {"first": 2, "after": page1["pageInfo"]["endCursor"]},
            token=token,
        )
    )["me"]["consentHistory"]
    granted = [e["node"]["granted"] for e in page1["edges"] + page2["edges"]]
    assert granted == [True, False, True]
    assert page2["pageInfo"]["hasNextPage"] is False


async def test_the_latest_of_a_channel_decision_and_an_every_channel_one_applies(api):
    me = await api.customer(email="channels@example.com")
    token = api.customer_token(me)
    # Given marketing granted by email, then withdrawn for every channel
    await my_set(api, token, purpose="MARKETING", channel="EMAIL", granted=True)
    await my_set(api, token, purpose="MARKETING", channel="ANY", granted=False)
    consents = (await api.data(MY_CONSENTS, token=token))["me"]["consents"]
    assert slot(consents, "MARKETING", "EMAIL")["granted"] is False
    assert slot(consents, "MARKETING", "POST")["granted"] is False
    # When SMS is granted afterwards
    await my_set(api, token, purpose="MARKETING", channel="SMS", granted=True)
    consents = (await api.data(MY_CONSENTS, token=token))["me"]["consents"]
    # Then SMS is granted and every other channel stays withdrawn
    assert slot(consents, "MARKETING", "SMS")["granted"] is True
    assert slot(consents, "MARKETING", "EMAIL")["granted"] is False
    assert slot(consents, "MARKETING", "ANY")["granted"] is False


async def test_profiling_and_partner_sharing_are_decided_for_every_channel_only(api):
    me = await api.customer(email="profiling@example.com")
    token = api.customer_token(me)
    before = await api.count(ConsentEvent)
    result = await my_set(
        api, token, purpose="PROFILING", channel="EMAIL", granted=False
    )
    assert result["consent"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("channel", "NOT_APPLICABLE")
    ]
    assert await api.count(ConsentEvent) == before
    assert await api.count(ConsentState) == 0


async def test_staff_record_consent_given_elsewhere_with_its_source(api):
    me = await api.customer(email="form@example.com")
    agent, token = await api.staff("agent")
    signed = datetime.now(UTC) - timedelta(days=3)
    # When an agent records a paper form granting research
    data = await api.data(
        RECORD,
        {
            "input": {
                "customerId": cid(me),
                "purpose": "RESEARCH",
                "granted": True,
                "source": "PAPER_FORM",
                "evidence": "Form R-17, Lyon branch",
                "occurredAt": signed.isoformat(),
            }
        },
        token=token,
    )
    result = data["consentRecord"]
    assert result["errors"] == []
    assert result["consent"]["granted"] is True
    assert result["consent"]["source"] == "PAPER_FORM"
    assert result["event"]["recordedBy"] == f"staff:{agent}"
    assert result["event"]["evidence"] == "Form R-17, Lyon branch"
    # Then the firm and the customer see it, with its source
    firm = (await api.data(FIRM, {"id": cid(me)}, token=token))["customer"]
    assert slot(firm["consents"], "RESEARCH", "ANY")["source"] == "PAPER_FORM"
    assert firm["consentHistory"]["totalCount"] == 1
    assert firm["consentHistory"]["nodes"][0]["recordedBy"] == f"staff:{agent}"
    mine = await api.data(MY_HISTORY, {"first": 5}, token=api.customer_token(me))
    node = mine["me"]["consentHistory"]["edges"][0]["node"]
    assert (
        node["source"] == "PAPER_FORM" and node["evidence"] == "Form R-17, Lyon branch"
    )


async def test_an_older_decision_recorded_later_is_kept_but_does_not_apply(api):
    me = await api.customer(email="late@example.com")
    _, staff = await api.staff("manager")
    # Given the customer withdrew research online just now
    await my_set(
        api, api.customer_token(me), purpose="RESEARCH", channel="ANY", granted=False
    )
    # When staff record a form signed last month granting it
    data = await api.data(
        RECORD,
        {
            "input": {
                "customerId": cid(me),
                "purpose": "RESEARCH",
                "granted": True,
                "source": "PAPER_FORM",
                "occurredAt": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
            }
        },
        token=staff,
    )
    # Then the ledger holds both and the customer's later withdrawal still applies
    result = data["consentRecord"]
    assert result["event"]["granted"] is True
    assert result["consent"]["granted"] is False
    assert result["consent"]["source"] == "CUSTOMER"
    assert len(await ledger(api)) == 2


async def test_consent_record_refuses_bad_input_and_writes_nothing(api):
    me = await api.customer(email="bad@example.com")
    _, token = await api.staff("agent")
    base = {"customerId": cid(me), "purpose": "MARKETING", "granted": True}
    cases = [
        ({"source": "CUSTOMER"}, [("source", "INVALID")]),
        (
            {
                "source": "WEB_FORM",
                "occurredAt": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            },
            [("occurredAt", "IN_FUTURE")],
        ),
        ({"source": "WEB_FORM", "evidence": "x" * 1001}, [("evidence", "TOO_LONG")]),
        (
            {"source": "STAFF", "purpose": "PARTNER_SHARING", "channel": "SMS"},
            [("channel", "NOT_APPLICABLE")],
        ),
    ]
    for extra, expected in cases:
        data = await api.data(RECORD, {"input": {**base, **extra}}, token=token)
        errors = data["consentRecord"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == expected, extra
        assert data["consentRecord"]["event"] is None
    assert await api.count(ConsentEvent) == 0
    assert await api.count(ConsentState) == 0
    async with api.db.transaction(write=False) as session:
        audited = await session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "consent.changed")
        )
        assert audited.all() == []
    # An unknown customer is NOT_FOUND
    missing = {**base, "source": "WEB_FORM", "customerId": cid(me + 1000)}
    assert await api.error_code(RECORD, {"input": missing}, token=token) == "NOT_FOUND"


async def test_who_may_record_and_read_consents(api):
    me = await api.customer(email="who@example.com")
    _, analyst = await api.staff("analyst")
    record = {
        "input": {
            "customerId": cid(me),
            "purpose": "MARKETING",
            "channel": "EMAIL",
            "granted": True,
            "source": "WEB_FORM",
        }
    }
    # Analysts read consents but record none; customers use their own mutation;
    # staff cannot act as a customer
    assert await api.error_code(RECORD, record, token=analyst) == "FORBIDDEN"
    customer = api.customer_token(me)
    assert await api.error_code(RECORD, record, token=customer) == "FORBIDDEN"
    mine = {"input": {"purpose": "MARKETING", "granted": True}}
    assert await api.error_code(SET, mine, token=analyst) == "FORBIDDEN"
    assert await api.error_code(SET, mine) == "UNAUTHENTICATED"
    assert await api.count(ConsentEvent) == 0
    firm = (await api.data(FIRM, {"id": cid(me)}, token=analyst))["customer"]
    assert len(firm["consents"]) == 14
    # A partner key without consents:read reads null, with it the consents
    without = await api.partner_key(["customers:read"])
    data = await api.data(FIRM, {"id": cid(me)}, token=without)
    assert data["customer"] == {"consents": None, "consentHistory": None}
    with_scope = await api.partner_key(["customers:read", "consents:read"])
    data = await api.data(FIRM, {"id": cid(me)}, token=with_scope)
    assert len(data["customer"]["consents"]) == 14


async def test_an_archived_customer_cannot_decide_any_more(api):
    me = await api.customer(email="gone@example.com")
    token = api.customer_token(me)
    _, manager = await api.staff("manager")
    await api.data(
        "mutation($id: ID!) { customerArchive(input: {id: $id}) { errors { code } } }",
        {"id": cid(me)},
        token=manager,
    )
    # Their token no longer opens their view: nothing is recorded
    mine = {"input": {"purpose": "MARKETING", "granted": True}}
    assert await api.error_code(SET, mine, token=token) == "UNAUTHENTICATED"
    assert await api.count(ConsentEvent) == 0


async def test_firm_consent_fields_on_a_list_take_a_fixed_number_of_statements(api):
    from tests.test_query_counts import statements_of

    _, token = await api.staff("manager")
    for n in range(6):
        c = await api.customer(email=f"list{n}@example.com")
        await my_set(
            api,
            api.customer_token(c),
            purpose="MARKETING",
            channel="EMAIL",
            granted=True,
        )
    query = """query($first: Int) { customers(first: $first) { nodes {
      consents { granted }
      consentHistory(first: 3) { totalCount nodes { granted } }
      preferences { language }
    } } }"""
    small = await statements_of(api, query, {"first": 2}, token=token)
    large = await statements_of(api, query, {"first": 6}, token=token)
    assert len(small) == len(large)


async def test_decisions_given_at_the_same_moment_apply_in_ledger_order(api):
    # Given a withdrawal in force whose ledger row comes after a grant given at the
    # same moment that has not reached the state yet (two writers interleaved:
    # the later ledger row upserted the state first; staff often give the same
    # occurredAt, the date on a form)
    if api.db.sqlite:
        pytest.skip("SQLite writers are serial: a lower ledger id cannot come later")
    customer = await api.customer(email="tie@example.com")
    _, agent = await api.staff("agent")
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    async with api.db.transaction() as session:
        later = ConsentEvent(
            id=1_000_000,
            customer_id=customer,
            purpose="marketing",
            channel="email",
            granted=False,
            source="paper_form",
            recorded_by="staff:1",
            occurred_at=at,
        )
        session.add(later)
        await session.flush()
        session.add(
            ConsentState(
                customer_id=customer,
                purpose="marketing",
                channel="email",
                granted=False,
                source="paper_form",
                event_id=later.id,
                occurred_at=at,
            )
        )
    # When the grant given at the same moment reaches the ledger and the state
    body = await api.data(
        RECORD,
        {
            "input": {
                "customerId": cid(customer),
                "purpose": "MARKETING",
                "channel": "EMAIL",
                "granted": True,
                "source": "WEB_FORM",
                "occurredAt": at.isoformat(),
            }
        },
        token=agent,
    )
    assert body["consentRecord"]["errors"] == []
    # Then the state still names the ledger's latest row (the withdrawal), as
    # the history shows it first
    firm = (await api.data(FIRM, {"id": cid(customer)}, token=agent))["customer"]
    assert slot(firm["consents"], "MARKETING", "EMAIL")["granted"] is False
    assert firm["consentHistory"]["nodes"][0]["granted"] is False
    assert body["consentRecord"]["consent"]["granted"] is False
    async with api.db.transaction(write=False) as session:
        state = await session.scalar(
            select(ConsentState).where(ConsentState.customer_id == customer)
        )
    assert state is not None and state.event_id == 1_000_000
