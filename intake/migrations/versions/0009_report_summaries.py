"""each report's verdict, counts, key figures and criterion statuses as columns

The bureau's list, round overview and export read these instead of every report's JSON.
Existing reports are filled in from their JSON here, in batches.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FIGURES = ("total_assets", "revenue", "area_m2", "service_staff", "satisfaction", "smes_served")
BATCH = 200


def _columns() -> list[sa.Column]:
    columns = [
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("n_pass", sa.Integer(), nullable=True),
        sa.Column("n_fail", sa.Integer(), nullable=True),
        sa.Column("n_missing", sa.Integer(), nullable=True),
        sa.Column("n_review", sa.Integer(), nullable=True),
        sa.Column("credit_code", sa.String(32), nullable=True),
        sa.Column("applicant_name", sa.String(255), nullable=True),
    ]
    for stem in FIGURES:
        columns.append(sa.Column(f"{stem}_read", sa.Float(), nullable=True))
        columns.append(sa.Column(f"{stem}_declared", sa.Float(), nullable=True))
    columns.append(sa.Column("statuses", sa.JSON(), nullable=True))
    return columns


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        for column in _columns():
            batch.add_column(column)
        batch.create_index("ix_reports_credit_code", ["credit_code"])
    _backfill()


def _backfill() -> None:
    """Fill the new columns from each stored report's JSON, with the very function that
    fills them when a report is built (so the two cannot disagree)."""
    from intake.overview import report_summary

    reports = sa.table(
        "reports",
        sa.column("dossier_id", sa.String),
        sa.column("content", sa.JSON),
        *(sa.column(c.name, c.type) for c in _columns()),
    )
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.select(reports.c.dossier_id))]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = connection.execute(
            sa.select(reports.c.dossier_id, reports.c.content).where(
                reports.c.dossier_id.in_(chunk)
            )
        )
        for dossier_id, content in rows.all():
            values = report_summary(content or {})
            connection.execute(
                reports.update().where(reports.c.dossier_id == dossier_id).values(**values)
            )


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_index("ix_reports_credit_code")
        for column in reversed(_columns()):
            batch.drop_column(column.name)
