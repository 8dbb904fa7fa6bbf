"""The failed-key limiter's counts, shared by every API process on the database.

A new table only: keys and jobs are kept as they are.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``api_key_failures``: unknown keys per client address and its block."""
    op.create_table(
        "api_key_failures",
        sa.Column("client", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("api_key_failures")
