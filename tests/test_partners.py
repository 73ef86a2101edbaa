"""Partner apps and their API keys: issued by admins, shown once, limited to their
scopes, refused from the request after they are revoked, expire or lose their app."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from api.cli import main
from crm.audit.models import AuditEvent, OutboxEvent
from crm.columns import utcnow
from crm.customers.models import Customer
from crm.ids import to_global_id
from crm.interactions.models import Interaction
from crm.partners import service
from crm.partners.models import ApiKey, PartnerApp
from crm.staff.models import StaffMember
from tests.test_query_counts import recording

KEY_RE = re.compile(r"^mut_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")

APP_CREATE = """
mutation($input: PartnerAppCreateInput!) {
  partnerAppCreate(input: $input) {
    partnerApp { id name description archived createdBy apiKeys { prefix } }
    errors { field code message }
  }
}"""
APP_ARCHIVE = """
mutation($id: ID!) {
  partnerAppArchive(input: {id: $id}) {
    partnerApp { id archived archivedAt apiKeys { prefix status } }
    errors { field code message }
  }
}"""
KEY_CREATE = """
mutation($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) {
    key
    apiKey {
      id prefix name scopes status createdAt expiresAt revokedAt lastUsedAt
      partnerApp { name }
    }
    errors { field code message }
  }
}"""
KEY_REVOKE = """
mutation($id: ID!) {
  apiKeyRevoke(input: {id: $id}) {
    apiKey { id prefix status revokedAt }
    errors { field code message }
  }
}"""
APPS = """
{ partnerApps(first: 10) {
    totalCount
    nodes {
      id name archived
      apiKeys {
        id prefix name scopes status createdBy createdAt expiresAt revokedAt lastUsedAt
      }
    }
} }"""
CUSTOMERS = "{ customers { totalCount nodes { email } } }"
ARCHIVE_CUSTOMER = """
mutation($id: ID!) { customerArchive(input: {id: $id}) { errors { code } } }"""
CUSTOMER_CREATE = """
mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id email } errors { field code } }
}"""
UPSERT = """
mutation($rows: [CustomerUpsertRow!]!) {
  customersUpsert(input: {rows: $rows}) { created updated errors { code } }
}"""
LOG = """
mutation($input: InteractionLogInput!) {
  interactionLog(input: $input) {
    interaction { id source recordedBy }
    errors { field code message }
  }
}"""


# --- helpers --------------------------------------------------------------------------


async def create_app(api, token: str, name: str = "Shopify sync") -> str:
    data = await api.data(
        APP_CREATE,
        {"input": {"name": name, "description": "Orders into the CRM"}},
        token=token,
    )
    payload = data["partnerAppCreate"]
    assert payload["errors"] == []
    return payload["partnerApp"]["id"]


async def create_key(api, token: str, app_id: str, **fields: Any) -> dict[str, Any]:
    data = await api.data(
        KEY_CREATE,
        {
            "input": {
                "partnerAppId": app_id,
                "name": "production",
                "scopes": ["CUSTOMERS_READ"],
                **fields,
            }
        },
        token=token,
    )
    return data["apiKeyCreate"]


async def with_key(api, key: str, query: str, variables: dict | None = None) -> dict:
    """The response body of `query` sent with the key as a bearer token."""
    return await api.gql(query, variables, token=key)


async def code_with_key(api, key: str, query: str, variables: dict | None = None):
    return await api.error_code(query, variables, token=key)


async def state(api) -> dict[str, int]:
    """Row counts of every table a refused write could touch."""
    return {
        model.__name__: await api.count(model)
        for model in (
            Customer,
            Interaction,
            PartnerApp,
            ApiKey,
            StaffMember,
            AuditEvent,
            OutboxEvent,
        )
    }


async def key_row(api, prefix: str) -> ApiKey:
    async with api.db.transaction(write=False) as session:
        key = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    assert key is not None
    return key


async def set_key(api, raw: str, **values: Any) -> None:
    async with api.db.transaction() as session:
        await session.execute(
            update(ApiKey).where(ApiKey.prefix == raw[:12]).values(**values)
        )


async def audit(api, *actions: str) -> list[AuditEvent]:
    async with api.db.transaction(write=False) as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(actions))  # type: ignore[attr-defined]
            .order_by(AuditEvent.id)
        )
        return list(rows)


async def outbox(api) -> list[OutboxEvent]:
    async with api.db.transaction(write=False) as session:
        return list(await session.scalars(select(OutboxEvent)))


# --- issuing keys ---------------------------------------------------------------------


async def test_an_admin_issues_a_key_that_works_as_bearer_and_as_x_api_key(api):
    admin_id, admin = await api.staff("admin")
    await api.customer(email="ada@example.com")
    app_id = await create_app(api, admin)

    payload = await create_key(
        api, admin, app_id, scopes=["CUSTOMERS_READ", "CUSTOMERS_READ"]
    )
    assert payload["errors"] == []
    raw = payload["key"]
    assert KEY_RE.match(raw), raw
    issued = payload["apiKey"]
    assert issued["prefix"] == raw[:12]
    assert issued["scopes"] == ["CUSTOMERS_READ"]  # duplicates folded
    assert issued["status"] == "ACTIVE"
    assert issued["partnerApp"] == {"name": "Shopify sync"}
    assert issued["expiresAt"] is None and issued["lastUsedAt"] is None

    bearer = await api.data(CUSTOMERS, token=raw)
    assert bearer["customers"]["nodes"] == [{"email": "ada@example.com"}]
    header = await api.raw(CUSTOMERS, headers={"X-Api-Key": raw})
    assert header.status_code == 200
    assert header.json() == {"data": bearer}

    # The trail names the admin, and holds the prefix but never the secret.
    rows = await audit(api, "partner_app.created", "api_key.created")
    assert [(r.action, r.actor_ref) for r in rows] == [
        ("partner_app.created", f"staff:{admin_id}"),
        ("api_key.created", f"staff:{admin_id}"),
    ]
    assert rows[1].changes["prefix"] == {"before": None, "after": raw[:12]}
    assert rows[1].changes["scopes"] == {"before": None, "after": ["customers:read"]}
    secret = raw[13:]
    digest = hashlib.sha256(raw.encode()).hexdigest()
    written = orjson.dumps(
        [r.changes for r in rows] + [o.payload for o in await outbox(api)]
    ).decode()
    assert secret not in written and digest not in written


async def test_the_key_is_shown_once_and_only_its_hash_is_kept(api):
    _, admin = await api.staff("admin")
    app_id = await create_app(api, admin)
    raw = (await create_key(api, admin, app_id))["key"]

    listed = await api.raw(APPS, token=admin)
    assert raw[13:] not in listed.text
    apps = listed.json()["data"]["partnerApps"]
    assert apps["totalCount"] == 1
    [key] = apps["nodes"][0]["apiKeys"]
    assert key["prefix"] == raw[:12]
    assert set(key) == {
        "id",
        "prefix",
        "name",
        "scopes",
        "status",
        "createdBy",
        "createdAt",
        "expiresAt",
        "revokedAt",
        "lastUsedAt",
    }

    stored = await key_row(api, raw[:12])
    assert stored.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    columns = [str(getattr(stored, c)) for c in ApiKey.model_fields]
    assert not any(raw[13:] in value for value in columns)
    # No field of the schema could return it either.
    introspected = await api.data(
        '{ __type(name: "ApiKey") { fields { name } } }', token=admin
    )
    names = {f["name"] for f in introspected["__type"]["fields"]}
    assert not names & {"key", "secret", "secretHash", "hash"}


async def test_key_input_is_validated_with_codes_and_writes_nothing(api):
    _, admin = await api.staff("admin")
    app_id = await create_app(api, admin)
    before = await state(api)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    cases = [
        ({"scopes": []}, [("scopes", "REQUIRED")]),
        ({"name": "x" * 201}, [("name", "TOO_LONG")]),
        ({"name": "  "}, [("name", "REQUIRED")]),
        ({"expiresAt": past}, [("expiresAt", "OUT_OF_RANGE")]),
        ({"expiresAt": "2030-01-01T00:00:00"}, [("expiresAt", "INVALID")]),
        (
            {"name": "", "scopes": [], "expiresAt": past},
            [
                ("name", "REQUIRED"),
                ("scopes", "REQUIRED"),
                ("expiresAt", "OUT_OF_RANGE"),
            ],
        ),
    ]
    for fields, errors in cases:
        payload = await create_key(api, admin, app_id, **fields)
        assert payload["key"] is None and payload["apiKey"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == errors
    # An unknown scope cannot even be sent: the enum refuses it.
    code = await api.error_code(
        KEY_CREATE,
        {"input": {"partnerAppId": app_id, "name": "n", "scopes": ["STAFF_MANAGE"]}},
        token=admin,
    )
    assert code == "GRAPHQL_VALIDATION_FAILED"
    missing = await api.error_code(
        KEY_CREATE,
        {
            "input": {
                "partnerAppId": to_global_id("PartnerApp", 999),
                "name": "n",
                "scopes": ["CUSTOMERS_READ"],
            }
        },
        token=admin,
    )
    assert missing == "NOT_FOUND"
    assert await state(api) == before

    duplicate = await api.data(
        APP_CREATE, {"input": {"name": "SHOPIFY sync"}}, token=admin
    )
    assert duplicate["partnerAppCreate"]["errors"] == [
        {
            "field": "name",
            "code": "DUPLICATE",
            "message": "An active partner app has this name.",
        }
    ]
    assert await state(api) == before

    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    payload = await create_key(api, admin, app_id, expiresAt=future)
    assert payload["errors"] == []
    assert payload["apiKey"]["expiresAt"] is not None


# --- who may manage partners ----------------------------------------------------------


MANAGEMENT = [
    (APPS, None),
    (APP_CREATE, {"input": {"name": "Sneaky"}}),
    (APP_ARCHIVE, "app"),
    (KEY_CREATE, "key_input"),
    (KEY_REVOKE, "key"),
]


async def test_only_admins_manage_partner_apps_and_keys(api):
    _, admin = await api.staff("admin")
    app_id = await create_app(api, admin)
    payload = await create_key(api, admin, app_id)
    raw, key_id = payload["key"], payload["apiKey"]["id"]
    everything = await api.partner_key(
        ["customers:read", "customers:write", "interactions:read", "interactions:write"]
    )
    variables = {
        "app": {"id": app_id},
        "key": {"id": key_id},
        "key_input": {
            "input": {
                "partnerAppId": app_id,
                "name": "mine now",
                "scopes": ["CUSTOMERS_WRITE"],
            }
        },
    }
    callers = [(await api.staff(role))[1] for role in ("manager", "agent", "analyst")]
    before = await state(api)
    for token in [*callers, raw, everything]:
        for query, which in MANAGEMENT:
            sent = variables[which] if isinstance(which, str) else which
            assert await api.error_code(query, sent, token=token) == "FORBIDDEN"
    assert await api.error_code(APPS) == "UNAUTHENTICATED"
    assert await state(api) == before
    assert (await key_row(api, raw[:12])).revoked_at is None


# --- refusing keys --------------------------------------------------------------------


async def test_a_revoked_key_is_refused_from_the_next_request_on(api):
    _, admin = await api.staff("admin")
    app_id = await create_app(api, admin)
    payload = await create_key(api, admin, app_id)
    raw, key_id = payload["key"], payload["apiKey"]["id"]
    assert "errors" not in await with_key(api, raw, CUSTOMERS)

    revoked = (await api.data(KEY_REVOKE, {"id": key_id}, token=admin))["apiKeyRevoke"]
    assert revoked["errors"] == []
    assert revoked["apiKey"]["status"] == "REVOKED"
    assert revoked["apiKey"]["revokedAt"] is not None

    body = await with_key(api, raw, CUSTOMERS)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["message"] == "This API key was revoked."
    header = (await api.raw(CUSTOMERS, headers={"X-Api-Key": raw})).json()
    assert header["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # Revoking again changes nothing, and is audited once.
    again = (await api.data(KEY_REVOKE, {"id": key_id}, token=admin))["apiKeyRevoke"]
    assert again["apiKey"]["revokedAt"] == revoked["apiKey"]["revokedAt"]
    assert [r.action for r in await audit(api, "api_key.revoked")] == [
        "api_key.revoked"
    ]


async def test_an_expired_key_is_refused(api):
    raw = await api.partner_key(
        ["customers:read"], expires_at=utcnow() + timedelta(hours=1)
    )
    assert "errors" not in await with_key(api, raw, CUSTOMERS)
    await set_key(api, raw, expires_at=utcnow() - timedelta(seconds=1))
    body = await with_key(api, raw, CUSTOMERS)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["message"] == "This API key has expired."


async def test_archiving_an_app_refuses_all_its_keys(api):
    _, admin = await api.staff("admin")
    app_id = await create_app(api, admin)
    first = (await create_key(api, admin, app_id))["key"]
    second = (await create_key(api, admin, app_id, name="staging"))["key"]
    other = await api.partner_key(["customers:read"], name="Other app")

    archived = (await api.data(APP_ARCHIVE, {"id": app_id}, token=admin))[
        "partnerAppArchive"
    ]
    assert archived["partnerApp"]["archived"] is True
    assert {k["status"] for k in archived["partnerApp"]["apiKeys"]} == {"APP_ARCHIVED"}

    for raw in (first, second):
        body = await with_key(api, raw, CUSTOMERS)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert body["errors"][0]["message"] == "This API key's partner app is archived."
    assert "errors" not in await with_key(api, other, CUSTOMERS)

    # An archived app gets no new key; archiving twice changes nothing.
    before = await state(api)
    refused = await create_key(api, admin, app_id)
    assert refused["key"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        ("partnerAppId", "ARCHIVED")
    ]
    again = (await api.data(APP_ARCHIVE, {"id": app_id}, token=admin))[
        "partnerAppArchive"
    ]
    assert again["partnerApp"]["archivedAt"] == archived["partnerApp"]["archivedAt"]
    assert await state(api) == before
    assert len(await audit(api, "partner_app.archived")) == 1


async def test_wrong_secrets_unknown_prefixes_and_junk_are_refused_alike(api):
    raw = await api.partner_key(["customers:read"])
    other = await api.partner_key(["customers:read"])
    flipped = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    refused = [
        flipped,  # valid prefix, tampered secret
        raw[:13] + other[13:],  # valid prefix, another key's secret
        other[:13] + raw[13:],  # another prefix with this secret
        "mut_00000000_" + raw[13:],  # unknown prefix
        raw[:12],  # prefix alone
        raw[:13],  # no secret
        raw + "x",
        "mut_",
        "mut_zzzzzzzz_secret",
        "mut_" + "a" * 300,
        raw + "\u00e9",
    ]
    messages = set()
    for credential in refused:
        for headers in (
            {"Authorization": f"Bearer {credential}".encode()},
            {"X-Api-Key": credential.encode()},
        ):
            response = await api.raw(CUSTOMERS, headers=headers)
            assert response.status_code == 200, credential
            body = response.json()
            assert body["data"] is None
            [error] = body["errors"]
            assert error["extensions"]["code"] == "UNAUTHENTICATED", credential
            messages.add(error["message"])
    assert messages == {"The API key is not valid."}
    # Not a key at all (keys start with lower-case mut_): refused as a bad token.
    assert await code_with_key(api, raw.upper(), CUSTOMERS) == "UNAUTHENTICATED"
    assert "errors" not in await with_key(api, raw, CUSTOMERS)


# --- last use -------------------------------------------------------------------------


async def test_last_use_is_recorded_at_most_once_a_minute(api):
    _, admin = await api.staff("admin")
    app_id = await create_app(api, admin)
    raw = (await create_key(api, admin, app_id))["key"]
    assert (await key_row(api, raw[:12])).last_used_at is None

    await with_key(api, raw, CUSTOMERS)
    used = (await key_row(api, raw[:12])).last_used_at
    assert used is not None and utcnow() - used < timedelta(seconds=10)
    [key] = (await api.data(APPS, token=admin))["partnerApps"]["nodes"][0]["apiKeys"]
    assert key["lastUsedAt"] is not None

    # Within the minute, nothing is written; past it, the time moves on.
    recent = utcnow() - timedelta(seconds=30)
    await set_key(api, raw, last_used_at=recent)
    await with_key(api, raw, CUSTOMERS)
    assert (await key_row(api, raw[:12])).last_used_at == recent
    stale = utcnow() - timedelta(seconds=61)
    await set_key(api, raw, last_used_at=stale)
    await with_key(api, raw, CUSTOMERS)
    assert (await key_row(api, raw[:12])).last_used_at > stale + timedelta(seconds=30)


async def test_a_key_costs_one_lookup_and_a_write_at_most_once_a_minute(api):
    raw = await api.partner_key(["customers:read"])
    with recording(api.db) as first:
        await with_key(api, raw, CUSTOMERS)
    with recording(api.db) as second:
        await with_key(api, raw, CUSTOMERS)
    lookups = [s for s in second if "FROM api_key" in s]
    assert len(lookups) == 1
    assert [s for s in first if s.lstrip().startswith("UPDATE api_key")]
    assert not [s for s in second if s.lstrip().startswith("UPDATE")]


async def test_listing_apps_loads_their_keys_in_one_statement(api):
    _, admin = await api.staff("admin")
    counts = []
    for apps in (1, 4):
        while await api.count(PartnerApp) < apps:
            await api.partner_key(["customers:read"], name=f"App {apps}")
        with recording(api.db) as statements:
            listed = await api.data(APPS, token=admin)
        assert len(listed["partnerApps"]["nodes"]) == apps
        counts.append(len([s for s in statements if "api_key" in s]))
    assert counts == [1, 1]


async def test_a_failing_last_use_update_does_not_fail_the_request(api, monkeypatch):
    raw = await api.partner_key(["customers:read"])
    await api.customer(email="ada@example.com")

    reads = api.db.transaction

    def no_writes(*, write: bool = True) -> Any:
        if write:
            raise RuntimeError("database is locked")
        return reads(write=write)

    monkeypatch.setattr(api.db, "transaction", no_writes)
    monkeypatch.setattr(service.logger, "disabled", True)
    body = await with_key(api, raw, CUSTOMERS)
    monkeypatch.undo()
    assert body == {
        "data": {
            "customers": {"totalCount": 1, "nodes": [{"email": "ada@example.com"}]}
        }
    }
    assert (await key_row(api, raw[:12])).last_used_at is None


# --- a key does no more than its scopes -----------------------------------------------


async def test_a_read_only_key_reads_customers_and_nothing_else(api):
    ada = await api.customer(email="ada@example.com")
    await api.interaction(ada, subject="Hello")
    owner_id, _ = await api.staff("agent")
    raw = await api.partner_key(["customers:read"])
    assert (await api.data(CUSTOMERS, token=raw))["customers"]["totalCount"] == 1
    one = await api.data(
        "query($id: ID!) { customer(id: $id) { email } }",
        {"id": to_global_id("Customer", ada)},
        token=raw,
    )
    assert one["customer"] == {"email": "ada@example.com"}

    before = await state(api)
    refused = [
        (CUSTOMER_CREATE, {"input": {"email": "new@example.com"}}),
        (UPSERT, {"rows": [{"email": "new@example.com"}]}),
        (
            LOG,
            {
                "input": {
                    "customerId": to_global_id("Customer", ada),
                    "channel": "EMAIL",
                    "direction": "INBOUND",
                    "kind": "SUPPORT",
                }
            },
        ),
        ("{ interactions { totalCount } }", None),
        ("{ customers { nodes { interactions { totalCount } } } }", None),
        (
            "{ customers(where: {interactions: {some: {kind: {eq: SUPPORT}}}}) "
            "{ totalCount } }",
            None,
        ),
        ("{ customers { nodes { auditTrail { totalCount } } } }", None),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": to_global_id("StaffMember", owner_id)},
        ),
        (ARCHIVE_CUSTOMER, {"id": to_global_id("Customer", ada)}),
    ]
    for query, variables in refused:
        assert await code_with_key(api, raw, query, variables) == "FORBIDDEN", query
    assert await state(api) == before


async def test_a_key_cannot_read_staff_members_through_customer_owners(api):
    owner_id, _ = await api.staff("agent")
    await api.customer(email="ada@example.com", owner_id=owner_id)
    raw = await api.partner_key(["customers:read"])
    # Like other fields a caller may not read on a firm type, the owner is null.
    query = "{ customers { nodes { owner { email role } } } }"
    data = await api.data(query, token=raw)
    assert data["customers"]["nodes"] == [{"owner": None}]
    where = "{ customers(where: {owner: {isNull: false}}) { totalCount } }"
    assert await code_with_key(api, raw, where) == "FORBIDDEN"


async def test_a_key_with_write_scope_creates_and_upserts_as_the_partner(api):
    raw = await api.partner_key(["customers:read", "customers:write"], name="Shop")
    async with api.db.transaction(write=False) as session:
        partner_id = await session.scalar(select(PartnerApp.id))

    created = await api.data(
        CUSTOMER_CREATE, {"input": {"email": "ada@example.com"}}, token=raw
    )
    assert created["customerCreate"]["errors"] == []
    upserted = await api.data(
        UPSERT,
        {
            "rows": [
                {"email": "ada@example.com", "company": "Analytical"},
                {"email": "bob@example.com"},
            ]
        },
        token=raw,
    )
    assert upserted["customersUpsert"] == {"created": 1, "updated": 1, "errors": []}
    assert await api.count(Customer) == 2

    rows = await audit(api, "customer.created", "customer.updated")
    assert len(rows) == 3
    assert {(r.actor_kind, r.actor_ref, r.actor_label) for r in rows} == {
        ("partner", f"partner:{partner_id}", "Shop")
    }
    # A customers:write key still cannot archive, merge or read interactions.
    cid = created["customerCreate"]["customer"]["id"]
    before = await state(api)
    for query, variables in (
        (ARCHIVE_CUSTOMER, {"id": cid}),
        ("{ interactions { totalCount } }", None),
    ):
        assert await code_with_key(api, raw, query, variables) == "FORBIDDEN"
    assert await state(api) == before


async def test_interactions_logged_by_a_partner_have_the_partner_source(api):
    ada = await api.customer(email="ada@example.com")
    raw = await api.partner_key(["customers:read", "interactions:write"], name="Desk")
    async with api.db.transaction(write=False) as session:
        partner_id = await session.scalar(select(PartnerApp.id))
    data = await api.data(
        LOG,
        {
            "input": {
                "customerId": to_global_id("Customer", ada),
                "channel": "EMAIL",
                "direction": "INBOUND",
                "kind": "SUPPORT",
                "subject": "Ticket 42",
            }
        },
        token=raw,
    )
    payload = data["interactionLog"]
    assert payload["errors"] == []
    assert payload["interaction"]["source"] == "PARTNER"
    assert payload["interaction"]["recordedBy"] == f"partner:{partner_id}"
    [row] = await audit(api, "interaction.logged")
    assert (row.actor_kind, row.actor_ref) == ("partner", f"partner:{partner_id}")


# --- the CLI --------------------------------------------------------------------------


def mutual(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", url, *args])


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch):
    """Run `mutual` against the test database, in a thread (it runs its own loop)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUTUAL_SECRET_KEY", "a secret for the cli tests, long enough")
    monkeypatch.delenv("MUTUAL_DATABASE_URL", raising=False)

    async def run(*args: str) -> Result:
        return await asyncio.to_thread(mutual, database_url, *args)

    return run


async def test_the_cli_creates_lists_and_revokes_keys(api, cli):
    await api.customer(email="ada@example.com")
    created = await cli(
        "apikey",
        "create",
        "--partner",
        "Zapier",
        "--name",
        "prod",
        "--scope",
        "customers:read",
        "--scope",
        "interactions:read",
        "--expires-days",
        "30",
    )
    assert created.exit_code == 0, created.output
    raw = created.stdout.strip()
    assert KEY_RE.match(raw), created.stdout
    assert "Created partner app" in created.stderr
    assert raw[:12] in created.stderr and raw[13:] not in created.stderr
    assert "errors" not in await with_key(api, raw, CUSTOMERS)
    stored = await key_row(api, raw[:12])
    assert sorted(stored.scopes) == ["customers:read", "interactions:read"]
    assert stored.expires_at is not None
    assert timedelta(days=29) < stored.expires_at - utcnow() <= timedelta(days=30)
    assert stored.created_by == "system:cli"

    # The same name (any case) reuses the app; an ID works too.
    second = await cli(
        "apikey",
        "create",
        "--partner",
        "zapier",
        "--name",
        "staging",
        "--scope",
        "customers:write",
    )
    assert second.exit_code == 0, second.output
    assert "Created partner app" not in second.stderr
    by_id = await cli(
        "apikey",
        "create",
        "--partner",
        str(stored.partner_app_id),
        "--name",
        "ci",
        "--scope",
        "customers:read",
    )
    assert by_id.exit_code == 0, by_id.output
    assert await api.count(PartnerApp) == 1
    assert await api.count(ApiKey) == 3

    listing = await cli("apikey", "list")
    assert listing.exit_code == 0, listing.output
    assert raw[:12] in listing.output and raw[13:] not in listing.output
    assert "Zapier" in listing.output and "active" in listing.output

    revoked = await cli("apikey", "revoke", raw[:12])
    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked API key {raw[:12]}" in revoked.output
    body = await with_key(api, raw, CUSTOMERS)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "revoked" in (await cli("apikey", "list")).output
    actions = [
        (r.action, r.actor_ref)
        for r in await audit(
            api, "partner_app.created", "api_key.created", "api_key.revoked"
        )
    ]
    assert actions == [
        ("partner_app.created", "system:cli"),
        ("api_key.created", "system:cli"),
        ("api_key.created", "system:cli"),
        ("api_key.created", "system:cli"),
        ("api_key.revoked", "system:cli"),
    ]


async def test_cli_refusals_are_clean(api, cli):
    unknown = await cli("apikey", "revoke", "mut_00000000")
    assert unknown.exit_code == 1
    assert "No API key with prefix 'mut_00000000'." in unknown.output
    bad_scope = await cli(
        "apikey", "create", "--partner", "X", "--name", "n", "--scope", "staff:manage"
    )
    assert bad_scope.exit_code == 2
    no_scope = await cli("apikey", "create", "--partner", "X", "--name", "n")
    assert no_scope.exit_code == 2
    no_app = await cli(
        "apikey",
        "create",
        "--partner",
        "4242",
        "--name",
        "n",
        "--scope",
        "customers:read",
    )
    assert no_app.exit_code == 1 and "No partner app with ID 4242" in no_app.output
    long_name = await cli(
        "apikey",
        "create",
        "--partner",
        "X",
        "--name",
        "n" * 201,
        "--scope",
        "customers:read",
    )
    assert long_name.exit_code == 1 and "at most 200" in long_name.output
    for result in (unknown, bad_scope, no_scope, no_app, long_name):
        assert "Traceback" not in result.output
        assert result.stdout == "" or "Usage" in result.output
    assert await api.count(PartnerApp) == 0 and await api.count(ApiKey) == 0
    assert (await cli("apikey", "list")).output.strip() == "No API keys."


async def test_node_fetches_partner_apps_and_keys_for_admins_only(api):
    _, admin = await api.staff("admin")
    _, manager = await api.staff("manager")
    created = await api.data(
        """mutation {
             partnerAppCreate(input: {name: "Shop"}) { partnerApp { id } } }""",
        token=admin,
    )
    app_id = created["partnerAppCreate"]["partnerApp"]["id"]
    key = await api.data(
        """mutation($app: ID!) { apiKeyCreate(input: {partnerAppId: $app, name: "k",
             scopes: [CUSTOMERS_READ]}) { apiKey { id } } }""",
        {"app": app_id},
        token=admin,
    )
    key_id = key["apiKeyCreate"]["apiKey"]["id"]
    query = """query($id: ID!) { node(id: $id) {
        ... on PartnerApp { name } ... on ApiKey { prefix partnerApp { name } } } }"""
    assert (await api.data(query, {"id": app_id}, token=admin))["node"] == {
        "name": "Shop"
    }
    found = (await api.data(query, {"id": key_id}, token=admin))["node"]
    assert found["partnerApp"] == {"name": "Shop"} and found["prefix"].startswith(
        "mut_"
    )
    assert await api.error_code(query, {"id": app_id}, token=manager) == "FORBIDDEN"
