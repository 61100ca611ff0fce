"""FAQ entries and unanswered questions.

Revision ID: 0001_faq
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_faq"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("intent", sa.String(64), nullable=False, index=True),
        sa.Column("entity", sa.String(64), nullable=True),
        sa.Column("value", sa.String(64), nullable=True),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("follow_ups", sa.JSON, nullable=False),
        sa.Column("source", sa.String(120), nullable=False),
        sa.Column("health_advice", sa.Boolean, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("conversation", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("resolved", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("unanswered_questions")
    op.drop_table("faq_entries")
