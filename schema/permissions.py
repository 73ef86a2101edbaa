"""Operation gates: every root field declares one (a test walks the schema)."""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from crm.errors import Unauthenticated
from crm.permissions import Permission
from crm.policy import require


class Has(BasePermission):
    """The caller must be signed in and hold `permission`."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context = info.context
        if context.auth_error:
            raise Unauthenticated(context.auth_error)
        require(context.actor, self.permission)
        return True


class IsAuthenticated(BasePermission):
    """Any signed-in caller; what they may see is decided by the domain policies."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context = info.context
        if context.auth_error:
            raise Unauthenticated(context.auth_error)
        if not context.actor.authenticated:
            raise Unauthenticated("Sign in first: this operation needs credentials.")
        return True


class Public(BasePermission):
    """Open to anonymous callers (sign-in). Each use is listed in the gate test."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return True


def gate(*permissions: BasePermission) -> list[FieldExtension]:
    """The `extensions=` of a root field guarded by `permissions`."""
    return [PermissionExtension(permissions=list(permissions), use_directives=False)]
