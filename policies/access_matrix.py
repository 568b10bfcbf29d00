"""The access matrix: who may do what to which resource, escalation attempts included, decided by
`policies.iam_eval` over the policies a stack's plan registers (identity policies, boundaries, the data key's
key policy, role trust policies).

`ROWS` is the matrix; `world(plan)` reads a plan (`infra.tooling.offline.Plan.to_dict()` shape); `decide_row`
answers one row; `markdown()` renders the "who can do what" table of docs/security.md
(`python -m mlops_platform.policies.access_matrix --write` regenerates it; a test keeps it current).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_platform.policies.iam_eval import (
    Decision,
    Principal,
    Request,
    conditions_hold,
    evaluate,
    evaluate_resource_policy,
    rcp_denies,
)
from mlops_platform.policies.k8s_access import Ask, ClusterAccess, cluster_access
from mlops_platform.policies.organization.perimeter import GITHUB_OIDC, Perimeter, resource_control_policy

ROLE = "aws:iam/role:Role"
MANAGED = "aws:iam/policy:Policy"
INLINE = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
KEY = "aws:kms/key:Key"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"

MATRIX_ORG_ID = "o-a1b2c3d4e5"
"""The organisation the matrix attaches the data perimeter (`policies/organization`) for: the environments'
accounts, the tooling account and every account they exchange models with are its members."""
FOREIGN_ACCOUNT, FOREIGN_ORG_ID = "999999999999", "o-f0reign0000"
"""An attacker's account, in an organisation of its own."""


@dataclass
class World:
    """A stack's IAM as the evaluator needs it."""

    account: str
    region: str
    prefix: str
    env: str
    principals: dict[str, Principal]
    """By physical role name."""
    trust: dict[str, dict]
    """Trust policy by physical role name."""
    key_policy: dict
    key_arn: str
    buckets: dict[str, str]
    """Data-lake bucket names by zone."""
    audit_bucket: str = ""
    """The audit trail's bucket."""
    state_bucket: str = ""
    """The Pulumi state bucket (shared by the environments, one prefix each), as the CI deployer's policy names it."""
    connection_arn: str = ""
    """The GitHub connection, as the CI runner's role names it (empty without a runner)."""
    bucket_policies: dict[str, dict] = field(default_factory=dict)
    """Bucket policy by bucket name."""
    repositories: tuple[str, ...] = ()
    """GitHub repositories (owner/name) the stack's roles trust through OIDC."""
    job_security_group: str = ""
    """The security group the stack's pipeline definitions run their jobs in (empty without pipelines)."""
    rcps: tuple[dict, ...] = ()
    """The organisation's resource control policies, as its administrator attaches them to the account (rendered by
    `policies.organization.perimeter` for `MATRIX_ORG_ID` and `repositories`)."""
    kubernetes: ClusterAccess | None = None
    """The training cluster's access entries, access policies and RBAC (`policies.k8s_access`)."""

    def role(self, short: str) -> Principal:
        """A role by its name without the env prefix (e.g. `ci-deployer`)."""
        return self.principals[f"{self.prefix}-{short}"]

    def role_arn(self, short: str) -> str:
        """ARN of `<prefix>-<short>`."""
        return f"arn:aws:iam::{self.account}:role/{self.prefix}-{short}"

    def fill(self, text: str) -> str:
        """Substitute {account}, {region}, {prefix}, {env}, {otherenv} (an environment that is not this one), {key},
        {audit}, {state}, {connection}, {repository} (the first GitHub repository its roles trust), {jobsg} (the
        pipelines' job security group), {bucket:<zone>} and {role:<short>}."""
        lookup = _Lookup(self)
        return re.sub(r"\{([a-z]+(?::[a-z0-9-]+)?)\}", lambda m: lookup[m.group(1)], text)


class _Lookup(dict):
    def __init__(self, w: World) -> None:
        other = "dev" if w.env != "dev" else "prod"
        super().__init__(account=w.account, region=w.region, prefix=w.prefix, env=w.env, key=w.key_arn,
                         otherenv=other, audit=w.audit_bucket, state=w.state_bucket,
                         connection=w.connection_arn, repository=(w.repositories or ("",))[0],
                         jobsg=w.job_security_group)  # fmt: skip
        self.world = w

    def __missing__(self, key: str) -> str:
        kind, _, name = key.partition(":")
        if kind == "bucket":
            return self.world.buckets[name]
        if kind == "role":
            return self.world.role_arn(name)
        if kind == "policy":
            return f"arn:aws:iam::{self.world.account}:policy/{self.world.prefix}-{name}"
        raise KeyError(key)


def _doc(text: Any) -> dict:
    return json.loads(text) if isinstance(text, str) else dict(text)


def world(plan: Mapping[str, Any]) -> World:
    """The stack's roles (inline, attached and boundary policies), trusts and data-key policy from a plan dict."""
    resources = plan["resources"]
    of = lambda t: [r for r in resources if r["type"] == t]  # noqa: E731
    roles = {r["inputs"]["name"]: r for r in of(ROLE)}
    by_logical_id = {f"{r['name']}-id": r["inputs"]["name"] for r in of(ROLE)}
    managed = {}
    for p in of(MANAGED):
        managed[p["inputs"]["name"]] = _doc(p["inputs"]["policy"])
    account = next(iter(roles.values()))["inputs"]["permissionsBoundary"].split(":")[4]
    by_arn = {f"arn:aws:iam::{account}:policy/{name}": doc for name, doc in managed.items()}
    policies: dict[str, list[dict]] = {name: [] for name in roles}
    for inline in of(INLINE):
        policies[by_logical_id.get(inline["inputs"]["role"], inline["inputs"]["role"])].append(
            _doc(inline["inputs"]["policy"])
        )
    for attachment in of(ATTACHMENT):
        # AWS-managed policies are not in the plan: they count as granting nothing here (a Deny stays a Deny).
        if doc := by_arn.get(attachment["inputs"]["policyArn"]):
            policies[attachment["inputs"]["role"]].append(doc)
    principals = {
        name: Principal(
            arn=f"arn:aws:iam::{account}:role/{name}",
            policies=policies[name],
            boundary=by_arn.get(role["inputs"].get("permissionsBoundary")),
        )
        for name, role in roles.items()
    }
    [key] = [k for k in of(KEY) if k["name"] == "data-key-key"]
    outputs = plan["outputs"]
    prefix = next(n for n in roles if n.endswith("-ci-deployer")).removesuffix("-ci-deployer")
    trust = {name: _doc(role["inputs"]["assumeRolePolicy"]) for name, role in roles.items()}
    repositories = _github_repositories(trust)
    bucket_policies = {}
    for bucket_policy in of(BUCKET_POLICY):
        document = _doc(bucket_policy["inputs"]["policy"])
        arn = _listed(document["Statement"][0]["Resource"])[0]
        bucket_policies[arn.removeprefix("arn:aws:s3:::").split("/")[0]] = document
    return World(
        account=account,
        region=outputs["data_key_arn"].split(":")[3],
        prefix=prefix,
        env=outputs["environment"],
        principals=principals,
        trust=trust,
        key_policy=_doc(key["inputs"]["policy"]),
        key_arn=outputs["data_key_arn"],
        buckets=dict(outputs["buckets"]),
        audit_bucket=(outputs.get("audit") or {}).get("bucket") or "",
        state_bucket=_state_bucket(policies[f"{prefix}-ci-deployer"]),
        connection_arn=_connection(policies.get(f"{prefix}-ci-runner", [])),
        bucket_policies=bucket_policies,
        repositories=repositories,
        job_security_group=_job_security_group(of(PIPELINE)),
        rcps=(resource_control_policy(Perimeter(org_id=MATRIX_ORG_ID, github_repositories=repositories)),),
        kubernetes=cluster_access(plan),
    )


def _github_repositories(trust: Mapping[str, dict]) -> tuple[str, ...]:
    """owner/name of every repository a role trusts through GitHub's OIDC provider (`sub` starts `repo:<it>:`)."""
    found = set()
    for document in trust.values():
        for statement in document["Statement"]:
            for values in (statement.get("Condition") or {}).values():
                for subject in _listed(values.get(f"{GITHUB_OIDC}:sub", [])):
                    if subject.startswith("repo:"):
                        found.add(subject.removeprefix("repo:").split(":")[0])
    return tuple(sorted(found))


def _job_security_group(pipelines: list[Mapping[str, Any]]) -> str:
    """The one security group every step of the stack's pipeline definitions names (what their jobs run in)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.update(node.get("SecurityGroupIds", ()))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for pipeline in pipelines:
        walk(_doc(pipeline["inputs"]["pipelineDefinition"]))
    if len(found) > 1:
        raise ValueError(f"the pipelines' jobs run in several security groups: {sorted(found)}")
    return next(iter(found), "")


def _connection(documents: list[dict]) -> str:
    for document in documents:
        for statement in document["Statement"]:
            if statement.get("Sid") == "ReadGitHubConnectionToken":
                return statement["Resource"]
    return ""


def _state_bucket(documents: list[dict]) -> str:
    for document in documents:
        for statement in document["Statement"]:
            if statement.get("Sid") == "PulumiStateList":
                return statement["Resource"].removeprefix("arn:aws:s3:::")
    return ""


@dataclass(frozen=True)
class Row:
    """One question of the matrix."""

    id: str
    principal: str
    """Role name without the env prefix; `sso:<persona>` means the first principal trusted by that persona's role;
    `any:<name>` an unnamed account role `<name>` with the given `grant` as its only policy; `service:<principal>`
    an AWS service principal acting for this account (a trust or bucket policy decides); `foreign:<name>` role
    `<name>` of an attacker's account outside the organisation (`FOREIGN_ACCOUNT`), which allows itself everything;
    `org:<account>:<name>` role `<name>` of another account of the organisation, with `grant` as its only policy
    (that account's own rows prove its side); `github:<subject>` a GitHub Actions job whose OIDC token carries that
    subject (template), through the account's GitHub OIDC provider."""
    action: str
    """An IAM action, or `k8s:<verb>` for a request to the training cluster's Kubernetes API (decided by
    `policies.k8s_access`: access entries, access policies, RBAC)."""
    resource: str
    """Template (see `World.fill`); for a `k8s:` action `<plural>[.<api group>][@<namespace>]`, without a namespace
    a cluster-scoped or all-namespaces request."""
    expected: Decision
    says: str
    """The row in words, for the table."""
    context: Mapping[str, Any] = field(default_factory=dict)
    """Request context; string values are templates too."""
    assume: bool = False
    """The question is "may the principal assume role `resource`?" (trust policy of that role)."""
    kms: bool = False
    """The resource is the data key: its key policy decides too."""
    extra_policy: Mapping[str, Any] | None = None
    """A further identity policy on the principal (e.g. what a rogue deployer would put on a role)."""
    grant: Mapping[str, Any] | None = None
    """Identity policy of an `any:` principal."""
    stacks: tuple[str, ...] = ("dev", "staging", "prod")
    """The environments the row is asked in (a role or a promotion source some lack)."""
    rcp: bool = False
    """Ask with the organisation's data perimeter (`World.rcps`) attached to the account, as the organisation's
    administrator attaches it once (docs/operations.md)."""
    rewritten: Mapping[str, Any] | None = None
    """A statement (templates in its strings) that a rogue deployer first adds to the resource's own policy: the
    role's trust policy (`assume`), the data key's policy (`kms`) or the bucket's policy. IAM lets the deployer write
    it: no condition key sees a policy's content."""

    @property
    def allowed(self) -> bool:
        """The expected answer is Allow."""
        return self.expected is Decision.ALLOW


ALLOW, DENY = Decision.ALLOW, Decision.EXPLICIT_DENY
IMPLICIT = Decision.IMPLICIT_DENY
D, P, A, DS, ML, T, INF, TEAM, R, PL, DR = (
    "ci-deployer", "ci-previewer", "model-approver", "data-scientist", "ml-engineer", "training", "inference",
    "team-vision", "ci-runner", "pipeline-churn", "ci-drift",
)  # fmt: skip
PR_PREVIEW_JOB = ("github:repo:{repository}:pull_request:job_workflow_ref:{repository}/.github/workflows/pr-preview.yml"
                  "@refs/pull/42/merge")  # fmt: skip
"""The OIDC subject of a pull request's job running pr-preview.yml as the pull request edited it."""
PR_DRIFT_JOB = ("github:repo:{repository}:pull_request:job_workflow_ref:{repository}/.github/workflows/drift.yml"
                "@refs/pull/42/merge")  # fmt: skip
"""... of a pull request that edits drift.yml to run on pull requests (a pull request's token says `pull_request`)."""
DRIFT_JOB = ("github:repo:{repository}:ref:refs/heads/main:job_workflow_ref:{repository}/.github/workflows/drift.yml"
             "@refs/heads/main")  # fmt: skip
"""... of the nightly drift job: drift.yml on the default branch."""
BRANCH_DRIFT_JOB = ("github:repo:{repository}:ref:refs/heads/feature:job_workflow_ref:"
                    "{repository}/.github/workflows/drift.yml@refs/heads/feature")  # fmt: skip
"""... of drift.yml run on another branch (a push of a branch that edits it, or a manual run there)."""
CONNECTION = "{connection}"
"""The GitHub connection the CI runner's role names."""
ROLE_ARN = "arn:aws:iam::{account}:role/{prefix}-"
PERSONA_B, SERVICE_B = "{policy:persona-boundary}", "{policy:service-boundary}"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
POD_IDENTITY = {
    "aws:SourceAccount": "{account}", "aws:SourceArn": "arn:aws:eks:{region}:{account}:cluster/{prefix}-training",
    "aws:RequestTag/kubernetes-namespace": "vision", "aws:RequestTag/kubernetes-service-account": "training",
}  # fmt: skip
"""The session tags and source of a Pod Identity request from team vision's `training` service account."""
JOB = {"sagemaker:VolumeKmsKey": "{key}", "sagemaker:OutputKmsKey": "{key}", "sagemaker:VpcSubnets": ["subnet-1"],
       "sagemaker:InterContainerTrafficEncryption": True}  # fmt: skip
"""A SageMaker job request encrypted with the env key, inside the VPC, without security groups yet."""
JOB_SG, OTHER_SG = {"sagemaker:VpcSecurityGroupIds": ["{jobsg}"]}, {"sagemaker:VpcSecurityGroupIds": ["sg-0default"]}
"""The pipelines' job security group; another group of the env's VPC (its default group, open egress)."""
BOTH_SG = {"sagemaker:VpcSecurityGroupIds": ["{jobsg}", "sg-0default"]}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
OUTSIDER = "foreign:exfiltration"
"""A role of the attacker's account, outside the organisation."""
OUTSIDER_ROOT = f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"
RETRUST_TO_OUTSIDER = {"Sid": "RogueTrust", "Effect": "Allow", "Principal": {"AWS": OUTSIDER_ROOT},
                       "Action": "sts:AssumeRole"}  # fmt: skip
"""What a stolen deployer session writes with `iam:UpdateAssumeRolePolicy` into a bounded role's trust."""
ADMIT_OUTSIDER_TO_RAW = {"Sid": "RogueRead", "Effect": "Allow", "Principal": {"AWS": OUTSIDER_ROOT},
                         "Action": ["s3:GetObject", "s3:ListBucket"],
                         "Resource": ["arn:aws:s3:::{bucket:raw}", "arn:aws:s3:::{bucket:raw}/*"]}  # fmt: skip
"""... with `s3:PutBucketPolicy` into the raw bucket's policy."""
ADMIT_OUTSIDER_TO_KEY = {"Sid": "RogueDecrypt", "Effect": "Allow", "Principal": {"AWS": OUTSIDER_ROOT},
                         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}  # fmt: skip
"""... with `kms:PutKeyPolicy` into the data key's policy."""
GITHUB_PROVIDER = "arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
RETRUST_TO_OUTSIDER_REPOSITORY = {
    "Sid": "RogueGitHubTrust", "Effect": "Allow", "Principal": {"Federated": GITHUB_PROVIDER},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                  "StringLike": {"token.actions.githubusercontent.com:sub": "repo:attacker/*"}},
}  # fmt: skip
"""... or a trust in the attacker's own GitHub repository, through the account's GitHub OIDC provider."""
OUTSIDER_JOB = "github:repo:attacker/exfiltration:ref:refs/heads/main"
ADMIT_ANY_TRAIL_TO_RAW = {"Sid": "RogueDelivery", "Effect": "Allow",
                          "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
                          "Resource": "arn:aws:s3:::{bucket:raw}/*"}  # fmt: skip
"""A service statement without aws:SourceArn/SourceAccount: any account's trail could deliver (confused deputy)."""
FOREIGN_TRAIL = {"aws:SourceAccount": FOREIGN_ACCOUNT, "aws:SourceOrgID": FOREIGN_ORG_ID,
                 "aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{FOREIGN_ACCOUNT}:trail/exfiltration"}  # fmt: skip
OWN_TRAIL = {"aws:SourceArn": "arn:aws:cloudtrail:{region}:{account}:trail/{prefix}-audit"}
STAGING_INFERENCE, PROD_INFERENCE = (
    "org:222222222222:mlops-platform-staging-inference", "org:333333333333:mlops-platform-prod-inference",
)  # fmt: skip
"""The promotion targets' inference roles (their own stacks' rows prove their identity side)."""
READS_OBJECTS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
DECRYPTS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}


ROWS: tuple[Row, ...] = (
    # --- the CI deployer: escalation attempts -----------------------------------------------------------------
    Row("deployer-widens-previewer", D, "iam:PutRolePolicy", ROLE_ARN + P, DENY,
        "put an inline policy on the previewer role", {"iam:PermissionsBoundary": "{policy:previewer-boundary}"}),
    Row("deployer-admin-on-previewer", D, "iam:AttachRolePolicy", ROLE_ARN + P, DENY,
        "attach AdministratorAccess to the previewer",
        {"iam:PolicyARN": ADMIN_POLICY, "iam:PermissionsBoundary": "{policy:previewer-boundary}"}),
    Row("deployer-admin-on-persona", D, "iam:AttachRolePolicy", ROLE_ARN + DS, IMPLICIT,
        "attach AdministratorAccess to a persona role",
        {"iam:PolicyARN": ADMIN_POLICY, "iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-admin-on-service-role", D, "iam:AttachRolePolicy", ROLE_ARN + "training-cluster", IMPLICIT,
        "attach AdministratorAccess to a service role",
        {"iam:PolicyARN": ADMIN_POLICY, "iam:PermissionsBoundary": SERVICE_B}),
    Row("deployer-own-policy-on-persona", D, "iam:AttachRolePolicy", ROLE_ARN + DS, DENY,
        "attach its own deploy policy to a persona role",
        {"iam:PolicyARN": "{policy:deploy-network}", "iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-retrusts-previewer", D, "iam:UpdateAssumeRolePolicy", ROLE_ARN + P, DENY,
        "re-trust the previewer", {"iam:PermissionsBoundary": "{policy:previewer-boundary}"}),
    Row("deployer-retrusts-drift-reader", D, "iam:UpdateAssumeRolePolicy", ROLE_ARN + DR, DENY,
        "re-trust the drift reader (which reads the cluster)", {"iam:PermissionsBoundary": "{policy:drift-boundary}"}),
    Row("deployer-widens-drift-reader", D, "iam:PutRolePolicy", ROLE_ARN + DR, DENY,
        "put an inline policy on the drift reader", {"iam:PermissionsBoundary": "{policy:drift-boundary}"}),
    Row("deployer-retrusts-data-scientist", D, "iam:UpdateAssumeRolePolicy", ROLE_ARN + DS, DENY,
        "re-trust a person's role (data scientist)", {"iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-retrusts-approver", D, "iam:UpdateAssumeRolePolicy", ROLE_ARN + A, DENY,
        "re-trust the model approver", {"iam:PermissionsBoundary": "{policy:approver-boundary}"}),
    Row("deployer-deletes-data-scientist", D, "iam:DeleteRole", ROLE_ARN + DS, DENY,
        "delete a person's role (to recreate it with another trust)", {"iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-widens-approver", D, "iam:PutRolePolicy", ROLE_ARN + A, DENY,
        "put an inline policy on the model approver", {"iam:PermissionsBoundary": "{policy:approver-boundary}"}),
    Row("deployer-widens-itself", D, "iam:PutRolePolicy", ROLE_ARN + D, DENY,
        "put an inline policy on itself", {"iam:PermissionsBoundary": "{policy:deployer-boundary}"}),
    Row("deployer-rebounds-previewer", D, "iam:PutRolePermissionsBoundary", ROLE_ARN + P, DENY,
        "swap the previewer's boundary for the persona boundary", {"iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-removes-boundary", D, "iam:DeleteRolePermissionsBoundary", ROLE_ARN + DS, DENY,
        "remove a role's boundary", {"iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-edits-boundary", D, "iam:CreatePolicyVersion", PERSONA_B, DENY,
        "rewrite the persona boundary"),
    Row("deployer-role-without-boundary", D, "iam:CreateRole", ROLE_ARN + "escape", IMPLICIT,
        "create a role without a boundary"),
    Row("deployer-role-foreign-boundary", D, "iam:CreateRole", ROLE_ARN + "escape", IMPLICIT,
        "create a role with a boundary of its choosing",
        {"iam:PermissionsBoundary": "arn:aws:iam::{account}:policy/wide-open"}),
    Row("deployer-role-own-boundary", D, "iam:CreateRole", ROLE_ARN + "escape", IMPLICIT,
        "create a role with its own (deployer) boundary", {"iam:PermissionsBoundary": "{policy:deployer-boundary}"}),
    Row("deployer-role-other-prefix", D, "iam:CreateRole", "arn:aws:iam::{account}:role/another-team-role", IMPLICIT,
        "create a role outside its prefix, even with the persona boundary", {"iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-tags-foreign-key", D, "kms:TagResource", "arn:aws:kms:{region}:{account}:key/foreign-key", DENY,
        "tag a foreign KMS key into the env", {"aws:RequestTag/env": "{env}", "aws:TagKeys": ["env"]}),
    Row("deployer-tags-other-env-key", D, "kms:TagResource", "arn:aws:kms:{region}:{account}:key/other-env-key", DENY,
        "re-tag another environment's KMS key",
        {"aws:RequestTag/env": "{env}", "aws:ResourceTag/env": "other", "aws:TagKeys": ["env"]}),
    Row("deployer-tags-foreign-cluster", D, "eks:TagResource", "arn:aws:eks:{region}:{account}:cluster/other-cluster",
        IMPLICIT, "tag a foreign EKS cluster into the env", {"aws:RequestTag/env": "{env}", "aws:TagKeys": ["env"]}),
    Row("deployer-tags-audit-log-group", D, "logs:TagResource",
        "arn:aws:logs:{region}:{account}:log-group:aws-cloudtrail-logs-org", IMPLICIT,
        "tag the audit trail's log group into the env", {"aws:RequestTag/env": "{env}", "aws:TagKeys": ["env"]}),
    Row("deployer-tags-foreign-model-group", D, "sagemaker:AddTags",
        "arn:aws:sagemaker:{region}:{account}:model-package-group/churn-model", DENY,
        "tag an existing untagged model group into the env", {"aws:RequestTag/env": "{env}", "aws:TagKeys": ["env"]}),
    Row("deployer-creates-user", D, "iam:CreateUser", "arn:aws:iam::{account}:user/{prefix}-backdoor", DENY,
        "create an IAM user"),
    Row("deployer-creates-access-key", D, "iam:CreateAccessKey", "arn:aws:iam::{account}:user/alice", DENY,
        "create an access key"),
    Row("deployer-grants-itself-key", D, "kms:CreateGrant", "{key}", IMPLICIT,
        "grant itself use of the data key (not for an AWS resource)", {"kms:GrantIsForAWSResource": False}, kms=True),
    # --- the CI deployer: what it must still do ---------------------------------------------------------------
    Row("deployer-creates-persona-bounded-role", D, "iam:CreateRole", ROLE_ARN + "new-role", ALLOW,
        "create an env role with the persona boundary", {"iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-creates-service-bounded-role", D, "iam:CreateRole", ROLE_ARN + "new-service-role", ALLOW,
        "create an env role with the service boundary", {"iam:PermissionsBoundary": SERVICE_B}),
    Row("deployer-updates-persona-policy", D, "iam:PutRolePolicy", ROLE_ARN + DS, ALLOW,
        "update a persona's inline policy (capped by the persona boundary)", {"iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-attaches-eks-node-policy", D, "iam:AttachRolePolicy", ROLE_ARN + "training-system-node", ALLOW,
        "attach an approved AWS-managed policy to a service role",
        {"iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "iam:PermissionsBoundary": SERVICE_B}),
    Row("deployer-attaches-env-policy", D, "iam:AttachRolePolicy", ROLE_ARN + "training", ALLOW,
        "attach an env policy to a bounded role",
        {"iam:PolicyARN": "{policy:shared-reader}", "iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-creates-env-key", D, "kms:CreateKey", "*", ALLOW, "create a key tagged for the env",
        {"aws:RequestTag/env": "{env}", "aws:TagKeys": ["env"]}),
    Row("deployer-tags-env-key", D, "kms:TagResource", "{key}", ALLOW, "re-tag the env's own key",
        {"aws:RequestTag/env": "{env}", "aws:ResourceTag/env": "{env}", "aws:TagKeys": ["env"]}, kms=True),
    Row("deployer-rotates-env-key", D, "kms:EnableKeyRotation", "{key}", ALLOW, "administer the env key",
        {"aws:ResourceTag/env": "{env}"}, kms=True),
    # --- a persona widened by the deployer stays inside its boundary ------------------------------------------
    Row("widened-persona-creates-user", DS, "iam:CreateUser", "arn:aws:iam::{account}:user/x", DENY,
        "create a user, even after the deployer put `*` on the role", extra_policy=EVERYTHING),
    Row("widened-persona-writes-lookalike-bucket", DS, "s3:PutObject",
        "arn:aws:s3:::{prefix}-raw-lookalike/x", IMPLICIT,
        "write to a bucket named like the env's in another account, even after the deployer put `*` on the role",
        {"aws:ResourceAccount": "999999999999"}, extra_policy=EVERYTHING),
    Row("widened-persona-reads-foreign-bucket", DS, "s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x", IMPLICIT,
        "read another bucket, even after the deployer put `*` on the role", extra_policy=EVERYTHING),
    # --- the previewer ----------------------------------------------------------------------------------------
    Row("previewer-writes-data", P, "s3:PutObject", "arn:aws:s3:::{bucket:raw}/x", IMPLICIT, "write to the data lake"),
    Row("previewer-reads-data", P, "s3:GetObject", "arn:aws:s3:::{bucket:raw}/x", IMPLICIT, "read data-lake objects"),
    Row("previewer-creates-role", P, "iam:CreateRole", ROLE_ARN + "escape", DENY, "create a role",
        {"iam:PermissionsBoundary": PERSONA_B}),
    Row("previewer-widens-itself", P, "iam:PutRolePolicy", ROLE_ARN + P, DENY, "put a policy on itself"),
    Row("previewer-decrypts-data", P, "kms:Decrypt", "{key}", IMPLICIT, "decrypt with the data key",
        {"kms:ViaService": "s3.{region}.amazonaws.com"}, kms=True),
    Row("previewer-deletes-cluster", P, "eks:DeleteCluster", "arn:aws:eks:{region}:{account}:cluster/{prefix}-training",
        IMPLICIT, "delete the cluster"),
    Row("previewer-reads-roles", P, "iam:GetRole", ROLE_ARN + DS, ALLOW, "read role configuration"),
    Row("previewer-reads-key-policy", P, "kms:GetKeyPolicy", "{key}", ALLOW, "read the key policy", kms=True),
    # --- Kubernetes (the training cluster's API) and who reaches it from CI ---------------------------------------
    # Pull requests choose the code their preview job runs (on the VPC runner too): the previewer has no access entry.
    Row("previewer-reads-secrets-cluster-wide", P, "k8s:list", "secrets", IMPLICIT,
        "list Kubernetes Secrets in every namespace"),
    Row("previewer-reads-release-records", P, "k8s:list", "secrets@kube-system", IMPLICIT,
        "list Secrets (Helm release records) in kube-system"),
    Row("previewer-reads-cluster-objects", P, "k8s:get", "nodepools.karpenter.sh", IMPLICIT,
        "read any Kubernetes object (it has no access entry)"),
    Row("pull-request-job-assumes-drift-reader", PR_PREVIEW_JOB, "sts:AssumeRoleWithWebIdentity", DR, IMPLICIT,
        "a pull request's preview job assumes the drift reader", assume=True),
    Row("pull-request-drift-job-assumes-drift-reader", PR_DRIFT_JOB, "sts:AssumeRoleWithWebIdentity", DR, IMPLICIT,
        "a pull request's own drift.yml assumes the drift reader", assume=True),
    Row("branch-drift-job-assumes-drift-reader", BRANCH_DRIFT_JOB, "sts:AssumeRoleWithWebIdentity", DR, IMPLICIT,
        "drift.yml on another branch assumes the drift reader", assume=True),
    Row("drift-job-assumes-drift-reader", DRIFT_JOB, "sts:AssumeRoleWithWebIdentity", DR, ALLOW,
        "the default branch's drift job assumes the drift reader", assume=True),
    Row("drift-job-assumes-previewer", DRIFT_JOB, "sts:AssumeRoleWithWebIdentity", P, IMPLICIT,
        "the drift job assumes the pull-request previewer", assume=True),
    Row("drift-reads-release-records", DR, "k8s:list", "secrets@kube-system", ALLOW,
        "list Secrets where Helm keeps release records (kube-system: Karpenter, device plugins)"),
    Row("drift-reads-kueue-release-records", DR, "k8s:list", "secrets@kueue-system", ALLOW,
        "list Secrets where Helm keeps release records (kueue-system)"),
    Row("drift-reads-managed-objects", DR, "k8s:get", "nodepools.karpenter.sh", ALLOW,
        "read the objects the stack manages (e.g. a Karpenter NodePool)"),
    Row("drift-reads-team-rbac", DR, "k8s:get", "rolebindings.rbac.authorization.k8s.io@vision", ALLOW,
        "read a team namespace's RBAC"),
    Row("drift-reads-secrets-cluster-wide", DR, "k8s:list", "secrets", IMPLICIT,
        "list Kubernetes Secrets in every namespace"),
    Row("drift-reads-team-secrets", DR, "k8s:get", "secrets@vision", IMPLICIT, "read a team namespace's Secrets"),
    Row("drift-reads-pods", DR, "k8s:list", "pods@vision", IMPLICIT, "list pods (their specs and environment)"),
    Row("drift-reads-configmaps", DR, "k8s:get", "configmaps@kube-system", IMPLICIT, "read ConfigMaps"),
    Row("drift-changes-objects", DR, "k8s:patch", "nodepools.karpenter.sh", IMPLICIT, "change any Kubernetes object"),
    Row("drift-execs-into-pods", DR, "k8s:create", "pods/exec@kube-system", IMPLICIT, "exec into a pod"),
    Row("drift-deletes-namespace", DR, "k8s:delete", "namespaces", IMPLICIT, "delete a namespace"),
    Row("drift-writes-data", DR, "s3:PutObject", "arn:aws:s3:::{bucket:raw}/x", IMPLICIT, "write to the data lake"),
    Row("drift-reads-own-state", DR, "s3:GetObject", "arn:aws:s3:::{state}/{env}/.pulumi/stacks/x.json", ALLOW,
        "read its environment's Pulumi state"),
    Row("drift-reads-other-env-state", DR, "s3:GetObject",
        "arn:aws:s3:::{state}/{otherenv}/.pulumi/stacks/x.json", IMPLICIT, "read another environment's Pulumi state"),
    Row("deployer-reads-secrets", D, "k8s:list", "secrets", ALLOW, "administer the cluster (Secrets included)"),
    Row("engineer-views-team-pods", ML, "k8s:list", "pods@vision", ALLOW, "view a team namespace's pods"),
    Row("engineer-reads-secrets", ML, "k8s:list", "secrets@kube-system", IMPLICIT, "read Kubernetes Secrets"),
    Row("scientist-reads-secrets", DS, "k8s:get", "secrets@vision", IMPLICIT, "read a team namespace's Secrets"),
    # --- people and personas ----------------------------------------------------------------------------------
    Row("scientist-reads-raw", DS, "s3:GetObject", "arn:aws:s3:::{bucket:raw}/customers/2026.parquet", ALLOW,
        "read raw data"),
    Row("scientist-decrypts-through-s3", DS, "kms:Decrypt", "{key}", ALLOW, "decrypt through S3",
        {"kms:ViaService": "s3.{region}.amazonaws.com"}, kms=True),
    Row("scientist-decrypts-directly", DS, "kms:Decrypt", "{key}", IMPLICIT, "decrypt outside S3", kms=True),
    Row("scientist-writes-curated", DS, "s3:PutObject", "arn:aws:s3:::{bucket:curated}/x", IMPLICIT,
        "write curated data"),
    Row("scientist-writes-sandbox", DS, "s3:PutObject", "arn:aws:s3:::{bucket:features}/sandbox/x", ALLOW,
        "write the features sandbox"),
    Row("scientist-approves-model", DS, "sagemaker:UpdateModelPackage",
        "arn:aws:sagemaker:{region}:{account}:model-package/churn-model/3", DENY, "approve a model version",
        {"sagemaker:ModelApprovalStatus": "Approved"}),
    Row("scientist-assumes-ml-engineer", "sso:data-scientist", "sts:AssumeRole", ML, IMPLICIT,
        "assume the ML-engineer role", assume=True),
    Row("scientist-assumes-approver", "sso:data-scientist", "sts:AssumeRole", A, IMPLICIT,
        "assume the model-approver role", assume=True),
    Row("scientist-assumes-own-role", "sso:data-scientist", "sts:AssumeRole", DS, ALLOW,
        "assume the data-scientist role", assume=True),
    Row("engineer-approves-model", ML, "sagemaker:UpdateModelPackage",
        "arn:aws:sagemaker:{region}:{account}:model-package/churn-model/3", DENY, "approve a model version",
        {"sagemaker:ModelApprovalStatus": "Approved"}),
    Row("engineer-registers-approved", ML, "sagemaker:CreateModelPackage",
        "arn:aws:sagemaker:{region}:{account}:model-package/churn-model/4", IMPLICIT,
        "register a version as already approved", {"sagemaker:ModelApprovalStatus": "Approved"}),
    Row("engineer-registers-pending", ML, "sagemaker:CreateModelPackage",
        "arn:aws:sagemaker:{region}:{account}:model-package/churn-model/4", ALLOW,
        "register a version pending approval", {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}),
    Row("engineer-job-outside-vpc", ML, "sagemaker:CreateTrainingJob",
        "arn:aws:sagemaker:{region}:{account}:training-job/x", IMPLICIT,
        "start a training job outside the VPC", {"sagemaker:VolumeKmsKey": "{key}", "sagemaker:OutputKmsKey": "{key}",
                                                 "sagemaker:InterContainerTrafficEncryption": True}),
    Row("engineer-job-unencrypted", ML, "sagemaker:CreateProcessingJob",
        "arn:aws:sagemaker:{region}:{account}:processing-job/x", IMPLICIT,
        "start a processing job without the env key", {"sagemaker:VpcSubnets": ["subnet-1"],
                                                       "sagemaker:InterContainerTrafficEncryption": True, **JOB_SG}),
    Row("engineer-job-in-vpc-with-key", ML, "sagemaker:CreateTrainingJob",
        "arn:aws:sagemaker:{region}:{account}:training-job/x", ALLOW,
        "start an encrypted training job in the VPC, in the pipelines' job security group", {**JOB, **JOB_SG}),
    Row("engineer-processing-job-in-job-sg", ML, "sagemaker:CreateProcessingJob",
        "arn:aws:sagemaker:{region}:{account}:processing-job/x", ALLOW,
        "start an encrypted processing job in the job security group", {**JOB, **JOB_SG}),
    Row("engineer-job-other-sg", ML, "sagemaker:CreateTrainingJob",
        "arn:aws:sagemaker:{region}:{account}:training-job/x", IMPLICIT,
        "start a job in the VPC with another security group (the VPC's default: open egress)", {**JOB, **OTHER_SG}),
    Row("engineer-job-extra-sg", ML, "sagemaker:CreateTrainingJob",
        "arn:aws:sagemaker:{region}:{account}:training-job/x", IMPLICIT,
        "start a job with the job security group plus another", {**JOB, **BOTH_SG}),
    Row("engineer-job-without-sg", ML, "sagemaker:CreateTrainingJob",
        "arn:aws:sagemaker:{region}:{account}:training-job/x", IMPLICIT,
        "start a job naming no security group", JOB),
    Row("engineer-processing-job-other-sg", ML, "sagemaker:CreateProcessingJob",
        "arn:aws:sagemaker:{region}:{account}:processing-job/x", IMPLICIT,
        "start a processing job with another security group", {**JOB, **OTHER_SG}),
    Row("engineer-model-in-job-sg", ML, "sagemaker:CreateModel", "arn:aws:sagemaker:{region}:{account}:model/x", ALLOW,
        "create a model in the job security group", {"sagemaker:VpcSubnets": ["subnet-1"], **JOB_SG}),
    Row("engineer-model-other-sg", ML, "sagemaker:CreateModel", "arn:aws:sagemaker:{region}:{account}:model/x", DENY,
        "create a model in another security group (the training role serves any model on sm-clarify-* endpoints)",
        {"sagemaker:VpcSubnets": ["subnet-1"], **BOTH_SG}),
    Row("engineer-model-outside-vpc", ML, "sagemaker:CreateModel", "arn:aws:sagemaker:{region}:{account}:model/x", DENY,
        "create a model outside the VPC"),
    Row("pipeline-job-in-job-sg", PL, "sagemaker:CreateProcessingJob",
        "arn:aws:sagemaker:{region}:{account}:processing-job/x", ALLOW,
        "run its steps' jobs encrypted in the VPC, in the job security group", {**JOB, **JOB_SG}),
    Row("pipeline-trains-in-job-sg", PL, "sagemaker:CreateTrainingJob",
        "arn:aws:sagemaker:{region}:{account}:training-job/x", ALLOW,
        "train in the job security group", {**JOB, **JOB_SG}),
    Row("pipeline-job-other-sg", PL, "sagemaker:CreateTrainingJob",
        "arn:aws:sagemaker:{region}:{account}:training-job/x", IMPLICIT,
        "start a job with another security group", {**JOB, **OTHER_SG}),
    Row("pipeline-job-extra-sg", PL, "sagemaker:CreateProcessingJob",
        "arn:aws:sagemaker:{region}:{account}:processing-job/x", IMPLICIT,
        "start a job with the job security group plus another", {**JOB, **BOTH_SG}),
    Row("pipeline-job-without-sg", PL, "sagemaker:CreateProcessingJob",
        "arn:aws:sagemaker:{region}:{account}:processing-job/x", IMPLICIT,
        "start a job naming no security group", JOB),
    Row("pipeline-check-model-in-job-sg", PL, "sagemaker:CreateModel", "arn:aws:sagemaker:{region}:{account}:model/x",
        ALLOW, "create the checks' model in the job security group",
        {"sagemaker:VpcSubnets": ["subnet-1"], **JOB_SG}),
    Row("pipeline-check-model-other-sg", PL, "sagemaker:CreateModel", "arn:aws:sagemaker:{region}:{account}:model/x",
        IMPLICIT, "create a model with another security group", {"sagemaker:VpcSubnets": ["subnet-1"], **OTHER_SG}),
    Row("approver-approves-model", A, "sagemaker:UpdateModelPackage",
        "arn:aws:sagemaker:{region}:{account}:model-package/churn-model/3", ALLOW, "approve a model version",
        {"sagemaker:ModelApprovalStatus": "Approved"}),
    Row("approver-writes-models", A, "s3:PutObject", "arn:aws:s3:::{bucket:artifacts}/models/x", IMPLICIT,
        "overwrite model artifacts"),
    Row("approver-trains", A, "sagemaker:CreateTrainingJob", "arn:aws:sagemaker:{region}:{account}:training-job/x",
        IMPLICIT, "start a training job",
        {"sagemaker:VolumeKmsKey": "{key}", "sagemaker:OutputKmsKey": "{key}", "sagemaker:VpcSubnets": ["subnet-1"],
         "sagemaker:InterContainerTrafficEncryption": True}),
    Row("approver-assumes-ml-engineer", "sso:model-approver", "sts:AssumeRole", ML, IMPLICIT,
        "assume the ML-engineer role", assume=True),
    Row("pods-assume-training-role", "service:pods.eks.amazonaws.com", "sts:AssumeRole", T, IMPLICIT,
        "EKS pods assume the training persona (unused trust removed)", assume=True),
    Row("pods-of-another-team-assume-team-role", "service:pods.eks.amazonaws.com", "sts:AssumeRole", TEAM,
        IMPLICIT, "pods of team nlp take team vision's role",
        {**POD_IDENTITY, "aws:RequestTag/kubernetes-namespace": "nlp"}, assume=True),
    Row("team-pods-assume-team-role", "service:pods.eks.amazonaws.com", "sts:AssumeRole", TEAM, ALLOW,
        "its training pods take its role", POD_IDENTITY, assume=True),
    Row("inference-reads-models", INF, "s3:GetObject", "arn:aws:s3:::{bucket:artifacts}/models/churn/model.tar.gz",
        ALLOW, "read model artifacts"),
    Row("inference-reads-raw", INF, "s3:GetObject", "arn:aws:s3:::{bucket:raw}/x", IMPLICIT, "read raw data"),
    Row("team-writes-own-prefix", TEAM, "s3:PutObject", "arn:aws:s3:::{bucket:features}/teams/vision/f.parquet",
        ALLOW, "write its own prefix (team vision)"),
    Row("team-reads-other-team", TEAM, "s3:GetObject", "arn:aws:s3:::{bucket:features}/teams/nlp/f.parquet",
        IMPLICIT, "read another team's prefix (vision reading nlp)"),
    Row("team-writes-raw", TEAM, "s3:PutObject", "arn:aws:s3:::{bucket:raw}/teams/vision/x", IMPLICIT,
        "write raw data"),
    # --- one environment's CI roles against another's state and secrets (issue 10) ---------------------------
    Row("deployer-writes-other-env-state", D, "s3:PutObject", "arn:aws:s3:::{state}/{otherenv}/.pulumi/stacks/x.json",
        IMPLICIT, "write another environment's Pulumi state"),
    Row("deployer-reads-other-env-state", D, "s3:GetObject", "arn:aws:s3:::{state}/{otherenv}/.pulumi/stacks/x.json",
        IMPLICIT, "read another environment's Pulumi state"),
    Row("deployer-writes-own-state", D, "s3:PutObject", "arn:aws:s3:::{state}/{env}/.pulumi/stacks/x.json", ALLOW,
        "write its environment's Pulumi state"),
    Row("deployer-uses-other-env-secrets-key", D, "kms:Decrypt",
        "arn:aws:kms:{region}:444444444444:key/other-environment-secrets", IMPLICIT,
        "decrypt with another environment's secrets key"),
    Row("previewer-reads-other-env-state", P, "s3:GetObject", "arn:aws:s3:::{state}/{otherenv}/.pulumi/stacks/x.json",
        IMPLICIT, "read another environment's Pulumi state"),
    Row("previewer-writes-own-state", P, "s3:PutObject", "arn:aws:s3:::{state}/{env}/.pulumi/stacks/x.json", IMPLICIT,
        "write its environment's Pulumi state"),
    Row("previewer-locks-own-stack", P, "s3:PutObject", "arn:aws:s3:::{state}/{env}/.pulumi/locks/{env}/x.json",
        IMPLICIT, "lock its environment's stack (a preview takes no lock; a stale lock would block deploys)"),
    Row("previewer-reads-own-state", P, "s3:GetObject", "arn:aws:s3:::{state}/{env}/.pulumi/stacks/x.json", ALLOW,
        "read its environment's Pulumi state"),
    Row("previewer-uses-other-env-secrets-key", P, "kms:Decrypt",
        "arn:aws:kms:{region}:444444444444:key/other-environment-secrets", IMPLICIT,
        "decrypt with another environment's secrets key"),
    # --- the audit trail's bucket (issue 12) ------------------------------------------------------------------
    Row("deployer-writes-audit-log", D, "s3:PutObject", "arn:aws:s3:::{audit}/AWSLogs/{account}/CloudTrail/x.json.gz",
        IMPLICIT, "write into the audit bucket"),
    Row("deployer-deletes-audit-log", D, "s3:DeleteObject",
        "arn:aws:s3:::{audit}/AWSLogs/{account}/CloudTrail/x.json.gz", IMPLICIT, "delete audit logs"),
    Row("scientist-writes-audit-log", DS, "s3:PutObject",
        "arn:aws:s3:::{audit}/AWSLogs/{account}/CloudTrail/x.json.gz", IMPLICIT, "write into the audit bucket"),
    Row("engineer-deletes-audit-log", ML, "s3:DeleteObject",
        "arn:aws:s3:::{audit}/AWSLogs/{account}/CloudTrail/x.json.gz", IMPLICIT, "delete audit logs"),
    Row("widened-persona-writes-audit-log", DS, "s3:PutObject",
        "arn:aws:s3:::{audit}/AWSLogs/{account}/CloudTrail/x.json.gz", IMPLICIT,
        "write into the audit bucket, even after the deployer put `*` on the role", extra_policy=EVERYTHING),
    # --- the replication role replicates and does nothing else (issue 12; prod replicates) ---------------------
    Row("replication-reads-source-versions", "replication", "s3:GetObjectVersionForReplication",
        "arn:aws:s3:::{bucket:artifacts}/models/x", ALLOW, "read source versions for replication",
        stacks=("prod",)),
    Row("replication-reads-objects", "replication", "s3:GetObject", "arn:aws:s3:::{bucket:raw}/x", IMPLICIT,
        "read data-lake objects as a client", stacks=("prod",)),
    Row("replication-writes-source", "replication", "s3:PutObject", "arn:aws:s3:::{bucket:raw}/x", IMPLICIT,
        "write into a source bucket", stacks=("prod",)),
    Row("replication-deletes-source", "replication", "s3:DeleteObject", "arn:aws:s3:::{bucket:raw}/x", IMPLICIT,
        "delete from a source bucket", stacks=("prod",)),
    Row("replication-creates-role", "replication", "iam:CreateRole", ROLE_ARN + "escape", DENY, "create a role",
        stacks=("prod",)),
    Row("replication-writes-lookalike-bucket", "replication", "s3:ReplicateObject",
        "arn:aws:s3:::{prefix}-raw-lookalike/x", IMPLICIT,
        "replicate into a bucket named like the env's in another account, even after the deployer put `*` on the role "
        "and a replication rule on a bucket", {"aws:ResourceAccount": FOREIGN_ACCOUNT}, extra_policy=EVERYTHING,
        stacks=("prod",)),
    Row("replication-replicates-into-env-bucket", "replication", "s3:ReplicateObject",
        "arn:aws:s3:::{prefix}-dr-raw-0000/x", ALLOW, "replicate into the env's replica bucket", stacks=("prod",)),
    # --- promoted models (issue 10): read only in the promotion source's account --------------------------------
    Row("inference-reads-staging-promoted-model", INF, "s3:GetObject",
        "arn:aws:s3:::mlops-platform-dev-artifacts-0000/models/churn/model.tar.gz", ALLOW,
        "read a promoted model in its promotion source's account", {"s3:ResourceAccount": "111111111111"},
        stacks=("staging",)),
    Row("inference-reads-prod-promoted-model", INF, "s3:GetObject",
        "arn:aws:s3:::mlops-platform-staging-artifacts-0000/models/churn/model.tar.gz", ALLOW,
        "read a promoted model in its promotion source's account", {"s3:ResourceAccount": "222222222222"},
        stacks=("prod",)),
    Row("inference-reads-other-account-model", INF, "s3:GetObject",
        "arn:aws:s3:::mlops-platform-x-artifacts-0000/models/churn/model.tar.gz", IMPLICIT,
        "read models in an account that is not its promotion source", {"s3:ResourceAccount": "999999999999"}),
    # --- the CI runner's CodeBuild service role: every job on the VPC runner holds it, a pull request's too -------
    Row("runner-writes-own-logs", R, "logs:PutLogEvents",
        "arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/{prefix}-ci-runner:log-stream:x", ALLOW,
        "write its own build logs"),
    Row("runner-reads-connection-token", R, "codeconnections:GetConnectionToken", CONNECTION, ALLOW,
        "read the GitHub connection's token (CodeBuild needs it to register the runner; residual risk, see "
        "security-model.md)"),
    Row("runner-uses-connection", R, "codeconnections:UseConnection", CONNECTION, IMPLICIT,
        "call GitHub through the connection"),
    Row("runner-assumes-deployer", R, "sts:AssumeRole", "{role:ci-deployer}", IMPLICIT, "assume the CI deployer"),
    Row("runner-assumes-previewer", R, "sts:AssumeRole", "{role:ci-previewer}", IMPLICIT, "assume the CI previewer"),
    Row("runner-passes-role", R, "iam:PassRole", "{role:ci-deployer}", IMPLICIT, "pass a role to a service"),
    Row("runner-creates-role", R, "iam:CreateRole", ROLE_ARN + "escape", DENY, "create a role"),
    Row("runner-reads-state", R, "s3:GetObject", "arn:aws:s3:::{state}/{env}/.pulumi/stacks/x.json", IMPLICIT,
        "read the environment's Pulumi state"),
    Row("runner-reads-data", R, "s3:GetObject", "arn:aws:s3:::{bucket:raw}/x", IMPLICIT, "read data-lake objects"),
    Row("runner-decrypts-data-key", R, "kms:Decrypt", "{key}", IMPLICIT, "decrypt with the data key outside S3",
        kms=True),
    Row("runner-reads-cluster", R, "eks:DescribeCluster", "arn:aws:eks:{region}:{account}:cluster/{prefix}-training",
        IMPLICIT, "describe the training cluster"),
    Row("runner-changes-own-project", R, "codebuild:UpdateProject",
        "arn:aws:codebuild:{region}:{account}:project/{prefix}-ci-runner", IMPLICIT,
        "change its own project (image, role, buildspec)"),
    Row("runner-changes-webhook", R, "codebuild:UpdateWebhook",
        "arn:aws:codebuild:{region}:{account}:project/{prefix}-ci-runner", IMPLICIT, "change its webhook filter"),
    Row("runner-opens-ingress", R, "ec2:AuthorizeSecurityGroupIngress",
        "arn:aws:ec2:{region}:{account}:security-group/sg-0cluster", IMPLICIT, "open a security group"),
    Row("runner-interface-in-other-subnet", R, "ec2:CreateNetworkInterface",
        "arn:aws:ec2:{region}:{account}:subnet/subnet-0foreign", IMPLICIT,
        "create a network interface outside its own subnets"),
    Row("runner-deletes-foreign-interface", R, "ec2:DeleteNetworkInterface",
        "arn:aws:ec2:{region}:{account}:network-interface/eni-0foreign", IMPLICIT,
        "delete a network interface outside its own subnets",
        {"ec2:Subnet": "arn:aws:ec2:{region}:{account}:subnet/subnet-0foreign"}),
    Row("runner-deletes-logs", R, "logs:DeleteLogGroup",
        "arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/{prefix}-ci-runner", IMPLICIT,
        "delete its log group"),
    # --- promotion is an administrator's act: the approver approves, it never authors a version or its files -----
    Row("approver-promotes-approved-version", A, "sagemaker:CreateModelPackage",
        "arn:aws:sagemaker:{region}:{account}:model-package/churn-model/15", IMPLICIT,
        "register a promoted version as Approved", {"sagemaker:ModelApprovalStatus": "Approved"},
        stacks=("staging", "prod")),
    Row("approver-registers-in-dev", A, "sagemaker:CreateModelPackage",
        "arn:aws:sagemaker:{region}:{account}:model-package/churn-model/15", IMPLICIT,
        "register a version where nothing is promoted to (dev)", {"sagemaker:ModelApprovalStatus": "Approved"},
        stacks=("dev",)),
    Row("approver-registers-candidate", A, "sagemaker:CreateModelPackage",
        "arn:aws:sagemaker:{region}:{account}:model-package/churn-model/15", IMPLICIT,
        "register a candidate version pending approval",
        {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}),
    Row("approver-reads-staging-source-version", A, "sagemaker:DescribeModelPackage",
        "arn:aws:sagemaker:{region}:111111111111:model-package/churn-model/15", IMPLICIT,
        "read the version to promote in its promotion source's account", stacks=("staging",)),
    Row("approver-reads-staging-source-baselines", A, "s3:GetObject",
        "arn:aws:s3:::mlops-platform-dev-artifacts-0000/pipelines/train-evaluate-register-churn/e-7/checks/"
        "data-quality/constraints.json", IMPLICIT, "read the version's baselines in its promotion source's account",
        {"s3:ResourceAccount": "111111111111"}, stacks=("staging",)),
    Row("approver-reads-prod-source-baselines", A, "s3:GetObject",
        "arn:aws:s3:::mlops-platform-staging-artifacts-0000/models/baselines/"
        "arn:aws:sagemaker:us-east-1:222222222222:model-package/churn-model/20/data-quality/statistics.json", IMPLICIT,
        "read the files published for the version in its promotion source", {"s3:ResourceAccount": "222222222222"},
        stacks=("prod",)),
    Row("approver-decrypts-source-baselines", A, "kms:Decrypt", "arn:aws:kms:{region}:111111111111:key/dev-data-key",
        IMPLICIT, "decrypt them through S3 with the source's key", {"kms:ViaService": "s3.{region}.amazonaws.com"},
        stacks=("staging",)),
    Row("approver-reads-source-model", A, "s3:GetObject",
        "arn:aws:s3:::mlops-platform-dev-artifacts-0000/models/churn/model.tar.gz", IMPLICIT,
        "read a model artifact in the promotion source", {"s3:ResourceAccount": "111111111111"},
        stacks=("staging",)),
    Row("approver-reads-source-predictions", A, "s3:GetObject",
        "arn:aws:s3:::mlops-platform-dev-artifacts-0000/pipelines/train-evaluate-register-churn/e-7/predictions/"
        "test.csv", IMPLICIT, "read pipeline outputs that are not baselines in the promotion source",
        {"s3:ResourceAccount": "111111111111"}, stacks=("staging",)),
    Row("approver-reads-other-account-baselines", A, "s3:GetObject",
        "arn:aws:s3:::mlops-platform-x-artifacts-0000/models/baselines/x/data-quality/statistics.json", IMPLICIT,
        "read baselines in an account that is not its promotion source", {"s3:ResourceAccount": "999999999999"}),
    Row("approver-writes-baseline-copies", A, "s3:PutObject",
        "arn:aws:s3:::{bucket:artifacts}/models/baselines/"
        "arn:aws:sagemaker:{region}:{account}:model-package/churn-model/15/data-quality/statistics.json", IMPLICIT,
        "write the baseline copies of a promoted version", stacks=("staging", "prod")),
    Row("approver-writes-baselines-in-dev", A, "s3:PutObject",
        "arn:aws:s3:::{bucket:artifacts}/models/baselines/x/data-quality/statistics.json", IMPLICIT,
        "write baselines where nothing is promoted to (dev)", stacks=("dev",)),
    Row("engineer-reads-source-baselines", ML, "s3:GetObject",
        "arn:aws:s3:::mlops-platform-dev-artifacts-0000/pipelines/train-evaluate-register-churn/e-7/checks/"
        "data-quality/constraints.json", IMPLICIT, "read the promotion source's baselines (an administrator promotes)",
        {"s3:ResourceAccount": "111111111111"}, stacks=("staging",)),
    # --- the data key against broad IAM rights ----------------------------------------------------------------
    Row("iam-kms-admin-takes-key", "any:kms-power-user", "kms:PutKeyPolicy", "{key}", IMPLICIT,
        "an account role with `kms:*` in IAM rewrites the key policy", kms=True,
        grant={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),
    Row("iam-kms-admin-decrypts", "any:kms-power-user", "kms:Decrypt", "{key}", IMPLICIT,
        "an account role with `kms:*` in IAM decrypts through S3", {"kms:ViaService": "s3.{region}.amazonaws.com"},
        kms=True,
        grant={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),
    # --- the data perimeter (docs/security-model.md#data-perimeter) ---------------------------------------------
    # The premise: the deployer must manage trust, bucket and key policies, and IAM cannot see what it writes.
    Row("deployer-retrusts-service-role", D, "iam:UpdateAssumeRolePolicy", ROLE_ARN + T, ALLOW,
        "re-trust a bounded env role (training): IAM cannot see the new trust's content, the data perimeter decides",
        {"iam:PermissionsBoundary": PERSONA_B}),
    Row("deployer-rewrites-bucket-policy", D, "s3:PutBucketPolicy", "arn:aws:s3:::{bucket:raw}", ALLOW,
        "rewrite an env bucket's policy (same: the data perimeter decides who it can admit)"),
    Row("deployer-rewrites-key-policy", D, "kms:PutKeyPolicy", "{key}", ALLOW,
        "rewrite the env key's policy (same)", {"aws:ResourceTag/env": "{env}"}, kms=True),
    # What such a rewrite admits without the organisation's RCP, and with it.
    Row("outsider-assumes-retrusted-role-without-perimeter", OUTSIDER, "sts:AssumeRole", T, ALLOW,
        "without the data perimeter: assume an env role re-trusted to its account", assume=True,
        rewritten=RETRUST_TO_OUTSIDER),
    Row("outsider-assumes-retrusted-role", OUTSIDER, "sts:AssumeRole", T, DENY,
        "with the data perimeter: assume an env role re-trusted to its account", assume=True,
        rewritten=RETRUST_TO_OUTSIDER, rcp=True),
    Row("outsider-reads-rewritten-bucket-without-perimeter", OUTSIDER, "s3:GetObject",
        "arn:aws:s3:::{bucket:raw}/customers/2026.parquet", ALLOW,
        "without the data perimeter: read an env bucket whose policy admits its account",
        rewritten=ADMIT_OUTSIDER_TO_RAW),
    Row("outsider-reads-rewritten-bucket", OUTSIDER, "s3:GetObject", "arn:aws:s3:::{bucket:raw}/customers/2026.parquet",
        DENY, "with the data perimeter: read an env bucket whose policy admits its account",
        rewritten=ADMIT_OUTSIDER_TO_RAW, rcp=True),
    Row("outsider-decrypts-rewritten-key-without-perimeter", OUTSIDER, "kms:Decrypt", "{key}", ALLOW,
        "without the data perimeter: decrypt with the env key whose policy admits its account",
        {"kms:ViaService": "s3.{region}.amazonaws.com"}, kms=True, rewritten=ADMIT_OUTSIDER_TO_KEY),
    Row("outsider-decrypts-rewritten-key", OUTSIDER, "kms:Decrypt", "{key}", DENY,
        "with the data perimeter: decrypt with the env key whose policy admits its account",
        {"kms:ViaService": "s3.{region}.amazonaws.com"}, kms=True, rewritten=ADMIT_OUTSIDER_TO_KEY, rcp=True),
    Row("outsider-repository-assumes-retrusted-role-without-perimeter", OUTSIDER_JOB, "sts:AssumeRoleWithWebIdentity",
        T, ALLOW, "without the data perimeter: a job of another GitHub repository assumes an env role re-trusted to it",
        assume=True, rewritten=RETRUST_TO_OUTSIDER_REPOSITORY),
    Row("outsider-repository-assumes-retrusted-role", OUTSIDER_JOB, "sts:AssumeRoleWithWebIdentity", T, DENY,
        "with the data perimeter: a job of another GitHub repository assumes an env role re-trusted to it", assume=True,
        rewritten=RETRUST_TO_OUTSIDER_REPOSITORY, rcp=True),
    Row("outsider-trail-writes-rewritten-bucket", "service:cloudtrail.amazonaws.com", "s3:PutObject",
        "arn:aws:s3:::{bucket:raw}/AWSLogs/999999999999/x.json.gz", DENY,
        "with the data perimeter: an AWS service acting for another organisation's account (its trail) writes into "
        "an env bucket whose policy admits the service", FOREIGN_TRAIL, rewritten=ADMIT_ANY_TRAIL_TO_RAW, rcp=True),
    # The platform's own traffic under the perimeter: CI, AWS services for the account, the other environments.
    Row("deploy-job-assumes-deployer-in-perimeter",
        "github:repo:{repository}:environment:{env}:job_workflow_ref:{repository}/.github/workflows/pulumi-up.yml"
        "@refs/heads/main", "sts:AssumeRoleWithWebIdentity", D, ALLOW,
        "with the data perimeter: the deploy job of its repository (OIDC web identity) assumes the deployer",
        assume=True, rcp=True),
    Row("pull-request-job-assumes-previewer-in-perimeter", PR_PREVIEW_JOB, "sts:AssumeRoleWithWebIdentity", P, ALLOW,
        "with the data perimeter: a pull request's preview job assumes the previewer", assume=True, rcp=True),
    Row("drift-job-assumes-drift-reader-in-perimeter", DRIFT_JOB, "sts:AssumeRoleWithWebIdentity", DR, ALLOW,
        "with the data perimeter: the default branch's drift job assumes the drift reader", assume=True, rcp=True),
    Row("cloudtrail-delivers-in-perimeter", "service:cloudtrail.amazonaws.com", "s3:PutObject",
        "arn:aws:s3:::{audit}/AWSLogs/{account}/CloudTrail/{region}/2026/12/01/x.json.gz", ALLOW,
        "with the data perimeter: the account's trail delivers to the audit bucket",
        {**OWN_TRAIL, "s3:x-amz-acl": "bucket-owner-full-control"}, rcp=True),
    Row("cloudtrail-encrypts-in-perimeter", "service:cloudtrail.amazonaws.com", "kms:GenerateDataKey", "{key}", ALLOW,
        "with the data perimeter: the account's trail encrypts its logs with the env key",
        {**OWN_TRAIL, "kms:EncryptionContext:aws:cloudtrail:arn": OWN_TRAIL["aws:SourceArn"]}, kms=True, rcp=True),
    Row("sagemaker-assumes-training-in-perimeter", "service:sagemaker.amazonaws.com", "sts:AssumeRole", T, ALLOW,
        "with the data perimeter: SageMaker takes the role for the account's jobs", assume=True, rcp=True),
    Row("s3-assumes-replication-in-perimeter", "service:s3.amazonaws.com", "sts:AssumeRole", "replication", ALLOW,
        "with the data perimeter: S3 takes the role to replicate the account's buckets", assume=True, rcp=True,
        stacks=("prod",)),
    Row("staging-inference-reads-dev-model-in-perimeter", STAGING_INFERENCE, "s3:GetObject",
        "arn:aws:s3:::{bucket:artifacts}/models/churn/model.tar.gz", ALLOW,
        "with the data perimeter: read a promoted model from the promotion source (staging reading dev)",
        grant=READS_OBJECTS, rcp=True, stacks=("dev",)),
    Row("staging-inference-decrypts-dev-model-in-perimeter", STAGING_INFERENCE, "kms:Decrypt", "{key}", ALLOW,
        "with the data perimeter: decrypt it through S3 with the source's key",
        {"kms:ViaService": "s3.{region}.amazonaws.com"}, kms=True, grant=DECRYPTS, rcp=True, stacks=("dev",)),
    Row("prod-inference-reads-staging-model-in-perimeter", PROD_INFERENCE, "s3:GetObject",
        "arn:aws:s3:::{bucket:artifacts}/models/churn/model.tar.gz", ALLOW,
        "with the data perimeter: read a promoted model from the promotion source (prod reading staging)",
        grant=READS_OBJECTS, rcp=True, stacks=("staging",)),
    Row("other-env-reads-raw-in-perimeter", STAGING_INFERENCE, "s3:GetObject", "arn:aws:s3:::{bucket:raw}/x", IMPLICIT,
        "read raw data of the promotion source (the perimeter admits the organisation, the bucket policy does not)",
        grant=READS_OBJECTS, rcp=True, stacks=("dev",)),
)  # fmt: skip
"""The questions; `expected` is the AWS decision (explicit or implicit deny both refuse the request)."""


def _fill_context(w: World, context: Mapping[str, Any]) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if isinstance(value, str):
            return w.fill(value)
        if isinstance(value, list):
            return [one(v) for v in value]
        return value

    return {key: one(value) for key, value in context.items()}


def decide_row(w: World, row: Row, *, perimeter: bool | None = None) -> Decision:
    """The evaluator's answer to `row` in world `w`; `perimeter` overrides `row.rcp` (with or without the
    organisation's RCP attached)."""
    if row.action.startswith("k8s:"):
        return _kubernetes(w, row)
    rcps = w.rcps if (row.rcp if perimeter is None else perimeter) else ()
    kind, _, name = row.principal.partition(":")
    context = {**_caller_context(w, kind, name), **_fill_context(w, row.context)}
    # AWS sets aws:ResourceAccount on every request: the env's account unless the row names another (S3's own key).
    context.setdefault("aws:ResourceAccount", context.get("s3:ResourceAccount", w.account))
    if row.assume:
        return _assume(w, row, context, rcps)
    if kind in ("foreign", "org", "service"):
        return _resource_side(w, row, context, rcps)
    if kind == "any":
        principal = Principal(f"arn:aws:iam::{w.account}:role/{name}", [row.grant or {}])
    else:
        principal = w.role(row.principal)
        if row.extra_policy:
            principal = Principal(principal.arn, [*principal.policies, row.extra_policy], principal.boundary)
    request = Request(principal.arn, row.action, w.fill(row.resource), context)
    return evaluate(principal, request, key_policy=w.key_policy if row.kms else None, rcps=rcps).decision


def _kubernetes(w: World, row: Row) -> Decision:
    """A Kubernetes API request of a role to the training cluster: allowed or (nothing denies in Kubernetes) not."""
    target, _, namespace = w.fill(row.resource).partition("@")
    resource, _, group = target.partition(".")
    ask = Ask(row.action.removeprefix("k8s:"), resource, group, namespace or None)
    allowed = w.kubernetes is not None and w.kubernetes.allows(w.role_arn(row.principal), ask)
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _caller_context(w: World, kind: str, name: str) -> dict[str, Any]:
    """The keys AWS puts in the request context for this kind of caller (IAM User Guide, "AWS global condition
    context keys"): an IAM principal's organisation and account; a service principal's name and the account and
    organisation it acts for (`aws:SourceAccount`/`aws:SourceOrgID`, a row may name another); a web-identity
    token's claims. A federated session carries no `aws:PrincipalOrgID`. Every request is over TLS."""
    tls = {"aws:SecureTransport": True}
    if kind == "service":
        return {**tls, "aws:PrincipalIsAWSService": True, "aws:PrincipalServiceName": name,
                "aws:SourceAccount": w.account, "aws:SourceOrgID": MATRIX_ORG_ID}  # fmt: skip
    if kind == "github":
        return {**tls, f"{GITHUB_OIDC}:sub": w.fill(name), f"{GITHUB_OIDC}:aud": "sts.amazonaws.com"}
    if kind == "foreign":
        return {**tls, "aws:PrincipalIsAWSService": False, "aws:PrincipalOrgID": FOREIGN_ORG_ID,
                "aws:PrincipalAccount": FOREIGN_ACCOUNT}  # fmt: skip
    account = name.split(":")[0] if kind == "org" else w.account
    return {**tls, "aws:PrincipalIsAWSService": False, "aws:PrincipalOrgID": MATRIX_ORG_ID,
            "aws:PrincipalAccount": account}  # fmt: skip


def _caller(w: World, row: Row) -> tuple[str, Principal | None, str]:
    """(principal ARN or service/provider name, the IAM caller if any, its Principal field) of an outside caller."""
    kind, _, name = row.principal.partition(":")
    if kind == "foreign":
        arn = f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/{name}"
        return arn, Principal(arn, [EVERYTHING]), "AWS"
    if kind == "org":
        account, _, role = name.partition(":")
        arn = f"arn:aws:iam::{account}:role/{role}"
        return arn, Principal(arn, [row.grant or {}]), "AWS"
    if kind == "github":
        return f"arn:aws:iam::{w.account}:oidc-provider/{GITHUB_OIDC}", None, "Federated"
    return name, None, "Service"


def _with(document: Mapping[str, Any], w: World, rewritten: Mapping[str, Any] | None) -> dict:
    """`document` with the rogue deployer's statement added (its strings filled)."""
    if rewritten is None:
        return dict(document)
    added = json.loads(w.fill(json.dumps(rewritten)))
    return {**document, "Statement": [*_listed(document["Statement"]), added]}


def _resource_side(w: World, row: Row, context: dict[str, Any], rcps: tuple[dict, ...]) -> Decision:
    """A bucket or key request by a caller the resource's own policy must admit (another account, a service)."""
    arn, caller, field_ = _caller(w, row)
    resource = w.fill(row.resource)
    if row.kms:
        policy = w.key_policy
    else:
        policy = w.bucket_policies.get(resource.removeprefix("arn:aws:s3:::").split("/")[0], {"Statement": []})
    request = Request(arn, row.action, resource, context)
    return evaluate_resource_policy(request, _with(policy, w, row.rewritten), resource_account=w.account,
                                    caller=caller, principal_type=field_, rcps=rcps).decision  # fmt: skip


def _assume(w: World, row: Row, context: dict[str, Any], rcps: tuple[dict, ...]) -> Decision:
    """Trust-policy question: may the caller assume role `row.resource`? `sso:<persona>`: the first principal that
    persona's own role trusts (one person's permission-set role, same account); the other kinds are decided by the
    trust policy as a resource policy (plus the caller's own policies for a foreign role)."""
    kind, _, name = row.principal.partition(":")
    trust = _with(w.trust[f"{w.prefix}-{row.resource}"], w, row.rewritten)
    if kind != "sso":
        arn, caller, field_ = _caller(w, row)
        request = Request(arn, row.action, w.role_arn(row.resource), context)
        return evaluate_resource_policy(request, trust, resource_account=w.account, caller=caller,
                                        principal_type=field_, rcps=rcps).decision  # fmt: skip
    [own] = [s for s in w.trust[f"{w.prefix}-{name}"]["Statement"] if "AWS" in s.get("Principal", {})]
    caller_arn = _listed(own["Principal"]["AWS"])[0]
    request = Request(caller_arn, row.action, w.role_arn(row.resource), context)
    if rcp_denies(rcps, request):
        return Decision.EXPLICIT_DENY
    for statement in trust["Statement"]:
        hit = caller_arn in _listed(statement.get("Principal", {}).get("AWS", []))
        if (
            hit
            and row.action in _listed(statement["Action"])
            and statement["Effect"] == "Allow"
            and conditions_hold(statement.get("Condition"), request)
        ):
            return Decision.ALLOW
    return Decision.IMPLICIT_DENY


SUBJECTS = {
    "ci-deployer": "CI deployer (`pulumi up` from the protected branch/environment)",
    "ci-previewer": "CI previewer (pull-request previews)",
    "ci-drift": "CI drift reader (the default branch's nightly drift check)",
    "data-scientist": "data scientist",
    "ml-engineer": "ML engineer",
    "model-approver": "model approver",
    "pipeline-churn": "a pipeline's role (SageMaker Pipelines, pipeline churn)",
    "training": "training (SageMaker jobs)",
    "inference": "inference (endpoints)",
    "team-vision": "a team's pods (team vision)",
    "any:kms-power-user": "any other account role with broad KMS rights",
    "replication": "replication (S3 cross-region replication, prod)",
    "ci-runner": "CI runner (the CodeBuild role every job on the VPC runner holds, a pull request's included)",
    "foreign": "a principal outside the organisation, after a stolen deployer session rewrote a policy for it",
    "github": "GitHub Actions jobs (OIDC web identity)",
    "service": "AWS services (service principals)",
    "org": "another environment's role (same organisation)",
}
"""Table subjects by row principal (the `sso:` principals, and `service:` ones assuming a role, are listed under
the role they try; the other kinds by kind)."""


def _subject(row: Row) -> str:
    kind, _, name = row.principal.partition(":")
    if kind == "sso":
        return SUBJECTS[name]
    if kind == "service" and row.assume:
        return SUBJECTS[row.resource]
    if kind in ("foreign", "github", "service", "org"):
        return SUBJECTS[kind]
    return SUBJECTS[row.principal]


def markdown() -> str:
    """The "who can do what" table: per principal, what the matrix allows and what it refuses."""
    lines = ["| principal | can | cannot |", "|---|---|---|"]
    for subject in dict.fromkeys(_subject(r) for r in ROWS):
        rows = [r for r in ROWS if _subject(r) == subject]
        can = "; ".join(r.says for r in rows if r.allowed) or "—"
        cannot = "; ".join(r.says for r in rows if not r.allowed) or "—"
        lines.append(f"| {subject} | {can} | {cannot} |")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- access-matrix:begin -->", "<!-- access-matrix:end -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"


def doc_block(text: str) -> str:
    """The generated table inside docs/security.md."""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main(argv: list[str]) -> int:
    """`--write` regenerates the table in docs/security.md; otherwise prints it."""
    if argv == ["--write"]:
        text = DOC.read_text()
        head, rest = text.split(BEGIN, 1)
        DOC.write_text(f"{head}{BEGIN}\n{markdown()}{END}{rest.split(END, 1)[1]}")
        return 0
    print(markdown(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
