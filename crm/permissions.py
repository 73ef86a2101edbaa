"""What each kind of caller may do: one enum and one role table."""

from __future__ import annotations

from enum import StrEnum


class StaffRole(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    ANALYST = "analyst"


class Permission(StrEnum):
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    CUSTOMERS_ARCHIVE = "customers:archive"
    CUSTOMERS_MERGE = "customers:merge"
    INTERACTIONS_READ = "interactions:read"
    INTERACTIONS_WRITE = "interactions:write"
    INTERACTIONS_DELETE = "interactions:delete"
    INTERNAL_NOTES_READ = "internal_notes:read"
    FINANCIALS_READ = "financials:read"
    AUDIT_READ = "audit:read"
    STAFF_READ = "staff:read"
    STAFF_MANAGE = "staff:manage"
    PARTNERS_MANAGE = "partners:manage"


class Scope(StrEnum):
    """What a partner app's API key may be granted; never more than its scopes."""

    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    INTERACTIONS_READ = "interactions:read"
    INTERACTIONS_WRITE = "interactions:write"


SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.CUSTOMERS_READ: frozenset({Permission.CUSTOMERS_READ}),
    Scope.CUSTOMERS_WRITE: frozenset({Permission.CUSTOMERS_WRITE}),
    Scope.INTERACTIONS_READ: frozenset({Permission.INTERACTIONS_READ}),
    Scope.INTERACTIONS_WRITE: frozenset({Permission.INTERACTIONS_WRITE}),
}


def scope_permissions(scopes: frozenset[Scope]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for scope in scopes:
        granted |= SCOPE_PERMISSIONS[scope]
    return frozenset(granted)


_READ = {
    Permission.CUSTOMERS_READ,
    Permission.INTERACTIONS_READ,
    Permission.STAFF_READ,
}

ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.ADMIN: frozenset(Permission),
    StaffRole.MANAGER: frozenset(
        set(Permission) - {Permission.STAFF_MANAGE, Permission.PARTNERS_MANAGE}
    ),
    StaffRole.AGENT: frozenset(
        _READ
        | {
            Permission.CUSTOMERS_WRITE,
            Permission.INTERACTIONS_WRITE,
            Permission.INTERNAL_NOTES_READ,
            Permission.AUDIT_READ,
        }
    ),
    StaffRole.ANALYST: frozenset(
        _READ | {Permission.FINANCIALS_READ, Permission.AUDIT_READ}
    ),
}
