"""Erasure: asked for with confirmation, reviewed, carried out in one transaction;
afterwards nothing personal is left anywhere, the financial records stay without
identity, and the customer can no longer sign in."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, inspect, select, text

from crm.actors import StaffActor
from crm.audit.models import OutboxEvent
from crm.columns import utcnow
from crm.consent.models import ConsentEvent
from crm.customer_auth.models import CustomerLoginCode
from crm.customers.models import Customer
from crm.erasure import service as erasure
from crm.erasure.jobs import carry_out_due_requests
from crm.erasure.models import ErasureRequest
from crm.ids import to_global_id
from crm.interactions.models import Interaction
from crm.permissions import StaffRole

ASK = """mutation($input: MyErasureRequestInput!) { myErasureRequest(input: $input) {
  erasureRequest { status requestedAt dueAt decisionReason }
  errors { field code message }
} }"""
MINE = "{ me { erasureRequest { status dueAt decisionReason } } }"
LIST = """query($where: ErasureRequestWhere) { erasureRequests(where: $where) {
  totalCount nodes { id status source customer { id } }
} }"""
CARRY_OUT = """mutation($id: ID!) { erasureCarryOut(input: {id: $id}) {
  erasureRequest { id status decidedByRole decidedByName customer { displayName } }
  errors { field code message }
} }"""
DECLINE = """mutation($id: ID!, $reason: String) {
  erasureDecline(input: {id: $id, reason: $reason}) {
    erasureRequest { id status decisionReason } errors { field code message }
} }"""
ERASE = """mutation($id: ID!, $reason: String) {
  customerErase(input: {customerId: $id, reason: $reason}) {
    erasureRequest { id status source decisionReason } errors { field code message }
} }"""
CUSTOMER = """query($id: ID!) { customer(id: $id) {
  displayName email phone givenName familyName company externalRef tags attributes
  archived erasedAt
  interactions(first: 10) { nodes { subject body kind amount { amount currency } } }
} }"""
CODE = """mutation($email: String!) { customerLoginCodeRequest(input: {email: $email})
  { accepted } }"""
PROFILE = "{ me { profile { email } } }"
CONFIRM = erasure.CONFIRMATION_PHRASE

PERSONAL = {
    "email": "zenobia.q@example.org",
    "given_name": "Zenobia",
    "family_name": "Quillfeather",
    "phone": "+44 20 7946 0999",
    "company": "Quillworks",
    "external_ref": "ext-zq-1",
}
NEEDLES = [
    "zenobia",
    "quillfeather",
    "quillworks",
    "7946 0999",
    "ext-zq-1",
    "zq@newmail.org",
    "order-zq",
]


def cid(pk: int) -> str:
    return to_global_id("Customer", pk)


async def zenobia(api) -> int:
    """A customer with personal data spread over every table that can hold it."""
    customer = await api.customer(
        **PERSONAL, tags=["zenobia-fan"], attributes={"nickname": "Zen Quillfeather"}
    )
    await api.interaction(
        customer,
        kind="purchase",
        channel="store",
        amount="120.50",
        currency="EUR",
        subject="Zenobia's order",
        body="Deliver to Quillfeather, 1 Quill Lane",
        external_ref="order-zq-1",
        visibility="shared",
    )
    await api.interaction(customer, kind="purchase", amount="30.00", currency="EUR")
    await api.interaction(
        customer, subject="Call Zenobia back", body="+44 20 7946 0999"
    )
    # A login code (its outbox message carries the email) and a correction
    assert (await api.data(CODE, {"email": PERSONAL["email"]}))[
        "customerLoginCodeRequest"
    ]["accepted"]
    token = api.customer_token(customer)
    corrected = await api.data(
        """mutation { myProfileCorrectionRequest(input: {
             changes: {email: "zq@newmail.org", displayName: "Zenobia Q."},
             reason: "New address, Zenobia"}) { errors { code } } }""",
        token=token,
    )
    assert corrected["myProfileCorrectionRequest"]["errors"] == []
    # A consent with free-text evidence, and a staff edit (audited values)
    async with api.db.transaction() as session:
        session.add(
            ConsentEvent(
                customer_id=customer,
                purpose="marketing",
                channel="email",
                granted=True,
                source="paper_form",
                evidence="Signed by Zenobia Quillfeather",
                recorded_by="staff:1",
                occurred_at=utcnow(),
            )
        )
    _, agent = await api.staff("agent")
    await api.data(
        """mutation($id: ID!) {
             customerUpdate(input: {id: $id, company: "Quillworks Ltd"})
           { errors { code } } }""",
        {"id": cid(customer)},
        token=agent,
    )
    return customer


async def leftovers(api, needles: list[str]) -> list[str]:
    """Every (table, column, needle) where a personal value is still stored: every
    text, JSON and binary column of every table, the full-text index included."""
    found = []
    async with api.db.transaction(write=False) as session:
        tables = await session.run_sync(
            lambda s: inspect(s.connection()).get_table_names()
        )
        if api.db.sqlite:
            tables += ["customer_fts_vocab"]
        for table in tables:
            rows = (await session.execute(text(f'SELECT * FROM "{table}"'))).all()
            keys = (
                await session.execute(text(f'SELECT * FROM "{table}" LIMIT 0'))
            ).keys()
            for row in rows:
                for column, value in zip(keys, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    if value is None or isinstance(value, int | float | Decimal):
                        continue
                    haystack = str(value).lower()
                    found += [
                        f"{table}.{column}: {needle}"
                        for needle in needles
                        if needle in haystack
                    ]
    return found


async def test_a_requested_erasure_is_carried_out_and_leaves_nothing_personal(api):
    # Given a customer with personal data everywhere
    customer = await zenobia(api)
    token = api.customer_token(customer)
    assert await leftovers(api, NEEDLES)  # the scan does see them
    # When they ask without confirming, or confirming wrongly
    for confirmation in (None, "erase", "ERASE MY DATA PLEASE"):
        body = await api.data(
            ASK, {"input": {"confirmation": confirmation}}, token=token
        )
        assert [
            (e["field"], e["code"]) for e in body["myErasureRequest"]["errors"]
        ] == [("confirmation", "CONFIRMATION_REQUIRED")]
    assert await api.count(ErasureRequest) == 0
    # And then confirm
    asked = (
        await api.data(
            ASK,
            {"input": {"confirmation": CONFIRM, "reason": "Bye, Zenobia"}},
            token=token,
        )
    )["myErasureRequest"]
    assert asked["errors"] == [] and asked["erasureRequest"]["status"] == "PENDING"
    again = await api.data(ASK, {"input": {"confirmation": CONFIRM}}, token=token)
    assert again["myErasureRequest"]["erasureRequest"] == asked["erasureRequest"]
    assert await api.count(ErasureRequest) == 1
    mine = (await api.data(MINE, token=token))["me"]["erasureRequest"]
    assert mine["status"] == "PENDING"
    # Then a manager carries it out
    _, manager = await api.staff("manager")
    queue = await api.data(
        LIST, {"where": {"status": {"eq": "PENDING"}}}, token=manager
    )
    [request] = queue["erasureRequests"]["nodes"]
    assert request["source"] == "CUSTOMER" and request["customer"]["id"] == cid(
        customer
    )
    done = (await api.data(CARRY_OUT, {"id": request["id"]}, token=manager))[
        "erasureCarryOut"
    ]
    assert done["errors"] == []
    assert done["erasureRequest"]["status"] == "CARRIED_OUT"
    assert done["erasureRequest"]["decidedByRole"] == "MANAGER"
    assert done["erasureRequest"]["customer"]["displayName"] == "Erased customer"

    # The customer's token is refused, and the old email finds nobody
    assert await api.error_code(PROFILE, token=token) == "UNAUTHENTICATED"
    codes_before = await api.count(CustomerLoginCode)
    outbox_before = await api.count(OutboxEvent)
    assert (await api.data(CODE, {"email": PERSONAL["email"]}))[
        "customerLoginCodeRequest"
    ]["accepted"]
    assert await api.count(CustomerLoginCode) == codes_before == 0
    assert await api.count(OutboxEvent) == outbox_before
    # Staff see an anonymous shell whose purchases still add up
    shell = (await api.data(CUSTOMER, {"id": cid(customer)}, token=manager))["customer"]
    assert shell["displayName"] == "Erased customer"
    assert [
        shell[k]
        for k in ("email", "phone", "givenName", "familyName", "company", "externalRef")
    ] == [None] * 6
    assert shell["tags"] == [] and shell["attributes"] == {}
    assert shell["archived"] is True and shell["erasedAt"] is not None
    interactions = shell["interactions"]["nodes"]
    assert all(i["subject"] is None and i["body"] is None for i in interactions)
    assert sum(
        Decimal(i["amount"]["amount"]) for i in interactions if i["kind"] == "PURCHASE"
    ) == Decimal("150.50")
    async with api.db.transaction(write=False) as session:
        total = await session.scalar(
            select(func.sum(Interaction.amount)).where(
                Interaction.customer_id == customer
            )
        )
        assert total == Decimal("150.50")
        erased = list(
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.topic == "customer.erased")
            )
        )
        assert [e.payload["id"] for e in erased] == [customer]
    # And no personal value is left in any table
    assert await leftovers(api, NEEDLES) == []


async def test_a_declined_request_shows_its_reason_to_the_customer(api):
    customer = await api.customer(email="keep@example.com", given_name="Keep")
    token = api.customer_token(customer)
    await api.data(ASK, {"input": {"confirmation": CONFIRM}}, token=token)
    _, manager = await api.staff("manager")
    [request] = (await api.data(LIST, token=manager))["erasureRequests"]["nodes"]
    missing = (await api.data(DECLINE, {"id": request["id"]}, token=manager))[
        "erasureDecline"
    ]
    assert [(e["field"], e["code"]) for e in missing["errors"]] == [
        ("reason", "REQUIRED")
    ]
    declined = (
        await api.data(
            DECLINE,
            {"id": request["id"], "reason": "Open invoice dispute"},
            token=manager,
        )
    )["erasureDecline"]
    assert declined["erasureRequest"]["status"] == "DECLINED"
    mine = (await api.data(MINE, token=token))["me"]["erasureRequest"]
    assert mine == {
        "status": "DECLINED",
        "dueAt": mine["dueAt"],
        "decisionReason": "Open invoice dispute",
    }
    # A declined request cannot be carried out; the customer is untouched
    again = (await api.data(CARRY_OUT, {"id": request["id"]}, token=manager))[
        "erasureCarryOut"
    ]
    assert [e["code"] for e in again["errors"]] == ["NOT_PENDING"]
    assert (await api.data(PROFILE, token=token))["me"]["profile"]["email"] == (
        "keep@example.com"
    )


async def test_staff_erase_a_customer_directly_only_with_the_right_and_a_reason(api):
    customer = await zenobia(api)
    _, agent = await api.staff("agent")
    _, analyst = await api.staff("analyst")
    _, manager = await api.staff("manager")
    variables = {"id": cid(customer), "reason": "Asked by letter"}
    # Agents and analysts are refused, and nothing changes
    for token in (agent, analyst):
        assert await api.error_code(ERASE, variables, token=token) == "FORBIDDEN"
    assert await api.error_code(LIST, token=agent) == "FORBIDDEN"
    partner = await api.partner_key(["customers:read", "customers:write"])
    body = (
        await api.http.post(
            "/graphql",
            json={"query": ERASE, "variables": variables},
            headers={"X-Api-Key": partner},
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with api.db.transaction(write=False) as session:
        kept = await session.get(Customer, customer)
        assert kept is not None and kept.erased_at is None
        assert kept.email == PERSONAL["email"]
    assert await api.count(ErasureRequest) == 0
    # A manager must give a reason
    no_reason = (await api.data(ERASE, {"id": cid(customer)}, token=manager))[
        "customerErase"
    ]
    assert [(e["field"], e["code"]) for e in no_reason["errors"]] == [
        ("reason", "REQUIRED")
    ]
    assert await api.count(ErasureRequest) == 0
    done = (await api.data(ERASE, variables, token=manager))["customerErase"]
    assert done["errors"] == []
    assert done["erasureRequest"]["status"] == "CARRIED_OUT"
    assert done["erasureRequest"]["source"] == "STAFF"
    assert await leftovers(api, NEEDLES) == []
    twice = (await api.data(ERASE, variables, token=manager))["customerErase"]
    assert [(e["field"], e["code"]) for e in twice["errors"]] == [
        ("customerId", "ALREADY_ERASED")
    ]
    # A missing customer is NOT_FOUND
    assert (
        await api.error_code(ERASE, {"id": cid(999_999), "reason": "x"}, token=manager)
        == "NOT_FOUND"
    )


async def test_records_merged_into_the_customer_are_erased_with_it(api):
    customer = await api.customer(email="zenobia.q@example.org", given_name="Zenobia")
    duplicate = await api.customer(email="zq@newmail.org", family_name="Quillfeather")
    _, manager = await api.staff("manager")
    merged = await api.data(
        """mutation($t: ID!, $s: ID!) { customerMerge(input: {targetId: $t,
           sourceId: $s}) { errors { code } } }""",
        {"t": cid(customer), "s": cid(duplicate)},
        token=manager,
    )
    assert merged["customerMerge"]["errors"] == []
    done = await api.data(
        ERASE, {"id": cid(customer), "reason": "Asked"}, token=manager
    )
    assert done["customerErase"]["errors"] == []
    async with api.db.transaction(write=False) as session:
        shells = list(await session.scalars(select(Customer)))
    assert {c.id for c in shells if c.erased_at is not None} == {customer, duplicate}
    assert await leftovers(api, NEEDLES) == []


async def test_pending_requests_are_carried_out_when_the_review_window_ends(api):
    # Given one request inside its window and one past it
    early = await api.customer(email="early@example.com", given_name="Zenobia")
    late = await api.customer(email="late@example.com")
    for customer in (early, late):
        await api.data(
            ASK,
            {"input": {"confirmation": CONFIRM}},
            token=api.customer_token(customer),
        )
    async with api.db.transaction() as session:
        request = await session.scalar(
            select(ErasureRequest).where(ErasureRequest.customer_id == early)
        )
        assert request is not None
        request.due_at = utcnow() - timedelta(minutes=1)
    # When the worker's job runs
    carried = await carry_out_due_requests(api.db)
    # Then only the due one is erased
    assert carried == 1
    async with api.db.transaction(write=False) as session:
        rows = {c.id: c for c in await session.scalars(select(Customer))}
        statuses = dict(
            (
                await session.execute(
                    select(ErasureRequest.customer_id, ErasureRequest.status)
                )
            ).all()
        )
    assert rows[early].erased_at is not None and rows[late].erased_at is None
    assert statuses == {early: "carried_out", late: "pending"}
    assert timedelta(days=7) == erasure.REVIEW_WINDOW


async def test_staff_erasure_closes_the_customers_pending_request_and_corrections(
    api,
):
    # Given a customer waiting for their erasure and for an email correction
    customer = await api.customer(email="both@example.com", given_name="Both")
    token = api.customer_token(customer)
    await api.data(ASK, {"input": {"confirmation": CONFIRM}}, token=token)
    asked = await api.data(
        """mutation { myProfileCorrectionRequest(input: {
             changes: {email: "both@new.example.com"}}) { errors { code } } }""",
        token=token,
    )
    assert asked["myProfileCorrectionRequest"]["errors"] == []
    # When a manager erases them directly
    _, manager = await api.staff("manager")
    done = await api.data(
        ERASE, {"id": cid(customer), "reason": "Letter"}, token=manager
    )
    assert done["customerErase"]["errors"] == []
    # Then neither queue keeps work that can no longer be done
    pending = await api.data(
        LIST, {"where": {"status": {"eq": "PENDING"}}}, token=manager
    )
    assert pending["erasureRequests"]["totalCount"] == 0
    statuses = await api.data(LIST, token=manager)
    assert sorted(n["status"] for n in statuses["erasureRequests"]["nodes"]) == [
        "CARRIED_OUT",
        "CARRIED_OUT",
    ]
    queue = await api.data(
        """{ corrections(where: {status: {eq: PENDING}}) { totalCount } }""",
        token=manager,
    )
    assert queue["corrections"]["totalCount"] == 0
    closed = await api.data(
        "{ corrections { nodes { status reviewReason changes { after } } } }",
        token=manager,
    )
    assert closed["corrections"]["nodes"] == [
        {
            "status": "REJECTED",
            "reviewReason": erasure.ERASED_CORRECTION_REASON,
            "changes": [{"after": None}],
        }
    ]
    # And the worker has nothing left to erase
    async with api.db.transaction() as session:
        await session.execute(
            ErasureRequest.__table__.update().values(  # type: ignore[attr-defined]
                due_at=utcnow() - timedelta(days=1)
            )
        )
    assert await carry_out_due_requests(api.db) == 0


async def test_two_managers_erasing_at_once_make_one_erasure(api):
    # Given a customer and two managers
    customer = await api.customer(email="twice@example.com", given_name="Twice")
    _, first = await api.staff("manager")
    _, second = await api.staff("manager")
    variables = {"id": cid(customer), "reason": "Asked by letter"}
    # When both erase at the same moment
    results = await asyncio.gather(
        api.data(ERASE, variables, token=first),
        api.data(ERASE, variables, token=second),
    )
    # Then one erasure happens and the other is told it already did
    outcomes = sorted(
        tuple(e["code"] for e in r["customerErase"]["errors"]) for r in results
    )
    assert outcomes == [(), ("ALREADY_ERASED",)]
    assert await api.count(ErasureRequest) == 1
    async with api.db.transaction(write=False) as session:
        erased = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.topic == "customer.erased")
        )
    assert erased == 1


async def test_a_request_declined_while_the_job_runs_is_not_erased(api):
    # Given a request past its review window
    customer = await api.customer(email="hold@example.com", given_name="Hold")
    await api.data(
        ASK, {"input": {"confirmation": CONFIRM}}, token=api.customer_token(customer)
    )
    async with api.db.transaction() as session:
        request = await session.scalar(select(ErasureRequest))
        assert request is not None
        request.due_at = utcnow() - timedelta(minutes=1)
        request_id = request.id
    manager_id, _ = await api.staff("manager")
    manager = StaffActor(staff_id=manager_id, role=StaffRole.MANAGER)
    if api.db.sqlite:
        # SQLite writers queue: the decline commits before the job reads
        async with api.db.transaction() as session:
            await erasure.decline_request(session, manager, request_id, reason="Hold")
        assert await carry_out_due_requests(api.db) == 0
    else:
        # When a manager declines it (a legal hold) while the job runs
        async with api.db.transaction() as session:
            await erasure.decline_request(session, manager, request_id, reason="Hold")
            # the job, in its own transaction, passes over the request being decided
            assert await carry_out_due_requests(api.db) == 0
    # Then the customer is kept and the request stays declined
    async with api.db.transaction(write=False) as session:
        kept = await session.get(Customer, customer)
        decided = await session.get(ErasureRequest, request_id)
    assert kept is not None and kept.erased_at is None and kept.email is not None
    assert decided is not None and decided.status == "declined"


async def test_segment_sizes_follow_an_erasure(api):
    # Given a static segment holding two customers
    keep = await api.customer(display_name="Stays", email="stays@example.com")
    gone = await api.customer(display_name="Goes", email="goes@example.com")
    _, manager = await api.staff("manager")
    created = await api.data(
        """mutation { segmentCreate(input: {name: "Pilot group", kind: STATIC}) {
             segment { id } errors { code } } }""",
        token=manager,
    )
    segment = created["segmentCreate"]["segment"]["id"]
    added = await api.data(
        """mutation($input: SegmentMembersInput!) {
             segmentMembersAdd(input: $input) { errors { code } } }""",
        {"input": {"segmentId": segment, "customerIds": [cid(keep), cid(gone)]}},
        token=manager,
    )
    assert added["segmentMembersAdd"]["errors"] == []

    # When one of them is erased
    variables = {"id": cid(gone), "reason": "Asked by phone"}
    done = (await api.data(ERASE, variables, token=manager))["customerErase"]
    assert done["errors"] == []

    # Then the segment's size counts the one left, as its member list does
    found = await api.data(
        """query($id: ID!) { segment(id: $id) {
             size members(first: 10) { nodes { displayName } } } }""",
        {"id": segment},
        token=manager,
    )
    assert found["segment"]["size"] == 1
    assert [n["displayName"] for n in found["segment"]["members"]["nodes"]] == ["Stays"]
