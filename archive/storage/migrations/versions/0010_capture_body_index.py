"""captures by source and body: a page served under a second URL is found and noted as an alias

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_captures_source_body', 'captures', ['source_id', 'body_sha256'])


def downgrade() -> None:
    op.drop_index('ix_captures_source_body', table_name='captures')
