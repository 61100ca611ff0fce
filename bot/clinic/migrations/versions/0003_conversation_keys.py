"""Conversation ids keyed by channel (`webchat:…`), and failed booking look-ups.

Conversation columns grow from 64 to 160 characters: a sender id of up to 128 characters plus
its channel prefix. SQLite does not enforce VARCHAR lengths (and rebuilding `bookings` there
would cascade-delete its slots), so only other databases are altered. The ids themselves are
rewritten by `massagebot conversations migrate-ids`, which reads the tracker store to learn
each conversation's channel.

Revision ID: 0003_conversation_keys
Revises: 0002_booking
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_conversation_keys"
down_revision = "0002_booking"
branch_labels = None
depends_on = None

COLUMNS = (
    ("bookings", "conversation_id"),
    ("handoff_requests", "conversation_id"),
    ("unanswered_questions", "conversation"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table, column in COLUMNS:
            op.alter_column(
                table, column, type_=sa.String(160), existing_type=sa.String(64), nullable=True
            )
    op.create_table(
        "failed_lookups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("failed_lookups")
    if op.get_bind().dialect.name != "sqlite":
        for table, column in COLUMNS:
            op.alter_column(
                table, column, type_=sa.String(64), existing_type=sa.String(160), nullable=True
            )
