"""What erasure does to each table: the one list, checked against the metadata.

tests/test_erasure_inventory.py fails when a table exists that this list does not
name, so a new table holding personal data cannot be forgotten silently.

DELETE and CLEAR rules run generically (by `customer_id`); CUSTOM tables are
handled by crm.erasure.service itself; KEEP tables hold nothing personal about the
customer (the reason says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Treatment(StrEnum):
    CUSTOM = "custom"  # crm.erasure.service handles the table itself
    DELETE = "delete"  # the customer's rows are deleted
    CLEAR = "clear"  # the customer's rows stay with these columns set
    KEEP = "keep"  # nothing personal: kept as is


@dataclass(frozen=True)
class Rule:
    treatment: Treatment
    why: str
    # CLEAR: column -> value written over it.
    clear: dict[str, Any] = field(default_factory=dict)
    # DELETE/CLEAR: the column naming the customer.
    customer_column: str = "customer_id"


ERASED_NAME = "Erased customer"

INVENTORY: dict[str, Rule] = {
    # --- core ---
    "customer": Rule(
        Treatment.CUSTOM,
        "Kept as an anonymous shell (financial records point at it): names, email, "
        "phone, external ref, company, locale, time zone, tags and attributes "
        f"cleared; display name {ERASED_NAME!r}; erased_at set; archived. Customers "
        "merged into it are erased with it.",
    ),
    "interaction": Rule(
        Treatment.CLEAR,
        "Kept for the firm's financial records and aggregates (kind, channel, "
        "dates, amount, currency, cost, rating); subject, body and external "
        "reference cleared.",
        clear={"subject": None, "body": None, "external_ref": None},
    ),
    "customer_login_code": Rule(Treatment.DELETE, "Sign-in codes: deleted."),
    "audit_event": Rule(
        Treatment.CUSTOM,
        "Events of the customer's record, interactions, corrections and erasure "
        "requests, and events the customer made: action, time and actor kept; "
        "changed values cleared except non-personal ones (status, amounts, "
        "dates...); the customer's name as actor replaced.",
    ),
    "outbox_event": Rule(
        Treatment.CUSTOM,
        "The same events' messages: topic and time kept, payload reduced to the "
        "entity, its ID and the actor reference.",
    ),
    "staff_member": Rule(Treatment.KEEP, "The firm's staff, not the customer."),
    "partner_app": Rule(Treatment.KEEP, "The firm's partner apps."),
    "api_key": Rule(Treatment.KEEP, "The partner apps' keys."),
    # --- self-service (this package and its siblings) ---
    "profile_correction": Rule(
        Treatment.CUSTOM,
        "Status and dates kept; requested values, the customer's reason and the "
        "review reason cleared (field names kept).",
    ),
    "erasure_request": Rule(
        Treatment.CLEAR,
        "Kept as the record that the erasure happened; the customer's reason cleared.",
        clear={"reason": None},
    ),
    "access_view": Rule(
        Treatment.KEEP,
        "Who at the firm read the record and when: about the readers, kept for "
        "accountability.",
    ),
    # --- consent and preferences ---
    "consent_event": Rule(
        Treatment.CLEAR,
        "The ledger keeps purpose, channel, decision, source and time (proof of "
        "what was consented to); the free-text evidence is cleared.",
        clear={"evidence": None},
    ),
    "consent_state": Rule(Treatment.KEEP, "Purpose, channel, decision and time only."),
    "contact_preference": Rule(
        Treatment.DELETE, "Preferred channel, frequency and language: deleted."
    ),
    # --- segments ---
    "segment": Rule(Treatment.KEEP, "The firm's segment definitions."),
    "segment_membership": Rule(
        Treatment.DELETE, "Which segments the customer was in: deleted."
    ),
    # --- insights ---
    "customer_insight": Rule(
        Treatment.DELETE,
        "The customer's current scores and classifications (profiling): deleted.",
    ),
    "insight_snapshot": Rule(
        Treatment.KEEP,
        "Numbers of past refreshes of the now anonymous shell: kept so that "
        "aggregate trends do not change retroactively.",
    ),
    "insight_model_fit": Rule(Treatment.KEEP, "Model parameters over all customers."),
    "insight_policy": Rule(Treatment.KEEP, "Firm settings."),
    "insight_settings": Rule(Treatment.KEEP, "Firm settings."),
    "strategic_value_override": Rule(
        Treatment.DELETE, "A staff judgement of the customer, with a reason: deleted."
    ),
    # --- exports ---
    "data_export_file": Rule(
        Treatment.CUSTOM, "Prepared export files of the customer: deleted."
    ),
    "data_export": Rule(
        Treatment.DELETE, "The customer's export requests: deleted with their files."
    ),
}
