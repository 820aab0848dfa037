"""The composition root: builds settings, sandbox, adapters, store, engine and API, and runs them.

The only package that imports ``stockade.api`` and the concrete ``cloud`` adapters together;
``cli`` imports it lazily for ``stockade up``.
"""
