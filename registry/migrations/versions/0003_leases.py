"""Camera leases: which detector worker analyses which camera.

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "camera_leases",
        sa.Column(
            "camera_id",
            sa.String(32),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("worker_id", sa.String(100)),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("renewed_at", TZ),
        sa.Column("stream_lost_at", TZ),
    )
    op.create_index("ix_camera_leases_expires_at", "camera_leases", ["expires_at"])


def downgrade() -> None:
    op.drop_table("camera_leases")
