"""Who may see and change which interactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, true
from sqlmodel import col

from crm.actors import Actor, PartnerActor
from crm.consent.rules import partner_sharing_withdrawn
from crm.interactions.models import Interaction
from crm.permissions import Permission
from crm.policy import require


def interaction_scope(actor: Actor) -> ColumnElement[bool]:
    """The rows of `interaction` that `actor` may see at all: partner keys never
    see those of a customer who withdrew consent to partner sharing."""
    require(actor, Permission.INTERACTIONS_READ)
    if isinstance(actor, PartnerActor):
        return ~partner_sharing_withdrawn(col(Interaction.customer_id))
    return true()


def scoped(stmt: Select[Any], actor: Actor) -> Select[Any]:
    return stmt.where(interaction_scope(actor))


def can_write(actor: Actor) -> None:
    require(actor, Permission.INTERACTIONS_WRITE)


def can_delete(actor: Actor) -> None:
    require(actor, Permission.INTERACTIONS_DELETE)
