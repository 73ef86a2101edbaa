"""Corrections, erasure requests, access log

Revision ID: a1c4e0000007
Revises: a1c4e0000006
Create Date: 2026-11-23 14:03:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "a1c4e0000007"
down_revision: str | None = "a1c4e0000006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
