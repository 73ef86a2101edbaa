"""The firm's insight configuration: settings, tier ladder, publication policies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm import events
from crm.actors import Actor
from crm.columns import utcnow
from crm.errors import FieldError, ValidationFailed
from crm.insights.kinds import (
    CONFIDENTIAL_KINDS,
    CUSTOMER_FACING_KINDS,
    InsightKind,
    TierBasis,
)
from crm.insights.models import InsightPolicy, InsightSettings
from crm.permissions import Permission
from crm.policy import require
from crm.validation import CURRENCY_RE, Errors, clean_text

MAX_TIERS = 10
SETTING_LIMITS: dict[str, tuple[float, float]] = {
    "rfm_window_days": (30, 3650),
    "clv_horizon_months": (1, 120),
    "annual_discount_rate": (0.0, 1.0),
    "cohort_min_size": (5, 100_000),
    "churn_high_below": (0.0, 1.0),
    "churn_medium_below": (0.0, 1.0),
}
INTEGER_SETTINGS = frozenset(
    {"rfm_window_days", "clv_horizon_months", "cohort_min_size"}
)
SETTING_FIELDS = (*SETTING_LIMITS, "reporting_currency", "exchange_rates")


async def load_settings(session: AsyncSession) -> InsightSettings:
    """The settings row, or the defaults when the firm never changed them."""
    found = await session.get(InsightSettings, 1)
    return found if found is not None else InsightSettings(id=1)


async def _stored_settings(session: AsyncSession) -> InsightSettings:
    found = await session.get(InsightSettings, 1, with_for_update=True)
    if found is None:
        found = InsightSettings(id=1)
        session.add(found)
    return found


def settings_snapshot(settings: InsightSettings) -> dict[str, Any]:
    return {
        **{name: getattr(settings, name) for name in SETTING_FIELDS},
        "tier_basis": settings.tier_basis,
        "tier_ladder": list(settings.tier_ladder or []),
    }


async def get_settings(session: AsyncSession, actor: Actor) -> InsightSettings:
    require(actor, Permission.INSIGHTS_READ)
    return await load_settings(session)


def _number(errors: Errors, name: str, value: Any) -> float | int | None:
    low, high = SETTING_LIMITS[name]
    integer = name in INTEGER_SETTINGS
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        errors.add(
            name, "INVALID", f"{name} must be a {'whole ' if integer else ''}number."
        )
        return None
    number = float(cast(float, value))
    if not low <= number <= high:
        errors.add(
            name, "OUT_OF_RANGE", f"{name} must be between {low:g} and {high:g}."
        )
        return None
    return int(number) if integer else number


def _rates(errors: Errors, value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping) or len(value) > 200:
        errors.add(
            "exchange_rates", "INVALID", "exchange_rates maps currencies to rates."
        )
        return None
    rates: dict[str, str] = {}
    for code, rate in value.items():
        try:
            number = Decimal(str(rate))
        except InvalidOperation:
            number = Decimal(-1)
        if not isinstance(code, str) or not CURRENCY_RE.match(code):
            errors.add(
                "exchange_rates", "INVALID_CURRENCY", f"{code!r} is no ISO 4217 code."
            )
        elif not number.is_finite() or not 0 < number < 10**6:
            errors.add(
                "exchange_rates", "OUT_OF_RANGE", f"The rate of {code} must be > 0."
            )
        else:
            rates[code] = str(number)
    return rates


async def set_settings(
    session: AsyncSession, actor: Actor, changes: Mapping[str, Any]
) -> InsightSettings:
    """Change some model settings (admins); audited. A refresh applies them."""
    require(actor, Permission.INSIGHTS_CONFIGURE)
    errors = Errors()
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name in SETTING_LIMITS:
            cleaned[name] = _number(errors, name, value)
        elif name == "reporting_currency":
            if not isinstance(value, str) or not CURRENCY_RE.match(value):
                errors.add(name, "INVALID_CURRENCY", "Use a 3-letter ISO 4217 code.")
            cleaned[name] = value
        elif name == "exchange_rates":
            cleaned[name] = _rates(errors, value)
        else:
            errors.add(name, "UNKNOWN_FIELD", f"{name} cannot be set.")
    errors.raise_if_any()
    settings = await _stored_settings(session)
    before = settings_snapshot(settings)
    for name, value in cleaned.items():
        setattr(settings, name, value)
    if settings.churn_high_below > settings.churn_medium_below:
        raise ValidationFailed(
            [
                FieldError(
                    "churn_high_below",
                    "OUT_OF_RANGE",
                    "churnHighBelow must not exceed churnMediumBelow.",
                )
            ]
        )
    return await _save(session, actor, settings, before, "insights.settings_set")


async def _save(
    session: AsyncSession,
    actor: Actor,
    settings: InsightSettings,
    before: dict[str, Any],
    action: str,
) -> InsightSettings:
    changes = events.diff(before, settings_snapshot(settings))
    if not changes:
        return settings
    settings.updated_at = utcnow()
    settings.updated_by = actor.ref
    await session.flush()
    await events.record(
        session,
        actor,
        action=action,
        entity_type="InsightSettings",
        entity_id=1,
        changes=changes,
    )
    return settings


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: Decimal


def ladder_of(settings: InsightSettings) -> list[Tier]:
    return [
        Tier(str(t["name"]), Decimal(str(t["threshold"])))
        for t in settings.tier_ladder or []
    ]


async def set_tier_ladder(
    session: AsyncSession,
    actor: Actor,
    *,
    basis: str,
    tiers: list[Mapping[str, Any]],
) -> InsightSettings:
    """Replace the tier ladder (admins): names and strictly rising thresholds."""
    require(actor, Permission.INSIGHTS_CONFIGURE)
    errors = Errors()
    if basis not in {b.value for b in TierBasis}:
        errors.add("basis", "INVALID", "Unknown tier basis.")
    if len(tiers) > MAX_TIERS:
        errors.add("tiers", "TOO_MANY", f"A ladder has at most {MAX_TIERS} tiers.")
    ladder: list[dict[str, str]] = []
    names: set[str] = set()
    previous: Decimal | None = None
    for i, tier in enumerate(tiers):
        at = f"tiers.{i}"
        name = clean_text(
            errors, f"{at}.name", tier.get("name"), max_length=60, required=True
        )
        threshold = tier.get("threshold")
        if (
            not isinstance(threshold, Decimal)
            or not threshold.is_finite()
            or threshold < 0
        ):
            errors.add(
                f"{at}.threshold", "OUT_OF_RANGE", "A threshold is a number >= 0."
            )
            continue
        if threshold >= Decimal(10) ** 13:
            errors.add(f"{at}.threshold", "OUT_OF_RANGE", "The threshold is too large.")
            continue
        if previous is not None and threshold <= previous:
            errors.add(
                f"{at}.threshold", "NOT_ASCENDING", "Thresholds must rise tier by tier."
            )
        if name is not None:
            if name.casefold() in names:
                errors.add(f"{at}.name", "DUPLICATE", "Two tiers have this name.")
            names.add(name.casefold())
            ladder.append({"name": name, "threshold": str(threshold)})
        previous = threshold
    errors.raise_if_any()
    settings = await _stored_settings(session)
    before = settings_snapshot(settings)
    settings.tier_basis = basis
    settings.tier_ladder = ladder
    return await _save(session, actor, settings, before, "insights.tier_ladder_set")


# --- publication policies -----------------------------------------------------


def default_policy(kind: InsightKind) -> InsightPolicy:
    return InsightPolicy(
        kind=kind.value, visible_to_customers=False, updated_by="system"
    )


async def list_policies(session: AsyncSession, actor: Actor) -> list[InsightPolicy]:
    """One policy per kind, in the enum's order (unset kinds: not published)."""
    require(actor, Permission.INSIGHTS_READ)
    stored = {p.kind: p for p in await session.scalars(select(InsightPolicy))}
    return [stored.get(kind.value) or default_policy(kind) for kind in InsightKind]


async def published_policies(session: AsyncSession) -> dict[InsightKind, InsightPolicy]:
    """What customers may see: published kinds with a customer-facing view.

    Confidential kinds are dropped here as well, so a policy row forced into the
    table by hand still publishes nothing confidential.
    """
    rows = await session.scalars(
        select(InsightPolicy).where(InsightPolicy.visible_to_customers.is_(True))  # type: ignore[attr-defined]
    )
    published: dict[InsightKind, InsightPolicy] = {}
    for policy in rows:
        try:
            kind = InsightKind(policy.kind)
        except ValueError:
            continue
        if kind in CUSTOMER_FACING_KINDS and kind not in CONFIDENTIAL_KINDS:
            published[kind] = policy
    return published


async def set_policy(
    session: AsyncSession,
    actor: Actor,
    *,
    kind: InsightKind,
    visible_to_customers: bool,
    title: Any = None,
    description: Any = None,
) -> InsightPolicy:
    """Publish a kind to customers or withdraw it (admins); audited."""
    require(actor, Permission.INSIGHTS_CONFIGURE)
    errors = Errors()
    if visible_to_customers and kind in CONFIDENTIAL_KINDS:
        errors.add(
            "kind",
            "CONFIDENTIAL",
            f"{kind.name} is confidential by nature and can never be published.",
        )
    elif visible_to_customers and kind not in CUSTOMER_FACING_KINDS:
        errors.add(
            "kind",
            "NOT_SHAREABLE",
            f"Customers have no view of {kind.name}; publish one of "
            + ", ".join(sorted(k.name for k in CUSTOMER_FACING_KINDS))
            + ".",
        )
    clean_title = clean_text(errors, "title", title, max_length=120)
    clean_description = clean_text(errors, "description", description, max_length=1000)
    errors.raise_if_any()
    policy = await session.get(InsightPolicy, kind.value, with_for_update=True)
    if policy is None:
        policy = default_policy(kind)
        session.add(policy)
    before = _policy_snapshot(policy)
    policy.visible_to_customers = visible_to_customers
    policy.title = clean_title
    policy.description = clean_description
    changes = events.diff(before, _policy_snapshot(policy))
    if changes:
        policy.updated_at = utcnow()
        policy.updated_by = actor.ref
        await session.flush()
        await events.record(
            session,
            actor,
            action="insights.policy_set",
            entity_type="InsightPolicy",
            entity_id=list(InsightKind).index(kind) + 1,
            changes={"kind": {"before": None, "after": kind.value}, **changes},
        )
    return policy


def _policy_snapshot(policy: InsightPolicy) -> dict[str, Any]:
    return {
        "visible_to_customers": policy.visible_to_customers,
        "title": policy.title,
        "description": policy.description,
    }
