"""The customer's own view: the `me` root."""

from __future__ import annotations

import strawberry


@strawberry.type
class MeQueries:
    pass
