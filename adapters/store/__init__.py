"""The SQL store: SQLModel tables, the repository, the engine and alembic migrations."""
