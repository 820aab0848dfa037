"""IAM authorization in the sandbox (``SandboxSettings.iam_authorization``): every request is
checked against the caller's IAM policies, with moto's own evaluator, before it is served.

moto can enforce IAM (``moto.iam.access_control``): it verifies the SigV4 signature with the
secret of the access key's IAM user, or of an STS session (the key is looked up in the
*request's* account), then evaluates the user's or the session's role's policies (inline and
attached; a user's groups too) for ``service:Operation``. ``Resource`` is ``*`` for every call
but ``sts:AssumeRole``, whose resource is the role ARN; ``Condition`` elements of identity
policies are ignored (moto has no request context to test them against); cross-account trust
policies are not checked (moto looks the role up in the caller's account); SCPs never apply.

moto's own switch (``INITIAL_NO_AUTH_ACTION_COUNT``) cannot be used behind the sandbox's realism
layers: they forward rewritten requests to moto (another operation, another body), which no
longer match their signatures and would need permissions the caller never asked for. So the
sandbox checks each request once, as it arrives (``check``), with moto's ``IAMRequest``, and
moto's switch stays off. Replayed requests are not checked again: each was allowed when it was
made, and the journal rebuilds the same state.

To be usable, the sandbox then also needs what AWS has and moto lacks:

- a principal that may do anything in the management account (the account's root user):
  the IAM user ``ADMIN_USER`` with the fixed key ``ADMIN_ACCESS_KEY_ID`` (Stockade's sandbox
  credentials, ``server.control.SANDBOX_CREDENTIALS``), made after each replay (``add_admin``);
- ``AdministratorAccess`` on the role Organizations creates in each new account (moto attaches
  nothing): ``cloud.sandbox.iam.provision_access_role`` attaches it, in every sandbox;
- inline role policies CloudFormation creates kept as JSON text, as the IAM API keeps them
  (moto keeps a template's ``PolicyDocument`` as a dictionary, which its evaluator cannot
  read): ``patch_moto``.

Errors come in the request's protocol: ``AccessDeniedException`` (JSON, Organizations),
``AccessDenied`` (query: CloudFormation, STS, IAM), ``InvalidClientTokenId`` /
``SignatureDoesNotMatch`` for unknown keys and bad signatures.

Who calls it: the sandbox server process (``cloud.sandbox.server`` builds one; the middleware,
``cloud.sandbox.app``, calls ``check``). Importing this module does not import moto.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from typing import Any, Final, cast
from urllib.parse import parse_qs
from wsgiref.types import WSGIEnvironment

from stockade.cloud.sandbox import wire

log = logging.getLogger("stockade.sandbox")

__all__ = [
    "ADMIN_ACCESS_KEY_ID",
    "ADMIN_SECRET_ACCESS_KEY",
    "ADMIN_USER",
    "IamAuthorization",
]

#: the management account's all-powerful principal (the sandbox's stand-in for the root user)
ADMIN_USER: Final = "stockade-sandbox-admin"
ADMIN_ACCESS_KEY_ID: Final = "AKIASANDBOXSTOCKADE0"
ADMIN_SECRET_ACCESS_KEY: Final = "sandbox-secret-not-a-real-key"  # noqa: S105 - not a secret
#: the admin user's inline policy
ADMINISTRATOR_ACCESS: Final = "AdministratorAccess"
_ALLOW_ALL: Final = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
#: moto's error codes -> the JSON protocol's (what Organizations answers)
_JSON_CODES: Final = {
    "AccessDenied": "AccessDeniedException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
}
_MARK: Final = "__stockade_iam_authorization__"


class IamAuthorization:
    """Checks every live request of one sandbox server against IAM (see the module doc)."""

    def patch_moto(self) -> None:
        """Before any request, replayed ones included: CloudFormation's inline role policies
        are kept as JSON text (idempotent)."""
        from moto.iam import models as iam_models

        role = iam_models.Role
        if not getattr(role.put_policy, _MARK, False):
            original_put = role.put_policy

            @functools.wraps(original_put)
            def put_policy(self: Any, policy_name: str, policy_json: Any) -> None:
                if not isinstance(policy_json, str):
                    policy_json = json.dumps(policy_json)
                original_put(self, policy_name, policy_json)

            setattr(put_policy, _MARK, True)
            role.put_policy = put_policy  # type: ignore[method-assign]

    def add_admin(self) -> None:
        """Give the management account its all-powerful user (after the journal's replay)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.iam.models import iam_backends

        backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
        if ADMIN_USER in backend.users:
            return
        user = backend.create_user("us-east-1", ADMIN_USER)
        backend.put_user_policy(ADMIN_USER, ADMINISTRATOR_ACCESS, _ALLOW_ALL)
        key = user.create_access_key(prefix="AKIA")
        key.access_key_id = ADMIN_ACCESS_KEY_ID
        key.secret_access_key = ADMIN_SECRET_ACCESS_KEY
        backend.access_keys[ADMIN_ACCESS_KEY_ID] = key
        log.info("IAM authorization on: %s (%s) may do anything", ADMIN_USER, DEFAULT_ACCOUNT_ID)

    def check(
        self, environ: WSGIEnvironment, body: bytes, operation: str | None
    ) -> wire.Reply | None:
        """None if the request may be served, else the error AWS would answer."""
        from moto.iam.access_control import IAMRequest
        from werkzeug.datastructures import EnvironHeaders
        from werkzeug.exceptions import HTTPException

        headers = EnvironHeaders(environ)
        json_protocol = bool(environ.get("HTTP_X_AMZ_TARGET"))
        if "Authorization" not in headers or operation is None:
            return _error(
                json_protocol,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            )
        form = parse_qs(body.decode("utf-8", "replace")) if not json_protocol else {}
        path = str(environ.get("PATH_INFO", "")) or "/"
        if environ.get("QUERY_STRING"):
            path += f"?{environ['QUERY_STRING']}"
        resource = "*"
        if operation == "AssumeRole" and form.get("RoleArn"):
            resource = form["RoleArn"][0]  # as moto: the only call checked against a resource
        try:
            request = IAMRequest(
                account_id=str(environ["HTTP_X_MOTO_ACCOUNT_ID"]),
                method=str(environ.get("REQUEST_METHOD", "POST")),
                path=path,
                data=cast(Any, form),  # moto's querystring: lists of values
                body=body,
                headers=cast(Any, headers),  # any case-insensitive mapping
                action=operation,
            )
            request.check_signature()
            request.check_action_permitted(resource)
        except HTTPException as exc:
            code = str(getattr(exc, "error_type", "") or "AccessDenied")
            return _error(json_protocol, code, str(getattr(exc, "message", "") or exc))
        return None


def _error(json_protocol: bool, code: str, message: str) -> wire.Reply:
    request_id = str(uuid.uuid4())  # not moto's random: a refusal must not shift replayed ids
    if json_protocol:
        return wire.aws_json_error(400, _JSON_CODES.get(code, code), message, request_id=request_id)
    return wire.aws_query_error(
        403, code, message, namespace="https://sandbox.stockade/doc/", request_id=request_id
    )
