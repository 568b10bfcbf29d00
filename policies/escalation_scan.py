"""cloudsplaining over every identity policy and permission boundary a stack registers: privilege-escalation paths
(Rhino Security Labs' methods), resource exposure (permissions management without constraints) and credential
exposure. Every finding left must be listed in `EXPLAINED` with its reason; a new one fails the tests.

Two passes: the standard one over every policy, boundaries included (conditions count as constraints, as
cloudsplaining does by default), and a strict one over the grants only (`flag_conditional_statements`: a condition
does not excuse a finding). Boundaries are not in the strict pass: they grant nothing, a role's rights are the
intersection of its grants and its boundary, and the strict pass already judges every grant.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cloudsplaining.scan.policy_document import PolicyDocument

MANAGED = "aws:iam/policy:Policy"
INLINE = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"


@dataclass(frozen=True)
class Finding:
    """One cloudsplaining finding on one policy."""

    policy: str
    """Logical name of the policy resource (stable across stacks), e.g. `personas-deploy-network`."""
    kind: str
    """`privilege-escalation`, `resource-exposure` or `credentials-exposure`."""
    item: str
    """The escalation method or the action."""
    strict: bool
    """Found only by the strict pass."""


EXPLAINED: Mapping[tuple[str, str, str], str] = {
    (
        "*",
        "credentials-exposure",
        "ecr:GetAuthorizationToken",
    ): "A docker login for the account's registry, authorized on `*` only; what it may pull or push is decided by "
    "the repository policies and the ECR statements (the env's repositories, training/inference pull, the "
    "deployer pushes).",
    (
        "personas-deploy-network",
        "privilege-escalation",
        "ModifyExistingEC2LaunchTemplate",
    ): "Strict pass only: launch-template versions may change only on templates tagged `env=<env>` (EKS node "
    "groups' templates); nodes launched from them get the node role, and the deployer may pass only "
    "`<prefix>-*` roles, all under the service or persona boundary.",
    (
        "*",
        "resource-exposure",
        "ec2:CreateNetworkInterfacePermission",
    ): "Strict pass only: SageMaker attaches jobs and endpoints to the env's VPC through network-interface "
    "permissions; the statement is conditioned on `ec2:Vpc` being the env's VPC.",
    (
        "*",
        "resource-exposure",
        "ec2:DeleteNetworkInterfacePermission",
    ): "Strict pass only: the counterpart of CreateNetworkInterfacePermission, same `ec2:Vpc` condition.",
}
"""(policy logical name or `*`, kind, item) → why the finding is acceptable."""


def _policies(plan: Mapping[str, Any]) -> Iterator[tuple[str, dict, bool]]:
    """(logical name, document, is a permission boundary) of every identity policy."""
    boundaries = {r["inputs"].get("permissionsBoundary") for r in plan["resources"] if r["type"] == ROLE}
    for resource in plan["resources"]:
        if resource["type"] in (MANAGED, INLINE):
            text = resource["inputs"]["policy"]
            physical = resource["inputs"].get("name", "")
            is_boundary = resource["type"] == MANAGED and any(
                isinstance(b, str) and b.endswith(f":policy/{physical}") for b in boundaries
            )
            yield resource["name"], json.loads(text) if isinstance(text, str) else text, is_boundary


def _findings(name: str, document: PolicyDocument, strict: bool) -> Iterator[Finding]:
    for escalation in document.allows_privilege_escalation:
        yield Finding(name, "privilege-escalation", escalation["type"], strict)
    for action in document.permissions_management_without_constraints:
        yield Finding(name, "resource-exposure", action, strict)
    for action in document.credentials_exposure:
        yield Finding(name, "credentials-exposure", action, strict)


def scan(plan: Mapping[str, Any]) -> set[Finding]:
    """Every finding of both passes over the plan's identity policies and boundaries."""
    found: set[Finding] = set()
    for name, policy, is_boundary in _policies(plan):
        found |= set(_findings(name, PolicyDocument(policy), strict=False))
        if not is_boundary:
            strict = set(_findings(name, PolicyDocument(policy, flag_conditional_statements=True), strict=True))
            found |= {f for f in strict if Finding(f.policy, f.kind, f.item, False) not in found}
    return found


def explanation(finding: Finding) -> str | None:
    """Why `finding` is acceptable, or None if nobody explained it."""
    return EXPLAINED.get((finding.policy, finding.kind, finding.item)) or EXPLAINED.get(
        ("*", finding.kind, finding.item)
    )


def unexplained(plan: Mapping[str, Any]) -> list[Finding]:
    """Findings with no entry in `EXPLAINED`, sorted."""
    return sorted((f for f in scan(plan) if explanation(f) is None), key=lambda f: (f.policy, f.kind, f.item))
