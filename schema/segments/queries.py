"""Root query fields for segments: dynamic and static customer groups."""

from __future__ import annotations

import strawberry


@strawberry.type
class SegmentQueries:
    pass
