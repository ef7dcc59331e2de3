"""Incidents: one per stopped machine, the alerts that hang under it, its outbox rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Frozen: plain column types, no imports from the ORM (see 0001). The outbox's `alert_id`
becomes nullable: a row names an alert or an incident.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("machine_id", sa.String(length=100), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.String(length=128), nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("opened_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_event", sa.String(length=20), nullable=False),
        sa.Column("acked_by", sa.String(length=200), nullable=True),
        sa.Column("acked_at", UTC_DATETIME, nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.Column("closed_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(
        "ix_incidents_machine_id_state", "incidents", ["machine_id", "state"], unique=False
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_alerts_incident_id_incidents"),
            "incidents",
            ["incident_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_alerts_incident_id"), ["incident_id"], unique=False)
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.alter_column("alert_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_alert_deliveries_incident_id_incidents"),
            "incidents",
            ["incident_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            op.f("uq_alert_deliveries_incident_id_version_channel_target"),
            ["incident_id", "version", "channel", "target"],
        )


def downgrade() -> None:
    # incident rows of the outbox cannot stay once `alert_id` is required again
    op.execute("DELETE FROM alert_deliveries WHERE alert_id IS NULL")
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.drop_constraint(
            op.f("uq_alert_deliveries_incident_id_version_channel_target"), type_="unique"
        )
        batch.drop_constraint(op.f("fk_alert_deliveries_incident_id_incidents"), type_="foreignkey")
        batch.drop_column("incident_id")
        batch.alter_column("alert_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index(op.f("ix_alerts_incident_id"))
        batch.drop_constraint(op.f("fk_alerts_incident_id_incidents"), type_="foreignkey")
        batch.drop_column("incident_id")
    op.drop_index("ix_incidents_machine_id_state", table_name="incidents")
    op.drop_table("incidents")
