"""The customer's own view (`me`) of segments: dynamic and static customer groups."""

from __future__ import annotations

import strawberry


@strawberry.type
class MeSegments:
    pass
