"""Who is calling: one Actor per request, built by the API edge from credentials."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Scope,
    StaffRole,
    scope_permissions,
)


@dataclass(frozen=True)
class Actor:
    """Base actor: knows nothing and may do nothing."""

    kind = "anonymous"

    @property
    def authenticated(self) -> bool:
        return False

    @property
    def permissions(self) -> frozenset[Permission]:
        return frozenset()

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def ref(self) -> str:
        """How audit rows name this actor: `kind:id`."""
        return self.kind

    @property
    def label(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Anonymous(Actor):
    kind = "anonymous"


@dataclass(frozen=True)
class StaffActor(Actor):
    staff_id: int
    role: StaffRole
    display_name: str = ""
    kind = "staff"

    @property
    def authenticated(self) -> bool:
        return True

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    @property
    def ref(self) -> str:
        return f"staff:{self.staff_id}"

    @property
    def label(self) -> str:
        return self.display_name or self.ref


@dataclass(frozen=True)
class PartnerActor(Actor):
    """A partner app calling with one of its API keys: no more than the key's scopes."""

    partner_id: int
    key_id: int
    name: str
    scopes: frozenset[Scope] = frozenset()
    kind = "partner"

    @property
    def authenticated(self) -> bool:
        return True

    @property
    def permissions(self) -> frozenset[Permission]:
        return scope_permissions(self.scopes)

    @property
    def ref(self) -> str:
        return f"partner:{self.partner_id}"

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class CustomerActor(Actor):
    """A customer signed in to their own view: no firm permission at all."""

    customer_id: int
    display_name: str = ""
    kind = "customer"

    @property
    def authenticated(self) -> bool:
        return True

    @property
    def ref(self) -> str:
        return f"customer:{self.customer_id}"

    @property
    def label(self) -> str:
        return self.display_name or self.ref


@dataclass(frozen=True)
class SystemActor(Actor):
    """The CLI, importer and worker: trusted code running on the operator's behalf."""

    name: str = "system"
    granted: frozenset[Permission] = field(
        default_factory=lambda: frozenset(Permission)
    )
    kind = "system"

    @property
    def authenticated(self) -> bool:
        return True

    @property
    def permissions(self) -> frozenset[Permission]:
        return self.granted

    @property
    def ref(self) -> str:
        return f"system:{self.name}"

    @property
    def label(self) -> str:
        return self.name
