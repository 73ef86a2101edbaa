"""Tokens from an external identity provider: verified with its public keys
(RS256/ES256 only), for this deployment's audience, naming a known external_ref;
everything else, a key outage included, is UNAUTHENTICATED and never a 500."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import ValidationError
from sqlalchemy import update

from api import idp
from api.app import create_app
from api.auth import configured_providers, token_actor
from api.settings import Settings
from crm.actors import CustomerActor, StaffActor
from crm.columns import utcnow
from crm.customers.models import Customer
from crm.errors import Unauthenticated
from crm.staff.models import StaffMember
from tests.client import Api

ISSUER = "https://login.example.com/"
CUSTOMERS_AUDIENCE = "mutual-customers"
STAFF_AUDIENCE = "mutual-staff"
SECRET = "test-secret-key-for-the-idp-suite-only"
VIEWER = "{ viewer { email role } }"
CUSTOMERS = "{ customers(first: 1) { edges { node { id } } } }"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def jwk(private_key: Any, kid: str) -> dict[str, Any]:
    public = private_key.public_key()
    if isinstance(private_key, rsa.RSAPrivateKey):
        data = RSAAlgorithm.to_jwk(public, as_dict=True)
        data["alg"] = "RS256"
    else:
        data = ECAlgorithm.to_jwk(public, as_dict=True)
        data["alg"] = "ES256"
    return {**data, "kid": kid, "use": "sig"}


JWKS = {"keys": [jwk(RSA_KEY, "rsa-1"), jwk(EC_KEY, "ec-1")]}


def token(
    key: Any = RSA_KEY,
    *,
    kid: str | None = "rsa-1",
    alg: str = "RS256",
    **claims: Any,
) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": CUSTOMERS_AUDIENCE,
        "sub": "cust-ada",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    body = {name: value for name, value in body.items() if value is not None}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid} if kid else {})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_the_public_key() -> str:
    """The algorithm-confusion attack: HMAC-signed with the RSA public key's PEM
    (PyJWT refuses to make this, so it is made by hand)."""
    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    claims = jwt.decode(token(), options={"verify_signature": False})
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def provider_settings(jwks: str, **overrides: Any) -> dict[str, Any]:
    return {
        "customer_idp_issuer": ISSUER,
        "customer_idp_audience": CUSTOMERS_AUDIENCE,
        "customer_idp_jwks": jwks,
        "staff_idp_issuer": ISSUER,
        "staff_idp_audience": STAFF_AUDIENCE,
        "staff_idp_jwks": jwks,
        **overrides,
    }


@contextlib.contextmanager
def trusting(**values: Any) -> Iterator[Settings]:
    """Settings trusting these providers. The environment says the same, for an
    app that reads its providers from there rather than from its Settings."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in values.items():
            env.setenv(f"MUTUAL_{name.upper()}", str(value))
        configured_providers.cache_clear()
        try:
            yield Settings(secret_key=SECRET, **values)
        finally:
            configured_providers.cache_clear()


@contextlib.asynccontextmanager
async def idp_client(database, db, **values: Any) -> AsyncIterator[Api]:
    with trusting(**values) as settings:
        app = create_app(settings, database=database)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://mutual.test"
        ) as http:
            yield Api(http, app, db)


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("idp") / "jwks.json"
    path.write_text(json.dumps(JWKS))
    return path


@pytest.fixture
async def idp_api(database, db, jwks_file):  # type: ignore[no-untyped-def]
    async with idp_client(database, db, **provider_settings(str(jwks_file))) as api:
        yield api


async def customer_with_ref(api: Api, ref: str, email: str) -> int:
    return await api.customer(email=email, external_ref=ref)


async def staff_with_ref(api: Api, ref: str, role: str = "manager") -> int:
    staff_id, _ = await api.staff(role, email=f"{ref}@staff.test")
    async with api.db.transaction() as session:
        await session.execute(
            update(StaffMember)
            .where(StaffMember.id == staff_id)
            .values(external_ref=ref)
        )
    return staff_id


# --- accepted tokens -------------------------------------------------------------


def providers_of(jwks_file: Path) -> idp.IdentityProviders:
    settings = Settings(secret_key=SECRET, **provider_settings(str(jwks_file)))
    return idp.IdentityProviders.from_settings(settings)


async def test_a_provider_token_signs_in_the_customer_with_that_external_ref(
    idp_api, jwks_file
):
    customer_id = await customer_with_ref(idp_api, "cust-ada", "ada@example.com")
    bearer = token()
    assert await idp_api.data(VIEWER, token=bearer) == {"viewer": None}
    assert await idp_api.error_code(CUSTOMERS, token=bearer) == "FORBIDDEN"

    signer = idp_api.app.state.signer
    async with idp_api.db.session(write=False) as session:
        actor = await token_actor(session, signer, bearer, providers_of(jwks_file))
    assert isinstance(actor, CustomerActor) and actor.customer_id == customer_id


async def test_a_provider_token_signs_in_the_staff_member_with_that_ref(
    idp_api, jwks_file
):
    staff_id = await staff_with_ref(idp_api, "staff-grace")
    expected = {"viewer": {"email": "staff-grace@staff.test", "role": "MANAGER"}}
    for bearer in (
        token(sub="staff-grace", aud=STAFF_AUDIENCE),
        token(EC_KEY, kid="ec-1", alg="ES256", sub="staff-grace", aud=STAFF_AUDIENCE),
    ):
        assert await idp_api.data(VIEWER, token=bearer) == expected
    signer = idp_api.app.state.signer
    bearer = token(sub="staff-grace", aud=STAFF_AUDIENCE)
    async with idp_api.db.session(write=False) as session:
        actor = await token_actor(session, signer, bearer, providers_of(jwks_file))
    assert isinstance(actor, StaffActor) and actor.staff_id == staff_id
    # This server's own tokens still work beside the provider's.
    _, own = await idp_api.staff("admin")
    assert (await idp_api.data(VIEWER, token=own))["viewer"]["role"] == "ADMIN"


# --- refused tokens --------------------------------------------------------------


async def test_refused_provider_tokens_are_unauthenticated(idp_api):
    await customer_with_ref(idp_api, "cust-ada", "ada@example.com")
    archived = await customer_with_ref(idp_api, "cust-gone", "gone@example.com")
    await staff_with_ref(idp_api, "staff-gone")
    async with idp_api.db.transaction() as session:
        await session.execute(
            update(Customer).where(Customer.id == archived).values(archived_at=utcnow())
        )
        await session.execute(
            update(StaffMember)
            .where(StaffMember.external_ref == "staff-gone")
            .values(archived_at=utcnow())
        )
    long_ago = int(time.time()) - 3600
    refused = {
        "wrong audience": token(aud="someone-else"),
        "both audiences": token(aud=[CUSTOMERS_AUDIENCE, STAFF_AUDIENCE]),
        "wrong issuer": token(iss="https://evil.example.com/"),
        "expired": token(iat=long_ago, exp=long_ago + 60),
        "no expiry": token(exp=None),
        "no subject": token(sub=None),
        "alg none": jwt.encode(
            jwt.decode(token(), options={"verify_signature": False}),
            None,
            algorithm="none",
            headers={"kid": "rsa-1"},
        ),
        "HS256 with the public key": hs256_with_the_public_key(),
        "unknown kid": token(kid="rsa-2"),
        "no kid, several keys": token(kid=None),
        "RS256 under the EC key's kid": token(kid="ec-1"),
        "another key, same kid": token(OTHER_RSA_KEY),
        "sub of nobody": token(sub="cust-nobody"),
        "sub of an archived customer": token(sub="cust-gone"),
        "customer sub for staff": token(sub="cust-ada", aud=STAFF_AUDIENCE),
        "staff sub for customers": token(sub="staff-gone"),
        "archived staff member": token(sub="staff-gone", aud=STAFF_AUDIENCE),
    }
    wrong = {}
    for name, bearer in refused.items():
        response = await idp_api.raw(VIEWER, token=bearer)
        body = response.json()
        codes = {e["extensions"]["code"] for e in body.get("errors") or ()}
        if response.status_code != 200 or codes != {"UNAUTHENTICATED"}:
            wrong[name] = body
    assert wrong == {}
    expired = await idp_api.gql(VIEWER, token=refused["expired"])
    assert "expired" in expired["errors"][0]["message"]
    # The genuine token still works.
    assert await idp_api.data(VIEWER, token=token()) == {"viewer": None}


async def test_an_unreadable_jwks_file_is_an_outage_not_a_500(database, db, tmp_path):
    missing = tmp_path / "missing.json"
    async with idp_client(database, db, **provider_settings(str(missing))) as api:
        await customer_with_ref(api, "cust-ada", "ada@example.com")
        body = await api.gql(VIEWER, token=token())
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == idp.UNAVAILABLE


async def test_a_replaced_jwks_file_is_read_again(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk(RSA_KEY, "rsa-1")]}))
    provider = idp.IdentityProvider(
        "customer", ISSUER, CUSTOMERS_AUDIENCE, idp.FileKeys(path)
    )
    rotated = token(OTHER_RSA_KEY, kid="rsa-2")
    with pytest.raises(Unauthenticated):
        await provider.subject(rotated, jwt.get_unverified_header(rotated))
    path.write_text(
        json.dumps(
            {
                "keys": [
                    jwk(OTHER_RSA_KEY, "rsa-2"),
                    {"kty": "oct", "k": "c2VjcmV0", "kid": "hs"},
                ]
            }
        )
    )
    assert (
        await provider.subject(rotated, jwt.get_unverified_header(rotated))
        == "cust-ada"
    )


# --- a JWKS URL ------------------------------------------------------------------


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts its requests."""

    def __init__(self) -> None:
        self.jwks: dict[str, Any] = JWKS
        self.status = 200
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = json.dumps(server.jwks).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/jwks.json"
        threading.Thread(
            target=self.http.serve_forever, args=(0.05,), daemon=True
        ).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def remote_provider(url: str, *, timeout: float = 2.0, clock: Any = time.monotonic):
    keys = idp.RemoteKeys(url, timeout=timeout, clock=clock)
    return idp.IdentityProvider("customer", ISSUER, CUSTOMERS_AUDIENCE, keys)


async def subject(provider: idp.IdentityProvider, bearer: str) -> str:
    return await provider.subject(bearer, jwt.get_unverified_header(bearer))


async def test_keys_from_a_jwks_url_sign_in_and_are_cached(database, db, jwks_server):
    async with idp_client(database, db, **provider_settings(jwks_server.url)) as api:
        await customer_with_ref(api, "cust-ada", "ada@example.com")
        for _ in range(3):
            assert await api.data(VIEWER, token=token()) == {"viewer": None}
    assert jwks_server.requests == 1


async def test_unknown_kids_refetch_the_jwks_at_most_once_per_cooldown(jwks_server):
    clock = Clock()
    provider = remote_provider(jwks_server.url, clock=clock)
    assert await subject(provider, token()) == "cust-ada"
    for _ in range(3):
        with pytest.raises(Unauthenticated, match="not known"):
            await subject(provider, token(kid="rotated"))
    assert jwks_server.requests == 1

    # After the cooldown a new kid is looked for once, and found after rotation.
    jwks_server.jwks = {"keys": [jwk(OTHER_RSA_KEY, "rotated")]}
    clock.now += idp.REFRESH_COOLDOWN
    assert await subject(provider, token(OTHER_RSA_KEY, kid="rotated")) == "cust-ada"
    with pytest.raises(Unauthenticated, match="not known"):
        await subject(provider, token(kid="rsa-1"))
    assert jwks_server.requests == 2


async def test_an_outage_keeps_the_last_keys_for_a_while_then_refuses(jwks_server):
    clock = Clock()
    provider = remote_provider(jwks_server.url, clock=clock)
    assert await subject(provider, token()) == "cust-ada"
    jwks_server.status = 503
    clock.now += idp.KEYS_LIFESPAN + 1
    assert await subject(provider, token()) == "cust-ada"  # stale, logged
    assert jwks_server.requests == 2
    clock.now += idp.RETRY_AFTER - 1
    assert await subject(provider, token()) == "cust-ada"  # no retry yet
    assert jwks_server.requests == 2
    clock.now += idp.MAX_STALE
    with pytest.raises(Unauthenticated) as refused:
        await subject(provider, token())
    assert refused.value.message == idp.UNAVAILABLE


async def test_an_unreachable_jwks_url_is_unauthenticated_with_a_clear_message(
    database, db
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/jwks.json"  # nothing listens there
    async with idp_client(database, db, **provider_settings(url)) as api:
        body = await api.gql(VIEWER, token=token())
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == idp.UNAVAILABLE


async def test_a_jwks_url_that_never_answers_times_out_then_fails_fast():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections are queued, never answered
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jwks.json"
        provider = remote_provider(url, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(Unauthenticated, match="cannot be loaded"):
            await subject(provider, token())
        assert time.monotonic() - started < 2
        # Within the retry delay, refused at once without another fetch.
        started = time.monotonic()
        with pytest.raises(Unauthenticated, match="cannot be loaded"):
            await subject(provider, token())
        assert time.monotonic() - started < 0.1


# --- configuration ---------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"customer_idp_issuer": ISSUER},
        {**provider_settings("https://login.example.com/jwks"), "staff_idp_jwks": ""},
        provider_settings("http://login.example.com/jwks"),
        provider_settings("ftp://login.example.com/jwks"),
        provider_settings("/etc/jwks.json", customer_idp_issuer="mutual"),
        provider_settings("/etc/jwks.json", staff_idp_audience=CUSTOMERS_AUDIENCE),
    ],
    ids=[
        "issuer alone",
        "staff without keys",
        "plain http elsewhere",
        "ftp",
        "our own issuer",
        "same issuer and audience twice",
    ],
)
def test_inconsistent_provider_settings_are_refused_at_startup(values):
    with pytest.raises(ValidationError):
        Settings(secret_key=SECRET, **values)


@pytest.mark.parametrize(
    "jwks",
    ["https://login.example.com/jwks", "http://127.0.0.1:8080/jwks", "/etc/jwks.json"],
)
def test_https_local_http_and_file_jwks_are_accepted(jwks):
    settings = Settings(secret_key=SECRET, **provider_settings(jwks))
    providers = idp.IdentityProviders.from_settings(settings)
    assert [p.kind for p in providers.providers] == ["customer", "staff"]
