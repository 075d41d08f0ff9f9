"""What was published of each region's calendar (readmodel/calendar_publication.py).

Revision ID: 0fcf2d22e174
Revises: c39d19d475f8
Created: 2026-12-01

The table came before migrations did: a database that `create_all` gave it already (and then
adopted by 0001) keeps it as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0fcf2d22e174"
down_revision: str | Sequence[str] | None = "c39d19d475f8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

META = sa.MetaData()

CALENDAR_PUBLICATION = sa.Table(
    "calendar_publication",
    META,
    sa.Column("region", sa.String(length=32), nullable=False),
    sa.Column("version", sa.String(length=64), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("publication_id", sa.String(length=100), nullable=False),
    sa.Column("pages", sa.Integer(), nullable=False),
    sa.Column("signalled", sa.Integer(), nullable=False),
    sa.Column("gone", sa.Integer(), nullable=False),
    sa.Column("started_at", sa.DateTime(), nullable=True),
    sa.Column("published_at", sa.DateTime(), nullable=True),
    sa.Column("requested_version", sa.String(length=64), nullable=True),
    sa.Column("requested_at", sa.DateTime(), nullable=True),
    sa.Column("recorded_at", sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint("region"),
)


def upgrade() -> None:
    bind = op.get_bind()
    if not sa.inspect(bind).has_table(CALENDAR_PUBLICATION.name):
        CALENDAR_PUBLICATION.create(bind)


def downgrade() -> None:
    CALENDAR_PUBLICATION.drop(op.get_bind())
