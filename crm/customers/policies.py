"""Who may see and change which customers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, true
from sqlmodel import col

from crm.actors import Actor, PartnerActor
from crm.consent.rules import partner_sharing_withdrawn
from crm.customers.models import Customer
from crm.permissions import Permission
from crm.policy import require


def customer_scope(actor: Actor) -> ColumnElement[bool]:
    """The rows of `customer` that `actor` may see at all: partner keys never see
    a customer who withdrew consent to partner sharing (docs/consent.md)."""
    require(actor, Permission.CUSTOMERS_READ)
    if isinstance(actor, PartnerActor):
        return ~partner_sharing_withdrawn(col(Customer.id))
    return true()


def scoped(stmt: Select[Any], actor: Actor) -> Select[Any]:
    return stmt.where(customer_scope(actor))


def can_see_owner(actor: Actor) -> bool:
    """Whether Customer.owner shows the staff member (else it reads as null)."""
    return actor.can(Permission.STAFF_READ)


def can_write(actor: Actor) -> None:
    require(actor, Permission.CUSTOMERS_WRITE)


def can_archive(actor: Actor) -> None:
    require(actor, Permission.CUSTOMERS_ARCHIVE)


def can_merge(actor: Actor) -> None:
    require(actor, Permission.CUSTOMERS_MERGE)


def can_read_audit(actor: Actor) -> None:
    require(actor, Permission.AUDIT_READ)
