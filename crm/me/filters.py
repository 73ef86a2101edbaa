"""The filters and ordering of a customer's own interactions: a restricted
vocabulary, so a customer can never filter on what they may not read."""

from __future__ import annotations

from typing import Any

from crm.filtering import EntitySpec, FieldSpec
from crm.interactions.filters import InteractionOrderField, interaction_order
from crm.interactions.models import Channel, Interaction
from crm.pagination import SortKey


def _col(name: str) -> Any:
    return lambda entity: getattr(entity, name)


MY_INTERACTION_SPEC = EntitySpec(
    name="MyInteraction",
    model=lambda: Interaction,
    fields={
        "channel": FieldSpec(_col("channel"), "enum", enum=Channel),
        "occurred_at": FieldSpec(_col("occurred_at"), "datetime"),
    },
)


def my_interaction_order() -> list[SortKey]:
    """Newest first, as the customer's history reads."""
    return interaction_order(InteractionOrderField.OCCURRED_AT, descending=True)
