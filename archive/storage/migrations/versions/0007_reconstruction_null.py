"""a group without a reconstruction holds SQL NULL, not the JSON value null

Groups whose reconstruction was cleared were written as JSON 'null', which IS NOT NULL: the
reconstructed filter counted them as reconstructed. The column now stores None as SQL NULL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    as_text = "reconstruction::text" if op.get_bind().dialect.name == "postgresql" else "reconstruction"
    op.execute(f"UPDATE dup_groups SET reconstruction = NULL WHERE {as_text} = 'null'")


def downgrade() -> None:
    """Nothing to undo: SQL NULL reads back as None either way."""
