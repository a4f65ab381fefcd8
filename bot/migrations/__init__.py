"""Alembic's environment and the schema versions. A package so that the import contracts
see what ``env.py`` imports (every table: it is the one place that may)."""
