"""Segments: definitions, membership and its history

Revision ID: a1c4e0000004
Revises: 0f3106dc6deb
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "a1c4e0000004"
down_revision: str | None = "0f3106dc6deb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
