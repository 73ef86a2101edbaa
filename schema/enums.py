"""GraphQL enums, each the domain's own enum exposed once."""

from __future__ import annotations

from enum import Enum

import strawberry

from crm.customers.filters import CustomerOrderField as _CustomerOrderField
from crm.customers.models import LifecycleStage as _LifecycleStage
from crm.customers.upsert import ErrorPolicy as _ErrorPolicy
from crm.interactions.filters import InteractionOrderField as _InteractionOrderField
from crm.interactions.models import (
    Channel as _Channel,
)
from crm.interactions.models import (
    Direction as _Direction,
)
from crm.interactions.models import (
    InteractionKind as _InteractionKind,
)
from crm.interactions.models import (
    Source as _Source,
)
from crm.interactions.models import (
    Visibility as _Visibility,
)
from crm.permissions import StaffRole as _StaffRole

LifecycleStage = strawberry.enum(
    _LifecycleStage, description="Where a customer stands with the firm."
)
Channel = strawberry.enum(_Channel, description="The medium of an interaction.")
Direction = strawberry.enum(_Direction, description="Who started the interaction.")
InteractionKind = strawberry.enum(_InteractionKind, description="What happened.")
Visibility = strawberry.enum(
    _Visibility,
    description="INTERNAL: firm only. SHARED: the customer sees it in their own view.",
)
Source = strawberry.enum(_Source, description="Which kind of caller recorded it.")
StaffRole = strawberry.enum(_StaffRole, description="A staff member's role.")
CustomerOrderField = strawberry.enum(
    _CustomerOrderField, description="Fields a customer list can be sorted by."
)
InteractionOrderField = strawberry.enum(
    _InteractionOrderField, description="Fields an interaction list can be sorted by."
)


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


ErrorPolicy = strawberry.enum(
    _ErrorPolicy, description="What to do when some rows of a bulk upsert are invalid."
)
