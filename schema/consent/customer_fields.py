"""Fields of the firm's Customer type for consent, contact preferences and feedback."""

from __future__ import annotations

import strawberry


@strawberry.type
class CustomerConsentFields:
    pass
