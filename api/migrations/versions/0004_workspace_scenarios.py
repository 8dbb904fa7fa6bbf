"""The planner's workspace: saved scenarios (proposals with a name and the key that saved them).

A new table only: keys, jobs and the failed-key counts are kept as they are.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``workspace_scenarios``."""
    op.create_table(
        "workspace_scenarios",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("owner_key_id", sa.Integer(), nullable=True),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_workspace_scenarios_owner_key_id", "workspace_scenarios", ["owner_key_id"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_workspace_scenarios_owner_key_id", table_name="workspace_scenarios")
    op.drop_table("workspace_scenarios")
