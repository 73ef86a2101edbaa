"""Fields of the firm's Customer type for corrections, erasure and the access log."""

from __future__ import annotations

import strawberry


@strawberry.type
class CustomerSelfServiceFields:
    pass
