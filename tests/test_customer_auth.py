"""Customers sign in with one-time codes the firm delivers: every failure looks
the same, codes are single-use and short-lived, and a customer token opens the
customer's own view only."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from sqlalchemy import select, update

from crm.audit.models import AuditEvent, OutboxEvent
from crm.columns import utcnow
from crm.customer_auth import service as customer_auth
from crm.customer_auth.models import CustomerLoginCode
from crm.customers.models import Customer

REQUEST = """
mutation($email: String!) {
  customerLoginCodeRequest(input: {email: $email}) {
    accepted errors { field code message }
  }
}"""
SIGN_IN = """
mutation($email: String!, $code: String!) {
  customerTokenCreate(input: {email: $email, code: $code}) {
    token expiresAt errors { field code message }
  }
}"""
VIEWER = "{ viewer { email } }"
CUSTOMERS = "{ customers(first: 1) { edges { node { id } } } }"
TOPIC = "customer.login_code_requested"
INVALID = [
    {"field": None, "code": "INVALID_CODE", "message": customer_auth.INVALID_CODE}
]


async def request_code(api, email: str) -> dict[str, Any]:
    data = await api.data(REQUEST, {"email": email})
    return data["customerLoginCodeRequest"]


async def sign_in(api, email: str, code: str) -> dict[str, Any]:
    data = await api.data(SIGN_IN, {"email": email, "code": code})
    return data["customerTokenCreate"]


async def outbox(api) -> list[dict[str, Any]]:
    """The payloads of the sign-in code events, oldest first."""
    async with api.db.transaction(write=False) as session:
        rows = await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.topic == TOPIC)
            .order_by(OutboxEvent.id)
        )
        return [row.payload for row in rows]


async def latest_code(api) -> str:
    return (await outbox(api))[-1]["code"]


async def codes(api) -> list[CustomerLoginCode]:
    async with api.db.transaction(write=False) as session:
        rows = await session.scalars(
            select(CustomerLoginCode).order_by(CustomerLoginCode.id)
        )
        return list(rows)


async def change_customer(api, customer_id: int, **values: Any) -> None:
    async with api.db.transaction() as session:
        await session.execute(
            update(Customer).where(Customer.id == customer_id).values(**values)
        )


async def change_codes(api, **values: Any) -> None:
    async with api.db.transaction() as session:
        await session.execute(update(CustomerLoginCode).values(**values))


def another(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- the code flow ---------------------------------------------------------------


async def test_a_delivered_code_signs_the_customer_in_to_their_own_view_only(api):
    customer_id = await api.customer(email="Ada@Example.com", given_name="Ada")

    # Email matching ignores case and surrounding spaces.
    assert await request_code(api, "  ada@EXAMPLE.com ") == {
        "accepted": True,
        "errors": [],
    }

    # The outbox carries what the messaging system needs to deliver the code.
    [event] = await outbox(api)
    code = event["code"]
    assert re.fullmatch(r"\d{6}", code)
    assert event["email"] == "Ada@Example.com"
    assert event["entity"] == "Customer" and event["id"] == customer_id
    assert datetime.fromisoformat(event["expires_at"]) > utcnow()
    # Only a keyed hash of the code is stored.
    [row] = await codes(api)
    assert len(row.code_hash) == 64 and code not in row.code_hash
    assert row.expires_at - row.created_at == timedelta(minutes=10)

    payload = await sign_in(api, "ADA@example.com", f"{code[:3]} {code[3:]}")
    assert payload["errors"] == []
    expires = datetime.fromisoformat(payload["expiresAt"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)
    claims = jwt.decode(payload["token"], options={"verify_signature": False})
    assert claims["sub"] == f"customer:{customer_id}"

    # Signed in, but as a customer: no staff viewer, no firm data.
    assert await api.data(VIEWER, token=payload["token"]) == {"viewer": None}
    assert await api.error_code(CUSTOMERS, token=payload["token"]) == "FORBIDDEN"

    # The code worked once.
    assert (await sign_in(api, "ada@example.com", code))["errors"] == INVALID
    [row] = await codes(api)
    assert row.used_at is not None


async def test_the_audit_row_says_a_code_was_sent_but_not_which(api):
    customer_id = await api.customer(email="ada@example.com")
    await request_code(api, "ada@example.com")
    code = await latest_code(api)
    async with api.db.transaction(write=False) as session:
        [audit] = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == TOPIC)
        )
    assert (audit.entity_type, audit.entity_id) == ("Customer", customer_id)
    assert audit.actor_kind == "anonymous"
    assert code not in json.dumps(audit.changes)
    assert "login_code_expires_at" in audit.changes


async def test_unknown_inactive_and_known_emails_get_the_same_answer(api):
    await api.customer(email="ada@example.com")
    archived = await api.customer(email="gone@example.com")
    merged = await api.customer(email="merged@example.com")
    await change_customer(api, archived, archived_at=utcnow())
    await change_customer(api, merged, merged_into_id=archived)

    answers = [
        await request_code(api, email)
        for email in (
            "ada@example.com",
            "nobody@example.com",
            "gone@example.com",
            "merged@example.com",
        )
    ]
    assert all(answer == {"accepted": True, "errors": []} for answer in answers)
    # Only the active customer got a code.
    assert len(await codes(api)) == 1
    assert [event["email"] for event in await outbox(api)] == ["ada@example.com"]


async def test_a_malformed_email_is_refused_without_saying_who_exists(api):
    for email, code in (("not-an-email", "INVALID_EMAIL"), ("  ", "REQUIRED")):
        answer = await request_code(api, email)
        assert answer["accepted"] is False
        assert [(e["field"], e["code"]) for e in answer["errors"]] == [("email", code)]
    answer = await request_code(api, "nul\x00@example.com")
    assert answer["accepted"] is False
    assert await codes(api) == []


async def test_every_failed_sign_in_gets_one_and_the_same_error(api):
    await api.customer(email="ada@example.com")
    archived = await api.customer(email="gone@example.com")
    await request_code(api, "ada@example.com")
    await request_code(api, "gone@example.com")
    await change_customer(api, archived, archived_at=utcnow())
    code = (await outbox(api))[0]["code"]
    attempts = [
        ("ada@example.com", another(code)),
        ("ada@example.com", "12345"),
        ("ada@example.com", "abcdef"),
        ("ada@example.com", "9" * 10_000),
        ("nobody@example.com", code),
        ("gone@example.com", (await outbox(api))[1]["code"]),
        ("", ""),
        ("ada@example.com\x00", code),
        ("x" * 10_000, code),
    ]
    for email, guess in attempts:
        payload = await sign_in(api, email, guess)
        assert payload == {"token": None, "expiresAt": None, "errors": INVALID}
    # The right code still works: four wrong guesses were counted, not five.
    assert (await sign_in(api, "ada@example.com", code))["token"]


async def test_an_expired_code_is_refused(api):
    await api.customer(email="ada@example.com")
    await request_code(api, "ada@example.com")
    code = await latest_code(api)
    await change_codes(api, expires_at=utcnow() - timedelta(seconds=1))
    assert (await sign_in(api, "ada@example.com", code))["errors"] == INVALID


async def test_five_wrong_guesses_end_a_code_and_are_kept(api):
    await api.customer(email="ada@example.com")
    await request_code(api, "ada@example.com")
    code = await latest_code(api)
    for _ in range(customer_auth.MAX_ATTEMPTS):
        assert (await sign_in(api, "ada@example.com", another(code)))["errors"] == (
            INVALID
        )
    # The wrong guesses were committed although each answer was an error.
    [row] = await codes(api)
    assert row.attempts == 5
    assert (await sign_in(api, "ada@example.com", code))["errors"] == INVALID
    [row] = await codes(api)
    assert row.attempts == 5 and row.used_at is None


async def test_a_new_code_replaces_the_older_ones(api):
    await api.customer(email="ada@example.com")
    await request_code(api, "ada@example.com")
    await request_code(api, "ada@example.com")
    first, second = (event["code"] for event in await outbox(api))
    if first != second:  # one in a million they are the same
        assert (await sign_in(api, "ada@example.com", first))["errors"] == INVALID
    assert (await sign_in(api, "ada@example.com", second))["token"]


async def test_codes_per_customer_are_capped_in_a_window_without_telling(api):
    await api.customer(email="ada@example.com")
    other = await api.customer(email="bob@example.com")
    for _ in range(customer_auth.MAX_CODES_PER_WINDOW):
        await request_code(api, "ada@example.com")
    last = await latest_code(api)

    # The sixth request looks accepted, but creates and sends nothing.
    assert await request_code(api, "ada@example.com") == {
        "accepted": True,
        "errors": [],
    }
    assert len(await codes(api)) == 5
    assert len(await outbox(api)) == 5
    # Another customer is not affected, and the last code sent still works.
    await request_code(api, "bob@example.com")
    assert (await outbox(api))[-1]["id"] == other
    assert (await sign_in(api, "ada@example.com", last))["token"]

    # Once the window has passed, codes can be sent again.
    await change_codes(api, created_at=utcnow() - timedelta(minutes=16))
    await request_code(api, "ada@example.com")
    assert len(await outbox(api)) == 7


# --- customer tokens -------------------------------------------------------------


async def test_a_customer_token_stops_working_once_the_account_is_inactive(api):
    archived = await api.customer(email="gone@example.com")
    merged = await api.customer(email="merged@example.com")
    kept = await api.customer(email="kept@example.com")
    archived_token = api.customer_token(archived)
    merged_token = api.customer_token(merged)
    assert await api.data(VIEWER, token=archived_token) == {"viewer": None}

    await change_customer(api, archived, archived_at=utcnow())
    await change_customer(api, merged, merged_into_id=kept)
    for token in (archived_token, merged_token):
        body = await api.gql(VIEWER, token=token)
        assert body["data"] == {"viewer": None}
        [error] = body["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert error["message"] == customer_auth.INACTIVE
    assert await api.data(VIEWER, token=api.customer_token(kept)) == {"viewer": None}


def forged(api, customer_id: int, **changes: Any) -> str:
    signer = api.app.state.signer
    now = int(utcnow().timestamp())
    claims = {
        "sub": f"customer:{customer_id}",
        "iss": signer.issuer,
        "aud": signer.audience,
        "iat": now,
        "exp": now + 3600,
        **changes,
    }
    secret = claims.pop("secret", signer.secret)
    return jwt.encode(claims, secret, algorithm="HS256")


async def test_refused_customer_tokens_are_unauthenticated(api):
    customer_id = await api.customer(email="ada@example.com")
    signer = api.app.state.signer
    token = api.customer_token(customer_id)
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    refused = {
        "expired": signer.issue(
            f"customer:{customer_id}", ttl=timedelta(seconds=-30)
        ).token,
        "tampered signature": f"{header}.{payload}.{flipped}",
        "another secret": forged(
            api, customer_id, secret="another secret, long enough for HS256 keys"
        ),
        "wrong audience": forged(api, customer_id, aud="someone-else"),
        "wrong issuer": forged(api, customer_id, iss="someone-else"),
        "unknown customer": signer.issue("customer:424242").token,
        "not a number": signer.issue("customer:ada").token,
    }
    wrong = {}
    for name, value in refused.items():
        body = await api.gql(VIEWER, token=value)
        codes_ = {e["extensions"]["code"] for e in body.get("errors") or ()}
        if codes_ != {"UNAUTHENTICATED"}:
            wrong[name] = body
    assert wrong == {}
    assert await api.data(VIEWER, token=token) == {"viewer": None}


async def test_codes_per_customer_are_capped_per_day_too(api):
    customer_id = await api.customer(email="ada@example.com")
    an_hour_ago = utcnow() - timedelta(hours=1)
    async with api.db.transaction() as session:
        session.add_all(
            CustomerLoginCode(
                customer_id=customer_id,
                code_hash="0" * 64,
                created_at=an_hour_ago,
                expires_at=an_hour_ago,
            )
            for _ in range(customer_auth.MAX_CODES_PER_DAY)
        )
    assert (await request_code(api, "ada@example.com"))["accepted"] is True
    assert await outbox(api) == []


async def test_the_customer_token_lifetime_is_configurable(database, db):
    from api.app import create_app
    from api.settings import Settings
    from tests.client import Api

    settings = Settings(secret_key="x" * 40, customer_token_ttl_minutes=60)
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        api = Api(http, app, db)
        await api.customer(email="ada@example.com")
        await request_code(api, "ada@example.com")
        payload = await sign_in(api, "ada@example.com", await latest_code(api))
    expires = datetime.fromisoformat(payload["expiresAt"])
    assert expires - datetime.now(UTC) <= timedelta(hours=1)
