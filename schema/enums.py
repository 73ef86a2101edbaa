"""GraphQL enums, each the domain's own enum exposed once.

`strawberry.enum` registers the domain class in place, so the names below are the
domain classes themselves (and type checkers see classes, not values).
"""

from __future__ import annotations

from enum import Enum

import strawberry

from crm.customers.filters import CustomerOrderField
from crm.customers.models import LifecycleStage
from crm.customers.upsert import ErrorPolicy
from crm.interactions.filters import InteractionOrderField
from crm.interactions.models import (
    Channel,
    Direction,
    InteractionKind,
    Source,
    Visibility,
)
from crm.permissions import StaffRole

strawberry.enum(LifecycleStage, description="Where a customer stands with the firm.")
strawberry.enum(Channel, description="The medium of an interaction.")
strawberry.enum(Direction, description="Who started the interaction.")
strawberry.enum(InteractionKind, description="What happened.")
strawberry.enum(
    Visibility,
    description="INTERNAL: firm only. SHARED: the customer sees it in their own view.",
)
strawberry.enum(Source, description="Which kind of caller recorded it.")
strawberry.enum(StaffRole, description="A staff member's role.")
strawberry.enum(
    CustomerOrderField, description="Fields a customer list can be sorted by."
)
strawberry.enum(
    InteractionOrderField, description="Fields an interaction list can be sorted by."
)
strawberry.enum(
    ErrorPolicy, description="What to do when some rows of a bulk upsert are invalid."
)


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


__all__ = [
    "Channel",
    "CustomerOrderField",
    "Direction",
    "ErrorPolicy",
    "InteractionKind",
    "InteractionOrderField",
    "LifecycleStage",
    "OrderDirection",
    "Source",
    "StaffRole",
    "Visibility",
]
