"""A small IAM policy evaluator for the policy-level tests: does a document allow a request?

It reads policies as AWS does for the parts Parley's policies use — Allow/Deny, Action and
Resource wildcards (`*`, `?`), Principal, and the condition operators StringEquals, StringLike,
StringNotEquals, ArnEquals, ArnLike and Bool (values of one key are ORed, keys and operators
ANDed, a key missing from the request fails the condition), and the `ForAllValues:` form of
each for multivalued keys such as `dynamodb:LeadingKeys` (every value of the request must match
one of the policy's; as in AWS, a key the request lacks satisfies it). An explicit Deny wins;
without an Allow the answer is no. Cross-account requests need both the identity policy and the
resource policy to allow (`allowed_cross_account`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str, *, fold: bool = False) -> bool:
    # IAM's wildcards are * and ?; fnmatch's [ ] classes never occur in these policies.
    if fold:
        return fnmatchcase(value.lower(), pattern.lower())
    return fnmatchcase(value, pattern)


_OPERATORS = {
    "StringEquals": lambda p, v: p == v,
    "StringLike": lambda p, v: _like(p, v),
    "ArnEquals": lambda p, v: p == v,
    "ArnLike": lambda p, v: _like(p, v),
    "Bool": lambda p, v: str(p).lower() == str(v).lower(),
}


@dataclass
class Request:
    action: str
    resource: str
    principal: str = ""
    """The caller's ARN (aws:PrincipalArn), matched against a resource policy's Principal."""
    context: dict[str, str | list[str]] = field(default_factory=dict)

    def value(self, key: str) -> str | list[str] | None:
        if key == "aws:PrincipalArn":
            return self.principal or None
        return self.context.get(key)


def _conditions_hold(conditions: dict[str, dict[str, Any]], request: Request) -> bool:
    for qualified, keys in conditions.items():
        every, _, operator = qualified.rpartition(":")
        if every and every != "ForAllValues":
            raise ValueError(f"unsupported condition qualifier {every!r}")
        negated = operator == "StringNotEquals"
        test = _OPERATORS["StringEquals" if negated else operator]
        for key, patterns in keys.items():
            actual = request.value(key)
            if every:
                values = [] if actual is None else _list(actual)
                if not all(any(test(p, v) for p in _list(patterns)) for v in values):
                    return False
                continue
            if actual is None:
                if negated:
                    continue
                return False
            hit = any(test(p, actual) for p in _list(patterns))
            if hit == negated:
                return False
    return True


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal is None:  # an identity policy: the principal is whoever holds it
        return True
    if principal == "*":
        return True
    for kind, values in principal.items():
        for value in _list(values):
            if value == "*":
                return True
            if kind == "AWS" and value.endswith(":root"):
                account = value.split(":")[4]
                if request.principal.split(":")[4:5] == [account]:
                    return True
            elif value == request.principal:
                return True
    return False


def _applies(statement: dict[str, Any], request: Request) -> bool:
    actions = _list(statement.get("Action", []))
    if not any(_like(a, request.action, fold=True) for a in actions):
        return False
    resources = _list(statement.get("Resource", "*"))
    if not any(_like(r, request.resource) for r in resources):
        return False
    if not _principal_matches(statement.get("Principal"), request):
        return False
    return _conditions_hold(statement.get("Condition", {}), request)


def decision(policy: dict[str, Any] | str, request: Request) -> str:
    """'deny' (explicit), 'allow', or 'none' (no statement allows)."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    applicable = [s for s in document["Statement"] if _applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applicable):
        return "deny"
    return "allow" if applicable else "none"


def allowed(policy: dict[str, Any] | str, request: Request) -> bool:
    return decision(policy, request) == "allow"


def allowed_cross_account(
    identity: dict[str, Any] | str, resource: dict[str, Any] | str, request: Request
) -> bool:
    """Another account's principal: its own policy and the resource's policy must both allow."""
    if "deny" in (decision(identity, request), decision(resource, request)):
        return False
    return allowed(identity, request) and allowed(resource, request)
