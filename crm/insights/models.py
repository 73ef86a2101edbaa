"""Tables of crm.insights: current measures, snapshots, fits and the firm's settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlmodel import Field, SQLModel

from crm.columns import JSONDoc, Money, UTCDateTime, utcnow


def _money() -> Any:
    return Field(default=None, sa_column=Column(Money))


def _float() -> Any:
    return Field(default=None, sa_column=Column(Float))


def _small() -> Any:
    return Field(default=None, sa_column=Column(SmallInteger))


def _int() -> Any:
    return Field(default=None, sa_column=Column(Integer))


def _text(length: int) -> Any:
    return Field(default=None, sa_column=Column(String(length)))


def _when() -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime()))


class CustomerInsight(SQLModel, table=True):
    """One customer's current measures: written by a refresh, moved by a purchase.

    Money is in the reporting currency of the settings. Profiling columns (scores,
    predictions, classifications) are null for customers who withdrew consent to
    profiling; the descriptive aggregates stay.
    """

    __tablename__ = "customer_insight"
    __table_args__ = (
        Index("ix_customer_insight_churn_band", "churn_band"),
        Index("ix_customer_insight_rfm_cell", "rfm_cell"),
        Index("ix_customer_insight_predicted_clv", "predicted_clv", "customer_id"),
    )

    customer_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("customer.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    computed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    model_version: int | None = _int()
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    profiling_withdrawn: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False)
    )
    # Activity.
    purchases: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    first_purchase_at: datetime | None = _when()
    last_purchase_at: datetime | None = _when()
    last_interaction_at: datetime | None = _when()
    # RFM over the window of the settings.
    recency_days: int | None = _int()
    frequency: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    monetary: Decimal | None = _money()
    rfm_r: int | None = _small()
    rfm_f: int | None = _small()
    rfm_m: int | None = _small()
    rfm_cell: str | None = _text(30)
    # Value.
    revenue_lifetime: Decimal | None = _money()
    revenue_12m: Decimal | None = _money()
    cost_to_serve_lifetime: Decimal | None = _money()
    cost_to_serve_12m: Decimal | None = _money()
    margin_lifetime: Decimal | None = _money()
    margin_12m: Decimal | None = _money()
    # BG/NBD inputs (weeks) and outputs.
    repeat_purchases: int | None = _int()
    weeks_first_to_last: float | None = _float()
    weeks_since_first: float | None = _float()
    expected_purchases: float | None = _float()
    p_alive: float | None = _float()
    churn_band: str | None = _text(10)
    # Gamma-Gamma and CLV.
    average_spend: Decimal | None = _money()
    expected_spend: Decimal | None = _money()
    predicted_clv: Decimal | None = _money()
    clv_percentile: float | None = _float()
    # Satisfaction inputs and scores.
    nps_responses: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    promoters: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    detractors: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    csat_responses: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    satisfied: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    nps: float | None = _float()
    csat: float | None = _float()
    # Competence-based classification.
    profitability_score: int | None = _small()
    loyalty_score: int | None = _small()
    strategic_score: int | None = _small()
    strategic_overridden: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False)
    )
    value_group: str | None = _text(20)
    low_value: bool | None = Field(default=None, sa_column=Column(Boolean))
    customer_initiated: int = Field(
        default=0, sa_column=Column(Integer, nullable=False)
    )
    willingness: float | None = _float()
    value_creation_mode: str | None = _text(20)
    # Tier.
    tier: str | None = _text(60)
    tier_measure: Decimal | None = _money()
    next_tier: str | None = _text(60)
    tier_progress: float | None = _float()


class InsightSnapshot(SQLModel, table=True):
    """The main measures of one customer as one refresh left them (history)."""

    __tablename__ = "insight_snapshot"
    __table_args__ = (
        Index("ix_insight_snapshot_customer_taken", "customer_id", "taken_at", "id"),
        Index("ix_insight_snapshot_taken_band", "taken_at", "churn_band"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False
        )
    )
    fit_id: int | None = _int()
    taken_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revenue_12m: Decimal | None = _money()
    cost_to_serve_12m: Decimal | None = _money()
    margin_12m: Decimal | None = _money()
    purchases: int | None = _int()
    rfm_r: int | None = _small()
    rfm_f: int | None = _small()
    rfm_m: int | None = _small()
    rfm_cell: str | None = _text(30)
    p_alive: float | None = _float()
    churn_band: str | None = _text(10)
    predicted_clv: Decimal | None = _money()
    nps: float | None = _float()
    profitability_score: int | None = _small()
    loyalty_score: int | None = _small()
    strategic_score: int | None = _small()
    value_group: str | None = _text(20)
    low_value: bool | None = Field(default=None, sa_column=Column(Boolean))
    value_creation_mode: str | None = _text(20)
    tier: str | None = _text(60)


class InsightModelFit(SQLModel, table=True):
    """One full refresh: fitted parameters, cut points and how long each stage took.

    An incremental update scores a customer with the latest row, without a refit.
    """

    __tablename__ = "insight_model_fit"
    __table_args__ = (Index("ix_insight_model_fit_fitted_at", "fitted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    fitted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    customers: int = Field(sa_column=Column(Integer, nullable=False))
    bgnbd: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDoc))
    bgnbd_log_likelihood: float | None = _float()
    gamma_gamma: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDoc))
    gamma_gamma_log_likelihood: float | None = _float()
    cut_points: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONDoc, nullable=False)
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONDoc, nullable=False)
    )
    stage_seconds: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONDoc, nullable=False)
    )


class InsightPolicy(SQLModel, table=True):
    """Whether customers see one kind of insight in their own view, and its wording."""

    __tablename__ = "insight_policy"

    kind: str = Field(sa_column=Column(String(30), primary_key=True))
    visible_to_customers: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False)
    )
    title: str | None = _text(120)
    description: str | None = _text(1000)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_by: str = Field(sa_column=Column(String(100), nullable=False))


class InsightSettings(SQLModel, table=True):
    """The firm's model settings and tier ladder: one row (id 1), admins edit it."""

    __tablename__ = "insight_settings"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True))
    rfm_window_days: int = Field(default=365, sa_column=Column(Integer, nullable=False))
    clv_horizon_months: int = Field(
        default=12, sa_column=Column(Integer, nullable=False)
    )
    annual_discount_rate: float = Field(
        default=0.1, sa_column=Column(Float, nullable=False)
    )
    cohort_min_size: int = Field(default=20, sa_column=Column(Integer, nullable=False))
    churn_high_below: float = Field(
        default=0.3, sa_column=Column(Float, nullable=False)
    )
    churn_medium_below: float = Field(
        default=0.6, sa_column=Column(Float, nullable=False)
    )
    reporting_currency: str = Field(
        default="EUR", sa_column=Column(String(3), nullable=False)
    )
    # Currency -> units of the reporting currency per unit (decimal strings).
    exchange_rates: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONDoc, nullable=False)
    )
    # What tiers are measured on (crm.insights.settings.TierBasis).
    tier_basis: str = Field(
        default="revenue_12m", sa_column=Column(String(30), nullable=False)
    )
    # [{"name": ..., "threshold": "decimal"}], ascending thresholds of tier_basis.
    tier_ladder: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONDoc, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_by: str = Field(
        default="system", sa_column=Column(String(100), nullable=False)
    )


class StrategicValueOverride(SQLModel, table=True):
    """A strategic value set by staff, with the reason; it replaces the rule."""

    __tablename__ = "strategic_value_override"

    customer_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("customer.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    value: int = Field(sa_column=Column(SmallInteger, nullable=False))
    reason: str = Field(sa_column=Column(String(500), nullable=False))
    set_by: str = Field(sa_column=Column(String(100), nullable=False))
    set_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
