"""Root query fields for consent, contact preferences and feedback."""

from __future__ import annotations

import strawberry


@strawberry.type
class ConsentQueries:
    pass
