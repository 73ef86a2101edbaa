"""The customer's own view (`me`) of corrections, erasure and the access log."""

from __future__ import annotations

import strawberry


@strawberry.type
class MeSelfService:
    pass
