"""Partner app and API key mutations (admins)."""

from __future__ import annotations

import strawberry


@strawberry.type
class PartnerMutations:
    pass
