"""PostgreSQL: look grams up through the GIN index only (a function the planner cannot seq-scan through)

A SQL function with a SET clause is never inlined, so the settings hold inside it alone.

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION speech_ids_with(wanted text[]) RETURNS SETOF integer
            LANGUAGE sql STABLE SET enable_seqscan = off SET enable_indexscan = off ROWS 5000
            AS $$ SELECT speech_id FROM speech_grams WHERE grams @> wanted $$""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION speech_ids_with(text[])")
