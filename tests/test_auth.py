"""Signing in and presenting credentials: every refusal is UNAUTHENTICATED (or a
payload error of tokenCreate), never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
)
from sqlalchemy import update

from crm.columns import utcnow
from crm.customers.models import Customer
from crm.staff import service as staff_service
from crm.staff.models import StaffMember
from crm.staff.throttle import SignInThrottle, sign_in_throttle
from schema import schema

PASSWORD = "correct horse battery staple"
SIGN_IN = """
mutation($email: String!, $password: String!) {
  tokenCreate(input: {email: $email, password: $password}) {
    token expiresAt staffMember { email role } errors { field code message }
  }
}"""
VIEWER = "{ viewer { email displayName role active } }"
ANOTHER_SECRET = "another secret, long enough for an HS256 key"


@pytest.fixture(autouse=True)
def fresh_throttle() -> Iterator[None]:
    sign_in_throttle.clear()
    yield
    sign_in_throttle.clear()


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: these tests hash and verify dozens of times."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(staff_service, "_hasher", hasher)
    monkeypatch.setattr(staff_service, "_DUMMY_HASH", hasher.hash("not-a-password"))


async def sign_in(api, email: str, password: str, **kwargs) -> dict:
    data = await api.data(SIGN_IN, {"email": email, "password": password}, **kwargs)
    return data["tokenCreate"]


# --- tokenCreate -----------------------------------------------------------------


async def test_the_right_password_gives_a_token_that_works(api):
    await api.staff("manager", email="ada@staff.test", password=PASSWORD)
    # Email matching ignores case and surrounding spaces.
    payload = await sign_in(api, "  ADA@staff.test ", PASSWORD)
    assert payload["errors"] == []
    assert payload["staffMember"] == {"email": "ada@staff.test", "role": "MANAGER"}
    assert payload["expiresAt"]
    viewer = await api.data(VIEWER, token=payload["token"])
    assert viewer["viewer"]["email"] == "ada@staff.test"
    assert viewer["viewer"]["active"] is True


async def test_wrong_password_and_unknown_email_are_refused_alike(api):
    await api.staff(email="ada@staff.test", password=PASSWORD)
    await api.staff(email="nopass@staff.test", password=None)
    refusals = [
        await sign_in(api, "ada@staff.test", "wrong password!"),
        await sign_in(api, "nobody@staff.test", PASSWORD),
        await sign_in(api, "nopass@staff.test", ""),
        await sign_in(api, "nopass@staff.test", PASSWORD),
        await sign_in(api, "", ""),
        await sign_in(api, "ada@staff.test\x00", PASSWORD),
        await sign_in(api, "x" * 10_000, "y" * 100_000),
    ]
    for payload in refusals:
        assert payload["token"] is None
        assert payload["staffMember"] is None
    # The same error, byte for byte: the answer does not tell emails apart.
    assert {str(payload["errors"]) for payload in refusals} == {
        str(
            [
                {
                    "field": None,
                    "code": "INVALID_CREDENTIALS",
                    "message": "Wrong email or password.",
                }
            ]
        )
    }


async def test_an_archived_member_can_neither_sign_in_nor_use_a_token(api):
    staff_id, token = await api.staff(email="gone@staff.test", password=PASSWORD)
    async with api.db.transaction() as session:
        await session.execute(
            update(StaffMember)
            .where(StaffMember.id == staff_id)
            .values(archived_at=utcnow())
        )
    payload = await sign_in(api, "gone@staff.test", PASSWORD)
    assert [e["code"] for e in payload["errors"]] == ["INVALID_CREDENTIALS"]
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_a_bad_token_does_not_stop_signing_in(api):
    await api.staff(email="ada@staff.test", password=PASSWORD)
    for header in ("Bearer not-a-token", "Basic YTpi", "Bearer"):
        response = await api.http.post(
            "/graphql",
            json={
                "query": SIGN_IN,
                "variables": {"email": "ada@staff.test", "password": PASSWORD},
            },
            headers={"Authorization": header},
        )
        assert response.status_code == 200
        assert response.json()["data"]["tokenCreate"]["token"]


# --- throttling failed sign-ins ------------------------------------------------


async def test_ten_failures_lock_that_email_from_that_address_for_a_while(api):
    await api.staff(email="ada@staff.test", password=PASSWORD)
    await api.staff(email="bob@staff.test", password=PASSWORD)
    for _ in range(10):
        payload = await sign_in(api, "ada@staff.test", "wrong password!")
        assert [e["code"] for e in payload["errors"]] == ["INVALID_CREDENTIALS"]

    # Even the right password is refused now, with RATE_LIMITED.
    payload = await sign_in(api, "Ada@Staff.test", PASSWORD)
    assert payload["token"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        (None, "RATE_LIMITED")
    ]
    assert "15 minutes" in payload["errors"][0]["message"]

    # Another email from this address, and this email from elsewhere, still work.
    assert (await sign_in(api, "bob@staff.test", PASSWORD))["token"]
    elsewhere = httpx.ASGITransport(app=api.app, client=("203.0.113.7", 4242))
    async with httpx.AsyncClient(
        transport=elsewhere, base_url="http://mutual.test"
    ) as http:
        response = await http.post(
            "/graphql",
            json={
                "query": SIGN_IN,
                "variables": {"email": "ada@staff.test", "password": PASSWORD},
            },
        )
    assert response.json()["data"]["tokenCreate"]["token"]


def test_the_throttle_window_slides_and_a_success_resets_it():
    now = [1000.0]
    throttle = SignInThrottle(max_failures=3, window=60, clock=lambda: now[0])
    key = throttle.key(" Ada@Staff.test ", "10.0.0.1")
    assert key == ("ada@staff.test", "10.0.0.1")
    for _ in range(3):
        assert throttle.retry_after(key) is None
        throttle.failed(key)
        now[0] += 10
    assert throttle.retry_after(key) == 30  # the first failure ages out at 1060
    now[0] = 1060
    assert throttle.retry_after(key) is None  # one failure left the window
    throttle.failed(key)
    assert throttle.retry_after(key) is not None
    throttle.succeeded(key)
    assert throttle.retry_after(key) is None


def test_the_throttle_forgets_the_least_recent_keys_past_its_size():
    throttle = SignInThrottle(max_failures=1, max_keys=100)
    for n in range(1000):
        throttle.failed(throttle.key(f"user{n}@example.com", "10.0.0.1"))
    assert throttle.retry_after(throttle.key("user999@example.com", "10.0.0.1"))
    assert throttle.retry_after(throttle.key("user0@example.com", "10.0.0.1")) is None
    assert len(throttle._failures) == 100


# --- every root field needs credentials ----------------------------------------


def literal(type_: GraphQLInputType) -> str:
    """A valid GraphQL literal of `type_`, so that only the gate can refuse."""
    if isinstance(type_, GraphQLNonNull):
        return literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return f"[{literal(type_.of_type)}]"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        fields = [
            f"{name}: {literal(field.type)}"
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        ]
        return "{" + ", ".join(fields) + "}"
    assert isinstance(type_, GraphQLScalarType)
    return {
        "Int": "1",
        "Float": "1.0",
        "Boolean": "true",
        "JSON": "{}",
        "Decimal": '"1"',
        "DateTime": '"2024-01-01T00:00:00+00:00"',
        "ID": '"Q3VzdG9tZXI6MQ"',
    }.get(type_.name, '"x"')


def operation(kind: str, name: str) -> str:
    graphql_schema = schema._schema
    root = (
        graphql_schema.mutation_type
        if kind == "mutation"
        else graphql_schema.query_type
    )
    assert root is not None
    field = root.fields[name]
    arguments = ", ".join(
        f"{arg}: {literal(spec.type)}"
        for arg, spec in field.args.items()
        if isinstance(spec.type, GraphQLNonNull)
    )
    call = f"{name}({arguments})" if arguments else name
    leaf = isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)
    selection = "" if leaf else " { __typename }"
    return f"{kind} {{ {call}{selection} }}"


# Sign-in mutations: the caller has no credentials yet (reasons in
# tests/test_schema_contract.py PUBLIC_FIELDS).
PUBLIC = {
    ("mutation", "tokenCreate"),
    ("mutation", "customerLoginCodeRequest"),
    ("mutation", "customerTokenCreate"),
}
ROOT_FIELDS = [
    (kind, name)
    for kind, root in (
        ("query", schema._schema.query_type),
        ("mutation", schema._schema.mutation_type),
    )
    if root is not None
    for name in root.fields
    if (kind, name) not in PUBLIC
]


async def test_anonymous_callers_are_unauthenticated_on_every_root_field(api):
    await api.customer(email="kept@example.com")
    before = await api.count(Customer)
    wrong = {}
    for kind, name in ROOT_FIELDS:
        body = await api.gql(operation(kind, name))
        codes = {e["extensions"]["code"] for e in body.get("errors") or ()}
        if codes != {"UNAUTHENTICATED"}:
            wrong[name] = body
    assert wrong == {}
    assert await api.count(Customer) == before


# --- bad credentials -------------------------------------------------------------


def forged(api, staff_id: int, **changes) -> str:
    signer = api.app.state.signer
    claims = {
        "sub": f"staff:{staff_id}",
        "iss": signer.issuer,
        "aud": signer.audience,
        "iat": int(utcnow().timestamp()),
        "exp": int(utcnow().timestamp()) + 3600,
        **changes,
    }
    secret = claims.pop("secret", signer.secret)
    algorithm = claims.pop("alg", "HS256")
    return jwt.encode(claims, secret, algorithm=algorithm)


async def test_refused_credentials_are_unauthenticated_never_a_500(api):
    staff_id, token = await api.staff()
    signer = api.app.state.signer
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    bearer_tokens = {
        "expired": signer.issue(f"staff:{staff_id}", ttl=timedelta(seconds=-30)).token,
        "tampered signature": f"{header}.{payload}.{flipped}",
        "tampered payload": f"{header}.{payload[:-2]}xx.{signature}",
        "another secret": forged(
            api, staff_id, secret="another secret, long enough for HS256 keys"
        ),
        "wrong audience": forged(api, staff_id, aud="someone-else"),
        "wrong issuer": forged(api, staff_id, iss="someone-else"),
        "no expiry": forged(api, staff_id, exp=None),
        "alg none": forged(api, staff_id, secret=None, alg="none"),
        "unknown member": signer.issue("staff:424242").token,
        "huge member id": signer.issue("staff:99999999999999999999").token,
        "not a staff subject": signer.issue("partner:1").token,
        "not a JWT": "not-a-token",
        "10 KB": "x" * 10_240,
    }
    headers = {
        **{name: f"Bearer {value}" for name, value in bearer_tokens.items()},
        "Bearer without a token": "Bearer",
        "Bearer and spaces": "Bearer    ",
        "Basic scheme": "Basic dXNlcjpwYXNz",
        "Token scheme": f"Token {token}",
        "two tokens": f"Bearer {token} {token}",
    }
    wrong = {}
    for name, value in headers.items():
        response = await api.raw(VIEWER, headers={"Authorization": value})
        body = response.json() if response.status_code == 200 else response.text
        codes = {e["extensions"]["code"] for e in body.get("errors") or ()}
        if codes != {"UNAUTHENTICATED"} or body["data"]["viewer"] is not None:
            wrong[name] = (response.status_code, body)
    assert wrong == {}
    expired = await api.raw(VIEWER, token=bearer_tokens["expired"])
    assert "expired" in expired.json()["errors"][0]["message"]
    # The genuine token still works: nothing above locked the member out.
    assert (await api.data(VIEWER, token=token))["viewer"]["active"]


async def test_a_refused_token_writes_nothing(api):
    staff_id, _ = await api.staff()
    expired = api.app.state.signer.issue(
        f"staff:{staff_id}", ttl=timedelta(seconds=-30)
    )
    before = await api.count(Customer)
    create = 'customerCreate(input: {email: "x@example.com"}) { customer { id } }'
    code = await api.error_code(f"mutation {{ {create} }}", token=expired.token)
    assert code == "UNAUTHENTICATED"
    assert await api.count(Customer) == before
