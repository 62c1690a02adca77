"""SQLite: an index covering what grouping reads of a speech, so it never reads the row

Grouping reads, for every speech sharing a shingle with a new one, its shingle count, group and
marks. In SQLite those columns lie after the text, its paragraphs and its search text, on the
row's overflow pages: each read walked ~20 KB, and as the archive grew so did the speeches sharing
a shingle (600 at 3,000 speeches of the bench site: 12 ms a page). PostgreSQL keeps long texts
out of line (TOAST), so its rows are short: nothing changes there.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE INDEX ix_speeches_grouping ON speeches "
                   "(id, shingle_count, group_id, compilation, truncated, gaps)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX ix_speeches_grouping")
