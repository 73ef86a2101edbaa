"""Insights: measures, snapshots, policies, tiers, model fits

Revision ID: a1c4e0000005
Revises: a1c4e0000004
Create Date: 2026-11-23 14:01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "a1c4e0000005"
down_revision: str | None = "a1c4e0000004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
