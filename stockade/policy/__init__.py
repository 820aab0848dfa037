"""Pure IAM policy evaluation: AWS's authorization decision, a linter, and a batch simulator.

Imports ``stockade.domain`` at most and no I/O library. Modules:

* ``parse`` - JSON documents -> compiled ``model.Policy`` (``PolicyCache`` keeps them by text);
* ``matching``, ``principals``, ``conditions``, ``variables``, ``values`` - the compiled elements;
* ``request`` - principals and requests; ``evaluate`` - the decision with its explanation;
* ``simulate`` - the JSON-lines batch; ``lint`` (+ ``contradictions``, ``services``) - findings;
* ``size`` - SCP/RCP size and attachment limits; ``errors`` - ``PolicyError`` and friends.

Who calls it: ``stockade.cli.policy``, guardrail tests, ``bench/policy.py``.
"""

from stockade.policy.evaluate import PolicySet, evaluate
from stockade.policy.model import Decision, DecisionKind, Effect, Explanation, Policy, PolicyType
from stockade.policy.parse import PolicyCache, parse_policy
from stockade.policy.request import Request, make_request, principal_from_arn

__all__ = [
    "Decision",
    "DecisionKind",
    "Effect",
    "Explanation",
    "Policy",
    "PolicyCache",
    "PolicySet",
    "PolicyType",
    "Request",
    "evaluate",
    "make_request",
    "parse_policy",
    "principal_from_arn",
]
