"""how many of a parse's pages were read by OCR

``/metrics`` labels parse seconds by the OCR engine a parse used and gives OCR pages a
second; without this a text PDF's parse counted under the engine the OCR setting had at
hand. Older parses keep null (unknown) until they are parsed again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 11:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parses") as batch:
        batch.add_column(sa.Column("ocr_pages", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("parses") as batch:
        batch.drop_column("ocr_pages")
