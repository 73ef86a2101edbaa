"""Per request, only what the request needs: one pool checkout, one transaction
(the credentials are looked up inside it), documents parsed and validated once,
and a connection the server dropped replaced rather than failing requests."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import make_url

from crm.columns import utcnow
from crm.db import Database
from crm.ids import to_global_id
from crm.partners.models import ApiKey
from crm.staff.models import StaffMember
from schema.limits import limits_rule

CUSTOMER = "query($id: ID!) { customer(id: $id) { id displayName email } }"
CUSTOMERS = "{ customers(first: 5) { nodes { email } } }"
PROFILE = "{ me { profile { email } } }"
CREATE = (
    'mutation { customerCreate(input: {email: "new@example.com"}) { customer { id } } }'
)
VIEWER = "{ viewer { email } }"


@contextmanager
def connection_use(database: Database) -> Iterator[Counter[str]]:
    """Pool checkouts and BEGINs on `database` (both engines) while the block runs."""
    counts: Counter[str] = Counter()

    def on(name: str) -> Any:
        def hook(*_args: Any) -> None:
            counts[name] += 1

        return hook

    engines = {id(e): e for e in (database.read_engine, database.write_engine)}
    hooks = [
        (engine.sync_engine.pool, "checkout", on("checkouts"))
        for engine in engines.values()
    ] + [(engine.sync_engine, "begin", on("begins")) for engine in engines.values()]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield counts
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)


async def test_a_staff_read_checks_out_one_connection_and_begins_once(api):
    _, token = await api.staff("manager")
    customer = to_global_id("Customer", await api.customer(email="ada@example.com"))
    await api.data(CUSTOMER, {"id": customer}, token=token)  # warm
    with connection_use(api.db) as counts:
        data = await api.data(CUSTOMER, {"id": customer}, token=token)
    assert data["customer"]["email"] == "ada@example.com"
    assert counts == {"checkouts": 1, "begins": 1}


async def test_a_mutation_authenticates_inside_its_write_transaction(api):
    _, token = await api.staff("manager")
    with connection_use(api.db) as counts:
        await api.data(CREATE, token=token)
    assert counts == {"checkouts": 1, "begins": 1}
    if api.db.sqlite:
        # On SQLite that one transaction is the writer's (BEGIN IMMEDIATE).
        writes: list[object] = []

        def checkout(*_args: object) -> None:
            writes.append(_args)

        pool = api.db.write_engine.sync_engine.pool
        event.listen(pool, "checkout", checkout)
        try:
            await api.data(CREATE.replace("new@", "newer@"), token=token)
        finally:
            event.remove(pool, "checkout", checkout)
        assert len(writes) == 1


async def test_customer_tokens_and_api_keys_share_the_operations_transaction(api):
    customer_id = await api.customer(email="ada@example.com")
    customer_token = api.customer_token(customer_id)
    raw = await api.partner_key(["customers:read"])
    await api.data(CUSTOMERS, token=raw)  # records the key's first use
    for query, token in ((PROFILE, customer_token), (CUSTOMERS, raw)):
        with connection_use(api.db) as counts:
            await api.data(query, token=token)
        assert counts == {"checkouts": 1, "begins": 1}, query


async def test_a_key_use_due_is_recorded_after_the_request_in_its_own_write(api):
    raw = await api.partner_key(["customers:read"])
    async with api.db.transaction() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.prefix == raw[:12])  # type: ignore[arg-type]
            .values(last_used_at=utcnow() - timedelta(minutes=5))
        )
    with connection_use(api.db) as counts:
        await api.data(CUSTOMERS, token=raw)
    # The request's read transaction, then the bookkeeping's own short write.
    assert counts == {"checkouts": 2, "begins": 2}


async def test_refused_credentials_cost_no_connection_and_answer_as_before(api):
    staff_id, token = await api.staff("manager")
    expired = api.app.state.signer.issue(f"staff:{staff_id}", ttl=timedelta(seconds=-1))
    with connection_use(api.db) as counts:
        body = await api.gql(VIEWER, token=expired.token)
        malformed = await api.gql(VIEWER, token="not-a-token")
    assert counts == {}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in body["errors"][0]["message"]
    assert malformed["errors"][0]["message"] == "The token is not valid."

    async with api.db.transaction() as session:
        await session.execute(
            update(StaffMember)
            .where(StaffMember.id == staff_id)  # type: ignore[arg-type]
            .values(archived_at=utcnow())
        )
    with connection_use(api.db) as counts:
        archived = await api.gql(VIEWER, token=token)
    assert counts == {"checkouts": 1, "begins": 1}
    assert archived["errors"][0] == {
        "message": "This staff account is no longer active.",
        "locations": [{"line": 1, "column": 3}],
        "path": ["viewer"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


async def test_a_repeated_document_is_parsed_and_validated_once(api):
    _, token = await api.staff("manager")
    customer = to_global_id("Customer", await api.customer(email="ada@example.com"))
    document = CUSTOMER.replace("email", "email lifecycleStage")
    checked = api.app.state.schema.documents.checked
    measured: list[object] = []
    rule = limits_rule(max_depth=12, max_aliases=30, max_cost=50_000)
    original = rule.enter_document

    def counting(self: Any, *args: Any) -> None:
        measured.append(self.context.document)
        original(self, *args)

    rule.enter_document = counting  # type: ignore[method-assign]
    try:
        await api.data(document, {"id": customer}, token=token)
        first = checked.cache_info()
        for _ in range(3):
            await api.data(document, {"id": customer}, token=token)
    finally:
        rule.enter_document = original  # type: ignore[method-assign]
    assert len(measured) == 1
    assert checked.cache_info().misses == first.misses
    assert checked.cache_info().hits == first.hits + 3


# --- a connection the server dropped ----------------------------------------------


async def _terminate_connections(url: str, *, wait: bool) -> int:
    """End every server process connected to the test database, as a restart would."""
    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database="postgres"
    )
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid, $1)) FROM pg_stat_activity "
            "WHERE datname = $2 AND pid <> pg_backend_pid()",
            5000 if wait else 0,
            parsed.database,
        )
    finally:
        await admin.close()
    if wait:
        await asyncio.sleep(0.05)  # the client reads the closed sockets
    return int(ended)


@pytest.mark.parametrize("wait", [True, False], ids=["closed", "closing"])
async def test_requests_recover_when_the_server_drops_the_connections(
    api, wait, caplog
):
    if api.db.sqlite:
        pytest.skip("a PostgreSQL server's connections")
    _, token = await api.staff("manager")
    sign_in = (
        'mutation { tokenCreate(input: {email: "nobody@staff.test", '
        'password: "not the password"}) { token errors { code } } }'
    )
    for query, credentials in ((VIEWER, token), (sign_in, None)):
        for _ in range(2):
            await api.data(VIEWER, token=token)
            assert await _terminate_connections(api.db.url, wait=wait) >= 1
            body = await api.gql(query, token=credentials)
            if body.get("errors"):
                # Died under the first statement of an anonymous mutation: nothing
                # to retry safely, so a clear code (never a hang, never a 500).
                assert not wait and credentials is None
                codes = {e["extensions"]["code"] for e in body["errors"]}
                assert codes == {"DATABASE_UNAVAILABLE"}
            else:
                assert body["data"]
            # The pool is whole again.
            assert (await api.data(VIEWER, token=token))["viewer"]["email"]


# --- WebSocket ---------------------------------------------------------------------


def _over_websocket(url: str, secret: str, token: str | None, query: str) -> dict:
    """One operation over graphql-transport-ws, on an app of its own (the test
    client runs it on another event loop, where the suite's pool cannot go)."""
    from starlette.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    settings = Settings(database_url=url, secret_key=secret, environment="development")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with (
        TestClient(create_app(settings)) as client,
        client.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers=headers
        ) as socket,
    ):
        socket.send_json({"type": "connection_init"})
        assert socket.receive_json()["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        message = socket.receive_json()
        assert message["id"] == "1"
        return message


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
async def test_a_websocket_connection_authenticates_when_it_opens(api):
    _, token = await api.staff("manager")
    url = api.db.url
    secret = api.app.state.signer.secret
    answered = await asyncio.to_thread(_over_websocket, url, secret, token, VIEWER)
    assert answered["type"] == "next"
    assert answered["payload"]["data"]["viewer"]["email"].endswith("@staff.test")
    refused = await asyncio.to_thread(
        _over_websocket, url, secret, "not-a-token", VIEWER
    )
    [error] = refused["payload"]["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == "The token is not valid."
