"""Segment use cases: define, change, delete, list (membership: see membership.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from crm import events
from crm.actors import Actor
from crm.columns import utcnow
from crm.errors import Conflict, FieldError, NotFound, ValidationFailed
from crm.filtering import compile_where
from crm.pagination import Page, PageRequest, SortKey, paginate
from crm.segments import policies
from crm.segments.filters import SEGMENT_SPEC, SegmentOrderField, segment_order
from crm.segments.models import Segment, SegmentKind, SegmentMembership
from crm.segments.rules import normalize_rule
from crm.validation import Errors, clean_enum, clean_text

DEFINITION_FIELDS = (
    "name",
    "description",
    "kind",
    "rule",
    "customer_visible",
    "customer_name",
    "customer_description",
)
AUDITED_FIELDS = (*DEFINITION_FIELDS, "builtin_key")
MAX_NAME = 200
MAX_DESCRIPTION = 2000


def snapshot(segment: Segment) -> dict[str, Any]:
    return {name: getattr(segment, name) for name in AUDITED_FIELDS}


def clean_definition(
    data: Mapping[str, Any], actor: Actor, *, current: Segment | None = None
) -> dict[str, Any]:
    """Validated definition fields; the rule is normalized (BadInput names its part)."""
    errors = Errors()
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name not in DEFINITION_FIELDS:
            errors.add(name, "UNKNOWN_FIELD", f"{name} cannot be set.")
        elif name == "name":
            cleaned[name] = clean_text(
                errors, name, value, max_length=MAX_NAME, required=True
            )
        elif name in ("description", "customer_description"):
            cleaned[name] = clean_text(errors, name, value, max_length=MAX_DESCRIPTION)
        elif name == "customer_name":
            cleaned[name] = clean_text(errors, name, value, max_length=MAX_NAME)
        elif name == "kind":
            if current is not None and value != current.kind:
                errors.add(name, "IMMUTABLE", "A segment's kind cannot change.")
            cleaned[name] = clean_enum(errors, name, value, SegmentKind, required=True)
        elif name == "customer_visible":
            if not isinstance(value, bool):
                errors.add(name, "INVALID", f"{name} must be true or false.")
            cleaned[name] = bool(value)
        elif name == "rule":
            cleaned[name] = None if value is None else normalize_rule(value, actor)
    merged = {
        name: cleaned.get(name, getattr(current, name, None))
        for name in DEFINITION_FIELDS
    }
    kind = merged["kind"] or SegmentKind.DYNAMIC.value
    if kind == SegmentKind.DYNAMIC.value and merged["rule"] is None:
        errors.add("rule", "REQUIRED", "A dynamic segment needs a rule.")
    if kind == SegmentKind.STATIC.value and merged["rule"] is not None:
        errors.add("rule", "INVALID", "A static segment has no rule: add members.")
    if merged["customer_visible"] and not merged["customer_name"]:
        errors.add(
            "customer_name",
            "REQUIRED",
            "A segment customers see needs the name they see it under.",
        )
    if current is None and not merged["name"] and "name" not in cleaned:
        errors.add("name", "REQUIRED", "name is required.")
    errors.raise_if_any()
    return cleaned


async def get_segment(session: AsyncSession, actor: Actor, segment_id: int) -> Segment:
    found = (await session.scalars(segment_query(actor, segment_id))).first()
    if found is None:
        raise segment_not_found()
    return found


def segment_query(actor: Actor, segment_id: Any) -> Select[Any]:
    """The segment with this ID (or ID parameter), if `actor` may see it."""
    return select(Segment).where(
        policies.segment_scope(actor), col(Segment.id) == segment_id
    )


def segments_query(actor: Actor, segment_ids: Any) -> Select[Any]:
    """The segments with these IDs (or an expanding parameter) `actor` may see."""
    return select(Segment).where(
        policies.segment_scope(actor), col(Segment.id).in_(segment_ids)
    )


async def segments_by_ids(
    session: AsyncSession, actor: Actor, ids: Iterable[int]
) -> dict[int, Segment]:
    rows = await session.scalars(segments_query(actor, sorted(set(ids))))
    return {s.id: s for s in rows if s.id is not None}


def segment_not_found() -> NotFound:
    """What a missing segment, or one the caller may not see, reads as."""
    return NotFound("No segment with that ID.", field="id")


@dataclass
class SegmentList:
    page: Page[Segment]
    count_statement: Select[Any]


async def list_segments(
    session: AsyncSession,
    actor: Actor,
    *,
    page: PageRequest,
    where: Mapping[str, Any] | None = None,
    order: SegmentOrderField | None = None,
    descending: bool = False,
) -> SegmentList:
    stmt, keys = segment_list(actor, where=where, order=order, descending=descending)
    return SegmentList(
        page=await paginate(session, stmt, keys, page), count_statement=stmt
    )


def segment_list(
    actor: Actor,
    *,
    where: Mapping[str, Any] | None = None,
    order: SegmentOrderField | None = None,
    descending: bool = False,
) -> tuple[Select[Any], list[SortKey]]:
    """The segments `actor` asked for, unpaged, and the keys that order them."""
    stmt = select(Segment).where(
        policies.segment_scope(actor), compile_where(SEGMENT_SPEC, where, actor)
    )
    return stmt, segment_order(order or SegmentOrderField.NAME, descending)


async def create_segment(
    session: AsyncSession,
    actor: Actor,
    data: Mapping[str, Any],
    *,
    builtin_key: str | None = None,
) -> Segment:
    policies.can_manage(actor)
    fields = clean_definition(data, actor)
    segment = Segment(**fields, builtin_key=builtin_key)
    session.add(segment)
    await session.flush()
    assert segment.id is not None
    await events.record(
        session,
        actor,
        action="segment.created",
        entity_type="Segment",
        entity_id=segment.id,
        changes=events.diff(
            {}, {k: v for k, v in snapshot(segment).items() if v is not None}
        ),
    )
    return segment


async def update_segment(
    session: AsyncSession,
    actor: Actor,
    segment_id: int,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Segment:
    policies.can_manage(actor)
    segment = await get_segment(session, actor, segment_id)
    if expected_version is not None and segment.version != expected_version:
        raise ValidationFailed(
            [
                FieldError(
                    "expected_version",
                    "CONFLICT",
                    f"The segment is at version {segment.version}, not "
                    f"{expected_version}: someone changed it. Reload and retry.",
                )
            ]
        )
    fields = clean_definition(changes, actor, current=segment)
    before = snapshot(segment)
    for name, value in fields.items():
        setattr(segment, name, value)
    diff = events.diff(before, snapshot(segment))
    if not diff:
        return segment
    if "rule" in diff:
        # Due at once: the worker (or a refresh) recomputes the members.
        segment.refreshed_at = None
    segment.updated_at = utcnow()
    try:
        await session.flush()
    except StaleDataError:
        raise Conflict(
            "The segment was changed by someone else; reload and retry."
        ) from None
    await events.record(
        session,
        actor,
        action="segment.updated",
        entity_type="Segment",
        entity_id=segment_id,
        changes=diff,
    )
    return segment


async def delete_segment(session: AsyncSession, actor: Actor, segment_id: int) -> int:
    """Delete a segment with its membership history; returns its ID."""
    policies.can_manage(actor)
    segment = await get_segment(session, actor, segment_id)
    before = {**snapshot(segment), "size": segment.size}
    await session.execute(
        delete(SegmentMembership).where(col(SegmentMembership.segment_id) == segment_id)
    )
    await session.delete(segment)
    await session.flush()
    await events.record(
        session,
        actor,
        action="segment.deleted",
        entity_type="Segment",
        entity_id=segment_id,
        changes=events.diff(before, {}),
    )
    return segment_id
