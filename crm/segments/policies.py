"""Who may see and change segments, and which segments a customer sees."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, true
from sqlmodel import col

from crm.actors import Actor
from crm.me.policies import own_customer_id
from crm.permissions import Permission
from crm.policy import require
from crm.segments.models import Segment, SegmentMembership


def segment_scope(actor: Actor) -> ColumnElement[bool]:
    """The segments `actor` may see at all (the firm's callers: every one)."""
    require(actor, Permission.SEGMENTS_READ)
    return true()


def can_manage(actor: Actor) -> None:
    require(actor, Permission.SEGMENTS_MANAGE)


def can_read_members(actor: Actor) -> None:
    """Members are customers: reading them needs both rights."""
    require(actor, Permission.SEGMENTS_READ)
    require(actor, Permission.CUSTOMERS_READ)


def own_membership_scope(actor: Actor) -> ColumnElement[bool]:
    """A signed-in customer's current stints in customer-visible segments."""
    return and_(
        col(SegmentMembership.customer_id) == own_customer_id(actor),
        col(SegmentMembership.left_at).is_(None),
        col(Segment.customer_visible).is_(True),
        col(Segment.customer_name).is_not(None),
    )
