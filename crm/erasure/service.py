"""Erasure: a customer's personal data erased or irreversibly anonymised.

A customer asks with `request_erasure` (confirmation phrase required). The
request waits for a REVIEW_WINDOW, during which staff with erasure:manage carry
it out at once or decline it with a reason (a legal hold: an open dispute, debts,
records the law makes the firm keep). When the window ends, `carry_out_due`
(the worker) carries out every request still pending. Staff may also erase a
customer directly (`erase_customer`), with a reason.

Carrying out is one transaction over every table (crm.erasure.inventory says
what happens where): the customer row stays as an anonymous shell so that
financial records keep their customer without identity. Afterwards the
customer's tokens are refused (crm.customer_auth.can_sign_in) and their old
email finds nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from crm import events
from crm.actors import Actor, StaffActor
from crm.audit.models import AuditEvent, OutboxEvent
from crm.columns import utcnow
from crm.corrections.models import CorrectionStatus, ProfileCorrection
from crm.customers import service as customer_service
from crm.customers.models import Customer
from crm.db import metadata
from crm.erasure.filters import ERASURE_SPEC, erasure_order
from crm.erasure.inventory import ERASED_NAME, INVENTORY, Treatment
from crm.erasure.models import ErasureRequest, ErasureSource, ErasureStatus
from crm.errors import FieldError, NotFound, ValidationFailed
from crm.filtering import compile_where
from crm.interactions.models import Interaction
from crm.me import policies as me_policies
from crm.me import service as me_service
from crm.pagination import Page, PageRequest, paginate
from crm.permissions import Permission
from crm.policy import require
from crm.validation import Errors, clean_text, search_document

REVIEW_WINDOW = timedelta(days=7)
CONFIRMATION_PHRASE = "ERASE MY DATA"
MAX_REASON = 1000
ERASED_CORRECTION_REASON = "The customer's personal data was erased."

# Audit values kept when a row is scrubbed: they describe what happened, not who.
NON_PERSONAL_FIELDS = frozenset(
    {
        "status",
        "lifecycle_stage",
        "archived_at",
        "merged_into_id",
        "owner_id",
        "erased_at",
        "kind",
        "channel",
        "direction",
        "visibility",
        "source",
        "occurred_at",
        "amount",
        "currency",
        "cost_to_serve",
        "rating",
        "sentiment",
        "purpose",
        "granted",
    }
)
# Outbox payload keys kept: references, never values.
OUTBOX_KEYS = frozenset({"entity", "id", "actor", "customer_id", "fields", "status"})
# Entity types whose audit rows belong to the customer, with the table holding them.
OWNED_ENTITIES = {
    "Interaction": Interaction,
    "Correction": ProfileCorrection,
    "ErasureRequest": ErasureRequest,
}


def _decider(actor: Actor) -> dict[str, Any]:
    return {
        "decided_at": utcnow(),
        "decided_by": actor.ref,
        "decided_by_label": actor.label,
        "decided_by_role": actor.role.value if isinstance(actor, StaffActor) else None,
    }


async def _record(
    session: AsyncSession, actor: Actor, action: str, request: ErasureRequest
) -> None:
    assert request.id is not None
    await events.record(
        session,
        actor,
        action=action,
        entity_type="ErasureRequest",
        entity_id=request.id,
        changes={"status": {"before": None, "after": request.status}},
        payload={"customer_id": request.customer_id, "status": request.status},
    )


# --- the customer's side -----------------------------------------------------------


async def request_erasure(
    session: AsyncSession,
    actor: Actor,
    *,
    confirmation: str | None,
    reason: str | None = None,
) -> ErasureRequest:
    """The signed-in customer asks to be erased; asking again returns the pending
    request."""
    customer = await me_service.my_profile(session, actor)
    assert customer.id is not None
    errors = Errors()
    if (confirmation or "").strip() != CONFIRMATION_PHRASE:
        errors.add(
            "confirmation",
            "CONFIRMATION_REQUIRED",
            f"Type {CONFIRMATION_PHRASE!r} to confirm: erasure cannot be undone.",
        )
    cleaned = clean_text(errors, "reason", reason, max_length=MAX_REASON)
    errors.raise_if_any()
    pending = await session.scalar(
        select(ErasureRequest).where(
            col(ErasureRequest.customer_id) == customer.id,
            col(ErasureRequest.status) == ErasureStatus.PENDING.value,
        )
    )
    if pending is not None:
        return pending
    now = utcnow()
    request = ErasureRequest(
        customer_id=customer.id,
        status=ErasureStatus.PENDING.value,
        source=ErasureSource.CUSTOMER.value,
        reason=cleaned,
        requested_by=actor.ref,
        requested_at=now,
        due_at=now + REVIEW_WINDOW,
    )
    session.add(request)
    await session.flush()
    await _record(session, actor, "erasure.requested", request)
    return request


async def my_erasure_request(
    session: AsyncSession, actor: Actor
) -> ErasureRequest | None:
    """The signed-in customer's latest erasure request, if any."""
    customer_id = me_policies.own_customer_id(actor)
    return await session.scalar(
        select(ErasureRequest)
        .where(col(ErasureRequest.customer_id) == customer_id)
        .order_by(col(ErasureRequest.id).desc())
        .limit(1)
    )


# --- the firm's side ---------------------------------------------------------------


async def get_request(
    session: AsyncSession, actor: Actor, request_id: int, *, lock: bool = False
) -> ErasureRequest:
    """One erasure request; `lock` holds its row until the transaction ends, so
    two staff members cannot decide it at once (PostgreSQL; SQLite writers are
    serial already)."""
    require(actor, Permission.ERASURE_MANAGE)
    found = await session.get(ErasureRequest, request_id, with_for_update=lock)
    if found is None:
        raise NotFound("No erasure request with that ID.", field="id")
    await customer_service.get_customer(session, actor, found.customer_id)
    return found


async def _pending(
    session: AsyncSession, actor: Actor, request_id: int
) -> ErasureRequest:
    request = await get_request(session, actor, request_id, lock=True)
    if request.status != ErasureStatus.PENDING.value:
        raise ValidationFailed(
            [
                FieldError(
                    "id", "NOT_PENDING", f"This request was already {request.status}."
                )
            ]
        )
    return request


async def carry_out_request(
    session: AsyncSession, actor: Actor, request_id: int
) -> ErasureRequest:
    """Erase the customer of a pending request now."""
    request = await _pending(session, actor, request_id)
    await _erase(session, actor, [request.customer_id])
    await _mark_carried_out(session, actor, [request])
    return request


async def decline_request(
    session: AsyncSession, actor: Actor, request_id: int, *, reason: str | None
) -> ErasureRequest:
    """Refuse a pending request, saying why (the customer sees the reason)."""
    request = await _pending(session, actor, request_id)
    errors = Errors()
    cleaned = clean_text(errors, "reason", reason, max_length=MAX_REASON, required=True)
    errors.raise_if_any()
    for name, value in _decider(actor).items():
        setattr(request, name, value)
    request.status = ErasureStatus.DECLINED.value
    request.decision_reason = cleaned
    await session.flush()
    await _record(session, actor, "erasure.declined", request)
    return request


async def erase_customer(
    session: AsyncSession, actor: Actor, customer_id: int, *, reason: str | None
) -> ErasureRequest:
    """Staff erase a customer at once (the request is recorded as carried out)."""
    require(actor, Permission.ERASURE_MANAGE)
    await customer_service.get_customer(session, actor, customer_id)
    # Lock the record, so that two staff members erasing it at once make one
    # erasure, not two (the second sees ALREADY_ERASED).
    customer = await session.scalar(
        select(Customer)
        .where(col(Customer.id) == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert customer is not None
    errors = Errors()
    cleaned = clean_text(errors, "reason", reason, max_length=MAX_REASON, required=True)
    if customer.erased_at is not None:
        errors.add("customer_id", "ALREADY_ERASED", "This customer is already erased.")
    errors.raise_if_any()
    now = utcnow()
    request = ErasureRequest(
        customer_id=customer_id,
        status=ErasureStatus.PENDING.value,
        source=ErasureSource.STAFF.value,
        requested_by=actor.ref,
        requested_at=now,
        due_at=now,
        decision_reason=cleaned,
    )
    session.add(request)
    await session.flush()
    await _erase(session, actor, [customer_id])
    await _mark_carried_out(session, actor, [request])
    return request


async def carry_out_due(
    session: AsyncSession, actor: Actor, *, now: datetime | None = None
) -> int:
    """Carry out every pending request whose review window has ended (the worker's
    job); returns how many."""
    require(actor, Permission.ERASURE_MANAGE)
    # Locked, skipping rows a staff member is deciding right now: a request
    # declined (a legal hold) while the job runs must not be erased anyway
    # (PostgreSQL; SQLite writers are serial already).
    due = list(
        await session.scalars(
            select(ErasureRequest)
            .where(
                col(ErasureRequest.status) == ErasureStatus.PENDING.value,
                col(ErasureRequest.due_at) <= (now or utcnow()),
            )
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    )
    if due:
        await _erase(session, actor, [r.customer_id for r in due])
        await _mark_carried_out(session, actor, due)
    return len(due)


async def _mark_carried_out(
    session: AsyncSession, actor: Actor, requests: list[ErasureRequest]
) -> None:
    """Close these requests, and every other request still pending for the same
    customers (they are erased now: nothing is left for a later run to do)."""
    ids = await _with_merged(session, [r.customer_id for r in requests])
    known = {r.id for r in requests}
    others = await session.scalars(
        select(ErasureRequest)
        .where(
            col(ErasureRequest.customer_id).in_(ids),
            col(ErasureRequest.status) == ErasureStatus.PENDING.value,
            col(ErasureRequest.id).not_in(known),
        )
        .with_for_update()
    )
    requests = [*requests, *others]
    decided = _decider(actor)
    for request in requests:
        for name, value in decided.items():
            setattr(request, name, value)
        request.status = ErasureStatus.CARRIED_OUT.value
        request.reason = None
    await session.flush()
    await events.record_many(
        session,
        actor,
        [
            {
                "action": "erasure.carried_out",
                "entity_type": "ErasureRequest",
                "entity_id": r.id,
                "changes": {"status": {"before": None, "after": r.status}},
                "payload": {"customer_id": r.customer_id, "status": r.status},
            }
            for r in requests
        ],
    )


@dataclass
class ErasureList:
    page: Page[ErasureRequest]
    count_statement: Select[Any]


async def list_requests(
    session: AsyncSession,
    actor: Actor,
    *,
    page: PageRequest,
    where: Mapping[str, Any] | None = None,
) -> ErasureList:
    """Erasure requests, newest first."""
    require(actor, Permission.ERASURE_MANAGE)
    visible = customer_service.repository.customers(actor).with_only_columns(
        col(Customer.id)
    )
    stmt = select(ErasureRequest).where(
        col(ErasureRequest.customer_id).in_(visible),
        compile_where(ERASURE_SPEC, where, actor),
    )
    result = await paginate(session, stmt, erasure_order(), page)
    return ErasureList(page=result, count_statement=stmt)


# --- carrying out ------------------------------------------------------------------


async def _with_merged(session: AsyncSession, customer_ids: Iterable[int]) -> list[int]:
    """The customers and every record merged into them (the same people)."""
    found = set(customer_ids)
    frontier = set(found)
    while frontier:
        rows = await session.scalars(
            select(col(Customer.id)).where(col(Customer.merged_into_id).in_(frontier))
        )
        frontier = {i for i in rows if i is not None} - found
        found |= frontier
    return sorted(found)


def scrub_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Audit changes with every personal value cleared (field names kept)."""
    scrubbed: dict[str, Any] = {}
    for name, change in (changes or {}).items():
        if name in NON_PERSONAL_FIELDS:
            scrubbed[name] = change
        else:
            scrubbed[name] = {"before": None, "after": None, "erased": True}
    return scrubbed


def scrub_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in (payload or {}).items() if k in OUTBOX_KEYS}
    return {**kept, "erased": True}


async def _segments_of(session: AsyncSession, ids: list[int]) -> list[int]:
    """The segments these customers are members of now."""
    memberships = metadata.tables["segment_membership"]
    found = await session.scalars(
        select(memberships.c.segment_id)
        .where(memberships.c.customer_id.in_(ids), memberships.c.left_at.is_(None))
        .distinct()
    )
    return list(found)


async def _recount_segments(session: AsyncSession, segment_ids: list[int]) -> None:
    """Segment sizes after the erased customers' memberships were deleted."""
    if not segment_ids:
        return
    segments, memberships = (
        metadata.tables["segment"],
        metadata.tables["segment_membership"],
    )
    current = (
        select(func.count())
        .select_from(memberships)
        .where(
            memberships.c.segment_id == segments.c.id,
            memberships.c.left_at.is_(None),
        )
        .scalar_subquery()
    )
    await session.execute(
        update(segments).where(segments.c.id.in_(segment_ids)).values(size=current)
    )


async def _erase(session: AsyncSession, actor: Actor, customer_ids: list[int]) -> None:
    """Erase these customers' personal data in the session's transaction."""
    ids = await _with_merged(session, customer_ids)
    refs = [f"customer:{i}" for i in ids]
    now = utcnow()
    await _scrub_audit(session, ids, refs)
    await _scrub_outbox(session, ids, refs)
    await _scrub_corrections(session, actor, ids)
    await _erase_exports(session, ids)
    segments = await _segments_of(session, ids)
    for name, rule in INVENTORY.items():
        table = metadata.tables.get(name)
        if table is None or rule.treatment not in (Treatment.DELETE, Treatment.CLEAR):
            continue
        where = table.c[rule.customer_column].in_(ids)
        if rule.treatment is Treatment.DELETE:
            await session.execute(delete(table).where(where))
        else:
            await session.execute(update(table).where(where).values(**rule.clear))
    await _recount_segments(session, segments)
    customers = Customer.__table__  # type: ignore[attr-defined]
    await session.execute(
        update(customers)
        .where(customers.c.id.in_(ids))
        .values(
            external_ref=None,
            email=None,
            email_key=None,
            phone=None,
            given_name=None,
            family_name=None,
            display_name=ERASED_NAME,
            company=None,
            locale=None,
            time_zone=None,
            tags=[],
            attributes={},
            search_text=search_document([ERASED_NAME]),
            erased_at=func.coalesce(customers.c.erased_at, bindparam("now")),
            archived_at=func.coalesce(customers.c.archived_at, bindparam("now")),
            updated_at=bindparam("now"),
            version=customers.c.version + 1,
        ),
        {"now": now},
    )
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        # The full-text index keeps deleted terms in its segments until they merge:
        # merge now so that no old name or email survives in it.
        await session.execute(
            text("INSERT INTO customer_fts(customer_fts) VALUES ('optimize')")
        )
    # Copies of these rows loaded earlier in the session are stale now.
    await session.execute(
        select(Customer)
        .where(col(Customer.id).in_(ids))
        .execution_options(populate_existing=True)
    )
    await events.record_many(
        session,
        actor,
        [
            {
                "action": "customer.erased",
                "entity_type": "Customer",
                "entity_id": customer_id,
                "changes": {"erased_at": {"before": None, "after": now.isoformat()}},
            }
            for customer_id in ids
        ],
    )


def _audit_condition(ids: list[int], refs: list[str]) -> Any:
    owned = [
        (col(AuditEvent.entity_type) == name)
        & col(AuditEvent.entity_id).in_(
            select(model.id).where(model.customer_id.in_(ids))  # type: ignore[attr-defined]
        )
        for name, model in OWNED_ENTITIES.items()
    ]
    return or_(
        (col(AuditEvent.entity_type) == "Customer")
        & col(AuditEvent.entity_id).in_(ids),
        col(AuditEvent.actor_ref).in_(refs),
        *owned,
    )


async def _scrub_audit(session: AsyncSession, ids: list[int], refs: list[str]) -> None:
    rows = (
        await session.execute(
            select(col(AuditEvent.id), col(AuditEvent.changes)).where(
                _audit_condition(ids, refs)
            )
        )
    ).all()
    if rows:
        table = AuditEvent.__table__  # type: ignore[attr-defined]
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(changes=bindparam("scrubbed", type_=table.c.changes.type)),
            [{"row_id": r[0], "scrubbed": scrub_changes(r[1])} for r in rows],
        )
    await session.execute(
        update(AuditEvent)
        .where(col(AuditEvent.actor_ref).in_(refs))
        .values(actor_label=ERASED_NAME)
    )


async def _scrub_outbox(session: AsyncSession, ids: list[int], refs: list[str]) -> None:
    payload = col(OutboxEvent.payload)
    entity = payload["entity"].as_string()
    entity_id = payload["id"].as_integer()
    owned = [
        (entity == name)
        & entity_id.in_(
            select(model.id).where(model.customer_id.in_(ids))  # type: ignore[attr-defined]
        )
        for name, model in OWNED_ENTITIES.items()
    ]
    rows = (
        await session.execute(
            select(col(OutboxEvent.id), payload).where(
                or_(
                    (entity == "Customer") & entity_id.in_(ids),
                    payload["customer_id"].as_integer().in_(ids),
                    payload["actor"].as_string().in_(refs),
                    *owned,
                )
            )
        )
    ).all()
    if rows:
        table = OutboxEvent.__table__  # type: ignore[attr-defined]
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(payload=bindparam("scrubbed", type_=table.c.payload.type)),
            [{"row_id": r[0], "scrubbed": scrub_payload(r[1])} for r in rows],
        )


async def _scrub_corrections(
    session: AsyncSession, actor: Actor, ids: list[int]
) -> None:
    rows = (
        await session.execute(
            select(col(ProfileCorrection.id), col(ProfileCorrection.changes)).where(
                col(ProfileCorrection.customer_id).in_(ids)
            )
        )
    ).all()
    if rows:
        table = ProfileCorrection.__table__  # type: ignore[attr-defined]
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(
                changes=bindparam("scrubbed", type_=table.c.changes.type),
                reason=None,
                review_reason=None,
            ),
            [{"row_id": r[0], "scrubbed": scrub_changes(r[1])} for r in rows],
        )
    # A correction still waiting for review has nothing left to apply: it leaves
    # the review queue as rejected, saying why.
    await session.execute(
        update(ProfileCorrection)
        .where(
            col(ProfileCorrection.customer_id).in_(ids),
            col(ProfileCorrection.status) == CorrectionStatus.PENDING.value,
        )
        .values(
            status=CorrectionStatus.REJECTED.value,
            review_reason=ERASED_CORRECTION_REASON,
            reviewed_at=utcnow(),
            reviewer_ref=actor.ref,
            reviewer_label=actor.label,
            reviewer_role=actor.role.value if isinstance(actor, StaffActor) else None,
        )
    )


async def _erase_exports(session: AsyncSession, ids: list[int]) -> None:
    files = metadata.tables.get("data_export_file")
    exports = metadata.tables.get("data_export")
    if files is None or exports is None:
        return
    await session.execute(
        delete(files).where(
            files.c.export_id.in_(
                select(exports.c.id).where(exports.c.customer_id.in_(ids))
            )
        )
    )
