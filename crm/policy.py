"""Gates shared by every domain's policies."""

from __future__ import annotations

from crm.actors import Actor
from crm.errors import Forbidden, Unauthenticated
from crm.permissions import Permission


def require(actor: Actor, permission: Permission) -> None:
    """Raise unless `actor` holds `permission` (anonymous callers must sign in)."""
    if not actor.authenticated:
        raise Unauthenticated("Sign in first: this operation needs credentials.")
    if not actor.can(permission):
        raise Forbidden(f"You are not allowed to do this (needs {permission.value}).")
