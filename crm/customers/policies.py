"""Who may see and change which customers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, true

from crm.actors import Actor
from crm.permissions import Permission
from crm.policy import require


def customer_scope(actor: Actor) -> ColumnElement[bool]:
    """The rows of `customer` that `actor` may see at all."""
    require(actor, Permission.CUSTOMERS_READ)
    return true()


def scoped(stmt: Select[Any], actor: Actor) -> Select[Any]:
    return stmt.where(customer_scope(actor))


def can_write(actor: Actor) -> None:
    require(actor, Permission.CUSTOMERS_WRITE)


def can_archive(actor: Actor) -> None:
    require(actor, Permission.CUSTOMERS_ARCHIVE)


def can_merge(actor: Actor) -> None:
    require(actor, Permission.CUSTOMERS_MERGE)


def can_read_audit(actor: Actor) -> None:
    require(actor, Permission.AUDIT_READ)
