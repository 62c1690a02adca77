"""an index in date order, newest first, for date-ordered searches of common words

A search in date order for a word that tens of thousands of speeches hold walks this index and
tests each speech, instead of reading and sorting every match (archive.query.search.walks_dates).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the order searches ask for: speech_date DESC NULLS LAST, which is SQLite's own DESC order
    # (it allows no NULLS clause in an index) and must be spelled out on PostgreSQL
    nulls = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f"CREATE INDEX ix_speeches_date ON speeches (speech_date DESC{nulls}, id DESC)")


def downgrade() -> None:
    op.drop_index('ix_speeches_date', 'speeches')
