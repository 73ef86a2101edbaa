"""Import every table so that the metadata is complete (alembic, tests, CLI)."""

from crm.audit.models import AuditEvent, OutboxEvent
from crm.customers.models import Customer
from crm.interactions.models import Interaction
from crm.staff.models import StaffMember

__all__ = ["AuditEvent", "Customer", "Interaction", "OutboxEvent", "StaffMember"]
