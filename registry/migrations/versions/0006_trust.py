"""Producer authentication: detector workers' public keys and the lease history.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lease_grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(32), nullable=False),
        sa.Column("worker_id", sa.String(100), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("granted_at", TZ, nullable=False),
        sa.Column("until", TZ, nullable=False),
    )
    op.create_index("ix_lease_grants_camera_from", "lease_grants", ["camera_id", "granted_at"])
    op.create_table(
        "detector_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("worker_id", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(100)),
        sa.Column("revoked_at", TZ),
        sa.Column("revoked_by", sa.String(100)),
    )
    op.create_index("ix_detector_keys_worker_id", "detector_keys", ["worker_id"])


def downgrade() -> None:
    op.drop_table("detector_keys")
    op.drop_table("lease_grants")
