"""Staff members: creation, password sign-in, and the actor a session runs as."""

from __future__ import annotations

import math
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm import events
from crm.actors import Actor, StaffActor
from crm.errors import FieldError, RateLimited, Unauthenticated, ValidationFailed
from crm.permissions import Permission, StaffRole
from crm.policy import require
from crm.staff.models import StaffMember
from crm.staff.throttle import SignInThrottle, sign_in_throttle
from crm.validation import Errors, clean_email, clean_enum, clean_text

_hasher = PasswordHasher()
# Verifying against this keeps sign-in time the same for unknown emails.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD = 12


def staff_actor(member: StaffMember) -> StaffActor:
    assert member.id is not None
    return StaffActor(
        staff_id=member.id,
        role=StaffRole(member.role),
        display_name=member.display_name,
    )


_staff = StaffMember.__table__.c  # type: ignore[attr-defined]
# Built once: SQLAlchemy keeps a statement's cache key, so executing it again
# costs neither construction nor a key; plain columns skip the ORM.
_ACTIVE_STAFF_ACTOR = select(_staff.id, _staff.role, _staff.display_name).where(
    _staff.id == bindparam("staff_id"), _staff.archived_at.is_(None)
)


async def active_staff_actor(session: AsyncSession, staff_id: int) -> StaffActor | None:
    """The actor of the staff member `staff_id` while active (not archived): the
    check every request with a staff token makes."""
    row = (await session.execute(_ACTIVE_STAFF_ACTOR, {"staff_id": staff_id})).first()
    if row is None:
        return None
    return StaffActor(
        staff_id=row.id, role=StaffRole(row.role), display_name=row.display_name
    )


async def active_staff(session: AsyncSession, staff_id: int) -> StaffMember | None:
    member = await session.get(StaffMember, staff_id)
    if member is None or member.archived_at is not None:
        return None
    return member


async def create_staff(
    session: AsyncSession,
    actor: Actor,
    *,
    email: str,
    display_name: str,
    role: str,
    password: str | None,
) -> StaffMember:
    require(actor, Permission.STAFF_MANAGE)
    errors = Errors()
    clean = clean_email(errors, "email", email)
    name = clean_text(
        errors, "display_name", display_name, max_length=200, required=True
    )
    role_value = clean_enum(errors, "role", role, StaffRole, required=True)
    if password is not None and not MIN_PASSWORD <= len(password) <= 1024:
        errors.add(
            "password",
            "WEAK_PASSWORD",
            f"A password needs {MIN_PASSWORD} to 1024 characters.",
        )
    errors.raise_if_any()
    assert clean is not None and name is not None and role_value is not None
    member = StaffMember(
        email=clean,
        email_key=clean.lower(),
        display_name=name,
        role=role_value,
        password_hash=_hasher.hash(password) if password else None,
    )
    try:
        # A savepoint: on PostgreSQL a failed INSERT would abort the caller's
        # whole transaction, not just this statement.
        async with session.begin_nested():
            session.add(member)
            await session.flush()
    except IntegrityError:
        raise ValidationFailed(
            [FieldError("email", "DUPLICATE", "A staff member has this email.")]
        ) from None
    assert member.id is not None
    await events.record(
        session,
        actor,
        action="staff.created",
        entity_type="StaffMember",
        entity_id=member.id,
        changes=events.diff(
            {}, {"email": clean, "role": role_value, "display_name": name}
        ),
    )
    return member


def _plausible_email(email: object) -> bool:
    """Worth a lookup: text of email length without control characters (PostgreSQL
    refuses NUL in a query; such an email can match no one anyway)."""
    return (
        isinstance(email, str)
        and 0 < len(email) <= 320
        and not any(unicodedata.category(ch) == "Cc" for ch in email)
    )


async def authenticate(
    session: AsyncSession,
    email: str,
    password: str,
    *,
    client: str | None = None,
    throttle: SignInThrottle = sign_in_throttle,
) -> StaffMember:
    """The active staff member with this email and password, else Unauthenticated
    (the same message for an unknown email and a wrong password), or RateLimited
    after too many failures for this email from this `client` address."""
    key = throttle.key(email, client)
    wait = throttle.retry_after(key)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        raise RateLimited(
            f"Too many failed sign-ins; try again in {minutes} minute"
            f"{'s' if minutes > 1 else ''}."
        )
    member = None
    if _plausible_email(email):
        key_match = col(StaffMember.email_key) == email.strip().lower()
        member = await session.scalar(select(StaffMember).where(key_match))
    stored = member.password_hash if member is not None else None
    try:
        # Verify even without a member, so that timing does not tell emails apart.
        _hasher.verify(stored or _DUMMY_HASH, str(password)[:1024])
        ok = stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or member is None or member.archived_at is not None:
        throttle.failed(key)
        raise Unauthenticated("Wrong email or password.")
    throttle.succeeded(key)
    return member
