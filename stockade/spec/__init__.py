"""Reading the fleet spec from disk: ``stockade.yaml`` plus the CloudFormation templates it names.

``load_spec`` is the entry point (validated spec, parsed and cfn-linted templates, content hash);
``load_spec_text`` validates spec text alone. Every problem is a ``SpecError`` naming file, line
and field. Called by the CLI, the API and the engine; imports only ``stockade.domain``.
"""

from stockade.spec.loader import (
    ENGINE_PARAMETERS,
    LoadedSpec,
    TemplateInfo,
    load_spec,
    load_spec_text,
)

__all__ = ["ENGINE_PARAMETERS", "LoadedSpec", "TemplateInfo", "load_spec", "load_spec_text"]
