"""Encrypted stream credentials, camera health from heartbeats, and the audit log.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("stream_credentials", sa.Text))
    op.create_table(
        "camera_health",
        sa.Column(
            "camera_id",
            sa.String(32),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("worker_id", sa.String(100), nullable=False),
        sa.Column("time", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("fps_in", sa.Float, nullable=False),
        sa.Column("fps_out", sa.Float, nullable=False),
        sa.Column("inference_ms", sa.Float),
        sa.Column("queue_depth", sa.Integer, nullable=False),
        sa.Column("last_frame_time", TZ),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(500)),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("actor", sa.String(100), nullable=False, index=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
    )
    op.create_index("ix_audit_entity", "audit_log", ["entity", "entity_id", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("camera_health")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("stream_credentials")
