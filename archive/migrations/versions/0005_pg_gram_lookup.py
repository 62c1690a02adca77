"""PostgreSQL: look grams up through the GIN index only (a function the planner cannot seq-scan through)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from archive import fulltext

    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        fulltext.create_lookup(conn)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION speech_ids_with(text[])")
