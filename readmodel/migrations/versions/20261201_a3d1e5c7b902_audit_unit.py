"""The audit trail's unit (readmodel/audit.py): whose directors read an entry. Entries that name
an application take its unit; older ones without an application keep none (superusers only).

Revision ID: a3d1e5c7b902
Revises: 25d3c79a41a0
Created: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3d1e5c7b902"
down_revision: str | Sequence[str] | None = "25d3c79a41a0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_event_unit"), ["unit"], unique=False)
    op.execute(
        "UPDATE audit_event SET unit = (SELECT application.unit FROM application"
        " WHERE application.application_no = audit_event.application_no)"
        " WHERE application_no IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_unit"))
        batch_op.drop_column("unit")
