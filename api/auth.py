"""Credentials to an Actor, once per request or WebSocket connection.

- `Authorization: Bearer mut_...` (or `X-Api-Key: mut_...`): a partner app's API key.
- `Authorization: Bearer <JWT>`: a token this server signed (`staff:<id>` or
  `customer:<id>`), or one from a configured external identity provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.actors import Actor, Anonymous
from crm.db import Database
from crm.errors import Unauthenticated
from crm.staff.service import active_staff, staff_actor
from crm.tokens import TokenSigner

API_KEY_PREFIX = "mut_"


@dataclass(frozen=True)
class Authentication:
    actor: Actor
    error: str | None = None


def _numeric(ident: str) -> int | None:
    if ident.isascii() and ident.isdigit() and len(ident) < 10:
        return int(ident)
    return None


async def actor_for_subject(database: Database, subject: str) -> Actor:
    """The active staff member or customer a verified token subject names."""
    kind, _, ident = subject.partition(":")
    number = _numeric(ident)
    if number is None:
        raise Unauthenticated("The token is not valid.")
    if kind == "staff":
        async with database.session(write=False) as session:
            member = await active_staff(session, number)
        if member is None:
            raise Unauthenticated("This staff account is no longer active.")
        return staff_actor(member)
    if kind == "customer":
        from crm.customer_auth.service import customer_actor

        async with database.session(write=False) as session:
            return await customer_actor(session, number)
    raise Unauthenticated("The token is not valid.")


async def authenticate(
    database: Database,
    signer: TokenSigner,
    authorization: str | None,
    *,
    api_key: str | None = None,
) -> Authentication:
    """The caller behind the request's credentials; refused credentials are
    reported, not raised, so the GraphQL layer answers with UNAUTHENTICATED."""
    credential: str | None = None
    if api_key:
        credential = api_key.strip()
    elif authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return Authentication(Anonymous(), "Use `Authorization: Bearer <token>`.")
        credential = value.strip()
    if not credential:
        return Authentication(Anonymous())
    try:
        if credential.startswith(API_KEY_PREFIX):
            from crm.partners.service import authenticate_key

            return Authentication(await authenticate_key(database, credential))
        subject = signer.verify(credential)
        return Authentication(await actor_for_subject(database, subject))
    except Unauthenticated as exc:
        return Authentication(Anonymous(), exc.message)
