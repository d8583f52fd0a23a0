"""the register of recognised platforms (article 19) and their annual summaries

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platforms",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("credit_code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column(
            "dossier_id",
            sa.String(32),
            sa.ForeignKey("dossiers.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("round", sa.String(16), nullable=False),
        sa.Column("recognised_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("recognised_by", sa.String(64), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revoke_reason", sa.String(32), nullable=True),
        sa.Column("revoke_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_platforms_credit_code", "platforms", ["credit_code"])
    op.create_index("ix_platforms_dossier_id", "platforms", ["dossier_id"])
    op.create_table(
        "annual_summaries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "platform_id",
            sa.String(32),
            sa.ForeignKey("platforms.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
    )
    op.create_index("ix_annual_summaries_platform_id", "annual_summaries", ["platform_id"])


def downgrade() -> None:
    op.drop_index("ix_annual_summaries_platform_id", table_name="annual_summaries")
    op.drop_table("annual_summaries")
    op.drop_index("ix_platforms_dossier_id", table_name="platforms")
    op.drop_index("ix_platforms_credit_code", table_name="platforms")
    op.drop_table("platforms")
