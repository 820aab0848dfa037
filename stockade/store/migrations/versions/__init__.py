"""Alembic revisions, one file each; Alembic loads them by path, never by import."""
