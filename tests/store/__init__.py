"""Tests of ``stockade.store``; every test that takes ``db`` runs on SQLite and PostgreSQL."""
