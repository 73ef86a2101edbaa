"""Customer sign-in: one-time codes sent by the firm, and the actor a token names.

A code is six random digits, valid for ten minutes and for one use. Only its
HMAC (keyed with the server secret, bound to the customer) is stored, so a
leaked table does not let anyone brute-force the codes offline. The code itself
leaves only through the outbox (`customer.login_code_requested`), for the
firm's messaging system to deliver; the audit row never holds it.

Limits, counted in the database so that they hold across workers:
- at most MAX_CODES_PER_WINDOW codes per customer per CODE_WINDOW (and
  MAX_CODES_PER_DAY per day); further requests look accepted but create nothing,
  so the answer never tells a known email from an unknown one;
- a new code replaces the older unused ones;
- MAX_ATTEMPTS wrong guesses kill a code.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeGuard

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm import events
from crm.actors import Actor, CustomerActor
from crm.columns import utcnow
from crm.customer_auth.models import CustomerLoginCode
from crm.customers.models import Customer
from crm.customers.service import email_key
from crm.errors import DomainError, Unauthenticated
from crm.validation import Errors, clean_email

logger = logging.getLogger("mutual.customer_auth")

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_WINDOW = timedelta(minutes=15)
MAX_CODES_PER_WINDOW = 5
MAX_CODES_PER_DAY = 20
MAX_ATTEMPTS = 5
CUSTOMER_TOKEN_TTL = timedelta(hours=24)
INACTIVE = "This customer account is no longer active."
INVALID_CODE = "The code is wrong or has expired; request a new one."


class InvalidCode(DomainError):
    """The email and code do not sign anyone in (one message for every reason)."""

    code = "INVALID_CODE"

    def __init__(self) -> None:
        super().__init__(INVALID_CODE)


@dataclass(frozen=True)
class CodeRequest:
    """What a code request did; the API answers the same whatever it holds."""

    customer_id: int | None = None
    created: bool = False


def can_sign_in(customer: Customer | None) -> TypeGuard[Customer]:
    """Whether this customer may sign in or keep using a token: THE one check
    (archived, merged and erased customers are refused)."""
    return (
        customer is not None
        and customer.archived_at is None
        and customer.merged_into_id is None
        and customer.erased_at is None
    )


def _actor(customer: Customer) -> CustomerActor:
    assert customer.id is not None
    return CustomerActor(customer_id=customer.id, display_name=customer.display_name)


async def customer_actor(session: AsyncSession, customer_id: int) -> CustomerActor:
    """The actor of a signed-in customer; Unauthenticated once the account is gone."""
    customer = await session.get(Customer, customer_id)
    if not can_sign_in(customer):
        raise Unauthenticated(INACTIVE)
    return _actor(customer)


async def customer_actor_for_external_ref(
    session: AsyncSession, external_ref: str
) -> CustomerActor:
    """The actor of the customer an external identity provider vouches for."""
    customer = await session.scalar(
        select(Customer).where(col(Customer.external_ref) == external_ref)
    )
    if customer is None:
        raise Unauthenticated("No customer account matches this sign-in.")
    if not can_sign_in(customer):
        raise Unauthenticated(INACTIVE)
    return _actor(customer)


def hash_code(secret: str, customer_id: int, code: str) -> str:
    """HMAC-SHA256 of the code, keyed with a key derived from `secret` and bound to
    the customer: 64 hex characters."""
    purpose = b"mutual customer login code"
    key = hmac.new(secret.encode(), purpose, hashlib.sha256).digest()
    message = f"{customer_id}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _lookup_key(email: object) -> str | None:
    """The email key to look up, or None when `email` can match no one."""
    if not isinstance(email, str):
        return None
    errors = Errors()
    cleaned = clean_email(errors, "email", email)
    return email_key(cleaned) if cleaned and not errors.items else None


def check_email(email: object) -> None:
    """Refuse an email that is malformed (this says nothing about who exists)."""
    errors = Errors()
    clean_email(errors, "email", email)
    if not errors.items and not (isinstance(email, str) and email.strip()):
        errors.add("email", "REQUIRED", "email is required.")
    errors.raise_if_any()


async def _customer_by_email(
    session: AsyncSession, email: object, *, lock: bool
) -> Customer | None:
    key = _lookup_key(email)
    if key is None:
        return None
    statement = select(Customer).where(col(Customer.email_key) == key)
    if lock:
        # Serialises concurrent requests for one customer on PostgreSQL, so the
        # count below cannot be raced past (SQLite writers are serial already).
        statement = statement.with_for_update()
    customer = await session.scalar(statement)
    return customer if can_sign_in(customer) else None


async def customer_by_email(session: AsyncSession, email: object) -> Customer | None:
    """The customer with this email who may sign in, if any."""
    return await _customer_by_email(session, email, lock=False)


async def _recent_codes(
    session: AsyncSession, customer_id: int, now: datetime
) -> tuple[int, int]:
    """How many codes the customer got in the last CODE_WINDOW and the last day."""
    created = col(CustomerLoginCode.created_at)
    in_window = case((created > now - CODE_WINDOW, 1), else_=0)
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(in_window), 0)).where(
                col(CustomerLoginCode.customer_id) == customer_id,
                created > now - timedelta(days=1),
            )
        )
    ).one()
    return int(row[1]), int(row[0])


async def request_code(
    session: AsyncSession, actor: Actor, *, email: str, secret: str
) -> CodeRequest:
    """Send a sign-in code to the active customer with this email, if any.

    Raises ValidationFailed only for a malformed email. An unknown email, an
    inactive customer and a throttled customer all return without a code.
    """
    check_email(email)
    customer = await _customer_by_email(session, email, lock=True)
    if customer is None:
        return CodeRequest()
    assert customer.id is not None
    now = utcnow()
    in_window, in_day = await _recent_codes(session, customer.id, now)
    if in_window >= MAX_CODES_PER_WINDOW or in_day >= MAX_CODES_PER_DAY:
        logger.info("login code throttled for customer %s", customer.id)
        return CodeRequest(customer_id=customer.id)
    # The new code replaces every older one still usable.
    await session.execute(
        update(CustomerLoginCode)
        .where(
            col(CustomerLoginCode.customer_id) == customer.id,
            col(CustomerLoginCode.used_at).is_(None),
            col(CustomerLoginCode.expires_at) > now,
        )
        .values(expires_at=now)
    )
    code = new_code()
    expires_at = now + CODE_TTL
    session.add(
        CustomerLoginCode(
            customer_id=customer.id,
            code_hash=hash_code(secret, customer.id, code),
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()
    await events.record(
        session,
        actor,
        action="customer.login_code_requested",
        entity_type="Customer",
        entity_id=customer.id,
        # The audit row says that a code went out, never which one.
        changes=events.diff({}, {"login_code_expires_at": expires_at}),
        # The outbox row carries what the messaging system needs to deliver it.
        payload={
            "email": customer.email,
            "code": code,
            "expires_at": expires_at,
            "display_name": customer.display_name,
            "locale": customer.locale,
        },
    )
    return CodeRequest(customer_id=customer.id, created=True)


def _normalised(code: object) -> str | None:
    """The code as typed, without spaces or dashes; None when it cannot be one."""
    if not isinstance(code, str) or len(code) > 32:
        return None
    digits = "".join(ch for ch in code if ch not in " -\t")
    if len(digits) != CODE_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return digits


async def sign_in_with_code(
    session: AsyncSession, *, email: str, code: str, secret: str
) -> CustomerActor:
    """The customer that this email and code sign in, marking the code used.

    Raises InvalidCode for every failure. A wrong guess is flushed (`attempts`)
    before raising: the caller must commit even when sign-in fails.
    """
    customer = await _customer_by_email(session, email, lock=False)
    if customer is None:
        raise InvalidCode()
    assert customer.id is not None
    now = utcnow()
    login_code = await session.scalar(
        select(CustomerLoginCode)
        .where(
            col(CustomerLoginCode.customer_id) == customer.id,
            col(CustomerLoginCode.used_at).is_(None),
            col(CustomerLoginCode.expires_at) > now,
            col(CustomerLoginCode.attempts) < MAX_ATTEMPTS,
        )
        .order_by(
            col(CustomerLoginCode.created_at).desc(),
            col(CustomerLoginCode.id).desc(),
        )
        .limit(1)
        # Concurrent guesses at one code take turns, so none escapes the count.
        .with_for_update()
    )
    if login_code is None:
        raise InvalidCode()
    typed = _normalised(code)
    expected = login_code.code_hash
    if typed is None or not hmac.compare_digest(
        hash_code(secret, customer.id, typed), expected
    ):
        login_code.attempts += 1
        await session.flush()
        raise InvalidCode()
    login_code.used_at = now
    await session.flush()
    return _actor(customer)
