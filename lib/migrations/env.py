"""Alembic environment: migrations run on the connection ``lib.workbench`` hands over."""

from alembic import context

from lib.workbench import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
