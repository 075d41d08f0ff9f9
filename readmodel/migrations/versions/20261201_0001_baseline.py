"""The schema as the releases before migrations made it, and the adoption of their databases.

Revision ID: 0001
Revises:
Created: 2026-12-01

Before migrations every process ran `create_all` and then added the columns an earlier version
lacked. So a database without an `alembic_version` table may hold any earlier release's
tables: each table missing here is created, and each one that exists gets the columns and
indexes it lacks (a NOT NULL column with the default the models gave it then). A column it
cannot add (required, without a default) is refused, naming the table and the column, and the
whole migration rolls back.

The tables are written out here, not taken from the models: this revision must keep meaning
what it meant when the models have moved on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

META = sa.MetaData()

sa.Table(
    "application",
    META,
    sa.Column("application_no", sa.String(length=64), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("business_type", sa.String(length=64), nullable=False),
    sa.Column("voltage", sa.String(length=16), nullable=True),
    sa.Column("capacity_kva", sa.Float(), nullable=True),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("stage", sa.String(length=64), nullable=False),
    sa.Column("customer_manager", sa.String(length=64), nullable=True),
    sa.Column("accepted_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("warning_level", sa.String(length=16), nullable=True),
    sa.Column("next_due_at", sa.DateTime(), nullable=True),
    sa.Column("too_short", sa.Boolean(), nullable=False),
    sa.Column("provisional", sa.Boolean(), nullable=False),
    sa.Column("customer_name", sa.String(length=200), nullable=False),
    sa.Column("customer_phone", sa.String(length=20), nullable=True),
    sa.Column("final_status", sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint("application_no"),
    sa.Index("ix_application_business_type", "business_type"),
    sa.Index("ix_application_customer_manager", "customer_manager"),
    sa.Index("ix_application_next_due_at", "next_due_at"),
    sa.Index("ix_application_stage", "stage"),
    sa.Index("ix_application_state", "state"),
    sa.Index("ix_application_unit", "unit"),
    sa.Index("ix_application_warning_level", "warning_level"),
)
sa.Table(
    "capacity_reservation",
    META,
    sa.Column("application_no", sa.String(length=64), nullable=False),
    sa.Column("plan_version", sa.Integer(), nullable=False),
    sa.Column("resource_kind", sa.String(length=16), nullable=False),
    sa.Column("resource_id", sa.String(length=64), nullable=False),
    sa.Column("kva", sa.Float(), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("released_at", sa.DateTime(), nullable=True),
    sa.Column("release_reason", sa.String(length=32), nullable=True),
    sa.Column("id", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("application_no", "plan_version", "resource_kind", "resource_id"),
    sa.Index("ix_capacity_reservation_application_no", "application_no"),
    sa.Index("ix_capacity_reservation_resource", "resource_kind", "resource_id", "state"),
)
sa.Table(
    "org_unit",
    META,
    sa.Column("code", sa.String(length=128), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("level", sa.String(length=16), nullable=False),
    sa.Column("parent", sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint("code"),
    sa.Index("ix_org_unit_parent", "parent"),
)
sa.Table(
    "sms_outbox",
    META,
    sa.Column("application_no", sa.String(length=64), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("monitor", sa.String(length=128), nullable=False),
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("level", sa.String(length=16), nullable=False),
    sa.Column("phone", sa.String(length=11), nullable=False),
    sa.Column("role", sa.String(length=64), nullable=False),
    sa.Column("roles", sa.JSON(), nullable=False),
    sa.Column("staff_code", sa.String(length=64), nullable=True),
    sa.Column("message", sa.String(length=1000), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("send_after", sa.DateTime(), nullable=False),
    sa.Column("send_before", sa.DateTime(), nullable=False),
    sa.Column("window", sa.String(length=16), nullable=False),
    sa.Column("sent_at", sa.DateTime(), nullable=True),
    sa.Column("claimed_until", sa.DateTime(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("gateway_answer", sa.String(length=500), nullable=True),
    sa.Column("last_error", sa.String(length=500), nullable=True),
    sa.Column("id", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("application_no", "monitor", "level", "phone"),
    sa.Index("ix_sms_outbox_application_no", "application_no"),
    sa.Index("ix_sms_outbox_phone", "phone"),
    sa.Index("ix_sms_outbox_send_after", "send_after"),
    sa.Index("ix_sms_outbox_state", "state"),
)
sa.Table(
    "sms_undeliverable",
    META,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("application_no", sa.String(length=64), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("monitor", sa.String(length=128), nullable=False),
    sa.Column("level", sa.String(length=16), nullable=False),
    sa.Column("role", sa.String(length=64), nullable=False),
    sa.Column("department", sa.String(length=32), nullable=False),
    sa.Column("reason", sa.String(length=300), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("application_no", "monitor", "level", "role", "department"),
    sa.Index("ix_sms_undeliverable_application_no", "application_no"),
)
sa.Table(
    "timeline",
    META,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("application_no", sa.String(length=64), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("event", sa.String(length=64), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("by", sa.String(length=64), nullable=True),
    sa.Column("note", sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("application_no", "seq"),
    sa.Index("ix_timeline_application_no", "application_no"),
)
sa.Table(
    "warning",
    META,
    sa.Column("application_no", sa.String(length=64), nullable=False),
    sa.Column("monitor", sa.String(length=128), nullable=False),
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("level", sa.String(length=16), nullable=False),
    sa.Column("due_at", sa.DateTime(), nullable=False),
    sa.Column("raised_at", sa.DateTime(), nullable=False),
    sa.Column("roles", sa.JSON(), nullable=False),
    sa.Column("result", sa.String(length=32), nullable=True),
    sa.Column("source", sa.String(length=500), nullable=True),
    sa.Column("open", sa.Boolean(), nullable=False),
    sa.Column("id", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("application_no", "monitor", "level"),
    sa.Index("ix_warning_application_no", "application_no"),
    sa.Index("ix_warning_level", "level"),
    sa.Index("ix_warning_open", "open"),
)
sa.Table(
    "grid_substation",
    META,
    sa.Column("lon", sa.Float(), nullable=False),
    sa.Column("lat", sa.Float(), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("voltage", sa.String(length=16), nullable=False),
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(
        ["unit"],
        ["org_unit.code"],
    ),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_grid_substation_unit", "unit"),
)
sa.Table(
    "staff",
    META,
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("name", sa.String(length=100), nullable=False),
    sa.Column("roles", sa.JSON(), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("department", sa.String(length=32), nullable=False),
    sa.Column("phone", sa.String(length=11), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("id", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(
        ["unit"],
        ["org_unit.code"],
    ),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_staff_active", "active"),
    sa.Index("ix_staff_code", "code", unique=True),
    sa.Index("ix_staff_unit", "unit"),
)
sa.Table(
    "grid_feeder",
    META,
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("substation", sa.String(length=64), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("voltage", sa.String(length=16), nullable=False),
    sa.Column("rated_kva", sa.Float(), nullable=False),
    sa.Column("used_kva", sa.Float(), nullable=False),
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(
        ["substation"],
        ["grid_substation.id"],
    ),
    sa.ForeignKeyConstraint(
        ["unit"],
        ["org_unit.code"],
    ),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_grid_feeder_substation", "substation"),
    sa.Index("ix_grid_feeder_unit", "unit"),
    sa.Index("ix_grid_feeder_voltage", "voltage"),
)
sa.Table(
    "grid_transformer",
    META,
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("feeder", sa.String(length=64), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("rated_kva", sa.Float(), nullable=False),
    sa.Column("load_kva", sa.Float(), nullable=False),
    sa.Column("lon", sa.Float(), nullable=True),
    sa.Column("lat", sa.Float(), nullable=True),
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(
        ["feeder"],
        ["grid_feeder.id"],
    ),
    sa.ForeignKeyConstraint(
        ["unit"],
        ["org_unit.code"],
    ),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_grid_transformer_feeder", "feeder"),
    sa.Index("ix_grid_transformer_unit", "unit"),
)
sa.Table(
    "grid_connection_point",
    META,
    sa.Column("lon", sa.Float(), nullable=False),
    sa.Column("lat", sa.Float(), nullable=False),
    sa.Column("kind", sa.String(length=32), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("voltage", sa.String(length=16), nullable=False),
    sa.Column("feeder", sa.String(length=64), nullable=True),
    sa.Column("transformer", sa.String(length=64), nullable=True),
    sa.Column("restricted", sa.Boolean(), nullable=False),
    sa.Column("restricted_reason", sa.String(length=300), nullable=True),
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(
        ["feeder"],
        ["grid_feeder.id"],
    ),
    sa.ForeignKeyConstraint(
        ["transformer"],
        ["grid_transformer.id"],
    ),
    sa.ForeignKeyConstraint(
        ["unit"],
        ["org_unit.code"],
    ),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_grid_connection_point_feeder", "feeder"),
    sa.Index("ix_grid_connection_point_lat_lon", "lat", "lon"),
    sa.Index("ix_grid_connection_point_restricted", "restricted"),
    sa.Index("ix_grid_connection_point_transformer", "transformer"),
    sa.Index("ix_grid_connection_point_unit", "unit"),
    sa.Index("ix_grid_connection_point_voltage", "voltage"),
)
sa.Table(
    "grid_customer",
    META,
    sa.Column("feeder", sa.String(length=64), nullable=False),
    sa.Column("transformer", sa.String(length=64), nullable=True),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("phone", sa.String(length=11), nullable=True),
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(
        ["feeder"],
        ["grid_feeder.id"],
    ),
    sa.ForeignKeyConstraint(
        ["transformer"],
        ["grid_transformer.id"],
    ),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_grid_customer_feeder", "feeder"),
    sa.Index("ix_grid_customer_transformer", "transformer"),
)

#: The defaults the models gave their NOT NULL columns: what an adopted column is filled with.
ADOPTED_DEFAULTS: dict[tuple[str, str], object] = {
    ("application", "too_short"): False,
    ("application", "provisional"): False,
    ("capacity_reservation", "state"): "held",
    ("sms_outbox", "code"): "",
    ("sms_outbox", "state"): "pending",
    ("sms_outbox", "attempts"): 0,
    ("sms_undeliverable", "department"): "",
    ("warning", "code"): "",
    ("warning", "open"): True,
    ("staff", "department"): "marketing",
    ("staff", "active"): True,
    ("grid_feeder", "name"): "",
    ("grid_transformer", "name"): "",
    ("grid_connection_point", "name"): "",
    ("grid_connection_point", "restricted"): False,
}


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in META.sorted_tables:
        if table.name in existing:
            _adopt(bind, table)
        else:
            table.create(bind)


def _adopt(bind: sa.Connection, table: sa.Table) -> None:
    inspector = sa.inspect(bind)
    have = {c["name"] for c in inspector.get_columns(table.name)}
    for column in table.columns:
        if column.name in have:
            continue
        default = ADOPTED_DEFAULTS.get((table.name, column.name))
        if not column.nullable and default is None:
            raise RuntimeError(
                f"database table {table.name} lacks the required column {column.name}; "
                "migrate it by hand or start from an empty database"
            )
        # Quoted as text: PostgreSQL casts '1' and '0' to its booleans, SQLite stores numbers.
        server_default = (
            None if default is None else str(int(default) if isinstance(default, bool) else default)
        )
        added = sa.Column(
            column.name, column.type, nullable=column.nullable, server_default=server_default
        )
        with op.batch_alter_table(table.name) as batch:
            batch.add_column(added)
    indexes = {i["name"] for i in inspector.get_indexes(table.name)}
    for index in table.indexes:
        if index.name not in indexes:
            index.create(bind)


def downgrade() -> None:
    META.drop_all(op.get_bind())
