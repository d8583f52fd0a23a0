"""when a file's current parse job was queued (the reconciler's clock)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossier_files") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE dossier_files SET queued_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("dossier_files") as batch:
        batch.drop_column("queued_at")
