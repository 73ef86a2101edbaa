"""Staff members: creation, password sign-in, and the actor a session runs as."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm import events
from crm.actors import Actor, StaffActor
from crm.errors import FieldError, Unauthenticated, ValidationFailed
from crm.permissions import Permission, StaffRole
from crm.policy import require
from crm.staff.models import StaffMember
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
    session.add(member)
    try:
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


async def authenticate(session: AsyncSession, email: str, password: str) -> StaffMember:
    """The active staff member with this email and password, else Unauthenticated."""
    member = None
    if isinstance(email, str) and len(email) <= 320:
        member = await session.scalar(
            select(StaffMember).where(StaffMember.email_key == email.strip().lower())
        )
    stored = member.password_hash if member is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password[:1024])
        ok = stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or member is None or member.archived_at is not None:
        raise Unauthenticated("Wrong email or password.")
    return member
