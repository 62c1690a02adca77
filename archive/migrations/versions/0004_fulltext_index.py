"""full-text index of character n-grams: FTS5 on SQLite, a GIN-indexed array on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from archive import fulltext  # the index format belongs to the code that queries it

    conn = op.get_bind()
    fulltext.create(conn)
    fulltext.rebuild(conn)


def downgrade() -> None:
    op.execute("DROP TABLE speech_grams")
