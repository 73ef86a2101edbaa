"""Fields of the firm's Customer type for segments."""

from __future__ import annotations

import strawberry


@strawberry.type
class CustomerSegmentFields:
    pass
