"""Bookings remember the health concerns the client mentioned (from the triage).

Revision ID: 0003_booking_health_concerns
Revises: 0002_booking
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_booking_health_concerns"
down_revision = "0002_booking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column("health_concerns", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("health_concerns")
