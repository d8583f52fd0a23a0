"""when a dossier's uploads and parses were purged, and how long each report build took

``dossiers.purged_at`` marks a dossier whose uploads and parses were removed by
``intake purge --before ROUND``: its reports and audit trail stay, and nothing may rebuild
them from documents that are gone. ``report_versions.duration_ms`` is the build's wall time,
which ``/metrics`` reports as a histogram.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 11:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("report_versions") as batch:
        batch.add_column(sa.Column("duration_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_versions") as batch:
        batch.drop_column("duration_ms")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_column("purged_at")
