"""Corrections, erasure requests, access log

Revision ID: a1c4e0000007
Revises: a1c4e0000006
Create Date: 2026-11-23 14:03:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a1c4e0000007"
down_revision: str | None = "a1c4e0000006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "profile_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_ref", sa.String(length=100), nullable=True),
        sa.Column("reviewer_label", sa.String(length=200), nullable=True),
        sa.Column("reviewer_role", sa.String(length=20), nullable=True),
        sa.Column("review_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_profile_correction_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_correction")),
    )
    with op.batch_alter_table("profile_correction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_profile_correction_customer", ["customer_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_profile_correction_status", ["status", "id"], unique=False
        )

    op.create_table(
        "erasure_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_by_label", sa.String(length=200), nullable=True),
        sa.Column("decided_by_role", sa.String(length=20), nullable=True),
        sa.Column("decision_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_erasure_request_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_request")),
    )
    with op.batch_alter_table("erasure_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_erasure_request_customer", ["customer_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_erasure_request_status_due", ["status", "due_at", "id"], unique=False
        )

    op.create_table(
        "access_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_ref", sa.String(length=100), nullable=False),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_access_view_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_view")),
        sa.UniqueConstraint(
            "customer_id",
            "actor_ref",
            "day",
            name=op.f("uq_access_view_customer_id_actor_ref_day"),
        ),
    )
    with op.batch_alter_table("access_view", schema=None) as batch_op:
        batch_op.create_index(
            "ix_access_view_customer_seen",
            ["customer_id", "last_seen_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("access_view", schema=None) as batch_op:
        batch_op.drop_index("ix_access_view_customer_seen")
    op.drop_table("access_view")

    with op.batch_alter_table("erasure_request", schema=None) as batch_op:
        batch_op.drop_index("ix_erasure_request_status_due")
        batch_op.drop_index("ix_erasure_request_customer")
    op.drop_table("erasure_request")

    with op.batch_alter_table("profile_correction", schema=None) as batch_op:
        batch_op.drop_index("ix_profile_correction_status")
        batch_op.drop_index("ix_profile_correction_customer")
    op.drop_table("profile_correction")

    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+): a batch copy of `customer` would drop
        # the triggers that keep its full-text index in step.
        op.execute("ALTER TABLE customer DROP COLUMN erased_at")
    else:
        with op.batch_alter_table("customer", schema=None) as batch_op:
            batch_op.drop_column("erased_at")
