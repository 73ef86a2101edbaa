"""The HTTP edge: probes, metrics, and requests that are not well-formed GraphQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.app import create_app
from api.settings import Settings
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.ids import to_global_id

CREATE = (
    'mutation { customerCreate(input: {email: "x@example.com"}) { customer { id } } }'
)


def error_code(response: httpx.Response) -> str:
    """The code of the one error of a JSON error response."""
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    return error["extensions"]["code"]


async def post(api, content: bytes, **headers: str) -> httpx.Response:
    return await api.http.post(
        "/graphql",
        content=content,
        headers={"content-type": "application/json", **headers},
    )


# --- probes and metrics ----------------------------------------------------------


async def test_health_and_readiness_on_a_migrated_database(api):
    health = await api.http.get("/healthz")
    assert (health.status_code, health.text) == (200, "ok")
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True}


async def readiness_of(url: str) -> httpx.Response:
    app = create_app(Settings(database_url=url, secret_key="k" * 32))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        try:
            return await http.get("/readyz")
        finally:
            await app.state.database.dispose()


async def test_readiness_reports_pending_migrations_and_an_unreachable_database(
    tmp_path: Path,
):
    empty = await readiness_of(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert empty.status_code == 503
    assert empty.json() == {"ready": False, "reason": "migrations pending"}
    missing = await readiness_of(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir.db")
    assert missing.status_code == 503
    assert missing.json() == {"ready": False, "reason": "database unreachable"}


async def test_metrics_count_requests_by_method_path_and_status(api):
    await api.http.get("/healthz")
    await api.raw("{ __typename }")
    await api.http.request("BREW", "/graphql")
    await api.http.get("/no/such/path")
    metrics = await api.http.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert "# TYPE mutual_http_requests_total counter" in text
    assert (
        'mutual_http_requests_total{method="POST",path="/graphql",status="200"}' in text
    )
    assert (
        'mutual_http_requests_total{method="GET",path="/healthz",status="200"}' in text
    )
    # Label values a client controls are folded into a fixed set.
    assert 'method="OTHER",path="/graphql",status="405"' in text
    assert 'path="other",status="404"' in text
    assert "BREW" not in text and "/no/such/path" not in text
    assert "mutual_http_request_seconds_count" in text


# --- bodies that are not a GraphQL request ---------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"{nope",
        b"",
        b"[" * 100_000,
        b'{"query": "{ __typename }", "variables": '
        + b'{"a": ' * 100_000
        + b"1"
        + b"}" * 100_001,
        b'"just a string"',
        b"42",
        b"null",
        b'{"query": "{ __typename }", "x": 1e400}',
        b'{"query": "\xff\xfe"}',
        b'{"query": 5}',
        b'{"query": "{ __typename }", "variables": []}',
        b'{"query": "{ __typename }", "extensions": "x"}',
        b"{}",
        b'{"query": "query A { __typename } query B { __typename }", '
        b'"operationName": "C"}',
    ],
    ids=[
        "malformed",
        "empty",
        "100k brackets",
        "100k nested objects",
        "a string",
        "a number",
        "null",
        "number overflow",
        "not UTF-8",
        "query not a string",
        "variables not an object",
        "extensions not an object",
        "no query",
        "unknown operation name",
    ],
)
async def test_a_body_that_is_not_a_graphql_request_is_a_400(api, content):
    response = await post(api, content)
    assert response.status_code == 400
    assert error_code(response) == "BAD_REQUEST"


async def test_a_body_over_the_limit_is_a_413(api):
    limit = Settings().max_body_bytes
    query = b'{"query": "{ __typename }", "pad": "' + b" " * limit + b'"}'
    response = await post(api, query)
    assert response.status_code == 413
    assert error_code(response) == "PAYLOAD_TOO_LARGE"


async def test_a_streamed_body_over_the_limit_is_a_413_without_being_buffered(api):
    limit = Settings().max_body_bytes
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(limit // 65_536 + 50):
            sent += 65_536
            yield b" " * 65_536

    response = await api.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert error_code(response) == "PAYLOAD_TOO_LARGE"
    assert sent <= limit + 65_536  # refused on the chunk that crossed the limit


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"content-type": "text/plain"}, 400, "BAD_REQUEST"),
        ({"content-type": "application/x-www-form-urlencoded"}, 400, "BAD_REQUEST"),
        ({"content-length": "abc"}, 400, "BAD_REQUEST"),
    ],
)
async def test_bad_headers_are_answered_in_graphql_shape(api, headers, status, code):
    response = await post(api, b'{"query": "{ __typename }"}', **headers)
    assert response.status_code == status
    assert error_code(response) == code


# --- methods and batches ---------------------------------------------------------


async def test_get_runs_neither_queries_nor_mutations(api):
    _, token = await api.staff()
    auth = {"Authorization": f"Bearer {token}"}
    query = await api.http.get(
        "/graphql", params={"query": "{ __typename }"}, headers=auth
    )
    assert query.status_code == 400
    assert error_code(query) == "BAD_REQUEST"
    mutation = await api.http.get("/graphql", params={"query": CREATE}, headers=auth)
    assert mutation.status_code == 400
    assert error_code(mutation) == "BAD_REQUEST"
    assert await api.count(Customer) == 0


async def test_other_methods_are_a_json_405(api):
    for method in ("PUT", "DELETE", "PATCH"):
        response = await api.http.request(method, "/graphql", json={"query": CREATE})
        assert response.status_code == 405
        assert error_code(response) == "METHOD_NOT_ALLOWED"


async def test_batches_are_refused_and_run_nothing(api):
    _, token = await api.staff()
    for batch in ([{"query": CREATE}, {"query": CREATE}], [], [1, "x"]):
        response = await post(api, orjson.dumps(batch), Authorization=f"Bearer {token}")
        assert response.status_code == 400
        assert error_code(response) == "BAD_REQUEST"
    assert await api.count(Customer) == 0


# --- unexpected failures ---------------------------------------------------------


async def test_an_exception_in_a_resolver_is_masked_and_logged(
    api, monkeypatch, caplog
):
    _, token = await api.staff()
    customer_id = await api.customer(email="x@example.com")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail: password=hunter2")

    def broken_query(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail: password=hunter2")

    monkeypatch.setattr(customer_service, "get_customer", broken)
    monkeypatch.setattr(customer_service, "customer_query", broken_query)
    with caplog.at_level(logging.ERROR, logger="mutual.errors"):
        response = await api.raw(
            # A query text of its own: no statement planned for it is cached.
            "query BrokenResolver($id: ID!) { customer(id: $id) { id } }",
            {"id": to_global_id("Customer", customer_id)},
            token=token,
        )
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in response.text
    logged = [r for r in caplog.records if r.name == "mutual.errors"]
    assert logged and "hunter2" in str(logged[0].exc_info[1])


async def test_a_failing_commit_is_masked_and_writes_nothing(api, monkeypatch, caplog):
    _, token = await api.staff()

    async def broken_commit(self: AsyncSession) -> None:
        raise RuntimeError("secret detail: connection string")

    monkeypatch.setattr(AsyncSession, "commit", broken_commit)
    with caplog.at_level(logging.ERROR, logger="mutual.errors"):
        response = await api.raw(CREATE, token=token)
    monkeypatch.undo()
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret detail" not in response.text
    assert any(r.name == "mutual.errors" for r in caplog.records)
    assert await api.count(Customer) == 0


async def test_an_exception_outside_graphql_is_a_json_500_and_logged(
    api, monkeypatch, caplog
):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail: database down")

    monkeypatch.setattr("api.view.presented", broken)
    with caplog.at_level(logging.ERROR, logger="mutual.http"):
        response = await api.raw("{ __typename }")
    assert response.status_code == 500
    assert error_code(response) == "INTERNAL_SERVER_ERROR"
    assert "secret detail" not in response.text
    assert any(r.name == "mutual.http" for r in caplog.records)
