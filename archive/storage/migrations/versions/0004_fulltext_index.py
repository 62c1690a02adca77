"""full-text index of character n-grams: FTS5 on SQLite, a GIN-indexed array on PostgreSQL

The tables only, in this revision's own SQL: the index is filled after the upgrade, by today's
code (0012 clears the search texts; the opened archive refolds and indexes them).

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TABLE speech_grams (speech_id SERIAL PRIMARY KEY, grams TEXT[] NOT NULL)")
        op.execute("CREATE INDEX ix_speech_grams_grams ON speech_grams USING gin (grams)")
    else:
        op.execute("CREATE VIRTUAL TABLE speech_grams USING fts5(grams, content='', prefix='4')")


def downgrade() -> None:
    op.execute("DROP TABLE speech_grams")
