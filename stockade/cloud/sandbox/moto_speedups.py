"""Patches that make moto 5.2.5 cheaper per request in the sandbox server, changing nothing it
answers. Written against moto 5.2.5 (``moto_patches.TARGET_MOTO_VERSION``).

What costs CPU in moto, request after request, and what the patches do instead:

- CloudFormation parses a template with PyYAML's pure-Python loader two or three times per
  CreateChangeSet or ExecuteChangeSet (``ChangeSet._parse_template``, ``Stack.parse_template``
  via ``Stack._parse_template`` and ``has_template``), about half a CloudFormation request's
  CPU. Patched: ``TemplateLoader`` parses with libyaml (``yaml.CLoader``) configured with moto's
  very tables (the constructors, moto's intrinsic-function tags, the resolvers: only the
  scanner and parser differ, and those are YAML's reference implementation), and keeps the
  result by template text (immutable), handing every caller its own copy (moto mutates the
  dictionaries it gets). Anything libyaml will not parse, and any template with a tab (where
  PyYAML's scanner is stricter than libyaml's), goes to moto's own code, uncached, so a broken
  template fails (or falls back to JSON) exactly as before.
- ``BackendDict._create_account_specific_backend`` runs on every backend lookup and tests
  ``account_id in list(self.keys())``: a copy of every account id, per lookup. Patched: a dict
  lookup first; moto's code runs only for an account it has not seen (or an unregistered dict).
- ``AccountSpecificBackend._generate_regions`` asks botocore for a service's regions through an
  ``lru_cache`` keyed by the (unique) per-account object, so every new account asks again.
  Patched: kept by service name (botocore's endpoint data does not change in a process).
- ``BaseResponse.call_action`` lists the response class's methods with ``inspect.getmembers``
  on every request. Patched: ``method_names_from_class`` remembers the answer per class (the
  sandbox's ``moto_patches`` replace methods, never add or remove them, and run first).
- ``get_account_id_from`` (which account an access key belongs to) scans every account's IAM
  backend in every partition, creating the missing ones: O(accounts) per new key, so an
  AssumeRole-per-account rollout is quadratic. Patched: the temporary keys STS makes
  (``IAMBackend.create_temp_access_key``) are indexed as they are made; a key in the index is
  answered if its account still holds it, any other key is moto's scan.
- moto writes every query-protocol response with ``xmltodict.unparse``, which checks every
  element name character by character. Patched: a name found valid once is not checked again.

None of this draws from moto's random or changes what it draws, so journal replay still
rebuilds the same ids. ``verify`` checks every moto internal the patches touch and
``apply_speedups`` raises ``SandboxError`` naming what is missing instead of patching a moto it
does not know. Applying twice patches nothing twice.

Who calls it: ``moto_patches.MotoPatches.apply`` in the sandbox server process only (before
moto serves any request, live or replayed). Importing this module does not import moto.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from stockade.domain.errors import SandboxError

#: set on every function this module installed
MARK = "__stockade_speedup__"
#: distinct template texts kept parsed (a fleet deploys a few templates to many accounts)
TEMPLATE_CACHE_SIZE = 256
#: XML names known to be valid (response shapes have a few hundred member names)
VALID_NAMES_KEPT = 10_000
_DRIFT_HINT = (
    "install moto 5.2.5 (pip install 'moto[server]==5.2.5'), "
    "or update stockade/cloud/sandbox/moto_speedups.py for this moto"
)

#: the class attributes that make a PyYAML loader construct and resolve as it does
_LOADER_TABLES = (
    "yaml_constructors",
    "yaml_multi_constructors",
    "yaml_implicit_resolvers",
    "yaml_path_resolvers",
)
#: (module, attribute path, its first parameters) for every moto function patched or called
_FUNCTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("cloudformation.models", "Stack.parse_template", ("template",)),
    ("cloudformation.models", "ChangeSet._parse_template", ("self",)),
    ("cloudformation.utils", "yaml_tag_constructor", ("loader", "tag", "node")),
    ("core.base_backend", "BackendDict._create_account_specific_backend", ("self", "account_id")),
    ("core.base_backend", "AccountSpecificBackend._generate_regions", ("self", "service_name")),
    ("core.responses", "method_names_from_class", ("clazz",)),
    ("iam.models", "get_account_id_from", ("access_key",)),
    ("iam.models", "IAMBackend.create_temp_access_key", ("self",)),
    ("xmltodict", "_validate_name", ("value", "kind")),
)


def _moto_modules() -> dict[str, ModuleType]:
    from moto.cloudformation import models, utils
    from moto.core import base_backend, responses
    from moto.iam import models as iam_models

    return {
        "xmltodict": importlib.import_module("xmltodict"),  # moto's XML writer (no type stubs)
        "cloudformation.models": models,
        "cloudformation.utils": utils,
        "core.base_backend": base_backend,
        "core.responses": responses,
        "iam.models": iam_models,
    }


def _resolve(modules: Mapping[str, ModuleType], module_key: str, path: str) -> Any:
    owner: Any = modules[module_key]
    for part in path.split("."):
        owner = getattr(owner, part, None)
    return owner


def verify(modules: Mapping[str, ModuleType]) -> list[str]:
    """What the speedups need and moto (or PyYAML) lacks; empty when all is there."""
    import yaml

    problems: list[str] = []
    for module_key, path, parameters in _FUNCTIONS:
        found = _resolve(modules, module_key, path)
        if not callable(found):
            problems.append(f"{module_key}.{path} is missing")
            continue
        names = tuple(inspect.signature(found).parameters)
        if names[: len(parameters)] != parameters:
            problems.append(f"{module_key}.{path} takes {names}, expected {parameters}...")
    regions = _resolve(modules, "core.base_backend", "AccountSpecificBackend._generate_regions")
    if regions is not None and not callable(getattr(regions, "__wrapped__", None)):
        problems.append("core.base_backend.AccountSpecificBackend._generate_regions is not cached")
    base_backend = modules["core.base_backend"]
    if not isinstance(
        getattr(getattr(base_backend, "BackendDict", None), "_instances", None), list
    ):
        problems.append("core.base_backend.BackendDict._instances is missing")
    if not isinstance(getattr(modules["iam.models"], "iam_backends", None), dict):
        problems.append("iam.models.iam_backends is missing")
    if not getattr(yaml, "__with_libyaml__", False):
        problems.append("PyYAML was built without libyaml (yaml.CLoader)")
    elif not issubclass(yaml.Loader, yaml.constructor.Constructor) or not issubclass(
        yaml.CLoader, yaml.constructor.Constructor
    ):
        problems.append("yaml.Loader and yaml.CLoader no longer share yaml.constructor.Constructor")
    return problems


def apply_speedups() -> tuple[str, ...]:
    """Check moto's internals, then patch them; return what was patched.

    Raises ``SandboxError`` (and patches nothing) when an internal is missing. Idempotent.
    """
    import moto

    modules = _moto_modules()
    problems = verify(modules)
    if problems:
        raise SandboxError(
            f"moto {moto.__version__} is not what the sandbox's speedups expect: "
            f"{'; '.join(problems)}",
            hint=_DRIFT_HINT,
        )
    cfn = modules["cloudformation.models"]
    base = modules["core.base_backend"]
    iam = modules["iam.models"]
    loader = TemplateLoader(modules["cloudformation.utils"].yaml_tag_constructor)
    keys = KeyIndex(iam.iam_backends)
    patches: tuple[tuple[Any, str, Callable[[Any], Any], bool], ...] = (
        (cfn.Stack, "parse_template", loader.parse_template, True),
        (cfn.ChangeSet, "_parse_template", loader.parse_change_set, False),
        (
            base.BackendDict,
            "_create_account_specific_backend",
            functools.partial(_known_accounts, instances=base.BackendDict._instances),
            False,
        ),
        (base.AccountSpecificBackend, "_generate_regions", _regions_by_service, False),
        (modules["core.responses"], "method_names_from_class", _names_by_class, False),
        (iam.IAMBackend, "create_temp_access_key", keys.recording, False),
        (iam, "get_account_id_from", keys.account_of, False),
        (modules["xmltodict"], "_validate_name", _valid_names, False),
    )
    patched: list[str] = []
    for owner, name, make, static in patches:
        current = inspect.getattr_static(owner, name)
        current = current.__func__ if isinstance(current, staticmethod) else current
        if not getattr(current, MARK, False):
            replacement = make(current)
            setattr(replacement, MARK, True)
            setattr(owner, name, staticmethod(replacement) if static else replacement)
        patched.append(f"{owner.__name__}.{name}")
    return tuple(patched)


# -- templates ---------------------------------------------------------------------------------


class TemplateLoader:
    """moto's template parsing (YAML, else JSON) through libyaml, kept by template text.

    ``parse(text)`` is the parsed template, a fresh copy for each caller, or ``None`` when
    libyaml cannot parse it (the caller then runs moto's own code). Thread-safe.
    """

    def __init__(self, tag_constructor: Callable[..., Any], size: int = TEMPLATE_CACHE_SIZE):
        import yaml

        self._yaml = yaml
        self._tag_constructor = tag_constructor
        self._c_loader: Any = None
        self._size = size
        self._parsed: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _loader(self) -> Any:
        """libyaml's loader with the very tables of moto's ``yaml.Loader`` (its constructors,
        intrinsic-function tags and resolvers): only the scanner and parser differ."""
        yaml = self._yaml
        yaml.add_multi_constructor("", self._tag_constructor)  # as moto does before each parse
        tables = {name: getattr(yaml.Loader, name) for name in _LOADER_TABLES}
        current = self._c_loader
        if current is None or any(getattr(current, k) is not v for k, v in tables.items()):
            current = self._c_loader = type("MotoTemplateCLoader", (yaml.CLoader,), tables)
        return current

    def parse(self, template: Any) -> Any | None:
        if not isinstance(template, str) or "\t" in template:
            # PyYAML's scanner refuses tabs where libyaml takes them (moto then reads such a
            # template as JSON, with JSON's numbers): moto's own code for those
            return None
        with self._lock:
            kept = self._parsed.get(template)
            if kept is not None:
                self._parsed.move_to_end(template)
                return pickle.loads(kept)  # noqa: S301 - our own bytes
        try:
            parsed = self._yaml.load(template, Loader=self._loader())
        except Exception:  # noqa: BLE001 - moto's own code decides what a bad template does
            return None
        if parsed is None:
            return None  # an empty template: moto's code, whatever it does with one
        try:
            kept = pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - not copyable: the caller gets this one, uncached
            return parsed
        with self._lock:
            self._parsed[template] = kept
            while len(self._parsed) > self._size:
                self._parsed.popitem(last=False)
        return parsed

    def parse_template(self, original: Callable[[str], Any]) -> Callable[[str], Any]:
        """For ``Stack.parse_template`` (a static method)."""

        @functools.wraps(original)
        def parse_template(template: str) -> Any:
            parsed = self.parse(template)
            return original(template) if parsed is None else parsed

        return parse_template

    def parse_change_set(self, original: Callable[[Any], None]) -> Callable[[Any], None]:
        """For ``ChangeSet._parse_template``, which sets ``template_dict``."""

        @functools.wraps(original)
        def _parse_template(change_set: Any) -> None:
            parsed = self.parse(change_set.template)
            if parsed is None:
                original(change_set)
            else:
                change_set.template_dict = parsed

        return _parse_template


# -- backends ----------------------------------------------------------------------------------


def _known_accounts(
    original: Callable[[Any, str], None], *, instances: list[Any]
) -> Callable[[Any, str], None]:
    @functools.wraps(original)
    def _create_account_specific_backend(backend_dict: Any, account_id: str) -> None:
        if dict.__contains__(backend_dict, account_id) and any(
            registered is backend_dict for registered in instances
        ):
            return  # moto's code would find both and do nothing
        original(backend_dict, account_id)

    return _create_account_specific_backend


def _regions_by_service(original: Any) -> Callable[[Any, str], list[str]]:
    uncached: Callable[[Any, str], list[str]] = original.__wrapped__
    regions: dict[str, list[str]] = {}

    @functools.wraps(uncached)
    def _generate_regions(account_backend: Any, service_name: str) -> list[str]:
        if service_name not in regions:
            regions[service_name] = uncached(account_backend, service_name)
        return list(regions[service_name])

    return _generate_regions


def _names_by_class(original: Callable[[object], list[str]]) -> Callable[[object], list[str]]:
    names: dict[object, list[str]] = {}

    @functools.wraps(original)
    def method_names_from_class(clazz: object) -> list[str]:
        if clazz not in names:
            names[clazz] = original(clazz)
        return names[clazz]

    return method_names_from_class


def _valid_names(original: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    valid: set[tuple[str, str]] = set()

    @functools.wraps(original)
    def _validate_name(value: Any, kind: str) -> None:
        if type(value) is str and (value, kind) in valid:
            return
        original(value, kind)  # raises for a bad name
        if type(value) is str and len(valid) < VALID_NAMES_KEPT:
            valid.add((value, kind))

    return _validate_name


class KeyIndex:
    """Which account (and IAM partition) each temporary access key was made in."""

    def __init__(self, iam_backends: dict[str, Any]) -> None:
        self._iam_backends = iam_backends
        self._made_in: dict[str, tuple[str, str]] = {}

    def recording(self, original: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """For ``IAMBackend.create_temp_access_key``."""

        @functools.wraps(original)
        def create_temp_access_key(iam_backend: Any) -> Any:
            key = original(iam_backend)
            self._made_in[key.physical_resource_id] = (
                iam_backend.account_id,
                iam_backend.region_name,
            )
            return key

        return create_temp_access_key

    def account_of(self, original: Callable[[str], str]) -> Callable[[str], str]:
        """For ``get_account_id_from``: the index when it still holds, else moto's scan."""

        @functools.wraps(original)
        def get_account_id_from(access_key: str) -> str:
            made_in = self._made_in.get(access_key)
            if made_in is not None:
                account_id, partition = made_in
                account = dict.get(self._iam_backends, account_id)
                iam_backend = dict.get(account, partition) if account is not None else None
                if access_key in getattr(iam_backend, "access_keys", ()):
                    return account_id
            return original(access_key)

        return get_account_id_from
