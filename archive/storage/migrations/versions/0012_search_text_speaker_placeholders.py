"""search text holds the speaker and spells placeholders alike: refolded after the upgrade

The new form is made by today's code (``archive.storage.db`` refolds an archive whose search texts are
empty), so this migration only clears them, in SQL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE speeches SET search_text = ''")


def downgrade() -> None:
    op.execute("UPDATE speeches SET search_text = ''")
