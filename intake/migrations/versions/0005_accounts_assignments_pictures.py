"""accounts (users, API tokens, web sessions), dossier owner/district/round, reviewer
assignments, page picture hashes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("owner_id", sa.String(length=32), nullable=True))
        for name, length in (("district", 32), ("round", 16)):
            column = sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            batch.add_column(column)
        batch.create_foreign_key(
            "fk_dossiers_owner_id_users", "users", ["owner_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_dossiers_owner_id", ["owner_id"])
        batch.create_index("ix_dossiers_round", ["round"])
    op.create_table(
        "assignments",
        sa.Column("dossier_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dossier_id", "user_id"),
    )
    op.create_index("ix_assignments_user_id", "assignments", ["user_id"])
    op.create_table(
        "page_pictures",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("picture", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["parses.sha256"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sha256", "page", "picture"),
    )
    op.create_index("ix_page_pictures_picture", "page_pictures", ["picture"])


def downgrade() -> None:
    op.drop_table("page_pictures")
    op.drop_table("assignments")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_index("ix_dossiers_round")
        batch.drop_index("ix_dossiers_owner_id")
        batch.drop_constraint("fk_dossiers_owner_id_users", type_="foreignkey")
        batch.drop_column("round")
        batch.drop_column("district")
        batch.drop_column("owner_id")
    op.drop_table("web_sessions")
    op.drop_table("api_tokens")
    op.drop_table("users")
