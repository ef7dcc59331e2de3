"""Customer notifications: an order's contacts, its promise state, the notices' outbox, links.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Frozen: plain column types, no imports from the ORM (see 0001). See
docs/customer-notifications.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _order_id() -> sa.Column[str]:
    return sa.Column("order_id", sa.String(length=64), nullable=False)


def _on_order(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["order_id"],
        ["orders.order_id"],
        name=op.f(f"fk_{table}_order_id_orders"),
        ondelete="CASCADE",
    )


# size: a migration is history already applied to databases: read top to bottom, never edited
def upgrade() -> None:
    op.create_table(
        "order_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _order_id(),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("added_by", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _on_order("order_contacts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_contacts")),
        sa.UniqueConstraint(
            "order_id",
            "channel",
            "address",
            name=op.f("uq_order_contacts_order_id_channel_address"),
        ),
    )
    op.create_table(
        "order_link_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _order_id(),
        sa.Column("order_token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        _on_order("order_link_tokens"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_order_link_tokens")),
    )
    op.create_index(
        op.f("ix_order_link_tokens_order_id"), "order_link_tokens", ["order_id"], unique=False
    )
    op.create_table(
        "order_promises",
        _order_id(),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("told", sa.Boolean(), nullable=False),
        sa.Column("told_at", UTC_DATETIME, nullable=True),
        sa.Column("seen_at", UTC_DATETIME, nullable=False),
        _on_order("order_promises"),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_promises")),
    )
    op.create_table(
        "customer_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _order_id(),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["order_contacts.id"],
            name=op.f("fk_customer_notices_contact_id_order_contacts"),
            ondelete="CASCADE",
        ),
        _on_order("customer_notices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_notices")),
    )
    op.create_index(
        "ix_customer_notices_channel_delivered_at",
        "customer_notices",
        ["channel", "delivered_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_customer_notices_channel_delivered_at", table_name="customer_notices")
    op.drop_table("customer_notices")
    op.drop_table("order_promises")
    op.drop_index(op.f("ix_order_link_tokens_order_id"), table_name="order_link_tokens")
    op.drop_table("order_link_tokens")
    op.drop_table("order_contacts")
