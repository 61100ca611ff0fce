"""Bookings with per-slot uniqueness, the outbox, and human hand-off requests.

Revision ID: 0002_booking
Revises: 0001_faq
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_booking"
down_revision = "0001_faq"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("therapist_id", sa.String(64), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_name", sa.String(120), nullable=False),
        sa.Column("contact", sa.String(254), nullable=False),
        sa.Column("contact_kind", sa.String(8), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "booking_slots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "booking_id",
            sa.Integer,
            sa.ForeignKey("bookings.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("therapist_id", sa.String(64), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.UniqueConstraint("therapist_id", "slot_start", name="uq_booking_slots_therapist_start"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(36), nullable=False, unique=True),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), nullable=True, index=True),
        sa.Column("contact", sa.String(254), nullable=True),
        sa.Column("transcript", sa.Text, nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("clinic_open", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("handoff_requests")
    op.drop_table("outbox")
    op.drop_table("booking_slots")
    op.drop_table("bookings")
