"""Who may manage partner apps and their API keys: admins (and trusted system code)."""

from __future__ import annotations

from crm.actors import Actor
from crm.permissions import Permission
from crm.policy import require


def can_manage(actor: Actor) -> None:
    """Partner apps and keys are read and changed only with partners:manage, which
    no scope grants: a key can never see or mint keys."""
    require(actor, Permission.PARTNERS_MANAGE)
