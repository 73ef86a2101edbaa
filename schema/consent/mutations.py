"""Mutations for consent, contact preferences and feedback."""

from __future__ import annotations

import strawberry


@strawberry.type
class ConsentMutations:
    pass
