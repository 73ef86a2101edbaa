"""Credentials to an Actor, once per request or WebSocket connection."""

from __future__ import annotations

from dataclasses import dataclass

from crm.actors import Actor, Anonymous
from crm.db import Database
from crm.errors import Unauthenticated
from crm.staff.service import active_staff, staff_actor
from crm.tokens import TokenSigner


@dataclass(frozen=True)
class Authentication:
    actor: Actor
    error: str | None = None


async def authenticate(
    database: Database, signer: TokenSigner, authorization: str | None
) -> Authentication:
    """The caller behind an Authorization header; refused credentials are reported,
    not raised, so the GraphQL layer answers with UNAUTHENTICATED."""
    if not authorization:
        return Authentication(Anonymous())
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return Authentication(Anonymous(), "Use `Authorization: Bearer <token>`.")
    try:
        subject = signer.verify(credential.strip())
    except Unauthenticated as exc:
        return Authentication(Anonymous(), exc.message)
    kind, _, ident = subject.partition(":")
    if kind == "staff" and ident.isascii() and ident.isdigit() and len(ident) < 10:
        async with database.session(write=False) as session:
            member = await active_staff(session, int(ident))
        if member is not None:
            return Authentication(staff_actor(member))
        return Authentication(Anonymous(), "This staff account is no longer active.")
    return Authentication(Anonymous(), "The token is not valid.")
