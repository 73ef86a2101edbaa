"""Who may see and change which interactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, true
from sqlmodel import col

from crm.actors import Actor, PartnerActor
from crm.consent.rules import partner_sharing_withdrawn
from crm.interactions.models import Interaction, Visibility
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


def hidden_body_visibilities(actor: Actor) -> frozenset[str]:
    """The visibilities whose free text `actor` may not read: internal notes need
    the right to read them (the rule of Interaction.body, planned or resolved)."""
    if actor.can(Permission.INTERNAL_NOTES_READ):
        return frozenset()
    return frozenset({Visibility.INTERNAL.value})


def can_read_costs(actor: Actor) -> bool:
    """Whether `actor` sees what serving an interaction cost (financial data)."""
    return actor.can(Permission.FINANCIALS_READ)


def can_write(actor: Actor) -> None:
    require(actor, Permission.INTERACTIONS_WRITE)


def can_delete(actor: Actor) -> None:
    require(actor, Permission.INTERACTIONS_DELETE)
