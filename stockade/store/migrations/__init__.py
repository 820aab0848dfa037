"""Alembic migration scripts for the store; run through ``stockade.store.db.Database.migrate``."""
