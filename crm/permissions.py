"""What each kind of caller may do: one enum, one role table, one scope table.

Deny by default: a role holds exactly the permissions listed for it here (admins
hold every permission, so a new one is theirs alone until another role is given
it on purpose). docs/permissions.md is generated from these tables
(`python -m crm.permissions_doc --write`).
"""

from __future__ import annotations

from enum import StrEnum


class StaffRole(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    ANALYST = "analyst"

    @property
    def description(self) -> str:
        return ROLE_DESCRIPTIONS[self]


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
    SEGMENTS_READ = "segments:read"
    SEGMENTS_MANAGE = "segments:manage"
    INSIGHTS_READ = "insights:read"
    INSIGHTS_CONFIGURE = "insights:configure"
    STRATEGIC_VALUE_WRITE = "strategic_value:write"
    CONSENTS_READ = "consents:read"
    CONSENTS_WRITE = "consents:write"
    CORRECTIONS_REVIEW = "corrections:review"
    ERASURE_MANAGE = "erasure:manage"

    @property
    def description(self) -> str:
        return PERMISSION_DESCRIPTIONS[self]

    @property
    def read_only(self) -> bool:
        """Whether the permission only lets its holder read (it changes nothing)."""
        return self.value.endswith(":read")


class Scope(StrEnum):
    """What a partner app's API key may be granted; never more than its scopes."""

    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    INTERACTIONS_READ = "interactions:read"
    INTERACTIONS_WRITE = "interactions:write"
    SEGMENTS_READ = "segments:read"
    CONSENTS_READ = "consents:read"

    @property
    def description(self) -> str:
        return SCOPE_DESCRIPTIONS[self]


ROLE_DESCRIPTIONS: dict[StaffRole, str] = {
    StaffRole.ADMIN: "Everything, including staff accounts and partner apps.",
    StaffRole.MANAGER: (
        "All customer data, financial figures included; archives, merges and "
        "deletes; manages segments, consents, corrections and erasure. No staff "
        "or partner management, no insight configuration."
    ),
    StaffRole.AGENT: (
        "Reads customers and interactions, logs interactions and edits contact "
        "data. No financial or strategic figures; cannot archive, merge or delete."
    ),
    StaffRole.ANALYST: (
        "Reads everything a report needs, financial figures included; changes "
        "nothing and cannot read internal notes."
    ),
}

PERMISSION_DESCRIPTIONS: dict[Permission, str] = {
    Permission.CUSTOMERS_READ: (
        "Read customers: lists, search, one by ID; filter interactions by their "
        "customer."
    ),
    Permission.CUSTOMERS_WRITE: (
        "Create customers, edit their contact data, bulk upsert them."
    ),
    Permission.CUSTOMERS_ARCHIVE: "Archive (soft-delete) and restore customers.",
    Permission.CUSTOMERS_MERGE: "Merge a duplicate customer into another.",
    Permission.INTERACTIONS_READ: (
        "Read interactions; filter customers by their interactions."
    ),
    Permission.INTERACTIONS_WRITE: (
        "Log interactions (with customers:read, to name the customer) and correct them."
    ),
    Permission.INTERACTIONS_DELETE: "Delete interactions (the audit trail keeps them).",
    Permission.INTERNAL_NOTES_READ: (
        "Read the body of INTERNAL interactions, and filter by body. Without it "
        "such a body reads as null."
    ),
    Permission.FINANCIALS_READ: (
        "Read financial and strategic figures (cost to serve, revenue, margin, "
        "profitability, predicted lifetime value, strategic value, value group, "
        "low-value flag), filter and sort by them, export them. Without it they "
        "read as null."
    ),
    Permission.AUDIT_READ: (
        "Read audit trails: who changed what, and when. Values of fields the "
        "reader may not read are withheld."
    ),
    Permission.STAFF_READ: (
        "Read staff members: node(id:) on a StaffMember, a customer's owner "
        "(null without it), filter customers by owner."
    ),
    Permission.STAFF_MANAGE: "Create, change and archive staff accounts.",
    Permission.PARTNERS_MANAGE: (
        "Register partner apps and create or revoke their API keys."
    ),
    Permission.SEGMENTS_READ: (
        "Read segments, their members, history and why a customer is in one; "
        "preview a rule."
    ),
    Permission.SEGMENTS_MANAGE: (
        "Create, edit, delete and refresh segments; add and remove static members."
    ),
    Permission.INSIGHTS_READ: (
        "Read the non-financial insights of customers (RFM, activity, churn risk, "
        "defections, loyalty, willingness, value-creation mode, satisfaction, tier) "
        "and filter or sort by them."
    ),
    Permission.INSIGHTS_CONFIGURE: (
        "Configure insights: refresh them, publish kinds to customers (never "
        "confidential ones), set the tier ladder and model settings."
    ),
    Permission.STRATEGIC_VALUE_WRITE: (
        "Set a customer's strategic value, with a reason (audited)."
    ),
    Permission.CONSENTS_READ: "Read customers' consents and their history.",
    Permission.CONSENTS_WRITE: (
        "Record consent a customer gave or withdrew elsewhere, with its source."
    ),
    Permission.CORRECTIONS_REVIEW: (
        "Read customers' correction requests and approve or reject them."
    ),
    Permission.ERASURE_MANAGE: (
        "Read erasure requests and carry them out or decline them."
    ),
}

SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.CUSTOMERS_READ: "Read customers.",
    Scope.CUSTOMERS_WRITE: (
        "Create and upsert customers; update them (with customers:read)."
    ),
    Scope.INTERACTIONS_READ: (
        "Read interactions (bodies of INTERNAL ones read as null)."
    ),
    Scope.INTERACTIONS_WRITE: (
        "Log and correct interactions (logging also needs customers:read)."
    ),
    Scope.SEGMENTS_READ: "Read segments and their members.",
    Scope.CONSENTS_READ: "Read customers' consents (to respect them downstream).",
}

SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.CUSTOMERS_READ: frozenset({Permission.CUSTOMERS_READ}),
    Scope.CUSTOMERS_WRITE: frozenset({Permission.CUSTOMERS_WRITE}),
    Scope.INTERACTIONS_READ: frozenset({Permission.INTERACTIONS_READ}),
    Scope.INTERACTIONS_WRITE: frozenset({Permission.INTERACTIONS_WRITE}),
    Scope.SEGMENTS_READ: frozenset({Permission.SEGMENTS_READ}),
    Scope.CONSENTS_READ: frozenset({Permission.CONSENTS_READ}),
}


def scope_permissions(scopes: frozenset[Scope]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for scope in scopes:
        granted |= SCOPE_PERMISSIONS[scope]
    return frozenset(granted)


# What every staff member may read, whatever their role.
_STAFF_BASE = frozenset(
    {
        Permission.CUSTOMERS_READ,
        Permission.INTERACTIONS_READ,
        Permission.AUDIT_READ,
        Permission.STAFF_READ,
        Permission.SEGMENTS_READ,
        Permission.INSIGHTS_READ,
        Permission.CONSENTS_READ,
    }
)

ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.ADMIN: frozenset(Permission),
    StaffRole.MANAGER: _STAFF_BASE
    | {
        Permission.CUSTOMERS_WRITE,
        Permission.CUSTOMERS_ARCHIVE,
        Permission.CUSTOMERS_MERGE,
        Permission.INTERACTIONS_WRITE,
        Permission.INTERACTIONS_DELETE,
        Permission.INTERNAL_NOTES_READ,
        Permission.FINANCIALS_READ,
        Permission.SEGMENTS_MANAGE,
        Permission.STRATEGIC_VALUE_WRITE,
        Permission.CONSENTS_WRITE,
        Permission.CORRECTIONS_REVIEW,
        Permission.ERASURE_MANAGE,
    },
    StaffRole.AGENT: _STAFF_BASE
    | {
        Permission.CUSTOMERS_WRITE,
        Permission.INTERACTIONS_WRITE,
        Permission.INTERNAL_NOTES_READ,
        Permission.CONSENTS_WRITE,
        Permission.CORRECTIONS_REVIEW,
    },
    StaffRole.ANALYST: _STAFF_BASE | {Permission.FINANCIALS_READ},
}
