"""The gate of the customer's own view."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from crm.errors import Unauthenticated
from crm.me.policies import own_customer_id


class IsCustomer(BasePermission):
    """A signed-in customer: staff and partner apps are FORBIDDEN, anonymous callers
    UNAUTHENTICATED."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context = info.context
        if context.auth_error:
            raise Unauthenticated(context.auth_error)
        own_customer_id(context.actor)
        return True
