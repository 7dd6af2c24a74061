"""Enforcement cases: one per violation event, with their delivery state.

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("camera_id", sa.String(32), nullable=False),
        sa.Column("enforceable", sa.Boolean, nullable=False, index=True),
        sa.Column("reason", sa.String(500)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("published_at", TZ),
        sa.Column("delivered_at", TZ),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(500)),
    )
    op.create_index("ix_cases_camera_created", "cases", ["camera_id", "created_at"])


def downgrade() -> None:
    op.drop_table("cases")
