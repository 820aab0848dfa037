"""Durable workflows (DBOS) and the operations facade the API calls."""
