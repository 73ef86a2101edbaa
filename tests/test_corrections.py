"""Profile corrections: the customer proposes, low-risk fields apply at once, the
rest wait for staff review; everything is audited and the customer sees the outcome."""

from __future__ import annotations

from sqlalchemy import insert, select

from crm.audit.models import AuditEvent, OutboxEvent
from crm.columns import utcnow
from crm.corrections.models import ProfileCorrection
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.ids import parse_global_id, to_global_id
from tests.client import SYSTEM
from tests.test_query_counts import statements_of

REQUEST = """
mutation($input: MyProfileCorrectionRequestInput!) {
  myProfileCorrectionRequest(input: $input) {
    profile { displayName phone locale email givenName }
    corrections { id status changes { field before after } reason }
    errors { field code message }
  }
}"""

APPROVE = """
mutation($id: ID!) { correctionApprove(input: {id: $id}) {
  correction { id status reviewerName reviewerRole customer { id email } }
  errors { field code message }
} }"""

REJECT = """
mutation($id: ID!, $reason: String) {
  correctionReject(input: {id: $id, reason: $reason}) {
  correction { id status reviewReason }
  errors { field code message }
} }"""

MINE = """{ me { corrections { totalCount nodes {
  id status reason reviewerRole reviewReason reviewedAt changes { field before after }
} } } }"""

QUEUE = """query($where: CorrectionWhere) { corrections(where: $where) {
  totalCount nodes { id status customer { id } changes { field after } }
} }"""

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


def cid(pk: int) -> str:
    return to_global_id("Customer", pk)


async def ada(api) -> tuple[int, str]:
    customer = await api.customer(
        email="ada@example.com",
        given_name="Ada",
        family_name="Lovelace",
        phone="+44 20 7946 0001",
        company="Analytical Engines",
        locale="en-GB",
    )
    return customer, api.customer_token(customer)


async def row(api, customer_id: int) -> Customer:
    async with api.db.transaction(write=False) as session:
        found = await session.get(Customer, customer_id)
        assert found is not None
        return found


async def ask(api, token: str, changes: dict, reason: str | None = None) -> dict:
    data = await api.data(
        REQUEST, {"input": {"changes": changes, "reason": reason}}, token=token
    )
    return data["myProfileCorrectionRequest"]


async def test_low_risk_fields_apply_at_once_with_the_customer_as_actor(api):
    # Given a signed-in customer
    customer, token = await ada(api)
    # When they correct their display name, phone and locale
    result = await ask(
        api,
        token,
        {"displayName": "Ada L.", "phone": "+44 20 7946 0002", "locale": "fr-FR"},
    )
    # Then the fields change at once and one APPLIED correction records it
    assert result["errors"] == []
    assert result["profile"]["displayName"] == "Ada L."
    assert result["profile"]["phone"] == "+44 20 7946 0002"
    assert [c["status"] for c in result["corrections"]] == ["APPLIED"]
    assert {c["field"]: c["after"] for c in result["corrections"][0]["changes"]} == {
        "displayName": "Ada L.",
        "locale": "fr-FR",
        "phone": "+44 20 7946 0002",
    }
    stored = await row(api, customer)
    assert stored.version == 2 and stored.locale == "fr-FR"
    # ... through the normal update: audited with the customer as actor
    async with api.db.transaction(write=False) as session:
        update = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.entity_type == "Customer",
                AuditEvent.entity_id == customer,
                AuditEvent.action == "customer.updated",
            )
        )
        assert update is not None and update.actor_ref == f"customer:{customer}"
        topics = set(await session.scalars(select(OutboxEvent.topic)))
    assert {"customer.updated", "correction.requested"} <= topics


async def test_reviewed_fields_wait_and_an_approval_applies_them(api):
    # Given a customer asking to correct their email and legal name
    customer, token = await ada(api)
    result = await ask(
        api,
        token,
        {"email": "ada@lovelace.org", "givenName": "Augusta Ada"},
        reason="I married",
    )
    [pending] = result["corrections"]
    assert pending["status"] == "PENDING" and pending["reason"] == "I married"
    # Then nothing changed yet
    assert result["profile"]["email"] == "ada@example.com"
    assert (await row(api, customer)).version == 1
    # When an agent approves it
    _, agent = await api.staff("agent")
    queue = await api.data(QUEUE, {"where": {"status": {"eq": "PENDING"}}}, token=agent)
    assert [n["id"] for n in queue["corrections"]["nodes"]] == [pending["id"]]
    approved = (await api.data(APPROVE, {"id": pending["id"]}, token=agent))[
        "correctionApprove"
    ]
    # Then the fields change, and the customer sees the outcome and the role
    assert approved["errors"] == []
    assert approved["correction"]["status"] == "APPROVED"
    assert approved["correction"]["reviewerRole"] == "AGENT"
    assert approved["correction"]["customer"]["email"] == "ada@lovelace.org"
    stored = await row(api, customer)
    assert stored.given_name == "Augusta Ada" and stored.email_key == "ada@lovelace.org"
    mine = (await api.data(MINE, token=token))["me"]["corrections"]["nodes"]
    assert [(c["status"], c["reviewerRole"]) for c in mine] == [("APPROVED", "AGENT")]
    assert mine[0]["reviewedAt"] is not None


async def test_a_rejection_and_its_reason_are_visible_to_the_customer(api):
    customer, token = await ada(api)
    [pending] = (await ask(api, token, {"company": "Babbage & Co"}))["corrections"]
    _, manager = await api.staff("manager")
    # When a manager rejects it with a reason
    rejected = (
        await api.data(
            REJECT, {"id": pending["id"], "reason": "Send us a contract"}, token=manager
        )
    )["correctionReject"]
    assert rejected["errors"] == []
    # Then the customer sees REJECTED and the reason; the company is unchanged
    mine = (await api.data(MINE, token=token))["me"]["corrections"]["nodes"]
    assert [(c["status"], c["reviewReason"], c["reviewerRole"]) for c in mine] == [
        ("REJECTED", "Send us a contract", "MANAGER")
    ]
    assert (await row(api, customer)).company == "Analytical Engines"
    # And a decided correction cannot be decided again
    again = (await api.data(APPROVE, {"id": pending["id"]}, token=manager))[
        "correctionApprove"
    ]
    assert [e["code"] for e in again["errors"]] == ["NOT_PENDING"]


async def test_a_mixed_request_applies_low_risk_fields_and_queues_the_rest(api):
    customer, token = await ada(api)
    result = await ask(api, token, {"timeZone": "Europe/Paris", "familyName": "King"})
    assert [c["status"] for c in result["corrections"]] == ["APPLIED", "PENDING"]
    stored = await row(api, customer)
    assert stored.time_zone == "Europe/Paris" and stored.family_name == "Lovelace"


async def test_another_customers_correction_is_not_found(api):
    # Given Ada's pending correction
    _, ada_token = await ada(api)
    [pending] = (await ask(api, ada_token, {"email": "new@example.com"}))["corrections"]
    # When another customer asks for it by ID
    other = await api.customer(email="grace@example.com")
    other_token = api.customer_token(other)
    code = await api.error_code(NODE, {"id": pending["id"]}, token=other_token)
    # Then it does not exist for them, and their own list is empty
    assert code == "NOT_FOUND"
    mine = (await api.data(MINE, token=other_token))["me"]["corrections"]
    assert mine["totalCount"] == 0
    # While Ada fetches it as her own type
    own = await api.data(NODE, {"id": pending["id"]}, token=ada_token)
    assert own["node"]["__typename"] == "MyCorrection"


async def test_an_analyst_cannot_review_and_nothing_changes(api):
    customer, token = await ada(api)
    [pending] = (await ask(api, token, {"email": "new@example.com"}))["corrections"]
    _, analyst = await api.staff("analyst")
    partner = await api.partner_key(["customers:read", "customers:write"])
    for mutation, variables in (
        (APPROVE, {"id": pending["id"]}),
        (REJECT, {"id": pending["id"], "reason": "no"}),
    ):
        assert await api.error_code(mutation, variables, token=analyst) == "FORBIDDEN"
        body = (
            await api.http.post(
                "/graphql",
                json={"query": mutation, "variables": variables},
                headers={"X-Api-Key": partner},
            )
        ).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await api.error_code(QUEUE, token=analyst) == "FORBIDDEN"
    assert (await row(api, customer)).email == "ada@example.com"
    async with api.db.transaction(write=False) as session:
        stored = await session.scalar(select(ProfileCorrection))
        assert stored is not None and stored.status == "pending"


async def test_approving_a_taken_email_is_a_payload_error_and_stays_pending(api):
    customer, token = await ada(api)
    [pending] = (await ask(api, token, {"email": "grace@example.com"}))["corrections"]
    # The email was free when asked for; another customer takes it meanwhile
    await api.customer(email="Grace@example.com")
    _, agent = await api.staff("agent")
    result = (await api.data(APPROVE, {"id": pending["id"]}, token=agent))[
        "correctionApprove"
    ]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("email", "DUPLICATE")
    ]
    assert (await row(api, customer)).email == "ada@example.com"
    mine = (await api.data(MINE, token=token))["me"]["corrections"]["nodes"]
    assert [c["status"] for c in mine] == ["PENDING"]


async def test_approving_after_a_concurrent_change_of_the_field_is_a_conflict(api):
    customer, token = await ada(api)
    [pending] = (await ask(api, token, {"company": "Babbage & Co"}))["corrections"]
    _, agent = await api.staff("agent")
    changed = await api.data(
        """mutation($id: ID!) { customerUpdate(input: {id: $id, company: "Difference"})
           { errors { code } } }""",
        {"id": cid(customer)},
        token=agent,
    )
    assert changed["customerUpdate"]["errors"] == []
    result = (await api.data(APPROVE, {"id": pending["id"]}, token=agent))[
        "correctionApprove"
    ]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("changes.company", "CONFLICT")
    ]
    assert (await row(api, customer)).company == "Difference"


async def test_bad_requests_are_payload_errors_and_write_nothing(api):
    customer, token = await ada(api)
    cases = [
        ({"email": "not-an-email"}, None, ("changes.email", "INVALID_EMAIL")),
        ({"timeZone": "Mars/Olympus"}, None, ("changes.timeZone", "INVALID")),
        ({"email": "ada@example.com"}, None, ("changes", "NO_CHANGES")),
        ({}, None, ("changes", "NO_CHANGES")),
        ({"phone": "+1 555 0100"}, "x" * 1001, ("reason", "TOO_LONG")),
    ]
    for changes, reason, expected in cases:
        body = await api.gql(
            REQUEST, {"input": {"changes": changes, "reason": reason}}, token=token
        )
        errors = body["data"]["myProfileCorrectionRequest"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [expected], changes
    assert (await row(api, customer)).version == 1
    assert await api.count(ProfileCorrection) == 0
    # A second request for a field already waiting is refused
    await ask(api, token, {"email": "new@example.com"})
    again = await api.gql(
        REQUEST, {"input": {"changes": {"email": "n2@example.com"}}}, token=token
    )
    errors = again["data"]["myProfileCorrectionRequest"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("changes.email", "ALREADY_PENDING")
    ]
    # A rejection needs a reason
    [pending] = (await api.data(MINE, token=token))["me"]["corrections"]["nodes"]
    _, agent = await api.staff("agent")
    result = (await api.data(REJECT, {"id": pending["id"]}, token=agent))[
        "correctionReject"
    ]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("reason", "REQUIRED")
    ]


async def test_only_a_signed_in_customer_can_ask(api):
    _, agent = await api.staff("agent")
    variables = {"input": {"changes": {"phone": "+1 555 0100"}}}
    assert await api.error_code(REQUEST, variables, token=agent) == "FORBIDDEN"
    assert await api.error_code(REQUEST, variables) == "UNAUTHENTICATED"


FIRM_PAGE = """query($n: Int!) { customers(first: $n) { edges { node {
  id
  corrections(first: 2) {
    totalCount
    edges { cursor node { id status } }
    pageInfo { hasNextPage endCursor }
  }
  pending: corrections(where: {status: {eq: PENDING}}) { nodes { id } }
} } } }"""

CUSTOMER_CORRECTIONS = """query($id: ID!, $after: String) { customer(id: $id) {
  corrections(first: 2, after: $after) { edges { cursor node { id } } }
} }"""


async def seed_corrections(api, customers: int) -> list[int]:
    """Customers with three corrections each (applied, pending, rejected), in bulk."""
    async with api.db.transaction() as session:
        ids = []
        for n in range(customers):
            customer = await customer_service.create_customer(
                session, SYSTEM, {"given_name": f"Customer{n:03d}"}
            )
            assert customer.id is not None
            ids.append(customer.id)
        rows = [
            {
                "customer_id": customer_id,
                "status": status,
                "changes": {"phone": {"before": None, "after": f"+44 {n}"}},
                "reason": None,
                "requested_at": utcnow(),
            }
            for customer_id in ids
            for n, status in enumerate(("applied", "pending", "rejected"))
        ]
        await session.execute(insert(ProfileCorrection), rows)
    return ids


async def test_a_customer_page_reads_corrections_in_constant_statements(api):
    # Given 20 customers with three corrections each, and a reviewer
    ids = await seed_corrections(api, 20)
    _, manager = await api.staff("manager")
    # When a small and a large customers page select corrections, counts and a filter
    small = await statements_of(api, FIRM_PAGE, {"n": 3}, token=manager)
    large = await statements_of(api, FIRM_PAGE, {"n": 20}, token=manager)
    # Then both run the same statements: the planned page, the customers whose
    # corrections the resolvers read, two first pages, one count
    assert len(small) == len(large) == 5, large
    # And every customer gets their own newest-first page with working cursors
    data = await api.data(FIRM_PAGE, {"n": 20}, token=manager)
    async with api.db.transaction(write=False) as session:
        rows = list(
            await session.scalars(
                select(ProfileCorrection).order_by(ProfileCorrection.id.desc())
            )
        )
    for edge in data["customers"]["edges"]:
        node = edge["node"]
        pk = parse_global_id(node["id"])[1]
        own = [to_global_id("Correction", r.id) for r in rows if r.customer_id == pk]
        page = node["corrections"]
        assert page["totalCount"] == 3
        assert [e["node"]["id"] for e in page["edges"]] == own[:2]
        assert page["pageInfo"]["hasNextPage"] is True
        assert [n["id"] for n in node["pending"]["nodes"]] == [own[1]]
        rest = await api.data(
            CUSTOMER_CORRECTIONS,
            {"id": node["id"], "after": page["pageInfo"]["endCursor"]},
            token=manager,
        )
        assert [e["node"]["id"] for e in rest["customer"]["corrections"]["edges"]] == [
            own[2]
        ]
    listed = {parse_global_id(e["node"]["id"])[1] for e in data["customers"]["edges"]}
    assert listed == set(ids)
    # And the customer's own view (paged one at a time) yields the same cursors
    mine = await api.data(
        "{ me { corrections(first: 2) { edges { cursor } } } }",
        token=api.customer_token(ids[0]),
    )
    first = next(
        e["node"]["corrections"]
        for e in data["customers"]["edges"]
        if e["node"]["id"] == cid(ids[0])
    )
    assert [e["cursor"] for e in mine["me"]["corrections"]["edges"]] == [
        e["cursor"] for e in first["edges"]
    ]


async def test_corrections_on_a_customer_page_are_null_without_the_review_right(api):
    await seed_corrections(api, 2)
    _, analyst = await api.staff("analyst")
    data = await api.data(FIRM_PAGE, {"n": 2}, token=analyst)
    assert [e["node"]["corrections"] for e in data["customers"]["edges"]] == [
        None,
        None,
    ]
