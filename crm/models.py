"""Import every table so that the metadata is complete (alembic, tests, CLI)."""

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
