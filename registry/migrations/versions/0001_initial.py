"""Cameras, scene versions, the event index and API tokens.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("district", sa.String(64), index=True),
        sa.Column("address", sa.String(300)),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("heading_deg", sa.Float),
        sa.Column("lanes", sa.Integer),
        sa.Column("vendor", sa.String(100)),
        sa.Column("model", sa.String(100)),
        sa.Column("status", sa.String(32), nullable=False, index=True),
        sa.Column("stream_main", sa.String(1000)),
        sa.Column("stream_sub", sa.String(1000)),
        sa.Column("type_approval_number", sa.String(64)),
        sa.Column("verification_certificate", sa.String(128)),
        sa.Column("verification_valid_until", sa.Date),
        sa.Column("certified_codes", sa.JSON),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "scene_versions",
        sa.Column(
            "camera_id",
            sa.String(32),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(100)),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("camera_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("gost_code", sa.String(8)),
        sa.Column("time", TZ, nullable=False),
        sa.Column("scene_version", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("indexed_at", TZ, nullable=False),
    )
    op.create_index("ix_events_camera_time", "events", ["camera_id", "time"])
    op.create_index("ix_events_type_time", "events", ["type", "time"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
    )


def downgrade() -> None:
    for table in ("api_tokens", "events", "scene_versions", "cameras"):
        op.drop_table(table)
