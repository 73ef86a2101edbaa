"""GraphQL enums of corrections, erasure and the access log (the domain's own)."""

from __future__ import annotations

import strawberry

from crm.access.service import AccessKind, AccessorKind
from crm.corrections.models import CorrectionStatus
from crm.erasure.models import ErasureSource, ErasureStatus

strawberry.enum(
    CorrectionStatus,
    description="APPLIED at once (display name, locale, time zone, phone); PENDING "
    "staff review (email, legal name, company) until APPROVED or REJECTED.",
)
strawberry.enum(
    ErasureStatus,
    description="PENDING during the review window; then CARRIED_OUT or DECLINED.",
)
strawberry.enum(ErasureSource, description="Who asked for an erasure.")
strawberry.enum(AccessKind, description="VIEWED: read the record. CHANGED: changed it.")
strawberry.enum(
    AccessorKind,
    description="Who at the firm: a STAFF member, a PARTNER app, or the SYSTEM "
    "(imports, scheduled jobs).",
)

__all__ = [
    "AccessKind",
    "AccessorKind",
    "CorrectionStatus",
    "ErasureSource",
    "ErasureStatus",
]
