"""The customer's own view (`me`) of customer data exports."""

from __future__ import annotations

import strawberry


@strawberry.type
class MeExports:
    pass
