"""Root query fields for corrections, erasure and the access log."""

from __future__ import annotations

import strawberry


@strawberry.type
class SelfServiceQueries:
    pass
