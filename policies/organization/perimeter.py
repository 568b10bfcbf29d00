"""The organisation's data perimeter: a resource control policy (RCP) that the organisation's administrator attaches
once to the environments' accounts (or their OU), so that no principal outside the organisation reaches their
buckets, keys, queues, secrets, image repositories or roles, whatever a resource policy says.

Why an organisation policy: the CI deployer has to manage the environment's role trust policies, bucket policies and
key policies, and no IAM condition key can inspect the *content* of such a policy. A stolen deployer session (or a
malicious merged change) can therefore re-trust a role to a foreign account or admit one in a bucket or key policy.
An RCP is evaluated on every request to a resource of a member account, before its resource policy can grant
anything, and nobody in the environment accounts can change it.

What AWS documents and this module follows (AWS Organizations User Guide):
- "Resource control policies (RCPs)": RCPs apply to Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager,
  Amazon ECR and Amazon OpenSearch Serverless; they do not restrict resources of the management account, calls made
  by service-linked roles, AWS managed KMS keys or `kms:RetireGrant`;
- "RCP syntax": only `Deny` statements (`Allow` is reserved to `RCPFullAWSAccess`), `Principal` `"*"`, `Action`,
  `Resource`/`NotResource` and `Condition` (no `NotAction`, no `NotPrincipal`);
- "Quotas": an RCP holds at most 5,120 characters.
The statements follow AWS's data perimeter examples (aws-samples/data-perimeter-policy-examples,
`resource_control_policies/identity_perimeter_rcp.json`): `aws:PrincipalOrgID` for IAM principals,
`aws:SourceOrgID` for AWS services acting on a resource's behalf, and the OIDC tenant (`<provider>:sub`) for web
identity federation, which carries no organisation. Unlike the example, no resource tag exempts a resource: the
deployer tags the environment's resources, so a tag exception would be a switch it could flip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from mlops_platform.components.types import AccountId, GitHubRepository
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

RCP_SERVICES = ("s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss")
"""Services whose actions RCPs apply to (AWS Organizations User Guide, "List of AWS services that support RCPs")."""
RCP_MAX_CHARACTERS = 5120
"""Maximum size of an RCP (AWS Organizations User Guide, "Quotas and service limits"); every character counts,
so the policy is attached minified."""
RCP_ELEMENTS = frozenset({"Sid", "Effect", "Principal", "Action", "Resource", "NotResource", "Condition"})
"""Statement elements an RCP may use ("RCP syntax")."""

PERIMETER_SERVICES = ("s3", "sqs", "kms", "secretsmanager", "ecr")
"""Services whose every action is closed to principals outside the organisation: the data lake (S3), its keys,
queues, secrets and model images."""
STS_ACTIONS = (
    "sts:AssumeRole", "sts:DecodeAuthorizationMessage", "sts:GetAccessKeyInfo", "sts:GetFederationToken",
    "sts:GetServiceBearerToken", "sts:GetSessionToken", "sts:SetContext",
)  # fmt: skip
"""STS actions closed to principals outside the organisation. Not `AssumeRoleWithWebIdentity`/`AssumeRoleWithSAML`
(a federated caller has no `aws:PrincipalOrgID`: GitHub's OIDC jobs would be refused), nor `TagSession` and
`SetSourceIdentity`, which accompany those federated calls (AWS's example explains both choices)."""
GITHUB_OIDC = "token.actions.githubusercontent.com"
"""GitHub Actions' OIDC issuer host: `<host>:sub` is the condition key IAM sets from the token's subject."""
ORG_ID_PATTERN = r"^o-[a-z0-9]{10,32}$"
"""An organisation ID (AWS Organizations API reference, `Organization.Id`)."""
PLACEHOLDER_ORG_ID = "o-xxxxxxxxxx"
"""The organisation ID of the checked-in template: attaching it as is would refuse every caller, so the command
line refuses to render it outside `--template`."""
TEMPLATE = Path(__file__).resolve().parent / "data-perimeter-rcp.json"
"""The checked-in rendering for review, with the placeholder organisation and this repository's stack files."""

OrgId = Annotated[str, StringConstraints(pattern=ORG_ID_PATTERN)]


class Perimeter(BaseModel):
    """What the RCP is rendered from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org_id: OrgId
    """The organisation whose principals (and whose accounts' AWS service calls) may reach the resources."""
    github_repositories: tuple[GitHubRepository, ...] = Field(min_length=1)
    """owner/name of every repository whose GitHub Actions jobs assume roles in the accounts (OIDC): a web-identity
    token of any other repository is refused, whatever a role's trust policy says."""


def _statement(sid: str, action: str | list[str], condition: Mapping[str, Any]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*", "Condition": condition}


def resource_control_policy(perimeter: Perimeter) -> dict[str, Any]:
    """The RCP document: four Deny statements."""
    services = [f"{service}:*" for service in PERIMETER_SERVICES]
    subjects = [f"repo:{repository}:*" for repository in sorted(set(perimeter.github_repositories))]
    sub = f"{GITHUB_OIDC}:sub"
    return {
        "Version": "2012-10-17",
        "Statement": [
            # IAM principals (users, roles, root) of any account outside the organisation, and anonymous callers
            # (no aws:PrincipalIsAWSService, no aws:PrincipalOrgID). AWS services are the next statement's.
            _statement("EnforceOrgIdentities", [*services, *STS_ACTIONS], {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": perimeter.org_id},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            }),
            # An AWS service principal (CloudTrail, S3 replication and log delivery, SageMaker, EventBridge, ...)
            # acting for a resource of another organisation: the cross-service confused deputy. Applies only where
            # the service sets aws:SourceAccount; services using KMS grants or passed roles are scoped otherwise.
            _statement("EnforceConfusedDeputyProtection", [*services, "sts:*"], {
                "StringNotEqualsIfExists": {"aws:SourceOrgID": perimeter.org_id},
                "Null": {"aws:SourceAccount": "false"},
                "Bool": {"aws:PrincipalIsAWSService": "true"},
            }),
            # GitHub is multi-tenant: any repository's job gets a token from the same issuer. The `sub` claim
            # starts with `repo:<owner>/<name>:` (default and customised templates that include `repo` first).
            _statement("EnforceTrustedGitHubRepositories", "sts:AssumeRoleWithWebIdentity", {
                "StringNotLikeIfExists": {sub: subjects},
                "Null": {sub: "false"},
            }),
            # Any other OIDC provider a re-trusted role could name (the deployer manages only GitHub's).
            _statement("EnforceTrustedOIDCProviders", "sts:AssumeRoleWithWebIdentity", {"Null": {sub: "true"}}),
        ],
    }  # fmt: skip


def minified(document: Mapping[str, Any]) -> str:
    """The document as AWS counts it: no white space outside strings."""
    return json.dumps(document, separators=(",", ":"))


def _listed(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def problems(document: Mapping[str, Any]) -> list[str]:
    """What AWS Organizations would refuse in `document` as an RCP, or what would make it apply to nothing: empty
    when the document is a valid RCP."""
    found = []
    size = len(minified(document))
    if size > RCP_MAX_CHARACTERS:
        found.append(f"{size} characters minified; an RCP holds at most {RCP_MAX_CHARACTERS}")
    if document.get("Version") != "2012-10-17":
        found.append("Version must be 2012-10-17")
    for index, statement in enumerate(_listed(document.get("Statement"))):
        sid = statement.get("Sid") or f"statement {index}"
        if extra := set(statement) - RCP_ELEMENTS:
            found.append(f"{sid}: element(s) {sorted(extra)} are not RCP syntax (accepted: {sorted(RCP_ELEMENTS)})")
        if statement.get("Effect") != "Deny":
            found.append(f"{sid}: Effect {statement.get('Effect')!r}; an RCP statement may only Deny")
        if statement.get("Principal") != "*":
            found.append(f'{sid}: Principal {statement.get("Principal")!r}; an RCP names principals only as "*"')
        for action in _listed(statement.get("Action")):
            service = str(action).split(":", 1)[0].lower()
            if service not in RCP_SERVICES:
                found.append(f"{sid}: {action} is not an action of a service RCPs apply to ({', '.join(RCP_SERVICES)})")
        if "Resource" not in statement and "NotResource" not in statement:
            found.append(f"{sid}: needs Resource or NotResource")
    return found


def render(perimeter: Perimeter) -> str:
    """The minified RCP, checked against AWS's RCP rules (ValueError naming each problem)."""
    document = resource_control_policy(perimeter)
    if found := problems(document):
        raise ValueError("not a valid RCP: " + "; ".join(found))
    return minified(document)


class StackFacts(BaseModel):
    """What the stack files say about the organisation: the accounts to protect and the repositories that deploy."""

    model_config = ConfigDict(frozen=True)

    accounts: dict[str, AccountId]
    """Account of each environment, by stack name (and the bootstrap's tooling account as `bootstrap`)."""
    github_repositories: tuple[GitHubRepository, ...]
    """Repositories the stacks' CI roles trust (`access.github.repository`)."""
    exchange_accounts: tuple[AccountId, ...]
    """Accounts the stacks share models with or read promoted models from: they must be in the organisation."""


def stack_facts(stacks_dir: Path, bootstrap_stack: Path | None = None) -> StackFacts:
    """Read `Pulumi.<stack>.yaml` of `stacks_dir` (and the bootstrap's stack file, when given)."""
    accounts: dict[str, str] = {}
    repositories: set[str] = set()
    exchange: set[str] = set()
    for path in sorted(stacks_dir.glob("Pulumi.*.yaml")):
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if account := config.get("mlops-platform:account"):
            accounts[stack] = str(account)
        github = (config.get("mlops-platform:access") or {}).get("github") or {}
        if repository := github.get("repository"):
            repositories.add(repository)
        registry = config.get("mlops-platform:registry") or {}
        exchange.update(str(a) for a in registry.get("promote_from_accounts") or ())
        for model in registry.get("models") or ():
            exchange.update(str(a) for a in model.get("share_with_accounts") or ())
    if bootstrap_stack is not None and bootstrap_stack.exists():
        config = (yaml.safe_load(bootstrap_stack.read_text()) or {}).get("config") or {}
        if account := config.get("mlops-bootstrap:account"):
            accounts["bootstrap"] = str(account)
    return StackFacts(accounts=accounts, github_repositories=tuple(sorted(repositories)),
                      exchange_accounts=tuple(sorted(exchange)))  # fmt: skip


def template(facts: StackFacts) -> str:
    """The checked-in template: the placeholder organisation, indented for review."""
    perimeter = Perimeter(org_id=PLACEHOLDER_ORG_ID, github_repositories=facts.github_repositories)
    render(perimeter)  # validates
    return json.dumps(resource_control_policy(perimeter), indent=2) + "\n"


def attach_commands(policy_file: str, accounts: Sequence[str]) -> list[str]:
    """The AWS CLI steps an organisation administrator runs (management account or delegated administrator)."""
    targets = " ".join(sorted(set(accounts)))
    return [
        "aws organizations enable-policy-type --root-id <r-xxxx> --policy-type RESOURCE_CONTROL_POLICY"
        "   # once per organisation; skip if already enabled",
        f"aws organizations create-policy --type RESOURCE_CONTROL_POLICY --name mlops-data-perimeter "
        f"--description 'Deny access by principals outside the organisation' --content file://{policy_file} "
        "--query Policy.PolicySummary.Id --output text   # prints p-...",
        f"for target in {targets}; do aws organizations attach-policy --policy-id <p-...> --target-id $target; done"
        "   # or the environments' OU (ou-...)",
    ]
