"""Consent ledger, contact preferences, feedback replies

Revision ID: a1c4e0000006
Revises: a1c4e0000005
Create Date: 2026-11-23 14:02:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1c4e0000006"
down_revision: str | None = "a1c4e0000005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("evidence", sa.String(length=1000), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_consent_event_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_event")),
    )
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_event_customer_occurred",
            ["customer_id", "occurred_at", "id"],
            unique=False,
        )

    op.create_table(
        "consent_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_consent_state_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["consent_event.id"],
            name=op.f("fk_consent_state_event_id_consent_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_state")),
        sa.UniqueConstraint(
            "customer_id",
            "purpose",
            "channel",
            name=op.f("uq_consent_state_customer_id_purpose_channel"),
        ),
    )
    with op.batch_alter_table("consent_state", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_state_purpose_channel",
            ["purpose", "channel", "granted"],
            unique=False,
        )

    op.create_table(
        "contact_preference",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("preferred_channel", sa.String(length=20), nullable=True),
        sa.Column("contact_frequency", sa.String(length=20), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_contact_preference_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_contact_preference")),
    )
    with op.batch_alter_table("contact_preference", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_preference_channel", ["preferred_channel"], unique=False
        )
        batch_op.create_index(
            "ix_contact_preference_frequency", ["contact_frequency"], unique=False
        )

    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("survey", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("feedback_kind", sa.String(length=20), nullable=True)
        )
        batch_op.add_column(sa.Column("reply_to_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_interaction_reply_to_id_interaction"),
            "interaction",
            ["reply_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            "ix_interaction_reply_to_id", ["reply_to_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_reply_to_id")
        batch_op.drop_constraint(
            batch_op.f("fk_interaction_reply_to_id_interaction"), type_="foreignkey"
        )
        batch_op.drop_column("reply_to_id")
        batch_op.drop_column("feedback_kind")
        batch_op.drop_column("survey")

    with op.batch_alter_table("contact_preference", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_preference_frequency")
        batch_op.drop_index("ix_contact_preference_channel")
    op.drop_table("contact_preference")

    with op.batch_alter_table("consent_state", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_state_purpose_channel")
    op.drop_table("consent_state")

    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_event_customer_occurred")
    op.drop_table("consent_event")
