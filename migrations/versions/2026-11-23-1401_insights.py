"""Insights: measures, snapshots, policies, tiers, model fits

Revision ID: a1c4e0000005
Revises: a1c4e0000004
Create Date: 2026-11-23 14:01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a1c4e0000005"
down_revision: str | None = "a1c4e0000004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insight_model_fit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column(
            "bgnbd",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column("bgnbd_log_likelihood", sa.Float(), nullable=True),
        sa.Column(
            "gamma_gamma",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column("gamma_gamma_log_likelihood", sa.Float(), nullable=True),
        sa.Column(
            "cut_points",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "stage_seconds",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_model_fit")),
    )
    with op.batch_alter_table("insight_model_fit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_insight_model_fit_fitted_at", ["fitted_at"], unique=False
        )

    op.create_table(
        "insight_policy",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("visible_to_customers", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=True),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_insight_policy")),
    )

    op.create_table(
        "insight_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rfm_window_days", sa.Integer(), nullable=False),
        sa.Column("clv_horizon_months", sa.Integer(), nullable=False),
        sa.Column("annual_discount_rate", sa.Float(), nullable=False),
        sa.Column("cohort_min_size", sa.Integer(), nullable=False),
        sa.Column("churn_high_below", sa.Float(), nullable=False),
        sa.Column("churn_medium_below", sa.Float(), nullable=False),
        sa.Column("reporting_currency", sa.String(length=3), nullable=False),
        sa.Column(
            "exchange_rates",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("tier_basis", sa.String(length=30), nullable=False),
        sa.Column(
            "tier_ladder",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_settings")),
    )

    op.create_table(
        "customer_insight",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("profiling_withdrawn", sa.Boolean(), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("first_purchase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_purchase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_interaction_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("rfm_r", sa.SmallInteger(), nullable=True),
        sa.Column("rfm_f", sa.SmallInteger(), nullable=True),
        sa.Column("rfm_m", sa.SmallInteger(), nullable=True),
        sa.Column("rfm_cell", sa.String(length=30), nullable=True),
        sa.Column("revenue_lifetime", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("revenue_12m", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column(
            "cost_to_serve_lifetime", sa.Numeric(precision=18, scale=4), nullable=True
        ),
        sa.Column(
            "cost_to_serve_12m", sa.Numeric(precision=18, scale=4), nullable=True
        ),
        sa.Column("margin_lifetime", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("margin_12m", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("repeat_purchases", sa.Integer(), nullable=True),
        sa.Column("weeks_first_to_last", sa.Float(), nullable=True),
        sa.Column("weeks_since_first", sa.Float(), nullable=True),
        sa.Column("expected_purchases", sa.Float(), nullable=True),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("churn_band", sa.String(length=10), nullable=True),
        sa.Column("average_spend", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("expected_spend", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("predicted_clv", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("clv_percentile", sa.Float(), nullable=True),
        sa.Column("nps_responses", sa.Integer(), nullable=False),
        sa.Column("promoters", sa.Integer(), nullable=False),
        sa.Column("detractors", sa.Integer(), nullable=False),
        sa.Column("csat_responses", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("nps", sa.Float(), nullable=True),
        sa.Column("csat", sa.Float(), nullable=True),
        sa.Column("profitability_score", sa.SmallInteger(), nullable=True),
        sa.Column("loyalty_score", sa.SmallInteger(), nullable=True),
        sa.Column("strategic_score", sa.SmallInteger(), nullable=True),
        sa.Column("strategic_overridden", sa.Boolean(), nullable=False),
        sa.Column("value_group", sa.String(length=20), nullable=True),
        sa.Column("low_value", sa.Boolean(), nullable=True),
        sa.Column("customer_initiated", sa.Integer(), nullable=False),
        sa.Column("willingness", sa.Float(), nullable=True),
        sa.Column("value_creation_mode", sa.String(length=20), nullable=True),
        sa.Column("tier", sa.String(length=60), nullable=True),
        sa.Column("tier_measure", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("next_tier", sa.String(length=60), nullable=True),
        sa.Column("tier_progress", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_insight_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_insight")),
    )
    with op.batch_alter_table("customer_insight", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_insight_churn_band", ["churn_band"], unique=False
        )
        batch_op.create_index(
            "ix_customer_insight_predicted_clv",
            ["predicted_clv", "customer_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customer_insight_rfm_cell", ["rfm_cell"], unique=False
        )

    op.create_table(
        "insight_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("fit_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revenue_12m", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column(
            "cost_to_serve_12m", sa.Numeric(precision=18, scale=4), nullable=True
        ),
        sa.Column("margin_12m", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("purchases", sa.Integer(), nullable=True),
        sa.Column("rfm_r", sa.SmallInteger(), nullable=True),
        sa.Column("rfm_f", sa.SmallInteger(), nullable=True),
        sa.Column("rfm_m", sa.SmallInteger(), nullable=True),
        sa.Column("rfm_cell", sa.String(length=30), nullable=True),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("churn_band", sa.String(length=10), nullable=True),
        sa.Column("predicted_clv", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("nps", sa.Float(), nullable=True),
        sa.Column("profitability_score", sa.SmallInteger(), nullable=True),
        sa.Column("loyalty_score", sa.SmallInteger(), nullable=True),
        sa.Column("strategic_score", sa.SmallInteger(), nullable=True),
        sa.Column("value_group", sa.String(length=20), nullable=True),
        sa.Column("low_value", sa.Boolean(), nullable=True),
        sa.Column("value_creation_mode", sa.String(length=20), nullable=True),
        sa.Column("tier", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_insight_snapshot_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_snapshot")),
    )
    with op.batch_alter_table("insight_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            "ix_insight_snapshot_customer_taken",
            ["customer_id", "taken_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_insight_snapshot_taken_band", ["taken_at", "churn_band"], unique=False
        )

    op.create_table(
        "strategic_value_override",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_strategic_value_override_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "customer_id", name=op.f("pk_strategic_value_override")
        ),
    )


def downgrade() -> None:
    op.drop_table("strategic_value_override")
    with op.batch_alter_table("insight_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_insight_snapshot_customer_taken")
        batch_op.drop_index("ix_insight_snapshot_taken_band")
    op.drop_table("insight_snapshot")
    with op.batch_alter_table("customer_insight", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_insight_churn_band")
        batch_op.drop_index("ix_customer_insight_predicted_clv")
        batch_op.drop_index("ix_customer_insight_rfm_cell")
    op.drop_table("customer_insight")
    op.drop_table("insight_settings")
    op.drop_table("insight_policy")
    with op.batch_alter_table("insight_model_fit", schema=None) as batch_op:
        batch_op.drop_index("ix_insight_model_fit_fitted_at")
    op.drop_table("insight_model_fit")
