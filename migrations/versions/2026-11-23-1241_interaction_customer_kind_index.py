"""Index interactions by customer, kind and time for relation filters

Revision ID: 0f3106dc6deb
Revises: f25031e6793d
Create Date: 2026-11-23 12:41:06.831953
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0f3106dc6deb"
down_revision: str | None = "f25031e6793d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interaction_customer_kind_occurred",
            ["customer_id", "kind", "occurred_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_customer_kind_occurred")
