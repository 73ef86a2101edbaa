"""Who may read and record consents and contact preferences."""

from __future__ import annotations

from crm.actors import Actor
from crm.permissions import Permission
from crm.policy import require


def can_read(actor: Actor) -> None:
    """Staff and partner keys with consents:read see consents and their history."""
    require(actor, Permission.CONSENTS_READ)


def can_record(actor: Actor) -> None:
    """Record consent given or withdrawn elsewhere (paper form, phone, event...)."""
    require(actor, Permission.CONSENTS_WRITE)


def can_set_preferences(actor: Actor) -> None:
    """Contact preferences are contact data: whoever edits a customer sets them."""
    require(actor, Permission.CUSTOMERS_WRITE)
