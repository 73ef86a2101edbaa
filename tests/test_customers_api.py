"""Customers through GraphQL, as a staff client uses them."""

from __future__ import annotations

from crm.audit.models import AuditEvent
from crm.customers.models import Customer
from crm.ids import to_global_id

CREATE = """
mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) {
    customer { id email displayName lifecycleStage tags version owner { displayName } }
    errors { field code message }
  }
}"""

UPDATE = """
mutation($input: CustomerUpdateInput!) {
  customerUpdate(input: $input) {
    customer { id email version phone }
    errors { field code message }
  }
}"""


async def test_staff_create_a_customer_and_read_it_back(api):
    owner_id, token = await api.staff("manager")
    data = await api.data(
        CREATE,
        {
            "input": {
                "email": "Ada@Example.com",
                "givenName": "Ada",
                "familyName": "Lovelace",
                "tags": ["vip", "newsletter"],
                "lifecycleStage": "ACTIVE",
                "ownerId": to_global_id("StaffMember", owner_id),
            }
        },
        token=token,
    )
    payload = data["customerCreate"]
    assert payload["errors"] == []
    created = payload["customer"]
    assert created["displayName"] == "Ada Lovelace"
    assert created["lifecycleStage"] == "ACTIVE"
    assert created["version"] == 1
    assert created["owner"]["displayName"].startswith("Manager")

    read = await api.data(
        """query($id: ID!) { customer(id: $id) { email tags auditTrail {
             edges { node { action actor { kind } changes { field after } } } } } }""",
        {"id": created["id"]},
        token=token,
    )
    assert read["customer"]["email"] == "Ada@Example.com"
    trail = read["customer"]["auditTrail"]["edges"]
    assert [e["node"]["action"] for e in trail] == ["customer.created"]
    assert {"field": "givenName", "after": "Ada"} in trail[0]["node"]["changes"]


async def test_duplicate_email_is_a_payload_error_and_writes_nothing(api):
    _, token = await api.staff()
    await api.customer(email="dup@example.com")
    before = await api.count(AuditEvent)
    data = await api.data(CREATE, {"input": {"email": "DUP@example.com"}}, token=token)
    assert data["customerCreate"]["customer"] is None
    assert data["customerCreate"]["errors"] == [
        {
            "field": "email",
            "code": "DUPLICATE",
            "message": "Another customer already has this email.",
        }
    ]
    assert await api.count(Customer) == 1
    assert await api.count(AuditEvent) == before


async def test_invalid_fields_are_each_named(api):
    _, token = await api.staff()
    data = await api.data(
        CREATE,
        {
            "input": {
                "email": "not-an-email",
                "givenName": "x" * 201,
                "timeZone": "Mars/Base",
            }
        },
        token=token,
    )
    errors = {e["field"]: e["code"] for e in data["customerCreate"]["errors"]}
    assert errors == {
        "email": "INVALID_EMAIL",
        "givenName": "TOO_LONG",
        "timeZone": "INVALID",
    }
    assert await api.count(Customer) == 0


async def test_update_with_a_stale_version_is_a_conflict(api):
    _, token = await api.staff()
    customer_id = await api.customer(email="v@example.com")
    gid = to_global_id("Customer", customer_id)
    first = await api.data(
        UPDATE,
        {"input": {"id": gid, "phone": "+44 20 7946 0000", "expectedVersion": 1}},
        token=token,
    )
    assert first["customerUpdate"]["customer"]["version"] == 2
    stale = await api.data(
        UPDATE,
        {"input": {"id": gid, "phone": "+1 555 0100", "expectedVersion": 1}},
        token=token,
    )
    assert stale["customerUpdate"]["errors"][0]["code"] == "CONFLICT"
    assert stale["customerUpdate"]["errors"][0]["field"] == "expectedVersion"
    check = await api.data(
        "query($id: ID!) { customer(id: $id) { phone version } }",
        {"id": gid},
        token=token,
    )
    assert check["customer"] == {"phone": "+44 20 7946 0000", "version": 2}


async def test_anonymous_callers_are_unauthenticated(api):
    await api.customer(email="hidden@example.com")
    assert (
        await api.error_code("{ customers { edges { node { id } } } }")
        == "UNAUTHENTICATED"
    )
    assert (
        await api.error_code(CREATE, {"input": {"email": "a@b.co"}})
        == "UNAUTHENTICATED"
    )
    assert await api.count(Customer) == 1


async def test_a_forged_token_is_unauthenticated(api):
    code = await api.error_code(
        "{ customers { edges { node { id } } } }", token="abc.def.ghi"
    )
    assert code == "UNAUTHENTICATED"


async def test_missing_customer_is_not_found(api):
    _, token = await api.staff()
    code = await api.error_code(
        "query($id: ID!) { customer(id: $id) { id } }",
        {"id": to_global_id("Customer", 999999)},
        token=token,
    )
    assert code == "NOT_FOUND"


async def test_archive_hides_and_restore_brings_back(api):
    _, token = await api.staff()
    cid = to_global_id("Customer", await api.customer(email="arch@example.com"))
    archived = await api.data(
        """mutation($id: ID!) {
             customerArchive(input: {id: $id}) {
               customer { archived } errors { code } } }""",
        {"id": cid},
        token=token,
    )
    assert archived["customerArchive"]["customer"]["archived"] is True
    listed = await api.data("{ customers { totalCount } }", token=token)
    assert listed["customers"]["totalCount"] == 0
    with_archived = await api.data(
        "{ customers(where: {archived: {eq: true}}) { totalCount } }", token=token
    )
    assert with_archived["customers"]["totalCount"] == 1
    await api.data(
        """mutation($id: ID!) {
             customerRestore(input: {id: $id}) { customer { archived } } }""",
        {"id": cid},
        token=token,
    )
    listed = await api.data("{ customers { totalCount } }", token=token)
    assert listed["customers"]["totalCount"] == 1
