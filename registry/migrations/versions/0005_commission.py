"""Commissioning: reference frames of scene versions, and operators' reviews of events.

Revision ID: 0005
Revises: 0002, 0003, 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
# Joins the branches into one head.
down_revision = ("0002", "0003", "0004")
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("scene_versions", sa.Column("reference_frame", sa.String(64)))
    op.create_table(
        "reference_frames",
        sa.Column(
            "camera_id",
            sa.String(32),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("bucket", sa.String(100), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("version_id", sa.String(200)),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(300)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(100)),
    )
    op.create_table(
        "event_reviews",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.String(500)),
        sa.Column("reviewed_by", sa.String(100)),
        sa.Column("reviewed_at", TZ),
        sa.Column("held", sa.JSON),
        sa.Column("held_at", TZ),
    )


def downgrade() -> None:
    op.drop_table("event_reviews")
    op.drop_table("reference_frames")
    with op.batch_alter_table("scene_versions") as batch:
        batch.drop_column("reference_frame")
