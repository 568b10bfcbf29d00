"""IAM: least privilege on write paths, permission boundaries, pinned OIDC trust, no long-lived keys."""

from __future__ import annotations

import re

from ..core import Level, Resource, Stack, Verdict, as_list, failed, not_applicable, passed, resource_rule, stack_rule
from ._iam import principals, statements, wildcard_write_actions, writes_on_any_resource

ROLE = "aws:iam/role:Role"
IDENTITY_POLICIES = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
"""Identity-based policy documents by resource type and input. Resource policies (bucket, key, topic) are
judged by their own rules: there `Resource: "*"` means the resource itself."""

MANAGED_POLICY = "aws:iam/policy:Policy"
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment")
ALL_ATTACHMENTS = (
    *ATTACHMENTS,
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)


def _refers(source: Resource, prop: str, target: Resource) -> bool:
    """`source.prop` was computed from `target` (or holds its ARN)."""
    if target.urn in source.property_dependencies.get(prop, ()):
        return True
    arn = target.props.get("arn")
    return bool(arn) and arn in as_list(source.props.get(prop))


def is_boundary_only(policy: Resource, stack: Stack) -> bool:
    """A managed policy that roles use as their permission boundary and nothing attaches: a ceiling, which
    grants nothing by itself (MLOPS-IAM-008 judges it instead)."""
    if policy.type != MANAGED_POLICY:
        return False
    roles = stack.of_type(ROLE)
    if not any(_refers(role, "permissionsBoundary", policy) for role in roles):
        return False
    attached = any(_refers(a, "policyArn", policy) for a in stack.of_type(*ALL_ATTACHMENTS))
    return not attached and not any(_refers(role, "managedPolicyArns", policy) for role in roles)


def _identity_statements(resource: Resource) -> list[dict]:
    if resource.type == ROLE:
        return [s for inline in as_list(resource.get("inlinePolicies")) for s in statements(inline.get("policy"))]
    return statements(resource.get(IDENTITY_POLICIES[resource.type]))


def _label(statement: dict, index: int) -> str:
    return statement.get("Sid") or f"statement {index}"


@stack_rule(
    "MLOPS-IAM-001",
    Level.MANDATORY,
    types=[*IDENTITY_POLICIES, ROLE],
    description="Identity policies never allow wildcard actions on write paths (`*`, `s3:*`, `s3:Put*`, NotAction).",
    remediation="List the write actions explicitly (see components.access READ_ACTIONS/WRITE_ACTIONS); "
    "wildcards are acceptable only for read verbs such as `ec2:Describe*`.",
)
def no_wildcard_write_actions(resource: Resource, stack: Stack) -> Verdict:
    """Every Allow names its write actions (permission boundaries are ceilings: see MLOPS-IAM-008)."""
    if is_boundary_only(resource, stack):
        return not_applicable("permission boundary (a ceiling; judged by MLOPS-IAM-008)")
    found = _identity_statements(resource)
    if not found:
        return not_applicable("no identity policy document")
    bad = [f"{_label(s, i)}: {', '.join(a)}" for i, s in enumerate(found) if (a := wildcard_write_actions(s))]
    return failed("wildcard write actions in " + "; ".join(bad)) if bad else passed()


@stack_rule(
    "MLOPS-IAM-002",
    Level.MANDATORY,
    types=[*IDENTITY_POLICIES, ROLE],
    description="Identity policies never allow write actions on every resource (Resource `*` or NotResource) "
    "unless a condition scopes them (tags, or ec2:Vpc/ec2:Subnet for network interfaces).",
    remediation="Scope write actions to the environment's ARNs (buckets, prefixes, key), or with StringEquals/"
    "ArnEquals on aws:RequestTag/aws:ResourceTag or ec2:Vpc; only actions AWS authorizes solely on `*` "
    "(e.g. kms:CreateKey, cloudwatch:PutMetricData) may use it bare.",
)
def no_wildcard_write_resources(resource: Resource, stack: Stack) -> Verdict:
    """Write actions are scoped to ARNs or tags (permission boundaries are ceilings: see MLOPS-IAM-008)."""
    if is_boundary_only(resource, stack):
        return not_applicable("permission boundary (a ceiling; judged by MLOPS-IAM-008)")
    found = _identity_statements(resource)
    if not found:
        return not_applicable("no identity policy document")
    bad = [f"{_label(s, i)}: {', '.join(a)}" for i, s in enumerate(found) if (a := writes_on_any_resource(s))]
    return failed("write actions on Resource * in " + "; ".join(bad)) if bad else passed()


@resource_rule(
    "MLOPS-IAM-003",
    Level.MANDATORY,
    types=[ROLE],
    description="Every role has a permission boundary.",
    remediation="Set permissions_boundary to the platform's boundary policy (components.access.PersonaRoles "
    "creates one), so no later grant can exceed it.",
)
def role_has_permission_boundary(role: Resource) -> Verdict:
    """permissionsBoundary is set."""
    boundary = role.get("permissionsBoundary")
    return passed(f"boundary {boundary}") if boundary else failed("the role has no permission boundary")


WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
_PULL_REQUEST_OF_PINNED_WORKFLOW = re.compile(
    r"repo:[\w.-]+/[\w.-]+:pull_request:job_workflow_ref:[\w.-]+/[\w.-]+/\.github/workflows/[\w.-]+@refs/pull/\*/merge"
)
"""The one wildcard allowed in a subject: the pull request's number, in the pinned workflow ref of a pull-request run
(a customised subject with `job_workflow_ref` carries `@refs/pull/<number>/merge`). Repository, event and workflow
stay exact, so it admits no more than GitHub's default `repo:<org>/<repo>:pull_request`."""


@resource_rule(
    "MLOPS-IAM-004",
    Level.MANDATORY,
    types=[ROLE],
    description="Roles trusting an OIDC provider pin the exact `sub` (and `aud`) with StringEquals "
    "(StringLike only for the pull-request number of a pinned workflow).",
    remediation="Add Condition StringEquals {'<host>:sub': 'repo:<org>/<repo>:environment:<env>', "
    "'<host>:aud': 'sts.amazonaws.com'}; never StringLike with wildcards.",
)
def oidc_trust_pinned(role: Resource) -> Verdict:
    """Each web-identity statement pins sub and aud exactly."""
    federated = [
        s
        for s in statements(role.get("assumeRolePolicy"))
        if s.get("Effect") == "Allow" and WEB_IDENTITY in as_list(s.get("Action"))
    ]
    if not federated:
        return not_applicable("no web-identity trust")
    pinned: list[str] = []
    for index, statement in enumerate(federated):
        equals = (statement.get("Condition") or {}).get("StringEquals") or {}
        like = (statement.get("Condition") or {}).get("StringLike") or {}
        subs = [str(v) for k, vs in equals.items() if k.endswith(":sub") for v in as_list(vs)]
        pull_requests = [str(v) for k, vs in like.items() if k.endswith(":sub") for v in as_list(vs)]
        label = _label(statement, index)
        if bad := [v for v in pull_requests if not _PULL_REQUEST_OF_PINNED_WORKFLOW.fullmatch(v)]:
            return failed(
                f"{label}: StringLike sub {bad} is not the pull-request number of one pinned workflow; "
                "no StringEquals condition on the token's sub"
            )
        subs += pull_requests
        if not subs:
            return failed(f"{label}: no StringEquals condition on the token's sub")
        if any("*" in v or "?" in v for v in subs if v not in pull_requests):
            return failed(f"{label}: sub {subs} has a wildcard")
        if not any(k.endswith(":aud") for k in equals):
            return failed(f"{label}: no StringEquals condition on the token's aud")
        pinned += subs
    return passed(f"sub pinned to {', '.join(pinned)}")


@resource_rule(
    "MLOPS-IAM-005",
    Level.MANDATORY,
    types=["aws:iam/user:User", "aws:iam/accessKey:AccessKey"],
    description="No IAM users or access keys: people use SSO roles, CI uses GitHub OIDC.",
    remediation="Delete the user or key; give the person a persona role through IAM Identity Center, or give "
    "the pipeline an OIDC-trusted role (components.access GitHubTrust).",
)
def no_long_lived_credentials(resource: Resource) -> Verdict:
    """Any IAM user or access key fails."""
    kind = "access key" if resource.type.endswith("AccessKey") else "IAM user"
    return failed(f"{kind} {resource.name} is a long-lived credential")


@resource_rule(
    "MLOPS-IAM-006",
    Level.MANDATORY,
    types=[ROLE, *ATTACHMENTS],
    description="No role gets an administrator or *FullAccess AWS-managed policy.",
    remediation="Replace the managed policy with an inline policy scoped to the environment's resources.",
)
def no_admin_managed_policies(resource: Resource) -> Verdict:
    """No AdministratorAccess, PowerUserAccess, IAMFullAccess or *FullAccess."""
    arns = as_list(resource.get("managedPolicyArns")) if resource.type == ROLE else as_list(resource.get("policyArn"))
    if not arns:
        return not_applicable("no managed policies")
    broad = [a for a in map(str, arns) if a.rsplit("/", 1)[-1] in ADMIN_POLICIES or a.endswith("FullAccess")]
    return failed(f"broad managed policies: {', '.join(broad)}") if broad else passed()


@resource_rule(
    "MLOPS-IAM-007",
    Level.MANDATORY,
    types=[ROLE],
    description="Trust policies never allow any principal (`*`) to assume the role.",
    remediation="Name the principals (role ARNs, service principals, the OIDC provider) in the trust policy.",
)
def trust_not_public(role: Resource) -> Verdict:
    """No Allow with Principal `*` / {AWS: `*`}."""
    trust = statements(role.get("assumeRolePolicy"))
    if not trust:
        return failed("the role has no readable trust policy")
    public = [
        _label(s, i) for i, s in enumerate(trust) if s.get("Effect") == "Allow" and "*" in principals(s).get("AWS", [])
    ]
    return failed(f"any principal may assume the role ({', '.join(public)})") if public else passed()


@stack_rule(
    "MLOPS-IAM-008",
    Level.MANDATORY,
    types=[MANAGED_POLICY],
    description="Permission boundaries name the services they let through (no `*` action, no NotAction) and "
    "carry at least one Deny.",
    remediation="List the services (`s3:*`, `kms:*`, ...) the roles may ever use, and deny the escalation paths "
    "(editing the boundary, removing it, changing the role's own policies).",
)
def boundary_is_a_ceiling(policy: Resource, stack: Stack) -> Verdict:
    """A boundary that allows everything, or denies nothing, caps nothing."""
    if not is_boundary_only(policy, stack):
        return not_applicable("not a permission boundary")
    found = statements(policy.get("policy"))
    everything = [
        _label(s, i)
        for i, s in enumerate(found)
        if s.get("Effect") == "Allow" and ("*" in as_list(s.get("Action")) or s.get("NotAction") is not None)
    ]
    if everything:
        return failed(f"the boundary allows every action ({', '.join(everything)})")
    if not any(s.get("Effect") == "Deny" for s in found):
        return failed("the boundary has no Deny statement (nothing stops a role from editing its own ceiling)")
    return passed()
