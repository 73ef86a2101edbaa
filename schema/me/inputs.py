"""Inputs of the customer's own view."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from schema.filters import ChannelFilter, DateTimeFilter


@strawberry.input(description="A filter over your interactions.")
class MyInteractionWhere:
    channel: ChannelFilter | None = strawberry.field(
        default=UNSET, description="The medium of the interaction."
    )
    occurred_at: DateTimeFilter | None = strawberry.field(
        default=UNSET, description="When it happened (gte/lt for a period)."
    )
