"""The example fleet spec that ``stockade init`` writes, packaged under ``files/``.

Called by the CLI (``init``), the sandbox launcher (a spec to start from) and the tests.
Imports only ``stockade.domain``.
"""

from stockade.scaffold.writer import example_spec_path, write_scaffold

__all__ = ["example_spec_path", "write_scaffold"]
