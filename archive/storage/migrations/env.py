"""Alembic environment: runs on the connection ``archive.storage.db.open_archive`` hands over."""

from alembic import context
from sqlalchemy import create_engine

from archive.storage.models import Base

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:  # noqa: ANN001 - SQLAlchemy connection
    context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:  # `alembic -x` style use from the command line, e.g. to autogenerate a new revision
    with create_engine(config.get_main_option("sqlalchemy.url")).connect() as conn:
        run(conn)
        conn.commit()
