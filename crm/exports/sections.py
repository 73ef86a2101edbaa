"""What a data export holds: an ordered registry of parts, each producing sections of
customer-facing records.

The export answers the right of access and to portability (GDPR Art. 15 and 20)
with what the firm discloses to the customer through self-service: the same
boundary as the `me` view. Firm-only measures (cost to serve, sentiment, owner,
strategic value, internal notes...) are never read here.

Each domain that holds customer-facing data owns its part, in
`crm/<domain>/export.py`: `async def customer_export(session, customer_id) ->
dict[str, list[dict]]` (section name -> records), listed in PARTS below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm.access import service as access_service
from crm.consent import service as consent_service
from crm.consent.models import ConsentEvent
from crm.corrections.models import ProfileCorrection
from crm.customers.models import Customer
from crm.events import jsonable
from crm.ids import to_global_id
from crm.insights import export as insight_export
from crm.insights.export import INSIGHT_COLUMNS
from crm.interactions.models import Interaction, Visibility
from crm.pagination import MAX_PAGE_SIZE, page_request
from crm.segments import export as segment_export
from crm.segments.export import SEGMENT_COLUMNS

Record = dict[str, Any]
Sections = dict[str, list[Record]]
Reader = Callable[[AsyncSession, int], Awaitable[Sections]]

# Keys of firm-only measures and internal fields, in either spelling: a record
# holding one is refused before anything is written (defence in depth).
FIRM_ONLY_KEYS = frozenset(
    {
        "cost_to_serve",
        "costToServe",
        "sentiment",
        "owner",
        "owner_id",
        "ownerId",
        "strategic_value",
        "strategicValue",
        "profitability",
        "internal_note",
        "internal_notes",
        "search_text",
        "recorded_by_staff_id",
    }
)


class ExportLeak(RuntimeError):
    """A part returned a firm-only key: a bug in that part, never shown to anyone."""


@dataclass(frozen=True)
class Part:
    """One contributor to the export: the sections it produces, in order, and the
    columns of each (the CSV header, also when a section is empty)."""

    name: str
    read: Reader
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


PROFILE_COLUMNS = (
    "id",
    "email",
    "phone",
    "given_name",
    "family_name",
    "display_name",
    "company",
    "locale",
    "time_zone",
    "created_at",
    "updated_at",
)
INTERACTION_COLUMNS = (
    "id",
    "occurred_at",
    "channel",
    "direction",
    "kind",
    "subject",
    "body",
    "amount",
    "currency",
    "rating",
)


async def profile(session: AsyncSession, customer_id: int) -> Sections:
    """The contact details the firm holds (MyProfile's fields)."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return {"profile": []}
    record = {name: getattr(customer, name) for name in PROFILE_COLUMNS}
    record["id"] = to_global_id("Customer", customer_id)
    return {"profile": [record]}


async def shared_interactions(session: AsyncSession, customer_id: int) -> Sections:
    """The interactions the firm shares with the customer, oldest first."""
    columns = [col(getattr(Interaction, name)) for name in INTERACTION_COLUMNS]
    rows = await session.execute(
        select(*columns)
        .where(
            col(Interaction.customer_id) == customer_id,
            col(Interaction.visibility) == Visibility.SHARED.value,
        )
        .order_by(col(Interaction.occurred_at), col(Interaction.id))
    )
    records = []
    for row in rows:
        record = dict(zip(INTERACTION_COLUMNS, row, strict=True))
        record["id"] = to_global_id("Interaction", record["id"])
        records.append(record)
    return {"interactions": records}


CONSENT_COLUMNS = ("purpose", "channel", "granted", "default", "source", "decided_at")
CONSENT_HISTORY_COLUMNS = (
    "purpose",
    "channel",
    "granted",
    "source",
    "evidence",
    "occurred_at",
    "recorded_at",
)
CORRECTION_COLUMNS = (
    "id",
    "status",
    "changes",
    "reason",
    "requested_at",
    "reviewed_at",
    "reviewer_role",
    "review_reason",
)
ACCESS_COLUMNS = (
    "occurred_at",
    "kind",
    "action",
    "accessor_kind",
    "accessor_name",
    "accessor_role",
    "views",
    "first_viewed_at",
)


async def consents(session: AsyncSession, customer_id: int) -> Sections:
    """Every consent that applies now (defaults included) and the whole ledger
    (MyConsent and MyConsentEvent's fields)."""
    states = await consent_service.states_by_customer(session, [customer_id])
    current = [
        {
            "purpose": status.purpose,
            "channel": status.channel,
            "granted": status.granted,
            "default": status.default,
            "source": status.source,
            "decided_at": status.decided_at,
        }
        for status in consent_service.effective(states[customer_id])
    ]
    ledger = await session.scalars(
        consent_service.history_statement(customer_id).order_by(
            col(ConsentEvent.occurred_at), col(ConsentEvent.id)
        )
    )
    history = [
        {name: getattr(event, name) for name in CONSENT_HISTORY_COLUMNS}
        for event in ledger
    ]
    return {"consents": current, "consent_history": history}


async def corrections(session: AsyncSession, customer_id: int) -> Sections:
    """The customer's correction requests and what became of them (MyCorrection)."""
    rows = await session.scalars(
        select(ProfileCorrection)
        .where(col(ProfileCorrection.customer_id) == customer_id)
        .order_by(col(ProfileCorrection.id))
    )
    records = []
    for row in rows:
        record = {name: getattr(row, name) for name in CORRECTION_COLUMNS}
        record["id"] = to_global_id("Correction", record["id"])
        records.append(record)
    return {"corrections": records}


async def access_log(session: AsyncSession, customer_id: int) -> Sections:
    """Who at the firm viewed or changed the record, newest first (me.accessLog),
    read a page of 100 at a time."""
    records: list[Record] = []
    after: str | None = None
    while True:
        log = await access_service.access_log(
            session, customer_id, page_request(first=MAX_PAGE_SIZE, after=after)
        )
        records.extend(
            {
                "occurred_at": entry.occurred_at,
                "kind": entry.kind,
                "action": entry.action,
                "accessor_kind": entry.actor_kind,
                "accessor_name": entry.actor_name,
                "accessor_role": entry.actor_role,
                "views": entry.views,
                "first_viewed_at": entry.first_viewed_at,
            }
            for entry in log.page.items
        )
        if not log.page.has_next_page or not log.page.cursors:
            return {"access_log": records}
        after = log.page.cursors[-1]


PARTS: tuple[Part, ...] = (
    Part("profile", profile, {"profile": PROFILE_COLUMNS}),
    Part("interactions", shared_interactions, {"interactions": INTERACTION_COLUMNS}),
    Part(
        "consents",
        consents,
        {"consents": CONSENT_COLUMNS, "consent_history": CONSENT_HISTORY_COLUMNS},
    ),
    Part("corrections", corrections, {"corrections": CORRECTION_COLUMNS}),
    Part("access", access_log, {"access_log": ACCESS_COLUMNS}),
    Part("insights", insight_export.customer_export, {"insights": INSIGHT_COLUMNS}),
    Part("segments", segment_export.customer_export, {"segments": SEGMENT_COLUMNS}),
)


@dataclass
class Document:
    """Every section of one customer's export, JSON-able."""

    sections: dict[str, list[Record]]
    columns: dict[str, tuple[str, ...]]

    @property
    def record_count(self) -> int:
        return sum(len(records) for records in self.sections.values())


def _columns_of(declared: tuple[str, ...] | None, records: list[Record]) -> tuple:
    """The declared columns, then any other key the records hold, first seen first."""
    names = list(declared or ())
    seen = set(names)
    for record in records:
        for key in record:
            if key not in seen:
                seen.add(key)
                names.append(key)
    return tuple(names)


def _check(part: str, section: str, records: list[Record]) -> None:
    for record in records:
        leaked = FIRM_ONLY_KEYS & record.keys()
        if leaked:
            raise ExportLeak(f"{part}/{section} holds firm-only keys {sorted(leaked)}")
        for value in record.values():
            if isinstance(value, dict):
                _check(part, section, [value])
            elif isinstance(value, list):
                _check(part, section, [v for v in value if isinstance(v, dict)])


async def build_document(
    session: AsyncSession, customer_id: int, parts: tuple[Part, ...] | None = None
) -> Document:
    """Read every part (by default the registry's) for `customer_id`, in order."""
    sections: dict[str, list[Record]] = {}
    columns: dict[str, tuple[str, ...]] = {}
    for part in PARTS if parts is None else parts:
        produced = await part.read(session, customer_id)
        for name in [*part.columns, *(n for n in produced if n not in part.columns)]:
            if name in sections:
                raise ValueError(f"Two parts produce the export section {name!r}.")
            records = [jsonable(r) for r in produced.get(name, [])]
            _check(part.name, name, records)
            sections[name] = records
            columns[name] = _columns_of(part.columns.get(name), records)
    return Document(sections=sections, columns=columns)
