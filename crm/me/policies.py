"""What a signed-in customer may see: their own active record and the interactions
the firm shared with them, nothing else."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, select
from sqlmodel import col

from crm.actors import Actor, CustomerActor
from crm.customers.models import Customer
from crm.errors import Forbidden, Unauthenticated
from crm.interactions.models import Interaction, Visibility


def own_customer_id(actor: Actor) -> int:
    """The customer `actor` is signed in as; refuses every other kind of caller."""
    if not actor.authenticated:
        raise Unauthenticated("Sign in first: this operation needs credentials.")
    if not isinstance(actor, CustomerActor):
        raise Forbidden("Only a signed-in customer has a view of their own.")
    return actor.customer_id


def profile_scope(actor: Actor) -> ColumnElement[bool]:
    """The rows of `customer` the actor sees as their profile: their own, while active
    (archived and merged records are gone from the customer's view)."""
    return and_(
        col(Customer.id) == own_customer_id(actor),
        col(Customer.archived_at).is_(None),
    )


def interaction_scope(actor: Actor) -> ColumnElement[bool]:
    """The rows of `interaction` the actor sees: shared ones of their active record."""
    active = select(col(Customer.id)).where(profile_scope(actor)).scalar_subquery()
    return and_(
        col(Interaction.customer_id).in_(active),
        col(Interaction.visibility) == Visibility.SHARED.value,
    )
