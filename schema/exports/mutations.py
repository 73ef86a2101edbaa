"""Mutations for customer data exports."""

from __future__ import annotations

import strawberry


@strawberry.type
class ExportMutations:
    pass
