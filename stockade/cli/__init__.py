"""The ``stockade`` command line (Typer + Rich): a thin client of the API plus local commands.

Entry point: ``stockade.cli.main:main``. Nothing else in Stockade imports this package.
"""
