"""Partner apps and their API keys: issue, list, revoke, and authenticate a key.

A key reads `mut_<8 hex>_<secret>`. Its first 12 characters (`mut_<8 hex>`) are
the prefix: stored in clear, unique, shown in listings and logs, and what a key
is looked up by. Only the SHA-256 (hex) of the whole key is kept, so the key is
shown once, when it is issued, and never again. The secret has 256 random bits:
a fast hash is enough (no password stretching needed), and it keeps the check
cheap on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm import events
from crm.actors import Actor, PartnerActor
from crm.columns import utcnow
from crm.db import Database
from crm.errors import Conflict, FieldError, NotFound, Unauthenticated, ValidationFailed
from crm.pagination import Page, PageRequest, SortKey, paginate
from crm.partners import policies
from crm.partners.models import ApiKey, PartnerApp
from crm.permissions import Scope
from crm.validation import Errors, clean_text

logger = logging.getLogger("mutual.partners")

KEY_PREFIX = "mut_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # mut_ + 8 hex characters
MAX_KEY_LENGTH = 200
_PREFIX_RE = re.compile(r"mut_[0-9a-f]{8}")
# Compared against when the prefix is unknown, so both refusals take the same path.
_DUMMY_HASH = hashlib.sha256(b"mut_00000000_not-a-key").hexdigest()
INVALID_KEY = "The API key is not valid."
# last_used_at is written at most once a minute per key, not on every request.
TOUCH_INTERVAL = timedelta(seconds=60)
LATEST_EXPIRY = datetime.fromisoformat("2200-01-01T00:00:00+00:00")
MAX_NAME = 200
MAX_DESCRIPTION = 2000


class KeyStatus(StrEnum):
    """Whether a key works now, and if not, why."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    APP_ARCHIVED = "app_archived"


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `raw` is the only copy of the secret, to show once."""

    key: ApiKey
    partner_app: PartnerApp
    raw: str


# --- the key format ---


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """(raw key, prefix) of a fresh random key."""
    prefix = KEY_PREFIX + secrets.token_hex(4)
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def prefix_of(raw: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    if not isinstance(raw, str) or not raw.isascii() or len(raw) > MAX_KEY_LENGTH:
        return None
    prefix, separator, secret = (
        raw[:PREFIX_LENGTH],
        raw[PREFIX_LENGTH : PREFIX_LENGTH + 1],
        raw[PREFIX_LENGTH + 1 :],
    )
    if separator != "_" or not secret or not _PREFIX_RE.fullmatch(prefix):
        return None
    return prefix


def key_status(key: ApiKey, app: PartnerApp, now: datetime | None = None) -> KeyStatus:
    now = now or utcnow()
    if key.revoked_at is not None:
        return KeyStatus.REVOKED
    if key.expires_at is not None and key.expires_at <= now:
        return KeyStatus.EXPIRED
    if app.archived_at is not None:
        return KeyStatus.APP_ARCHIVED
    return KeyStatus.ACTIVE


def scopes_of(key: ApiKey) -> frozenset[Scope]:
    """The key's scopes; a stored scope this version does not know grants nothing."""
    known = {s.value for s in Scope}
    return frozenset(Scope(s) for s in key.scopes if s in known)


# --- authentication (every request with a key) ---

_REFUSALS = {
    KeyStatus.REVOKED: "This API key was revoked.",
    KeyStatus.EXPIRED: "This API key has expired.",
    KeyStatus.APP_ARCHIVED: "This API key's partner app is archived.",
}


@dataclass(frozen=True)
class KeyUse:
    """A key that authenticated: who it acts for, and whether its use is due to be
    recorded (`record_key_use`, after the request's own transaction)."""

    actor: PartnerActor
    key_id: int
    prefix: str
    record_due: bool


async def authenticate_key(session: AsyncSession, raw: str) -> KeyUse:
    """The partner app behind a raw key, else Unauthenticated.

    An unknown prefix and a wrong secret get the same message; why a genuine key
    is refused (revoked, expired, app archived) is said only once the secret
    matched. Nothing is cached: a revocation holds from the next request on.
    The lookup runs in the caller's session (the request's own transaction).
    """
    prefix = prefix_of(raw)
    row = None
    if prefix is not None:
        row = (
            await session.execute(
                select(ApiKey, PartnerApp)
                .join(PartnerApp, col(PartnerApp.id) == col(ApiKey.partner_app_id))
                .where(col(ApiKey.prefix) == prefix)
            )
        ).first()
    stored = row[0].secret_hash if row is not None else _DUMMY_HASH
    matches = hmac.compare_digest(hash_key(raw if prefix else ""), stored)
    if row is None or not matches:
        raise Unauthenticated(INVALID_KEY)
    key, app = row
    now = utcnow()
    status = key_status(key, app, now)
    if status is not KeyStatus.ACTIVE:
        raise Unauthenticated(_REFUSALS[status])
    assert key.id is not None and app.id is not None
    return KeyUse(
        actor=PartnerActor(
            partner_id=app.id, key_id=key.id, name=app.name, scopes=scopes_of(key)
        ),
        key_id=key.id,
        prefix=key.prefix,
        record_due=key.last_used_at is None or key.last_used_at <= now - TOUCH_INTERVAL,
    )


async def record_key_use(database: Database, use: KeyUse) -> None:
    """Record that the key was used, at most once per TOUCH_INTERVAL, in its own
    short transaction; bookkeeping never fails the request.

    Its own transaction, after the request's: a query's transaction is rolled
    back, and on SQLite a read must not take the write lock for bookkeeping."""
    if not use.record_due:
        return
    now = utcnow()
    cutoff = now - TOUCH_INTERVAL
    last_used = col(ApiKey.last_used_at)
    try:
        async with database.transaction() as session:
            # The condition again: of concurrent requests, one writes, the rest skip.
            await session.execute(
                update(ApiKey)
                .where(col(ApiKey.id) == use.key_id)
                .where(or_(last_used.is_(None), last_used <= cutoff))
                .values(last_used_at=now)
            )
    except Exception:
        # A busy or failing database must not turn a valid key into an error.
        logger.warning(
            "could not record the use of API key %s", use.prefix, exc_info=True
        )


# --- partner apps ---


async def get_partner_app(
    session: AsyncSession, actor: Actor, partner_app_id: int
) -> PartnerApp:
    policies.can_manage(actor)
    app = await session.get(PartnerApp, partner_app_id)
    if app is None:
        raise NotFound("No partner app with that ID.", field="id")
    return app


async def list_partner_apps(
    session: AsyncSession, actor: Actor, *, page: PageRequest
) -> tuple[Page[PartnerApp], Select[Any]]:
    """Every partner app (archived ones included), oldest first."""
    policies.can_manage(actor)
    stmt = select(PartnerApp)
    keys = [SortKey(col(PartnerApp.id), "int")]  # type: ignore[arg-type]
    return await paginate(session, stmt, keys, page), stmt


async def find_partner_app(
    session: AsyncSession, actor: Actor, name_or_id: str
) -> PartnerApp | None:
    """The app with this ID (digits), else the active app with this name (any case);
    ValidationFailed when several active apps have that name."""
    policies.can_manage(actor)
    text = name_or_id.strip()
    if text.isascii() and text.isdigit() and len(text) < 10:
        return await session.get(PartnerApp, int(text))
    found = (
        await session.scalars(
            select(PartnerApp)
            .where(func.lower(col(PartnerApp.name)) == text.lower())
            .where(col(PartnerApp.archived_at).is_(None))
            .limit(2)
        )
    ).all()
    if len(found) > 1:
        raise ValidationFailed(
            [
                FieldError(
                    "partner",
                    "AMBIGUOUS",
                    f"Several partner apps are named {text!r}: use the ID.",
                )
            ]
        )
    return found[0] if found else None


async def create_partner_app(
    session: AsyncSession, actor: Actor, *, name: str, description: str | None = None
) -> PartnerApp:
    policies.can_manage(actor)
    errors = Errors()
    clean_name = clean_text(errors, "name", name, max_length=MAX_NAME, required=True)
    clean_description = clean_text(
        errors, "description", description, max_length=MAX_DESCRIPTION
    )
    errors.raise_if_any()
    assert clean_name is not None
    taken = await session.scalar(
        select(col(PartnerApp.id))
        .where(func.lower(col(PartnerApp.name)) == clean_name.lower())
        .where(col(PartnerApp.archived_at).is_(None))
        .limit(1)
    )
    if taken is not None:
        raise ValidationFailed(
            [FieldError("name", "DUPLICATE", "An active partner app has this name.")]
        )
    app = PartnerApp(
        name=clean_name, description=clean_description, created_by=actor.ref
    )
    session.add(app)
    await session.flush()
    assert app.id is not None
    await events.record(
        session,
        actor,
        action="partner_app.created",
        entity_type="PartnerApp",
        entity_id=app.id,
        changes=events.diff({}, {"name": clean_name, "description": clean_description}),
        payload={"name": clean_name},
    )
    return app


async def archive_partner_app(
    session: AsyncSession, actor: Actor, partner_app_id: int
) -> PartnerApp:
    """Archive an app: none of its keys works any more. Archiving twice is a no-op."""
    app = await get_partner_app(session, actor, partner_app_id)
    await _stamp_once(session, actor, app, "archived_at", action="partner_app.archived")
    return app


async def _stamp_once(
    session: AsyncSession,
    actor: Actor,
    row: PartnerApp | ApiKey,
    field: str,
    *,
    action: str,
    payload: dict[str, Any] | None = None,
) -> None:
    """Set a one-way timestamp (archived, revoked) and audit it; no-op when set."""
    if getattr(row, field) is not None:
        return
    setattr(row, field, utcnow())
    session.add(row)
    await session.flush()
    assert row.id is not None
    await events.record(
        session,
        actor,
        action=action,
        entity_type=type(row).__name__,
        entity_id=row.id,
        changes=events.diff({field: None}, {field: getattr(row, field)}),
        payload=payload,
    )


# --- API keys ---


async def get_api_key(session: AsyncSession, actor: Actor, key_id: int) -> ApiKey:
    policies.can_manage(actor)
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("No API key with that ID.", field="id")
    return key


async def api_key_by_prefix(session: AsyncSession, actor: Actor, prefix: str) -> ApiKey:
    """The key with this prefix (a whole key is accepted too: its prefix is used)."""
    policies.can_manage(actor)
    text = prefix.strip()
    text = prefix_of(text) or text
    key = None
    if _PREFIX_RE.fullmatch(text):
        key = await session.scalar(select(ApiKey).where(col(ApiKey.prefix) == text))
    if key is None:
        raise NotFound(f"No API key with prefix {text!r}.", field="prefix")
    return key


async def api_keys_of(
    session: AsyncSession, actor: Actor, partner_app_ids: Sequence[int]
) -> dict[int, list[ApiKey]]:
    """The keys of many apps, newest first, in one statement."""
    policies.can_manage(actor)
    found: dict[int, list[ApiKey]] = {i: [] for i in partner_app_ids}
    if not found:
        return found
    rows = await session.scalars(
        select(ApiKey)
        .where(col(ApiKey.partner_app_id).in_(list(found)))
        .order_by(col(ApiKey.id).desc())
    )
    for key in rows:
        found[key.partner_app_id].append(key)
    return found


async def all_api_keys(
    session: AsyncSession, actor: Actor
) -> list[tuple[ApiKey, PartnerApp]]:
    """Every key with its app, by app then newest key first (the CLI's listing)."""
    policies.can_manage(actor)
    rows = await session.execute(
        select(ApiKey, PartnerApp)
        .join(PartnerApp, col(PartnerApp.id) == col(ApiKey.partner_app_id))
        .order_by(col(PartnerApp.id), col(ApiKey.id).desc())
    )
    return [(key, app) for key, app in rows]


def _clean_scopes(errors: Errors, value: Iterable[Any] | None) -> list[str] | None:
    scopes: set[str] = set()
    for scope in value or ():
        try:
            scopes.add(Scope(scope).value)
        except ValueError:
            allowed = ", ".join(s.value for s in Scope)
            errors.add("scopes", "INVALID", f"{scope!r} is not one of {allowed}.")
            return None
    if not scopes:
        errors.add("scopes", "REQUIRED", "A key needs at least one scope.")
        return None
    return sorted(scopes)


def _clean_expiry(errors: Errors, value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors.add(
            "expires_at", "INVALID", "expires_at needs a date, time and UTC offset."
        )
        return None
    if value <= now:
        errors.add("expires_at", "OUT_OF_RANGE", "expires_at must be in the future.")
        return None
    if value >= LATEST_EXPIRY:
        errors.add("expires_at", "OUT_OF_RANGE", "expires_at must be before 2200.")
        return None
    return value


async def create_api_key(
    session: AsyncSession,
    actor: Actor,
    *,
    partner_app_id: int,
    name: str,
    scopes: Iterable[Any],
    expires_at: datetime | None = None,
) -> IssuedKey:
    """Issue a key for an active app; the raw key is in the result, and nowhere else."""
    app = await get_partner_app(session, actor, partner_app_id)
    errors = Errors()
    if app.archived_at is not None:
        errors.add(
            "partner_app_id", "ARCHIVED", "The partner app is archived: no new keys."
        )
    clean_name = clean_text(errors, "name", name, max_length=MAX_NAME, required=True)
    clean_scopes = _clean_scopes(errors, scopes)
    expiry = _clean_expiry(errors, expires_at, utcnow())
    errors.raise_if_any()
    assert clean_name is not None and clean_scopes is not None and app.id is not None
    # 32 bits of prefix: a collision is rare, and then a new key is drawn.
    for _attempt in range(3):
        raw, prefix = new_key()
        key = ApiKey(
            partner_app_id=app.id,
            name=clean_name,
            prefix=prefix,
            secret_hash=hash_key(raw),
            scopes=clean_scopes,
            created_by=actor.ref,
            expires_at=expiry,
        )
        try:
            async with session.begin_nested():
                session.add(key)
                await session.flush()
        except IntegrityError:
            continue
        break
    else:
        raise Conflict("Could not draw a unique key prefix; retry.")
    assert key.id is not None
    # The prefix identifies the key in the trail; the secret and its hash never do.
    await events.record(
        session,
        actor,
        action="api_key.created",
        entity_type="ApiKey",
        entity_id=key.id,
        changes=events.diff(
            {},
            {
                "partner_app_id": app.id,
                "name": clean_name,
                "prefix": prefix,
                "scopes": clean_scopes,
                "expires_at": expiry,
            },
        ),
        payload={"partner_app_id": app.id, "prefix": prefix},
    )
    return IssuedKey(key=key, partner_app=app, raw=raw)


async def revoke_api_key(session: AsyncSession, actor: Actor, key_id: int) -> ApiKey:
    """Revoke a key from the next request on. Revoking twice is a no-op."""
    key = await get_api_key(session, actor, key_id)
    return await _revoke(session, actor, key)


async def revoke_api_key_by_prefix(
    session: AsyncSession, actor: Actor, prefix: str
) -> ApiKey:
    key = await api_key_by_prefix(session, actor, prefix)
    return await _revoke(session, actor, key)


async def _revoke(session: AsyncSession, actor: Actor, key: ApiKey) -> ApiKey:
    await _stamp_once(
        session,
        actor,
        key,
        "revoked_at",
        action="api_key.revoked",
        payload={"partner_app_id": key.partner_app_id, "prefix": key.prefix},
    )
    return key
