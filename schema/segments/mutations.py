"""Mutations for segments: dynamic and static customer groups."""

from __future__ import annotations

import strawberry


@strawberry.type
class SegmentMutations:
    pass
