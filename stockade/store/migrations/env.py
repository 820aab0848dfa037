"""Alembic's environment: runs the migrations on the connection ``Database.migrate`` hands in.

Who calls it: Alembic, from ``stockade.store.db.Database.migrate`` (the connection arrives in
``config.attributes["connection"]``). For ``alembic revision --autogenerate`` during development,
pass ``-x url=sqlite:///...`` (or set ``sqlalchemy.url``) instead and it connects itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from stockade.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: later migrations use batch mode there
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass -x url=DATABASE_URL (or use Database.migrate())")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
