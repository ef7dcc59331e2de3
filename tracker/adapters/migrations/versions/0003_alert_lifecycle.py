"""Alert lifecycle: schedule reasons on orders, alert state/severity/version, delivery outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-03-02

Frozen: plain column types, no imports from the ORM (see 0001). Alerts recorded before this
revision were late alerts: they become active, critical alerts at version 1, and the ones the
broker had not acknowledged yet get an MQTT delivery row, so they still go out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


# size: a migration is history already applied to databases: read top to bottom, never edited
def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("schedule_reasons", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("schedule_reasons", server_default=None)

    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("status", new_column_name="state", existing_type=sa.String(20))
        batch.add_column(sa.Column("severity", sa.String(20), nullable=True))
        batch.add_column(sa.Column("schedule_status", sa.String(20), nullable=True))
        batch.add_column(sa.Column("reasons", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("updated_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_event", sa.String(20), nullable=True))
        batch.add_column(sa.Column("acked_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("acked_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("ack_comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("cleared_at", UTC_DATETIME, nullable=True))
    alerts = sa.table(
        "alerts",
        sa.column("id", sa.Integer()),
        sa.column("order_id", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("state", sa.String()),
        sa.column("severity", sa.String()),
        sa.column("schedule_status", sa.String()),
        sa.column("reasons", sa.JSON()),
        sa.column("raised_at", UTC_DATETIME),
        sa.column("updated_at", UTC_DATETIME),
        sa.column("eta", UTC_DATETIME),
        sa.column("due_at", UTC_DATETIME),
        sa.column("message", sa.Text()),
        sa.column("version", sa.Integer()),
        sa.column("last_event", sa.String()),
        sa.column("delivered_at", UTC_DATETIME),
    )
    op.execute(
        alerts.update().values(
            state="active",
            severity="critical",
            schedule_status="late",
            reasons=[],
            updated_at=alerts.c.raised_at,
            version=1,
            last_event="raised",
        )
    )

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_deliveries_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint(
            "alert_id",
            "version",
            "channel",
            "target",
            name=op.f("uq_alert_deliveries_alert_id_version_channel_target"),
        ),
    )
    op.create_index(
        "ix_alert_deliveries_channel_delivered_at",
        "alert_deliveries",
        ["channel", "delivered_at"],
    )
    # undelivered old alerts still go out, in the payload shape of this revision
    conn = op.get_bind()
    pending = conn.execute(sa.select(alerts).where(alerts.c.delivered_at.is_(None))).all()
    deliveries = sa.table(
        "alert_deliveries",
        sa.column("alert_id", sa.Integer()),
        sa.column("version", sa.Integer()),
        sa.column("channel", sa.String()),
        sa.column("target", sa.String()),
        sa.column("payload", sa.Text()),
        sa.column("created_at", UTC_DATETIME),
        sa.column("attempts", sa.Integer()),
        sa.column("next_attempt_at", UTC_DATETIME),
    )
    for row in pending:
        payload = {
            "alert_id": row.id,
            "version": 1,
            "event": "raised",
            "order_id": row.order_id,
            "kind": row.kind,
            "state": "active",
            "severity": "critical",
            "schedule_status": "late",
            "reasons": [],
            "eta": _rfc3339(row.eta),
            "due": _rfc3339(row.due_at),
            "raised_at": _rfc3339(row.raised_at),
            "updated_at": _rfc3339(row.raised_at),
            "message": row.message,
        }
        op.execute(
            deliveries.insert().values(
                alert_id=row.id,
                version=1,
                channel="mqtt",
                target="",
                payload=json.dumps({k: v for k, v in payload.items() if v is not None}),
                created_at=row.raised_at,
                attempts=0,
                next_attempt_at=row.raised_at,
            )
        )

    with op.batch_alter_table("alerts") as batch:
        for name in ("severity", "schedule_status", "last_event"):
            batch.alter_column(name, existing_type=sa.String(20), nullable=False)
        batch.alter_column("reasons", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("updated_at", existing_type=UTC_DATETIME, nullable=False)
        batch.alter_column("version", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("delivered_at")
        batch.create_index("ix_alerts_order_id_kind", ["order_id", "kind"])


def _rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_channel_delivered_at", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_order_id_kind")
        batch.add_column(sa.Column("delivered_at", UTC_DATETIME, nullable=True))
        for name in (
            "cleared_at",
            "ack_comment",
            "acked_at",
            "acked_by",
            "last_event",
            "version",
            "updated_at",
            "reasons",
            "schedule_status",
            "severity",
        ):
            batch.drop_column(name)
        batch.alter_column("state", new_column_name="status", existing_type=sa.String(20))
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("schedule_reasons")
