"""The customer's own view (`me`) of insights: the firm's customer intelligence."""

from __future__ import annotations

import strawberry


@strawberry.type
class MeInsights:
    pass
