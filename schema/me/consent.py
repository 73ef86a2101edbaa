"""The customer's own view (`me`) of consent, contact preferences and feedback."""

from __future__ import annotations

import strawberry


@strawberry.type
class MeConsent:
    pass
