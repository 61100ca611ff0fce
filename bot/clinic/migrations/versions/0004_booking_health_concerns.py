"""Bookings remember the health concerns the client mentioned (from the triage).

Revision ID: 0004_booking_health_concerns
Revises: 0003_conversation_keys
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_booking_health_concerns"
down_revision = "0003_conversation_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column("health_concerns", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("health_concerns")
