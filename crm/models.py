"""Import every table so that the metadata is complete (alembic, tests, CLI)."""

import crm.access.models
import crm.consent.models
import crm.corrections.models
import crm.erasure.models
import crm.exports.models
import crm.insights.models
import crm.segments.models  # noqa: F401
from crm.audit.models import AuditEvent, OutboxEvent
from crm.customer_auth.models import CustomerLoginCode
from crm.customers.models import Customer
from crm.interactions.models import Interaction
from crm.partners.models import ApiKey, PartnerApp
from crm.staff.models import StaffMember

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Customer",
    "CustomerLoginCode",
    "Interaction",
    "OutboxEvent",
    "PartnerApp",
    "StaffMember",
]
