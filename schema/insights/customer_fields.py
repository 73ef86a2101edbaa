"""Fields of the firm's Customer type for insights: the firm's customer intelligence."""

from __future__ import annotations

import strawberry


@strawberry.type
class CustomerInsightFields:
    pass
