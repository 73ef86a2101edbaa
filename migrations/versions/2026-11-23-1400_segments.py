"""Segments: definitions, membership and its history

Revision ID: a1c4e0000004
Revises: 0f3106dc6deb
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a1c4e0000004"
down_revision: str | None = "0f3106dc6deb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "rule",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column("customer_visible", sa.Boolean(), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("customer_description", sa.Text(), nullable=True),
        sa.Column("builtin_key", sa.String(length=40), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment")),
        sa.UniqueConstraint("builtin_key", name=op.f("uq_segment_builtin_key")),
    )
    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_segment_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_segment_kind_refreshed_at", ["kind", "refreshed_at"], unique=False
        )
        batch_op.create_index("ix_segment_name_id", ["name", "id"], unique=False)
        batch_op.create_index("ix_segment_size_id", ["size", "id"], unique=False)

    op.create_table(
        "segment_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_segment_membership_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segment.id"],
            name=op.f("fk_segment_membership_segment_id_segment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_membership")),
    )
    with op.batch_alter_table("segment_membership", schema=None) as batch_op:
        batch_op.create_index(
            "ix_segment_membership_customer",
            ["customer_id", "segment_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_segment_membership_segment_entered",
            ["segment_id", "entered_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_segment_membership_segment_left",
            ["segment_id", "left_at"],
            unique=False,
        )
        batch_op.create_index(
            "ux_segment_membership_current",
            ["segment_id", "customer_id"],
            unique=True,
            sqlite_where=sa.text("left_at IS NULL"),
            postgresql_where=sa.text("left_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("segment_membership", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_segment_membership_current",
            sqlite_where=sa.text("left_at IS NULL"),
            postgresql_where=sa.text("left_at IS NULL"),
        )
        batch_op.drop_index("ix_segment_membership_segment_left")
        batch_op.drop_index("ix_segment_membership_segment_entered")
        batch_op.drop_index("ix_segment_membership_customer")

    op.drop_table("segment_membership")
    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_size_id")
        batch_op.drop_index("ix_segment_name_id")
        batch_op.drop_index("ix_segment_kind_refreshed_at")
        batch_op.drop_index("ix_segment_created_at_id")

    op.drop_table("segment")
