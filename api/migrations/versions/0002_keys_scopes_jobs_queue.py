"""Keys with scopes, expiry and revocation; jobs with an owner, claims, heartbeats and attempts.

Existing keys keep what they could do before scopes existed (read aggregates, read incident
records, submit plans); existing jobs have no owner (admin keys see them) and 0 attempts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: The scopes of keys made before scopes existed.
LEGACY_SCOPES = "read:aggregates,read:records,submit:plans"


def upgrade() -> None:
    """Add the columns, fill the old keys' scopes, index the jobs' owner."""
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scopes", sa.String(200), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE api_keys SET scopes = :s WHERE scopes IS NULL").bindparams(s=LEGACY_SCOPES))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("owner_key_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("estimate", sa.JSON(), nullable=True))
    op.create_index("ix_jobs_owner_key_id", "jobs", ["owner_key_id"])


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    op.drop_index("ix_jobs_owner_key_id", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        for column in ("estimate", "attempts", "heartbeat_at", "claimed_at", "claimed_by", "owner_key_id"):
            batch.drop_column(column)
    with op.batch_alter_table("api_keys") as batch:
        for column in ("last_used_at", "revoked_at", "expires_at", "scopes"):
            batch.drop_column(column)
