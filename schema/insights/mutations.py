"""Mutations for insights: the firm's customer intelligence."""

from __future__ import annotations

import strawberry


@strawberry.type
class InsightMutations:
    pass
