"""Certification history: each enforcement unit's certificates, append-only, by time.

Revision ID: 0008
Revises: 0007

Cameras certified before this revision get one row, dated when the camera was registered:
the registry knows of no earlier certificate.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certification_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(32), nullable=False),
        sa.Column("type_approval_number", sa.String(64)),
        sa.Column("verification_certificate", sa.String(128)),
        sa.Column("verification_valid_until", sa.Date),
        sa.Column("certified_codes", sa.JSON),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_certification_history_camera_at",
        "certification_history",
        ["camera_id", "recorded_at"],
    )
    op.execute(
        "INSERT INTO certification_history (camera_id, type_approval_number,"
        " verification_certificate, verification_valid_until, certified_codes, recorded_at)"
        " SELECT id, type_approval_number, verification_certificate, verification_valid_until,"
        " certified_codes, created_at FROM cameras WHERE type_approval_number IS NOT NULL"
        " OR verification_certificate IS NOT NULL OR verification_valid_until IS NOT NULL"
        " OR certified_codes IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("certification_history")
