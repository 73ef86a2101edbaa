"""Inputs of the interaction mutations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import UNSET

from schema.enums import Channel, Direction, InteractionKind, Visibility


@strawberry.input(description="Interaction fields; omitted fields stay as they are.")
class InteractionFields:
    occurred_at: datetime | None = strawberry.field(
        default=UNSET, description="ISO 8601 with offset; defaults to now."
    )
    channel: Channel | None = UNSET
    direction: Direction | None = UNSET
    kind: InteractionKind | None = UNSET
    subject: str | None = strawberry.field(
        default=UNSET, description="At most 500 chars."
    )
    body: str | None = strawberry.field(
        default=UNSET, description="At most 20,000 chars."
    )
    amount: Decimal | None = strawberry.field(
        default=UNSET, description="Purchases and refunds only; positive, 4 decimals."
    )
    currency: str | None = strawberry.field(default=UNSET, description="ISO 4217 code.")
    cost_to_serve: Decimal | None = UNSET
    rating: int | None = strawberry.field(default=UNSET, description="0 to 10.")
    sentiment: float | None = strawberry.field(default=UNSET, description="-1 to 1.")
    visibility: Visibility | None = strawberry.field(
        default=UNSET, description="Defaults to INTERNAL."
    )


@strawberry.input(description="A touchpoint to record.")
class InteractionLogInput(InteractionFields):
    customer_id: strawberry.ID
    channel: Channel  # type: ignore[assignment]
    direction: Direction  # type: ignore[assignment]
    kind: InteractionKind  # type: ignore[assignment]
    external_ref: str | None = strawberry.field(
        default=UNSET,
        description="Your system's ID for it: logging the same one again returns the "
        "first record instead of a duplicate.",
    )


@strawberry.input(description="Corrections to an interaction.")
class InteractionUpdateInput(InteractionFields):
    id: strawberry.ID
    expected_version: int | None = UNSET


@strawberry.input(description="Identifies one interaction.")
class InteractionIdInput:
    id: strawberry.ID
