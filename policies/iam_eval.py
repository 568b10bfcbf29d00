"""A small IAM policy evaluator for the access matrix: one request, the caller's identity policies, its permission
boundary, and (for KMS) the key policy, decided the way AWS documents it for a principal in the resource's account.

Covered: Allow/Deny, Action/NotAction and Resource/NotResource with `*`/`?` wildcards (actions case-insensitive),
the String*, Arn*, Bool and Null condition operators with `...IfExists` and the `ForAnyValue:`/`ForAllValues:` set
qualifiers, condition keys case-insensitive. A missing key makes a condition false, except for negated operators
(true), `...IfExists` (true) and `Null` (which tests presence) (IAM User Guide, "Condition operators").

Order of evaluation (IAM User Guide, "Policy evaluation logic", same account): an explicit Deny in any policy
wins; otherwise the identity policies must Allow and, when the role has one, so must the boundary. A KMS key
policy is required on top: it must Allow, either naming the principal or delegating to the account
(`arn:aws:iam::<account>:root`), in which case the IAM policies must allow as well.

Resource control policies (AWS Organizations User Guide, "RCP evaluation"): a deny-only layer of the resource's
account, applied to every caller (outside the organisation too) except service-linked roles; an RCP statement's
Deny refuses the request whatever the identity and resource policies allow (`rcps=` of `evaluate` and
`evaluate_resource_policy`).

A resource policy deciding a request of another account, an AWS service or a federated (web identity) caller
(`evaluate_resource_policy`, IAM User Guide, "Cross-account policy evaluation logic"): the resource policy must
allow the caller (by ARN, by its account, or `*`), an IAM caller's own identity policies (and boundary) must allow
too, and any Deny refuses.

Not covered (and not used by the platform's policies): Numeric/Date/IP/Binary operators, policy variables,
service control policies and session policies, NotPrincipal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

ContextValue = str | bool | Sequence[str]


class Decision(StrEnum):
    """The outcome of a request."""

    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"

    @property
    def allowed(self) -> bool:
        """True only for ALLOW."""
        return self is Decision.ALLOW


@dataclass(frozen=True)
class Request:
    """One API call: who, what, on which resource, with which request context."""

    principal_arn: str
    """The calling role's ARN (what `aws:PrincipalArn` holds for its sessions)."""
    action: str
    """`service:Action`."""
    resource: str
    """The resource ARN the action is authorized against, or `*`."""
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    """Condition keys present in the request (`aws:PrincipalArn` is added from `principal_arn`)."""

    def value(self, key: str) -> ContextValue | None:
        """The context value of `key` (case-insensitive), None when absent."""
        wanted = key.lower()
        if wanted == "aws:principalarn":
            return self.principal_arn
        for name, value in self.context.items():
            if name.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class Principal:
    """A role as the evaluator sees it: its identity policies and its permission boundary."""

    arn: str
    policies: Sequence[Mapping[str, Any]]
    """Identity policy documents (inline and attached)."""
    boundary: Mapping[str, Any] | None = None
    """The permission boundary document, if the role has one."""

    @property
    def account(self) -> str:
        """The role's account ID."""
        return self.arn.split(":")[4]


@dataclass(frozen=True)
class Explanation:
    """A decision and the statements that made it."""

    decision: Decision
    reasons: tuple[str, ...] = ()


def _listed(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _listed(document.get("Statement"))


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE | re.DOTALL) is not None


def _arn_like(pattern: str, arn: str) -> bool:
    """ARN matching: segment by segment for the first five colons, wildcards within each (IAM's ArnLike)."""
    if pattern == "*":
        return True
    p_parts, a_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(p_parts) != 6 or len(a_parts) != 6:
        return _glob(pattern, arn)
    return all(_glob(p, a) for p, a in zip(p_parts, a_parts, strict=True))


def action_matches(patterns: Iterable[str], action: str) -> bool:
    """Whether `action` matches any of the action patterns (case-insensitive, wildcards)."""
    return any(_glob(p, action, case=False) for p in patterns)


def resource_matches(patterns: Iterable[str], resource: str) -> bool:
    """Whether `resource` matches any of the resource patterns."""
    return any(p == "*" or _arn_like(p, resource) for p in patterns)


_STRING = {
    "StringEquals": lambda p, v: p == v,
    "StringNotEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringNotEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": lambda p, v: _glob(p, v),
    "StringNotLike": lambda p, v: _glob(p, v),
    "ArnEquals": lambda p, v: p == v,
    "ArnNotEquals": lambda p, v: p == v,
    "ArnLike": _arn_like,
    "ArnNotLike": _arn_like,
    "Bool": lambda p, v: str(p).lower() == str(v).lower(),
}


def _operator_holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    value = request.value(key)
    if base == "Null":
        return (value is None) == (str(expected).lower() == "true")
    if base not in _STRING:
        raise ValueError(f"condition operator {operator!r} is not supported by this evaluator")
    if value is None:
        if if_exists or qualifier == "ForAllValues":  # ForAllValues over no values holds vacuously
            return True
        if qualifier == "ForAnyValue":
            return False
        return "Not" in base
    negated = "Not" in base
    match = _STRING[base]
    patterns = [str(p).lower() if base == "Bool" else str(p) for p in _listed(expected)]
    values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _listed(value)]
    if qualifier == "ForAllValues":
        hits = [any(match(p, v) for p in patterns) for v in values]
        return all(not h for h in hits) if negated else all(hits)
    if qualifier == "ForAnyValue":
        hits = [any(match(p, v) for p in patterns) for v in values]
        return any(not h for h in hits) if negated else any(hits)
    hit = any(match(p, v) for p in patterns for v in values)
    return not hit if negated else hit


def conditions_hold(condition: Mapping[str, Mapping[str, Any]] | None, request: Request) -> bool:
    """Every operator and every key of a Condition block holds for the request (logical AND)."""
    return all(
        _operator_holds(operator, key, expected, request)
        for operator, keys in (condition or {}).items()
        for key, expected in keys.items()
    )


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """Action, resource and conditions of one statement match the request (principal not considered)."""
    if "NotAction" in statement:
        if action_matches(_listed(statement["NotAction"]), request.action):
            return False
    elif not action_matches(_listed(statement.get("Action")), request.action):
        return False
    if "NotResource" in statement:
        if resource_matches(_listed(statement["NotResource"]), request.resource):
            return False
    elif not resource_matches(_listed(statement.get("Resource", "*")), request.resource):
        return False
    return conditions_hold(statement.get("Condition"), request)


def _principal_matches(statement: Mapping[str, Any], request: Request, account: str) -> tuple[bool, bool]:
    """(matches, via_account_root) for a resource policy statement."""
    principals = statement.get("Principal")
    if principals == "*":
        return True, False
    aws = _listed((principals or {}).get("AWS"))
    if request.principal_arn in aws:
        return True, False
    if f"arn:aws:iam::{account}:root" in aws or account in aws:
        return True, True
    return False, False


def _sid(document_name: str, statement: Mapping[str, Any], index: int) -> str:
    return f"{document_name}:{statement.get('Sid') or index}"


SERVICE_LINKED_ROLE_PATH = ":role/aws-service-role/"
"""Path of every service-linked role: RCPs do not apply to their calls (AWS Organizations User Guide, "Resources
and entities not restricted by RCPs")."""


def rcp_denies(rcps: Sequence[Mapping[str, Any]], request: Request) -> list[str]:
    """The statements of the resource account's RCPs that deny `request` (RCP statements are all `Deny` for
    `Principal: "*"`, so only action, resource and conditions decide). None for a service-linked role's call."""
    if SERVICE_LINKED_ROLE_PATH in request.principal_arn:
        return []
    return [
        _sid(f"rcp{n}", s, i)
        for n, rcp in enumerate(rcps)
        for i, s in enumerate(_statements(rcp))
        if s.get("Effect") == "Deny" and statement_applies(s, request)
    ]


def _identity_denies(principal: Principal, request: Request) -> tuple[list[tuple[str, Mapping[str, Any]]], list[str]]:
    documents = [(f"policy{i}", d) for i, d in enumerate(principal.policies)]
    if principal.boundary is not None:
        documents.append(("boundary", principal.boundary))
    denies = [
        _sid(name, s, i)
        for name, doc in documents
        for i, s in enumerate(_statements(doc))
        if s.get("Effect") == "Deny" and statement_applies(s, request)
    ]
    return documents, denies


def _identity_allows(principal: Principal, documents: list, request: Request) -> tuple[list[str], bool]:
    identity = [
        _sid(name, s, i)
        for name, doc in documents
        if name != "boundary"
        for i, s in enumerate(_statements(doc))
        if s.get("Effect") == "Allow" and statement_applies(s, request)
    ]
    bounded = principal.boundary is None or any(
        s.get("Effect") == "Allow" and statement_applies(s, request) for s in _statements(principal.boundary)
    )
    return identity, bounded


def evaluate(
    principal: Principal,
    request: Request,
    *,
    key_policy: Mapping[str, Any] | None = None,
    rcps: Sequence[Mapping[str, Any]] = (),
) -> Explanation:
    """Decide `request` made by `principal` (same account), with the key policy of a KMS key if it targets one and
    the resource account's RCPs when given."""
    documents, denies = _identity_denies(principal, request)
    denies += rcp_denies(rcps, request)
    key_allows: list[str] = []
    key_needs_iam = True
    if key_policy is not None:
        for i, s in enumerate(_statements(key_policy)):
            matches, via_root = _principal_matches(s, request, principal.account)
            if not matches or not statement_applies(s, request):
                continue
            if s.get("Effect") == "Deny":
                denies.append(_sid("key-policy", s, i))
            else:
                key_allows.append(_sid("key-policy", s, i))
                key_needs_iam = key_needs_iam and via_root
    if denies:
        return Explanation(Decision.EXPLICIT_DENY, tuple(denies))
    identity, bounded = _identity_allows(principal, documents, request)
    if key_policy is not None:
        if not key_allows:
            return Explanation(Decision.IMPLICIT_DENY, ("key policy allows nothing here",))
        if not key_needs_iam:
            return Explanation(Decision.ALLOW, tuple(key_allows))
    if not identity:
        return Explanation(Decision.IMPLICIT_DENY, ("no identity policy allows it",))
    if not bounded:
        return Explanation(Decision.IMPLICIT_DENY, ("outside the permission boundary",))
    return Explanation(Decision.ALLOW, tuple(identity + key_allows))


PRINCIPAL_TYPES = ("AWS", "Service", "Federated")


def _names(statement: Mapping[str, Any], principal_type: str, caller: str) -> bool:
    """The statement's Principal covers the caller: `*`, the caller itself or (AWS) its account."""
    principals = statement.get("Principal")
    if principals == "*":
        return True
    named = _listed((principals or {}).get(principal_type))
    if ("*" in named and principal_type == "AWS") or caller in named:
        return True
    if principal_type != "AWS":
        return False
    account = caller.split(":")[4]
    return f"arn:aws:iam::{account}:root" in named or account in named


def evaluate_resource_policy(
    request: Request,
    resource_policy: Mapping[str, Any],
    *,
    resource_account: str,
    caller: Principal | None = None,
    principal_type: str = "AWS",
    rcps: Sequence[Mapping[str, Any]] = (),
) -> Explanation:
    """Decide a request that the resource's own policy (a bucket, key or trust policy) must allow: made by an IAM
    `caller` of another account (whose identity policies and boundary must allow it too), by an AWS service
    (`principal_type="Service"`, `request.principal_arn` the service principal) or a web-identity session
    (`"Federated"`, the provider's ARN). Same-account IAM callers are `evaluate`'s."""
    if principal_type not in PRINCIPAL_TYPES:
        raise ValueError(f"principal_type {principal_type!r}: expected one of {PRINCIPAL_TYPES}")
    if principal_type == "AWS" and (caller is None or caller.account == resource_account):
        raise ValueError("an IAM caller of another account is needed here; same-account requests are evaluate()'s")
    documents: list = []
    denies: list[str] = []
    if caller is not None:
        documents, denies = _identity_denies(caller, request)
    denies += rcp_denies(rcps, request)
    resource_allows = []
    for i, s in enumerate(_statements(resource_policy)):
        if not _names(s, principal_type, request.principal_arn) or not statement_applies(s, request):
            continue
        if s.get("Effect") == "Deny":
            denies.append(_sid("resource-policy", s, i))
        else:
            resource_allows.append(_sid("resource-policy", s, i))
    if denies:
        return Explanation(Decision.EXPLICIT_DENY, tuple(denies))
    if not resource_allows:
        return Explanation(Decision.IMPLICIT_DENY, ("the resource policy allows nothing here",))
    if caller is not None:
        identity, bounded = _identity_allows(caller, documents, request)
        if not identity:
            return Explanation(Decision.IMPLICIT_DENY, ("no identity policy of the caller allows it",))
        if not bounded:
            return Explanation(Decision.IMPLICIT_DENY, ("outside the caller's permission boundary",))
        return Explanation(Decision.ALLOW, tuple(identity + resource_allows))
    return Explanation(Decision.ALLOW, tuple(resource_allows))


def decide(principal: Principal, request: Request, *, key_policy: Mapping[str, Any] | None = None) -> Decision:
    """Just the decision of `evaluate`."""
    return evaluate(principal, request, key_policy=key_policy).decision
