"""parses remember the OCR engine and settings they were made with

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parses") as batch:
        batch.add_column(sa.Column("ocr_config", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("parses") as batch:
        batch.drop_column("ocr_config")
