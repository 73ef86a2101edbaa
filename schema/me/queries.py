"""The customer's own view: the `me` root."""

from __future__ import annotations

import strawberry

from schema.me.permissions import IsCustomer
from schema.me.types import Me
from schema.permissions import gate


@strawberry.type
class MeQueries:
    @strawberry.field(
        description="Your own view, for a signed-in customer (staff and partner "
        "apps use the firm's fields instead).",
        extensions=gate(IsCustomer()),
    )
    def me(self) -> Me:
        return Me()
