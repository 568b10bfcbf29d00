"""Reading IAM policy documents the way AWS evaluates them (scalar-or-list, wildcards)."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from ..core import as_list, parse_json

READ_VERBS = ("Get", "List", "Describe", "Head", "Query", "Scan", "Search", "Select", "Lookup", "BatchGet", "View")
"""Action-name prefixes that only read. Anything else (Put, Create, Delete, Decrypt, Pass, ...) is a write path."""

RESOURCE_STAR_ONLY = frozenset(
    {
        "cloudwatch:PutMetricData",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "ecr:GetAuthorizationToken",
        "sts:GetCallerIdentity",
        "kms:CreateKey",
        "sagemaker-mlflow:AccessUI",
        # AWS Cloud Control API: no resource types; the service acts with the caller's own (scoped) rights.
        "cloudformation:CreateResource",
        "cloudformation:UpdateResource",
        "cloudformation:DeleteResource",
        "cloudformation:CancelResourceRequest",
    }
)
"""Write actions AWS authorizes only on Resource "*" (no resource types in the service authorization
reference), so a `*` resource is the only way to grant them."""


def statements(document: Any) -> list[dict]:
    """A policy document's statements (the document may be JSON text); [] when unreadable."""
    document = parse_json(document)
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def is_read(action: str) -> bool:
    """Whether an action (or action pattern) only reads, e.g. `s3:GetObject`, `ec2:Describe*`."""
    _, _, name = action.partition(":")
    return bool(name) and name.startswith(READ_VERBS)


def wildcard_write_actions(statement: Mapping[str, Any]) -> list[str]:
    """Actions of an Allow statement that wildcard over write operations: `*`, `s3:*`, `s3:Put*`,
    `s3:*Object`; and any NotAction, which allows everything not listed."""
    if statement.get("Effect") != "Allow":
        return []
    if statement.get("NotAction") is not None:
        return [f"NotAction {as_list(statement['NotAction'])}"]
    found = []
    for action in map(str, as_list(statement.get("Action"))):
        if "*" not in action and "?" not in action:
            continue
        _, _, name = action.partition(":")
        head = name.split("*", 1)[0].split("?", 1)[0]
        if action == "*" or not head or not head.startswith(READ_VERBS):
            found.append(action)
    return found


def is_wildcard_resource(resource: str) -> bool:
    """`*`, or an ARN whose resource part is `*` (e.g. `arn:aws:s3:::*`)."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[5] == "*"


SCOPING_OPERATORS = ("StringEquals", "StringLike", "ArnEquals", "ArnLike")
"""Condition operators that fail when the key is absent (unlike `...IfExists`), so they really scope."""

SCOPING_KEYS = ("aws:ResourceTag/*", "aws:RequestTag/*", "*:ResourceTag/*", "ec2:Vpc", "ec2:Subnet")
"""Condition keys that name the resources a request may touch: tags (ABAC), or the VPC/subnet of EC2
network interfaces that SageMaker and EKS create in the environment's VPC."""


def condition_scoped(statement: Mapping[str, Any]) -> bool:
    """Whether the statement only applies to resources of the environment, named by a condition instead of
    an ARN: e.g. `StringEquals aws:RequestTag/env = dev` on `kms:CreateKey`, or `ArnEquals ec2:Vpc` on
    `ec2:CreateNetworkInterface`."""
    conditions = statement.get("Condition") or {}
    return any(
        any(fnmatchcase(key, pattern) for pattern in SCOPING_KEYS)
        for operator, block in conditions.items()
        if operator in SCOPING_OPERATORS and isinstance(block, Mapping)
        for key in block
    )


def writes_on_any_resource(statement: Mapping[str, Any]) -> list[str]:
    """Write actions an Allow statement grants on every resource (Resource `*` or NotResource), unless a
    condition scopes the statement to the environment's resources instead of ARNs."""
    if statement.get("Effect") != "Allow" or condition_scoped(statement):
        return []
    any_resource = statement.get("NotResource") is not None or any(
        is_wildcard_resource(str(r)) for r in as_list(statement.get("Resource"))
    )
    if not any_resource:
        return []
    actions = [str(a) for a in as_list(statement.get("Action"))] or ["NotAction"]
    return [a for a in actions if not is_read(a) and a not in RESOURCE_STAR_ONLY]


def principals(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """Principal as {kind: [values]}; `"*"` becomes {"AWS": ["*"]}."""
    principal = statement.get("Principal")
    if principal == "*":
        return {"AWS": ["*"]}
    if not isinstance(principal, Mapping):
        return {}
    return {kind: [str(v) for v in as_list(values)] for kind, values in principal.items()}
