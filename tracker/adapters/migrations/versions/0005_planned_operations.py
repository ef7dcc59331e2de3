"""The plan per operation: the machine and the planned start and end (planned vs actual).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Frozen: plain column types, no imports from the ORM (see 0001). Operations stored before this
revision have no plan until the tracker's first planning run fills it in.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("planned_machine", sa.String(100), nullable=True))
        batch.add_column(sa.Column("planned_start", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("planned_end", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("planned_end")
        batch.drop_column("planned_start")
        batch.drop_column("planned_machine")
