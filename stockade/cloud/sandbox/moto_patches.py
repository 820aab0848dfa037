"""Patches to moto's CloudFormation change sets, so the sandbox behaves like AWS where Stockade
depends on it. Written against moto 5.2.5 (``TARGET_MOTO_VERSION``).

What moto 5.2.5 does, and what the patches make it do instead (AWS's behaviour):

- ``CloudFormationBackend.execute_change_set`` applies the change set's resources and template,
  but leaves the stack's ``parameters`` (what moto compares for "no changes") as they were at
  creation, its tags as they were at creation, its ``Outputs`` empty (the output map is built
  from the empty template of a change-set-created stack and never rebuilt) and records no
  ``ChangeSetId``. Patched: after a successful execution the stack's parameters are the ones
  just applied; an ``UPDATE`` change set's tags replace the stack's tags (a change set without
  tags keeps them: the query protocol cannot tell "no tags" from "empty tags", as moto notes
  for ``UpdateStack``); the template's ``Outputs`` are evaluated against the stack's resources,
  as ``CreateStack`` does, but at once, inside the execution (never lazily at the first read,
  which the journal does not replay); and ``DescribeStacks`` shows the change set's
  ``ChangeSetId``. An output moto cannot evaluate is left out, with a warning in the log.
- ``CloudFormationBackend.create_change_set`` marks an ``UPDATE`` change set "didn't contain
  changes" when the template is unchanged and the parameters equal the ones the stack was
  *created* with, never comparing tags. Patched: the change set has changes when the parsed
  template, the effective parameter values (each declared parameter's given value, else its
  default, as text) or the tags (when the change set has any) differ from the stack's
  *current* ones; otherwise it is ``FAILED``/``UNAVAILABLE`` with AWS's status reason.
- ``CloudFormationResponse._validate_different_update`` rejects a ``CreateChangeSet`` whose
  template text and typed parameters are unchanged with ``ValidationError: No updates are to
  be performed.``, blind to tags. AWS answers ``CreateChangeSet`` with a ``FAILED`` change set
  instead, so the check is skipped for that operation (``UpdateStack`` keeps it: AWS does
  reject a no-op ``UpdateStack`` that way).

Still as in moto: executed change sets and the stack's other change sets are kept (AWS deletes
them), a ``FAILED`` or executed change set can be executed (again), tags are not propagated to
the stack's resources on update, and exports of change-set stacks are not registered for
``Fn::ImportValue``/``ListExports``.

Every patch runs inside the request that moto handles (under the server's request lock, with
moto's random reseeded for that request), so a journal replay repeats it exactly. ``verify``
checks that every moto internal the patches touch is there, on the classes and on probe
instances, and ``apply_patches`` raises ``SandboxError`` naming what is missing instead of
patching a moto it does not know. ``MotoPatches`` also applies ``moto_speedups`` (the same
care, for CPU per request rather than behaviour).

Who calls it: the sandbox server process only (``cloud.sandbox.server``: ``MotoPatches.apply``
from its warm-up thread, and ``MotoPatches.before_backend`` from the dispatcher before moto's
CloudFormation serves its first request). Importing this module does not import moto.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from stockade.cloud.sandbox.moto_speedups import apply_speedups
from stockade.domain.errors import SandboxError

log = logging.getLogger("stockade.sandbox")

TARGET_MOTO_VERSION = "5.2.5"
#: the status reason AWS gives a change set that would change nothing
NO_CHANGES_REASON = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)
#: set on every function this module installed, so applying twice patches nothing twice
MARK = "__stockade_patch__"
_PROBE_ACCOUNT = "000000000000"
_PROBE_REGION = "us-east-1"
_DRIFT_HINT = (
    f"install moto {TARGET_MOTO_VERSION} (pip install 'moto[server]=={TARGET_MOTO_VERSION}'), "
    "or update stockade/cloud/sandbox/moto_patches.py for this moto"
)

#: (module, attribute path, its first parameters) for every moto method patched or called
_METHODS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("models", "CloudFormationBackend.create_change_set", None),
    (
        "models",
        "CloudFormationBackend.execute_change_set",
        ("self", "change_set_name", "stack_name"),
    ),
    ("models", "Stack.has_template", ("self", "other_template")),
    ("models", "Stack._parse_template", ("self",)),
    (
        "responses",
        "CloudFormationResponse._validate_different_update",
        ("self", "incoming_params", "stack_body", "old_stack"),
    ),
    ("responses", "CloudFormationResponse._get_action", ("self",)),
    ("parsing", "OutputMap.__init__", ("self", "resources", "template", "stack_id")),
)
#: instance attributes the patches read or write, checked on probe instances
_BACKEND_ATTRIBUTES = ("stacks", "change_sets")
_STACK_ATTRIBUTES = (
    "stack_id",
    "name",
    "template",
    "template_dict",
    "parameters",
    "tags",
    "description",
    "resource_map",
    "output_map",
)
_CHANGE_SET_ATTRIBUTES = (
    "change_set_type",
    "change_set_id",
    "change_set_name",
    "stack",
    "stack_id",
    "template",
    "template_dict",
    "parameters",
    "tags",
    "status",
    "execution_status",
    "status_reason",
)


class MotoPatches:
    """The patches, applied at most once per process, by whichever thread asks first.

    The others wait for it, so moto's CloudFormation never serves a request (live or replayed)
    unpatched. A failure is kept in ``error`` and raised again to every later caller.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._patched: tuple[str, ...] | None = None
        self.error: SandboxError | None = None

    def apply(self) -> tuple[str, ...]:
        """Apply the patches, then ``moto_speedups`` (once); return what was patched.

        Raises ``SandboxError``."""
        with self._lock:
            if self.error is not None:
                raise self.error
            if self._patched is None:
                try:
                    self._patched = apply_patches() + apply_speedups()
                except SandboxError as exc:
                    self.error = exc
                    raise
            return self._patched

    def before_backend(self, service: str) -> None:
        """For the dispatcher, before it builds moto's app for ``service`` (any service): wait
        for the warm-up's import and patching, so no request thread imports moto's modules
        while the warm-up thread does (two threads importing one module graph can see a
        half-initialised module: an intermittent 500 on the first request)."""
        self.apply()


def _moto_modules() -> dict[str, ModuleType]:
    # moto.cloudformation.parsing imports every backend CloudFormation can provision: seconds
    from moto.cloudformation import models, parsing, responses

    return {"models": models, "parsing": parsing, "responses": responses}


def verify(modules: Mapping[str, ModuleType]) -> list[str]:
    """What the patches need and moto lacks (empty when all is there)."""
    problems: list[str] = []
    for module_key, path, parameters in _METHODS:
        owner: Any = modules[module_key]
        for part in path.split("."):
            owner = getattr(owner, part, None)
        if not callable(owner):
            problems.append(f"{module_key}.{path} is missing")
            continue
        if parameters is not None:
            names = tuple(inspect.signature(owner).parameters)
            if names[: len(parameters)] != parameters:
                problems.append(f"{module_key}.{path} takes {names}, expected {parameters}...")
    if problems:
        return problems
    models = modules["models"]
    try:
        backend = models.CloudFormationBackend(_PROBE_REGION, _PROBE_ACCOUNT)
        stack = models.Stack(
            stack_id="probe",
            name="probe",
            template={},
            parameters={},
            account_id=_PROBE_ACCOUNT,
            region_name=_PROBE_REGION,
        )
        change_set = models.ChangeSet(
            change_set_type="UPDATE",
            change_set_id="probe",
            change_set_name="probe",
            stack=stack,
            template='{"Resources": {}}',
            parameters={},
            description="probe",
            tags={},
        )
    except Exception as exc:  # noqa: BLE001 - any failure here means moto changed
        return [f"cannot build probe CloudFormation objects: {type(exc).__name__}: {exc}"]
    for label, obj, attributes in (
        ("CloudFormationBackend", backend, _BACKEND_ATTRIBUTES),
        ("Stack", stack, _STACK_ATTRIBUTES),
        ("ChangeSet", change_set, _CHANGE_SET_ATTRIBUTES),
        ("ResourceMap", stack.resource_map, ("input_parameters",)),
    ):
        problems.extend(f"{label}.{a} is missing" for a in attributes if not hasattr(obj, a))
    return problems


def apply_patches() -> tuple[str, ...]:
    """Check moto's internals, then patch them; return what was patched.

    Raises ``SandboxError`` (and patches nothing) when an internal is missing. Idempotent.
    Prefer ``MotoPatches.apply``, which is safe to call from several threads.
    """
    import moto

    modules = _moto_modules()
    problems = verify(modules)
    if problems:
        raise SandboxError(
            f"moto {moto.__version__}'s CloudFormation is not what the sandbox's patches "
            f"expect: {'; '.join(problems)}",
            hint=_DRIFT_HINT,
        )
    if moto.__version__ != TARGET_MOTO_VERSION:
        log.warning(
            "moto %s: the CloudFormation patches target moto %s; its internals look the same",
            moto.__version__,
            TARGET_MOTO_VERSION,
        )
    models, parsing, responses = modules["models"], modules["parsing"], modules["responses"]
    patches: tuple[tuple[type, str, Callable[[Any], Any]], ...] = (
        (models.CloudFormationBackend, "create_change_set", _decide_changes),
        (
            models.CloudFormationBackend,
            "execute_change_set",
            functools.partial(_record_execution, output_map=parsing.OutputMap),
        ),
        (responses.CloudFormationResponse, "_validate_different_update", _skip_for_change_sets),
    )
    patched: list[str] = []
    for owner, name, make in patches:
        current = getattr(owner, name)
        if not getattr(current, MARK, False):
            replacement = make(current)
            setattr(replacement, MARK, True)
            setattr(owner, name, replacement)
        patched.append(f"{owner.__name__}.{name}")
    return tuple(patched)


# -- CreateChangeSet ---------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A parameter value as CloudFormation's wire shows it (moto keeps Number/List typed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


def effective_parameters(
    declared: Mapping[str, Any], given: Mapping[str, Any]
) -> dict[str, str | None]:
    """Each declared parameter's value: the given one, else the template's default, as text."""
    values: dict[str, str | None] = {}
    for name, slot in declared.items():
        default = slot.get("Default") if isinstance(slot, Mapping) else None
        value = given.get(name, default)
        values[str(name)] = None if value is None else _text(value)
    return values


def has_changes(stack: Any, change_set: Any) -> bool:
    """Whether an UPDATE change set would change the stack as it is *now*."""
    if not stack.has_template(change_set.template):
        return True
    template = change_set.template_dict if isinstance(change_set.template_dict, dict) else {}
    declared = template.get("Parameters") or {}
    if not isinstance(declared, Mapping):
        return True  # let the execution report the broken template
    if effective_parameters(declared, stack.parameters or {}) != effective_parameters(
        declared, change_set.parameters or {}
    ):
        return True
    return bool(change_set.tags) and dict(change_set.tags) != dict(stack.tags or {})


def _decide_changes(original: Callable[..., tuple[str, str]]) -> Callable[..., tuple[str, str]]:
    @functools.wraps(original)
    def create_change_set(self: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
        change_set_id, stack_id = original(self, *args, **kwargs)
        change_set = self.change_sets[change_set_id]
        if change_set.change_set_type == "UPDATE":
            if has_changes(change_set.stack, change_set):
                change_set.status = "CREATE_COMPLETE"
                change_set.execution_status = "AVAILABLE"
                change_set.status_reason = None
            else:
                change_set.status = "FAILED"
                change_set.execution_status = "UNAVAILABLE"
                change_set.status_reason = NO_CHANGES_REASON
        return change_set_id, stack_id

    return create_change_set


def _skip_for_change_sets(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def _validate_different_update(
        self: Any, incoming_params: Any, stack_body: Any, old_stack: Any
    ) -> None:
        if self._get_action() == "CreateChangeSet":
            return  # AWS makes a FAILED change set: create_change_set decides
        original(self, incoming_params, stack_body, old_stack)

    return _validate_different_update


# -- ExecuteChangeSet --------------------------------------------------------------------------


def _find_change_set(backend: Any, name_or_id: str) -> Any:
    """The change set moto's execute_change_set picks: by ARN, else the last of that name."""
    if name_or_id in backend.change_sets:
        return backend.change_sets[name_or_id]
    found = None
    for change_set in backend.change_sets.values():
        if change_set.change_set_name == name_or_id:
            found = change_set
    return found


def _record_execution(original: Callable[..., None], *, output_map: type) -> Callable[..., None]:
    @functools.wraps(original)
    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = _find_change_set(self, change_set_name)
        original(self, change_set_name, stack_name)
        stack = self.stacks.get(change_set.stack_id) if change_set is not None else None
        if stack is not None:
            apply_executed(stack, change_set, output_map)

    return execute_change_set


def apply_executed(stack: Any, change_set: Any, output_map: type) -> None:
    """Bring the stack's own record up to the change set moto has just applied."""
    stack.parameters = dict(stack.resource_map.input_parameters)
    if change_set.change_set_type == "UPDATE" and change_set.tags:
        stack.tags = dict(change_set.tags)
    stack._parse_template()  # moto has set stack.template to the change set's
    stack.description = stack.template_dict.get("Description")
    stack.output_map = evaluated_outputs(stack, output_map)
    stack.change_set_id = change_set.change_set_id


def evaluated_outputs(stack: Any, output_map: type) -> Any:
    """The stack's OutputMap with every output evaluated now; ones that fail are left out."""
    template = stack.template_dict
    outputs = template.get("Outputs")
    outputs = dict(outputs) if isinstance(outputs, Mapping) else {}
    while True:
        built = output_map(stack.resource_map, {**template, "Outputs": outputs}, stack.stack_id)
        failed = None
        for key in outputs:
            try:
                built[key]
            except Exception as exc:  # noqa: BLE001 - moto raises anything from an attribute
                failed = key
                log.warning(
                    "stack %s: output %s cannot be evaluated (%s: %s); it is left out",
                    stack.name,
                    key,
                    type(exc).__name__,
                    exc,
                )
                break
        if failed is None:
            return built
        del outputs[failed]
