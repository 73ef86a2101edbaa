"""Credentials to an Actor, once per request or WebSocket connection, looked up in
the request's own transaction (schema/extensions.py opens it).

- `Authorization: Bearer mut_...` (or `X-Api-Key: mut_...`): a partner app's API key.
- `Authorization: Bearer <JWT>`: a token this server signed (`staff:<id>` or
  `customer:<id>`), or one from a configured external identity provider
  (api/idp.py). The unverified `iss` only routes a token to the key that must
  verify it: ours (HS256, issuer "mutual") or the provider's (RS256/ES256).
"""

from __future__ import annotations

import functools
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from api.idp import NOT_VALID, IdentityProviders
from api.settings import Settings
from crm.actors import Actor, Anonymous
from crm.customer_auth.service import customer_actor
from crm.db import Database
from crm.errors import Unauthenticated
from crm.partners.service import KeyUse, authenticate_key, record_key_use
from crm.staff.service import active_staff_actor
from crm.tokens import TokenSigner
from schema.context import Authentication

API_KEY_PREFIX = "mut_"


def _numeric(ident: str) -> int | None:
    if ident.isascii() and ident.isdigit() and len(ident) < 10:
        return int(ident)
    return None


async def actor_for_subject(session: AsyncSession, subject: str) -> Actor:
    """The active staff member or customer a verified token subject names."""
    kind, _, ident = subject.partition(":")
    number = _numeric(ident)
    if number is None:
        raise Unauthenticated(NOT_VALID)
    if kind == "staff":
        actor = await active_staff_actor(session, number)
        if actor is None:
            raise Unauthenticated("This staff account is no longer active.")
        return actor
    if kind == "customer":
        return await customer_actor(session, number)
    raise Unauthenticated(NOT_VALID)


@functools.cache
def configured_providers() -> IdentityProviders:
    """The providers of the environment's Settings, for callers that pass none."""
    return IdentityProviders.from_settings(Settings())


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A JWT's header and claims, read without checking anything: for routing."""
    try:
        decoded = jwt.api_jwt.decode_complete(
            token, options={"verify_signature": False}
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        raise Unauthenticated(NOT_VALID) from None
    header, claims = decoded.get("header"), decoded.get("payload")
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthenticated(NOT_VALID)
    return header, claims


async def token_actor(
    session: AsyncSession,
    signer: TokenSigner,
    token: str,
    providers: IdentityProviders | None = None,
) -> Actor:
    """The actor a bearer JWT names, verified by whoever issued it."""
    subject = signer.verified_subject(token)
    if subject is not None:
        return await actor_for_subject(session, subject)
    header, claims = _unverified(token)
    if claims.get("iss") == signer.issuer:
        return await actor_for_subject(session, signer.verify(token))
    trusted = providers if providers is not None else configured_providers()
    provider = trusted.for_claims(claims)
    if provider is None:
        raise Unauthenticated(NOT_VALID)
    return await provider.actor(session, token, header)


class Credentials:
    """A credential a request presented, checked by `authenticate` in the session
    of the request's own operation (one pool checkout, one transaction)."""

    __slots__ = ("_key_use", "credential", "providers", "signer")

    def __init__(
        self, credential: str, signer: TokenSigner, providers: IdentityProviders | None
    ) -> None:
        self.credential = credential
        self.signer = signer
        self.providers = providers
        self._key_use: KeyUse | None = None

    async def authenticate(self, session: AsyncSession) -> Authentication:
        """The caller; refused credentials are reported, not raised, so the GraphQL
        layer answers with UNAUTHENTICATED. Database errors are raised."""
        try:
            if self.credential.startswith(API_KEY_PREFIX):
                self._key_use = await authenticate_key(session, self.credential)
                return Authentication(self._key_use.actor)
            actor = await token_actor(
                session, self.signer, self.credential, self.providers
            )
            return Authentication(actor)
        except Unauthenticated as exc:
            return Authentication(Anonymous(), exc.message)

    async def settle(self, database: Database) -> None:
        """Bookkeeping once the request's transaction is over: an API key's use."""
        if self._key_use is not None:
            await record_key_use(database, self._key_use)
            self._key_use = None


def presented(
    signer: TokenSigner,
    authorization: str | None,
    *,
    api_key: str | None = None,
    providers: IdentityProviders | None = None,
) -> Credentials | Authentication:
    """The credential a request presents, to be checked in its operation's session;
    or, when there is nothing to look up (none, or a malformed header), the outcome.

    `providers`: the external identity providers to trust; None reads them from
    the environment's Settings, once.
    """
    credential: str | None = None
    if api_key:
        credential = api_key.strip()
    elif authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return Authentication(Anonymous(), "Use `Authorization: Bearer <token>`.")
        credential = value.strip()
    if not credential:
        return ANONYMOUS
    return Credentials(credential, signer, providers)


ANONYMOUS = Authentication(Anonymous())
