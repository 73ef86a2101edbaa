"""Partner app queries (admins)."""

from __future__ import annotations

import strawberry


@strawberry.type
class PartnerQueries:
    pass
