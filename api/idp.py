"""External identity providers: tokens another issuer signed, for customers or staff.

A deployment may trust one provider for customers and one for staff
(MUTUAL_CUSTOMER_IDP_* and MUTUAL_STAFF_IDP_*). Their tokens are verified with the
provider's public keys (RS256 or ES256 only, never `none` or HMAC), must carry
`exp`, `iss`, `aud` and `sub`, and `sub` must equal the `external_ref` of an active
customer or staff member.

Keys come from a JWKS file (re-read when it changes) or a JWKS URL, fetched with
PyJWKClient off the event loop with a timeout. Fetched keys are kept for
KEYS_LIFESPAN; an unknown `kid` refetches at most once per REFRESH_COOLDOWN; after
a failed fetch the last keys keep working for up to MAX_STALE while retries wait
RETRY_AFTER between them. With no usable keys, tokens are refused with a message
saying the provider's keys are unavailable: an outage is never a 500 or a hang.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.settings import Settings, is_url
from crm.actors import Actor
from crm.customer_auth.service import customer_actor_for_external_ref
from crm.errors import Unauthenticated
from crm.staff.models import StaffMember
from crm.staff.service import staff_actor

logger = logging.getLogger("mutual.idp")

ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 30
KEYS_LIFESPAN = 300.0
REFRESH_COOLDOWN = 30.0
RETRY_AFTER = 10.0
MAX_STALE = 3600.0
MAX_SUBJECT = 200
NOT_VALID = "The token is not valid."
UNAVAILABLE = (
    "The identity provider's signing keys cannot be loaded right now, so its token "
    "cannot be checked; try again shortly."
)


class KeysUnavailable(Exception):
    """The provider's keys cannot be read or fetched."""


class KeySource(Protocol):
    async def keys(self, *, refresh: bool = False) -> list[PyJWK]:
        """The provider's signing keys; `refresh` asks for newer ones if allowed."""
        ...


def signing_keys(jwk_set: PyJWKSet) -> list[PyJWK]:
    """The keys of a set that may verify tokens here: signature keys of an
    allowed algorithm (an `oct` key in a JWKS must never verify anything)."""
    return [
        key
        for key in jwk_set.keys
        if key.public_key_use in ("sig", None) and key.algorithm_name in ALGORITHMS
    ]


def _parsed(text: str) -> list[PyJWK]:
    keys = signing_keys(PyJWKSet.from_json(text))
    if not keys:
        raise KeysUnavailable("the JWKS holds no RS256 or ES256 signing key")
    return keys


class FileKeys:
    """Keys from a JWKS file, read again whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: list[PyJWK] = []

    async def keys(self, *, refresh: bool = False) -> list[PyJWK]:
        try:
            status = os.stat(self.path)
            stamp = (status.st_mtime_ns, status.st_size)
            if stamp != self._stamp:
                self._keys = _parsed(self.path.read_text(encoding="utf-8"))
                self._stamp = stamp
        except (OSError, ValueError, jwt.PyJWTError, KeysUnavailable) as exc:
            logger.error("cannot read the JWKS file %s: %s", self.path, exc)
            raise KeysUnavailable(str(exc)) from None
        return self._keys


class RemoteKeys:
    """Keys from a JWKS URL: cached, refreshed on an unknown `kid` at most once per
    cooldown, one fetch at a time, and never longer than the timeout."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.clock = clock
        # PyJWKClient fetches and parses; caching is ours, so that stale keys can
        # outlive an outage and failures back off.
        self.client = PyJWKClient(
            url,
            cache_jwk_set=False,
            timeout=timeout,
            headers={"User-Agent": "mutual", "Accept": "application/json"},
        )
        self._keys: list[PyJWK] | None = None
        self._fetched_at = 0.0
        self._retry_at = 0.0
        self._lock = asyncio.Lock()

    async def keys(self, *, refresh: bool = False) -> list[PyJWK]:
        now = self.clock()
        if self._keys is not None:
            age = now - self._fetched_at
            if age < (REFRESH_COOLDOWN if refresh else KEYS_LIFESPAN):
                return self._keys
        if now < self._retry_at:
            return self._stale(now)
        seen = self._fetched_at
        async with self._lock:
            if self._fetched_at != seen and self._keys is not None:
                return self._keys  # fetched while this request waited
            if self.clock() < self._retry_at:
                return self._stale(now)
            try:
                keys = await asyncio.wait_for(
                    asyncio.to_thread(self._fetch), timeout=self.timeout + 1
                )
            except (OSError, ValueError, TimeoutError, jwt.PyJWTError) as exc:
                logger.warning("cannot fetch the JWKS at %s: %s", self.url, exc)
                self._retry_at = self.clock() + RETRY_AFTER
                return self._stale(now)
            self._keys, self._fetched_at = keys, self.clock()
            return keys

    def _fetch(self) -> list[PyJWK]:
        keys = signing_keys(self.client.get_jwk_set(refresh=True))
        if not keys:
            raise ValueError("the JWKS holds no RS256 or ES256 signing key")
        return keys

    def _stale(self, now: float) -> list[PyJWK]:
        """The last keys fetched, while they are not too old; else unavailable."""
        if self._keys is not None and now - self._fetched_at < MAX_STALE:
            return self._keys
        raise KeysUnavailable(self.url)


def _match(keys: list[PyJWK], kid: str | None) -> PyJWK | None:
    if kid is None:
        # No `kid`: acceptable only when there is no choice to make.
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.key_id == kid), None)


def _audiences(claims: dict[str, Any]) -> list[Any]:
    audience = claims.get("aud")
    return audience if isinstance(audience, list) else [audience]


@dataclass(frozen=True)
class IdentityProvider:
    """One trusted issuer, whose subjects are customers or staff members."""

    kind: str  # "customer" or "staff"
    issuer: str
    audience: str
    keys: KeySource = field(compare=False)

    def accepts(self, claims: dict[str, Any]) -> bool:
        """Whether an (unverified) token claims to be from and for this provider."""
        return claims.get("iss") == self.issuer and self.audience in _audiences(claims)

    async def subject(self, token: str, header: dict[str, Any]) -> str:
        """The `sub` of a token this provider signed; Unauthenticated otherwise."""
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str | None):
            raise Unauthenticated(NOT_VALID)
        try:
            key = _match(await self.keys.keys(), kid)
            if key is None:
                key = _match(await self.keys.keys(refresh=True), kid)
        except KeysUnavailable:
            raise Unauthenticated(UNAVAILABLE) from None
        if key is None:
            raise Unauthenticated("The token is signed with a key that is not known.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The token has expired; sign in again.") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise Unauthenticated(NOT_VALID) from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT:
            raise Unauthenticated(NOT_VALID)
        return subject

    async def actor(
        self, session: AsyncSession, token: str, header: dict[str, Any]
    ) -> Actor:
        """The customer or staff member the provider's token names (looked up in
        `session`, the request's own)."""
        subject = await self.subject(token, header)
        if self.kind == "customer":
            return await customer_actor_for_external_ref(session, subject)
        member = await session.scalar(
            select(StaffMember).where(col(StaffMember.external_ref) == subject)
        )
        if member is None:
            raise Unauthenticated("No staff account matches this sign-in.")
        if member.archived_at is not None:
            raise Unauthenticated("This staff account is no longer active.")
        return staff_actor(member)


def key_source(location: str, *, timeout: float) -> KeySource:
    if is_url(location):
        return RemoteKeys(location, timeout=timeout)
    return FileKeys(Path(location).expanduser())


@dataclass(frozen=True)
class IdentityProviders:
    """The external providers a deployment trusts (none by default)."""

    providers: tuple[IdentityProvider, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityProviders:
        providers = []
        for kind in ("customer", "staff"):
            issuer = getattr(settings, f"{kind}_idp_issuer").strip()
            if not issuer:
                continue
            providers.append(
                IdentityProvider(
                    kind=kind,
                    issuer=issuer,
                    audience=getattr(settings, f"{kind}_idp_audience").strip(),
                    keys=key_source(
                        getattr(settings, f"{kind}_idp_jwks").strip(),
                        timeout=settings.idp_jwks_timeout_seconds,
                    ),
                )
            )
        return cls(tuple(providers))

    def for_claims(self, claims: dict[str, Any]) -> IdentityProvider | None:
        """The one provider an unverified token claims to come from and be for."""
        matches = [p for p in self.providers if p.accepts(claims)]
        return matches[0] if len(matches) == 1 else None
