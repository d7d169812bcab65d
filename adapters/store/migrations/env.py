"""Alembic environment: runs on the connection handed over by `adapters.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import adapters.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `accessbot db upgrade` (adapters.store.migrate), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite can only ALTER through table copies
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
