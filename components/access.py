"""IAM personas: one role per way of working with the platform, each scoped to its environment's buckets,
prefixes and key, every one of them capped by a permission boundary.

The grants are data (`BUCKET_GRANTS`), so reviewers read who can touch what in one table, and the
boundary is derived from the same table: no persona can be granted more later without it showing here.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._policy_compaction import compact, covers
from ._sagemaker_jobs import JOB_SECURITY_GROUP_KEY
from ._validation import check_args
from .boundaries import IDENTITY_WRITE_ACTIONS, service_boundary_name
from .deployer import DeployerScope, deployer_boundary_statements, deployer_statements
from .pulumi_backend import PulumiBackend, backend_statements
from .registry_names import PULL_ACTIONS, PUSH_ACTIONS

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"


class Persona(StrEnum):
    """The platform's roles, by who (or what) assumes them."""

    DATA_SCIENTIST = "data-scientist"
    ML_ENGINEER = "ml-engineer"
    TRAINING = "training"
    INFERENCE = "inference"
    CI_DEPLOYER = "ci-deployer"
    CI_PREVIEWER = "ci-previewer"
    """Read-only: `pulumi preview` on pull requests. No access to the training cluster: a pull request chooses the
    workflow code that runs with it."""
    CI_DRIFT = "ci-drift"
    """Read-only: the default branch's nightly drift check (`pulumi preview --refresh`); the only CI reader with
    Kubernetes access (the objects the stack manages and Helm's release records, see `infra.ci_runner`)."""
    MODEL_APPROVER = "model-approver"
    """Approves or rejects registered model versions; trusted by other people than those who train them."""


class Access(StrEnum):
    """What a grant allows on a bucket prefix."""

    READ = "read"
    WRITE = "write"
    """Read, put and delete (a delete only adds a delete marker: buckets are versioned)."""


@dataclass(frozen=True)
class Grant:
    """Access to the objects under one prefix of one data-lake zone."""

    zone: str
    """Data-lake zone: raw, curated, features or artifacts."""
    prefix: str
    """Key prefix, "" for the whole bucket; ends with "/" otherwise."""
    access: Access


READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
WRITE_ACTIONS = [
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]
KEY_USE_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]

_r, _w = Access.READ, Access.WRITE
BUCKET_GRANTS: Mapping[Persona, tuple[Grant, ...]] = {
    Persona.DATA_SCIENTIST: (
        Grant("raw", "", _r),
        Grant("curated", "", _r),
        Grant("features", "", _r),
        Grant("features", "sandbox/", _w),
        Grant("artifacts", "", _r),
        Grant("artifacts", "experiments/", _w),
    ),
    Persona.ML_ENGINEER: (
        Grant("raw", "", _r),
        Grant("curated", "", _w),
        Grant("features", "", _w),
        Grant("artifacts", "", _r),
        Grant("artifacts", "experiments/", _w),
        Grant("artifacts", "models/", _w),
        Grant("artifacts", "pipelines/", _w),
    ),
    Persona.TRAINING: (
        Grant("raw", "", _r),
        Grant("curated", "", _w),
        Grant("features", "", _r),
        Grant("artifacts", "code/", _r),
        Grant("artifacts", "models/", _w),
        Grant("artifacts", "checkpoints/", _w),
        Grant("artifacts", "pipelines/", _w),
        Grant("artifacts", "experiments/", _w),
    ),
    Persona.INFERENCE: (Grant("artifacts", "models/", _r), Grant("artifacts", "data-capture/", _w)),
    Persona.CI_DEPLOYER: (Grant("artifacts", "code/", _w),),
    Persona.CI_PREVIEWER: (),
    Persona.CI_DRIFT: (),
    Persona.MODEL_APPROVER: (Grant("artifacts", "pipelines/", _r), Grant("artifacts", "models/", _r)),
}
"""Who may read or write which prefix of which zone."""

IMAGE_GRANTS: Mapping[Persona, Access] = {
    Persona.CI_DEPLOYER: Access.WRITE,
    Persona.TRAINING: Access.READ,
    Persona.INFERENCE: Access.READ,
}
"""Who may push (WRITE) or pull (READ) the environment's container images."""

EXECUTION_PERSONAS = (Persona.TRAINING, Persona.INFERENCE)
"""Personas assumed by AWS services; they may let those services create KMS grants (volume encryption)."""

HUMAN_PERSONAS = (Persona.DATA_SCIENTIST, Persona.ML_ENGINEER, Persona.MODEL_APPROVER)
"""Personas people assume; each has its own principal list (`PersonaRolesArgs.principal_arns`)."""

KEY_VIA_SERVICES: Mapping[Persona, tuple[str, ...]] = {
    Persona.TRAINING: ("s3", "sagemaker", "ec2"),
    Persona.INFERENCE: ("s3", "sagemaker", "ec2"),
}
"""Through which AWS services a persona may use the env key (`kms:ViaService`); S3 only for everyone else."""

IDENTITY_CHANGE_PATTERNS = [
    "iam:Create*", "iam:Delete*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Update*", "iam:Add*",
    "iam:Remove*", "iam:SetDefaultPolicyVersion", "iam:Tag*", "iam:Untag*", "iam:Upload*",
]  # fmt: skip
"""IAM writes (every one except `iam:PassRole`), denied by the persona boundary."""

APPROVAL_ACTIONS = ["sagemaker:UpdateModelPackage"]
"""Changing a model version's approval status: the model approver's alone."""
APPROVAL_READ_ACTIONS = [
    "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages",
    "sagemaker:ListModelPackageGroups", "sagemaker:ListTags",
]  # fmt: skip


@dataclass(frozen=True)
class GitHubTrust:
    """The GitHub Actions runs allowed to assume the CI deployer role."""

    subject: str
    """Exact `sub` claim, e.g. `repo:org/repo:ref:refs/heads/main` or `repo:org/repo:environment:prod`."""
    oidc_provider_arn: str | None = None
    """The account's GitHub OIDC provider; None creates it (one per account)."""
    preview_subjects: Sequence[str] = ()
    """`sub` claims of the runs that may assume the read-only CI previewer: pull requests
    (`repo:org/repo:pull_request`); `*` matches any characters (StringLike), e.g. the pull request number in a
    pinned `job_workflow_ref`. Empty: nobody."""
    drift_subjects: Sequence[str] = ()
    """`sub` claims of the runs that may assume the CI drift reader: the default branch's drift workflow only (never
    a pull request: that role reads Helm's release records on the cluster). Empty: nobody."""


class PersonaRolesArgs(TypedDict):
    """Arguments of `PersonaRoles`."""

    name_prefix: str
    """Prefix of role and policy names, e.g. `mlops-platform-dev`; roles are `<prefix>-<persona>`."""
    account_id: str
    """The environment's account."""
    region: str
    """The environment's region (scopes KMS use to S3 in this region)."""
    kms_key_arn: pulumi.Input[str]
    """The environment's data key."""
    bucket_arns: Mapping[str, pulumi.Input[str]]
    """Data-lake bucket ARNs by zone."""
    principal_arns: Mapping[str, Sequence[str]]
    """Per human persona (keyed by `Persona` value, e.g. `data-scientist`; `Persona` members work as keys too: they
    are strings), the roles (e.g. IAM Identity Center permission-set roles) that may assume it. Each of
    `HUMAN_PERSONAS` needs at least one; each list trusts only its own persona; the model approver's must not
    share a principal with the data scientists' or ML engineers' (who trains does not approve)."""
    github: GitHubTrust
    """OIDC trust of the CI deployer."""
    max_session_hours: NotRequired[int]
    """Session limit of the human roles, 1-12 hours (default 4)."""
    state_bucket: NotRequired[str | None]
    """Pulumi state bucket; the CI deployer reads and writes, the CI readers read, only the environment's
    prefix `<environment>/` of it (see `components.pulumi_backend`)."""
    state_key_arn: NotRequired[str | None]
    """KMS key the state bucket encrypts with; the CI roles use it through S3 only."""
    secrets_key_arn: NotRequired[str | None]
    """The environment's own stack-secrets key (a `key/` ARN: IAM does not match a key by alias ARN)."""
    environment: NotRequired[str]
    """Value of the `env` tag on the environment's resources; scopes the CI deployer's key management.
    Default: the last part of `name_prefix`."""
    deployer_statements: NotRequired[Sequence[_iam.Statement]]
    """Small additions to the CI deployer's inline `deploy-infrastructure` policy (10,240 characters per role)."""
    deployer_policies: NotRequired[Mapping[str, Sequence[_iam.Statement]]]
    """The CI deployer's permissions per capability (e.g. `network`, `training`): each becomes a managed policy
    `<prefix>-deploy-<capability>` (6,144 characters each) attached to the deployer role."""
    extra_statements: NotRequired[Mapping[str, Sequence[_iam.Statement]]]
    """Further runtime permissions of the other personas (keyed by `Persona` value), from capabilities beyond
    storage and access (e.g. the inference role's VPC network interfaces and endpoint logs); the persona boundary
    admits them as well."""
    ecr_repository_arns: NotRequired[Sequence[str]]
    """The environment's ECR repositories; `IMAGE_GRANTS` says who pushes and pulls (default: none)."""
    boundary_statements: NotRequired[Sequence[_iam.Statement]]
    """What service roles capped by the persona boundary need beyond the personas' own rights (e.g. the feature
    store's offline-store writes, the replication role's replication actions); the boundary admits them, no
    persona is granted them."""
    extra_boundary_arns: NotRequired[Sequence[str]]
    """Further boundaries the CI deployer may create roles with (e.g. the data-service boundary of the feature
    store's and the replication role); it may not change them."""
    deployer_regions: NotRequired[Sequence[str]]
    """Regions besides the environment's (and us-east-1) the CI deployer may work in, e.g. the replica region."""


CI_PERSONAS = (Persona.CI_DEPLOYER, Persona.CI_PREVIEWER, Persona.CI_DRIFT)
"""Personas trusted by GitHub Actions."""
CI_READERS = (Persona.CI_PREVIEWER, Persona.CI_DRIFT)
"""The read-only CI personas: the same AWS read rights (what `pulumi preview --refresh` reads), different trusts."""
OWN_BOUNDARY_PERSONAS = (Persona.CI_DEPLOYER, Persona.CI_PREVIEWER, Persona.CI_DRIFT, Persona.MODEL_APPROVER)
"""Personas capped by a boundary of their own instead of the persona boundary. The deployer may attach neither
those boundaries nor change these roles: an administrator's `pulumi up` does."""

PREVIEW_READ_ACTIONS = [
    "ec2:Describe*", "ec2:GetManagedPrefixListEntries", "eks:Describe*", "eks:List*", "iam:Get*", "iam:List*",
    "kms:Describe*", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:List*", "ecr:Describe*",
    "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource", "sagemaker:Describe*",
    "sagemaker:List*", "sagemaker:GetModelPackageGroupPolicy", "logs:Describe*", "logs:ListTagsForResource",
    "cloudwatch:Describe*", "cloudwatch:GetDashboard", "cloudwatch:List*", "sns:GetTopicAttributes",
    "sns:GetSubscriptionAttributes", "sns:List*", "sqs:GetQueueAttributes", "sqs:ListQueueTags",
    "events:Describe*", "events:List*", "scheduler:Get*", "scheduler:List*", "budgets:ViewBudget",
    "application-autoscaling:Describe*", "s3:GetBucket*", "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration", "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration",
    "s3:ListBucket", "codebuild:BatchGetProjects", "cloudformation:GetResource", "cloudformation:ListResources",
    "cloudtrail:DescribeTrails", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors",
    "cloudtrail:ListTags", "glue:GetDatabase", "glue:GetTags",
]  # fmt: skip
"""What `pulumi preview --refresh` reads: configuration, never data (no s3:GetObject on the data lake, no log
events, no image layers, no decryption with the data key). The pipeline code the stack uploads is read back
separately (`refresh_read_statements`)."""


def role_name(name_prefix: str, persona: Persona) -> str:
    """Physical name of a persona's role."""
    return f"{name_prefix}-{persona.value}"


def role_arn(account_id: str, name_prefix: str, persona: Persona) -> str:
    """ARN of a persona's role, known before the role exists (for key policies)."""
    return f"arn:aws:iam::{account_id}:role/{role_name(name_prefix, persona)}"


class PersonaRoles(pulumi.ComponentResource):
    """One IAM role per `Persona`, with inline policies scoped to the environment's buckets, prefixes and
    key, and a shared permission boundary that caps all of them at exactly those grants."""

    roles: dict[str, aws.iam.Role]
    """Roles by persona."""
    boundary: aws.iam.Policy
    """The permission boundary of the data-scientist, ML-engineer, training and inference roles (and of every
    role the CI deployer creates for data access)."""
    deployer_boundary: aws.iam.Policy
    """The CI deployer's permission boundary (see `components.deployer`)."""
    previewer_boundary: aws.iam.Policy
    """The CI previewer's boundary: exactly its read-only statements."""
    drift_boundary: aws.iam.Policy
    """The CI drift reader's boundary: exactly its read-only statements."""
    approver_boundary: aws.iam.Policy
    """The model approver's boundary: exactly its review and approval statements."""
    deployer_policies: dict[str, aws.iam.Policy]
    """The CI deployer's managed policies by capability."""

    def __init__(self, name: str, args: PersonaRolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(PersonaRoles, name, args)
        _check_access_args(name, args)
        super().__init__("mlops:access:PersonaRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args["name_prefix"]

        oidc_arn: pulumi.Input[str] | None = args["github"].oidc_provider_arn
        if oidc_arn is None:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-github-oidc",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=["sts.amazonaws.com"],
                opts=child,
            )
            oidc_arn = provider.arn

        policies = {persona: persona_statements(persona, args) for persona in Persona}
        self.boundary = aws.iam.Policy(
            f"{name}-boundary",
            name=f"{prefix}-persona-boundary",
            description=f"Permission boundary of every {prefix} persona role",
            policy=_render_once_each(boundary_statements(args)),
            opts=child,
        )
        scope = deployer_scope(args)
        self.deployer_boundary = aws.iam.Policy(
            f"{name}-deployer-boundary",
            name=scope.deployer_boundary_name,
            description=f"Permission boundary of the {prefix} CI deployer",
            policy=_iam.render(deployer_boundary_statements(scope)),
            opts=child,
        )

        def own_boundary(persona: Persona, short: str, role: str) -> aws.iam.Policy:
            """A persona's own boundary: its policy's grants, nothing more (`own_boundary_statements`)."""
            return aws.iam.Policy(
                f"{name}-{short}-boundary",
                name=own_boundary_name(prefix, persona),
                description=f"Permission boundary of the {prefix} {role}",
                policy=_iam.render(own_boundary_statements(persona, policies[persona])),
                opts=child,
            )

        self.previewer_boundary = own_boundary(Persona.CI_PREVIEWER, "previewer", "CI previewer: read only")
        self.drift_boundary = own_boundary(Persona.CI_DRIFT, "drift", "CI drift reader: read only")
        self.approver_boundary = own_boundary(Persona.MODEL_APPROVER, "approver", "model approver")
        boundaries = {
            Persona.CI_DEPLOYER: self.deployer_boundary,
            Persona.CI_PREVIEWER: self.previewer_boundary,
            Persona.CI_DRIFT: self.drift_boundary,
            Persona.MODEL_APPROVER: self.approver_boundary,
        }
        self.roles = {}
        for persona in Persona:
            boundary = boundaries.get(persona, self.boundary)
            hours = args.get("max_session_hours", 4) if persona in HUMAN_PERSONAS else 1
            self.roles[persona] = aws.iam.Role(
                f"{name}-{persona.value}",
                name=role_name(prefix, persona),
                description=f"{persona.value} persona of {prefix}",
                assume_role_policy=_iam.render(trust_statements(persona, args, oidc_arn)),
                permissions_boundary=boundary.arn,
                max_session_duration=hours * 3600,
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-{persona.value}-policy",
                role=self.roles[persona].id,
                name=f"{persona.value}-access",
                policy=_iam.render(policies[persona]),
                opts=child,
            )
        aws.iam.RolePolicy(
            f"{name}-{Persona.CI_DEPLOYER.value}-deploy-policy",
            role=self.roles[Persona.CI_DEPLOYER].id,
            name="deploy-infrastructure",
            policy=_iam.render(deployer_statements(scope)),
            opts=child,
        )
        self.deployer_policies = {}
        for capability, capability_statements in sorted(args.get("deployer_policies", {}).items()):
            managed = aws.iam.Policy(
                f"{name}-deploy-{capability}",
                name=f"{prefix}-deploy-{capability}",
                description=f"What the {prefix} CI deployer may change for {capability}",
                policy=_iam.render(list(capability_statements)),
                opts=child,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-deploy-{capability}-attachment",
                role=self.roles[Persona.CI_DEPLOYER].name,
                policy_arn=managed.arn,
                opts=child,
            )
            self.deployer_policies[capability] = managed
        self.register_outputs({f"{p.value}_role_arn": r.arn for p, r in self.roles.items()})


def deployer_scope(args: PersonaRolesArgs) -> DeployerScope:
    """What the CI deployer may change, from the component's arguments."""
    prefix, account = args["name_prefix"], args["account_id"]
    return DeployerScope(
        account_id=account,
        region=args["region"],
        name_prefix=prefix,
        environment=args.get("environment", prefix.rsplit("-", 1)[-1]),
        persona_boundary_arn=f"arn:aws:iam::{account}:policy/{prefix}-persona-boundary",
        service_boundary_arn=f"arn:aws:iam::{account}:policy/{service_boundary_name(prefix)}",
        deployer_role_name=role_name(prefix, Persona.CI_DEPLOYER),
        deployer_boundary_name=f"{prefix}-deployer-boundary",
        protected_role_names=tuple(role_name(prefix, p) for p in OWN_BOUNDARY_PERSONAS if p is not Persona.CI_DEPLOYER),
        fixed_trust_role_names=tuple(role_name(prefix, p) for p in HUMAN_PERSONAS),
        protected_boundary_arns=tuple(
            f"arn:aws:iam::{account}:policy/{own_boundary_name(prefix, p)}"
            for p in OWN_BOUNDARY_PERSONAS
            if p is not Persona.CI_DEPLOYER
        ),
        extra_statements=tuple(args.get("deployer_statements", ())),
        extra_regions=tuple(args.get("deployer_regions", ())),
        extra_boundary_arns=tuple(args.get("extra_boundary_arns", ())),
    )


def own_boundary_name(name_prefix: str, persona: Persona) -> str:
    """Physical name of the boundary of a persona in `OWN_BOUNDARY_PERSONAS` (but the deployer)."""
    short = {Persona.CI_PREVIEWER: "previewer", Persona.CI_DRIFT: "drift", Persona.MODEL_APPROVER: "approver"}[persona]
    return f"{name_prefix}-{short}-boundary"


def own_boundary_statements(persona: Persona, statements: Sequence[_iam.Statement]) -> list[_iam.Statement]:
    """A boundary equal to the persona's own policy: it can never be granted more than it has today without the
    boundary (which only an administrator may change) changing too; plus an explicit deny of every identity
    write, so not even a later broad allow in the boundary could let the role create or widen principals."""
    return [
        *({**statement, "Sid": f"Ceiling{statement['Sid']}"} for statement in statements),
        {"Sid": "DenyIdentityWrites", "Effect": "Deny", "Action": IDENTITY_WRITE_ACTIONS, "Resource": "*"},
    ]


def _check_access_args(name: str, args: PersonaRolesArgs) -> None:
    missing = sorted({g.zone for grants in BUCKET_GRANTS.values() for g in grants} - set(args["bucket_arns"]))
    if missing:
        raise ValueError(f"PersonaRoles {name!r}: bucket_arns lacks zone(s) {', '.join(missing)}")
    for zone, arn in sorted(args["bucket_arns"].items()):  # the boundary admits the buckets by this name pattern
        if isinstance(arn, str) and not covers(pattern := zone_bucket_pattern(args["name_prefix"], zone), arn):
            raise ValueError(f"PersonaRoles {name!r}: bucket_arns[{zone!r}]={arn!r} must match {pattern!r}")
    hours = args.get("max_session_hours", 4)
    if not 1 <= hours <= 12:
        raise ValueError(f"PersonaRoles {name!r}: max_session_hours={hours} must be between 1 and 12")
    principals = args["principal_arns"]
    if empty := [p.value for p in HUMAN_PERSONAS if not principals.get(p)]:
        raise ValueError(f"PersonaRoles {name!r}: principal_arns needs at least one role ARN for {', '.join(empty)}")
    if unknown := [str(p) for p in principals if p not in HUMAN_PERSONAS]:
        raise ValueError(
            f"PersonaRoles {name!r}: principal_arns has {', '.join(unknown)}; only people's personas are listed "
            f"({', '.join(p.value for p in HUMAN_PERSONAS)})"
        )
    trainers = set(principals[Persona.DATA_SCIENTIST]) | set(principals[Persona.ML_ENGINEER])
    if both := sorted(trainers & set(principals[Persona.MODEL_APPROVER])):
        raise ValueError(
            f"PersonaRoles {name!r}: {', '.join(both)} may assume model-approver and a persona that trains and "
            "registers models; who trains a model must not approve it"
        )
    longest = max(len(role_name(args["name_prefix"], p)) for p in Persona)
    if longest > 64:
        raise ValueError(
            f"PersonaRoles {name!r}: name_prefix {args['name_prefix']!r} makes role names over 64 characters"
        )


def trust_statements(persona: Persona, args: PersonaRolesArgs, oidc_arn: pulumi.Input[str]) -> list[_iam.Statement]:
    """Who may assume the persona's role."""
    if persona in HUMAN_PERSONAS:
        return [
            {
                "Sid": "AssumeByHumans",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(args["principal_arns"][persona])},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            }
        ]
    account = args["account_id"]
    # Pods on the training cluster get per-team roles (components.tenancy), not this one: SageMaker only.
    if persona in EXECUTION_PERSONAS:
        return [_iam.service_trust("AssumeBySageMaker", "sagemaker.amazonaws.com", account)]
    github = args["github"]
    subjects = {Persona.CI_PREVIEWER: github.preview_subjects, Persona.CI_DRIFT: github.drift_subjects}.get(
        persona, [github.subject]
    )
    exact = sorted(s for s in subjects if "*" not in s)
    # A `*` (a pull request's number in a pinned workflow ref) needs StringLike, in a statement of its own so the
    # exact subjects stay StringEquals.
    patterns = sorted(s for s in subjects if "*" in s)
    aud = {f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com"}
    trusts = []
    for sid, test, values in (("AssumeByGitHubActions", "StringEquals", exact),
                              ("AssumeByGitHubPullRequests", "StringLike", patterns)):  # fmt: skip
        if not values and (test == "StringLike" or patterns):  # no statement without subjects (but one: a role
            continue  # needs a trust statement; with no subjects at all it names none and matches no token)
        sub = {f"{GITHUB_OIDC_HOST}:sub": values if len(values) != 1 else values[0]}
        condition = {"StringEquals": {**aud, **sub}} if test == "StringEquals" else {"StringEquals": aud, test: sub}
        trusts.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": oidc_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        )
    return trusts


def persona_statements(persona: Persona, args: PersonaRolesArgs) -> list[_iam.Statement]:
    """The persona's permissions: its bucket grants, use of the env key through S3, and for the CI deployer
    the Pulumi backend."""
    statements = _bucket_statements(persona, args)
    services = KEY_VIA_SERVICES.get(persona, ("s3",))
    key_use: _iam.Statement = {
        "Sid": "UseEnvKeyThroughS3" if services == ("s3",) else "UseEnvKeyThroughServices",
        "Effect": "Allow",
        "Action": KEY_USE_ACTIONS,
        "Resource": args["kms_key_arn"],
        "Condition": {"StringEquals": {"kms:ViaService": via_services(services, args["region"])}},
    }
    if persona not in CI_READERS:  # they read no data
        statements.append(key_use)
    if persona in EXECUTION_PERSONAS:
        statements.append(
            {
                "Sid": "GrantEnvKeyToAwsResources",
                "Effect": "Allow",
                "Action": "kms:CreateGrant",
                "Resource": args["kms_key_arn"],
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            }
        )
    if persona is Persona.MODEL_APPROVER:
        statements += approver_statements(args)
    if persona is Persona.CI_DEPLOYER:
        statements += _pulumi_backend_statements(args)
    if persona in CI_READERS:
        statements += preview_statements(args)
    if (repositories := sorted(args.get("ecr_repository_arns", []))) and persona in IMAGE_GRANTS:
        push = IMAGE_GRANTS[persona] is Access.WRITE
        statements += _image_statements(repositories, PULL_ACTIONS + (PUSH_ACTIONS if push else []))
    if persona is not Persona.CI_DEPLOYER:
        statements += list(args.get("extra_statements", {}).get(persona, ()))
    return statements


def _render_once_each(statements: list[_iam.Statement]) -> pulumi.Output[str]:
    """Render a boundary, keeping one statement of each content: personas' extras often repeat under another Sid
    (training and inference jobs' network statements), and a managed policy has only 6,144 characters."""

    def unique(resolved: list[_iam.Statement]) -> str:
        return json.dumps(_iam.document(compact(resolved)))

    return pulumi.Output.from_input(statements).apply(unique)


def via_services(services: Sequence[str], region: str) -> list[str] | str:
    """`kms:ViaService` values of `services` in `region` (one string for one service)."""
    values = [f"{service}.{region}.amazonaws.com" for service in services]
    return values[0] if len(values) == 1 else values


def approver_statements(args: PersonaRolesArgs) -> list[_iam.Statement]:
    """The model approver: review the env's model versions and set their approval status; nothing else."""
    sagemaker = f"arn:aws:sagemaker:{args['region']}:{args['account_id']}"
    packages = [f"{sagemaker}:model-package/*", f"{sagemaker}:model-package-group/*"]
    return [
        {"Sid": "ReviewModelVersions", "Effect": "Allow", "Action": APPROVAL_READ_ACTIONS, "Resource": packages},
        {"Sid": "ListModelVersions", "Effect": "Allow",
         "Action": ["sagemaker:ListModelPackageGroups", "sagemaker:ListModelPackages"], "Resource": "*"},
        {"Sid": "ApproveOrRejectModelVersions", "Effect": "Allow", "Action": APPROVAL_ACTIONS,
         "Resource": f"{sagemaker}:model-package/*",
         "Condition": {"StringEquals": {"sagemaker:ModelApprovalStatus": ["Approved", "Rejected"]}}},
    ]  # fmt: skip


def _extra_boundary_statements(args: PersonaRolesArgs) -> list[_iam.Statement]:
    """Every persona-bounded persona's extra statements, once per Sid (the others have their own boundaries)."""
    by_sid: dict[str, _iam.Statement] = {}
    for persona, extras in sorted(args.get("extra_statements", {}).items()):
        if persona not in OWN_BOUNDARY_PERSONAS:
            by_sid.update(
                {s["Sid"]: _without_identity_only_conditions(s) for s in extras if not _identity_only_deny(s)}
            )
    # A managed policy holds 6,144 characters: statements equal but for their Sid appear once, unconditioned
    # allows of the same actions become one statement over all their resources (the same ceiling, exactly), and
    # read verbs of one service collapse to `Describe*`/`List*`/`Get*` on the same resources (reads only).
    unique: dict[str, _iam.Statement] = {}
    for statement in (_collapse_reads(s) for s in by_sid.values()):
        if statement["Effect"] == "Allow" and "Condition" not in statement:
            key = repr(("merge", sorted(_listed(statement["Action"]))))
            if key in unique:
                merged = unique[key]
                resources = [*_listed(merged["Resource"]), *_listed(statement["Resource"])]
                unique[key] = {
                    **merged,
                    "Resource": list(dict.fromkeys(r for r in resources if isinstance(r, str)))
                    + [r for r in resources if not isinstance(r, str)],
                }
                continue
        else:
            key = repr(sorted((k, v) for k, v in statement.items() if k != "Sid"))
        unique.setdefault(key, statement)
    return list(unique.values())


IDENTITY_ONLY_CONDITION_KEYS = frozenset({JOB_SECURITY_GROUP_KEY})
"""Condition keys the persona boundary leaves out of the personas' extra statements. They pin a request to one
resource of the environment (the pipelines' job security group) in the identity policies, which decide together with
the boundary; dropping a condition from an Allow only widens that boundary statement, to what it admitted before the
identity policy was narrowed, and a Deny on such a key refuses from the identity policy alone. The managed policy
stays under IAM's 6,144 characters."""


def _identity_only_deny(statement: _iam.Statement) -> bool:
    """A Deny conditioned on an identity-only key: it refuses from the identity policy whatever the boundary
    allows, so the boundary need not repeat it (and without its condition it would refuse too much)."""
    keys = {key for keys in (statement.get("Condition") or {}).values() for key in keys}
    return statement["Effect"] == "Deny" and bool(keys & IDENTITY_ONLY_CONDITION_KEYS)


def _without_identity_only_conditions(statement: _iam.Statement) -> _iam.Statement:
    """`statement` without its conditions on `IDENTITY_ONLY_CONDITION_KEYS` (operators left empty dropped)."""
    condition = statement.get("Condition")
    if statement["Effect"] != "Allow" or not condition:
        return statement
    kept = {
        operator: {key: value for key, value in keys.items() if key not in IDENTITY_ONLY_CONDITION_KEYS}
        for operator, keys in condition.items()
    }
    kept = {operator: keys for operator, keys in kept.items() if keys}
    if kept == condition:
        return statement
    narrowed = {k: v for k, v in statement.items() if k != "Condition"}
    return {**narrowed, "Condition": kept} if kept else narrowed


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


_READ_VERBS = ("Describe", "List", "Get")


def _collapse_reads(statement: _iam.Statement) -> _iam.Statement:
    if statement["Effect"] != "Allow" or not isinstance(statement.get("Action"), list):
        return statement
    actions: list[str] = []
    for action in statement["Action"]:
        service, name = action.split(":", 1)
        verb = next((v for v in _READ_VERBS if name.startswith(v)), None)
        siblings = [a for a in statement["Action"] if verb and a.startswith(f"{service}:{verb}")]
        collapsed = f"{service}:{verb}*" if verb and len(siblings) > 1 else action
        if collapsed not in actions:
            actions.append(collapsed)
    return {**statement, "Action": actions}


def _image_statements(repositories: list[str], actions: list[str]) -> list[_iam.Statement]:
    # GetAuthorizationToken has no resource type: it only returns a docker login for the account's registry.
    return [
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "EcrImages", "Effect": "Allow", "Action": actions, "Resource": repositories},
    ]


def _bucket_statements(persona: Persona, args: PersonaRolesArgs) -> list[_iam.Statement]:
    return grant_statements(BUCKET_GRANTS[persona], args["bucket_arns"])


def grant_statements(grants: Sequence[Grant], bucket_arns: Mapping[str, pulumi.Input[str]]) -> list[_iam.Statement]:
    """Object and listing statements for `grants` (listing limited to the grant's prefix)."""
    statements: list[_iam.Statement] = []
    for index, grant in enumerate(grants):
        bucket = bucket_arns[grant.zone]
        sid = f"{grant.access.value.title()}{grant.zone.title()}{index}"
        actions = READ_ACTIONS + (WRITE_ACTIONS if grant.access is Access.WRITE else [])
        statements.append(
            {
                "Sid": f"{sid}Objects",
                "Effect": "Allow",
                "Action": actions,
                "Resource": pulumi.Output.concat(bucket, "/", grant.prefix, "*"),
            }
        )
        listing: _iam.Statement = {
            "Sid": f"{sid}List",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
        }
        if grant.prefix:
            listing["Condition"] = {"StringLike": {"s3:prefix": [f"{grant.prefix}*"]}}
        statements.append(listing)
    return statements


def preview_statements(args: PersonaRolesArgs) -> list[_iam.Statement]:
    """The CI previewer and drift reader: read the infrastructure's configuration and the code the stack uploads,
    read its environment's Pulumi state and take its lock, decrypt its stack secrets."""
    statements: list[_iam.Statement] = [
        {"Sid": "ReadInfrastructureConfiguration", "Effect": "Allow", "Action": PREVIEW_READ_ACTIONS, "Resource": "*"}
    ]
    statements += refresh_read_statements(args)
    if backend := pulumi_backend(args):
        statements += backend_statements(backend, write=False)
    return statements


def pulumi_backend(args: PersonaRolesArgs) -> PulumiBackend | None:
    """The environment's Pulumi backend, when the stack names its state bucket or secrets key."""
    if not (args.get("state_bucket") or args.get("secrets_key_arn")):
        return None
    return PulumiBackend(
        state_bucket=args.get("state_bucket") or "",
        environment=deployer_scope(args).environment,
        state_key_arn=args.get("state_key_arn"),
        secrets_key_arn=args.get("secrets_key_arn"),
    )


def _pulumi_backend_statements(args: PersonaRolesArgs) -> list[_iam.Statement]:
    backend = pulumi_backend(args)
    return [] if backend is None else backend_statements(backend, write=True)


def refresh_read_statements(args: PersonaRolesArgs) -> list[_iam.Statement]:
    """What `pulumi preview --refresh` reads beyond configuration: the pipeline scripts the stack uploads
    (`artifacts/code/`, whose text bodies the provider reads back), decrypted with the data key through S3 for
    the artifacts bucket only (bucket keys make the bucket ARN the encryption context)."""
    artifacts = args["bucket_arns"]["artifacts"]
    return [
        {
            "Sid": "RefreshUploadedCode",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectTagging"],
            "Resource": pulumi.Output.concat(artifacts, "/code/*"),
        },
        {
            "Sid": "RefreshUploadedCodeKey",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": args["kms_key_arn"],
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{args['region']}.amazonaws.com"},
                "ArnEquals": {"kms:EncryptionContext:aws:s3:arn": artifacts},
            },
        },
    ]


def boundary_statements(args: PersonaRolesArgs) -> list[_iam.Statement]:
    """The permission boundary: object access to the env's buckets, use of the env key through AWS services, the
    personas' extra statements, and nothing else; plus denies that keep persona roles from editing roles,
    boundaries or the key, or approving model versions. (The Pulumi backend is the CI roles', under their own
    boundaries.)

    It is coarser than the persona policies (whole buckets by their `<prefix>-<zone>*` name pattern, not
    prefixes) because a managed policy is limited to 6,144 characters; a test checks that every persona's allows
    stay inside it. Patterns keep its size independent of the buckets' generated names.
    """
    prefix, account = args["name_prefix"], args["account_id"]
    return [
        {  # one pattern per zone covers the bucket and its objects (see zone_bucket_pattern)
            "Sid": "EnvBuckets",
            "Effect": "Allow",
            "Action": [*READ_ACTIONS, *WRITE_ACTIONS, "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": [zone_bucket_pattern(prefix, zone) for zone in sorted(args["bucket_arns"])],
            # bucket names are global: the same pattern in another account must not admit a widened role's writes
            "Condition": {"StringEquals": {"aws:ResourceAccount": account}},
        },
        {
            "Sid": "EnvKeyUseThroughServices",
            "Effect": "Allow",
            "Action": KEY_USE_ACTIONS,
            "Resource": args["kms_key_arn"],
            "Condition": {"StringEquals": {"kms:ViaService": via_services(_boundary_via_services(), args["region"])}},
        },
        {
            "Sid": "EnvKeyGrantsForAwsResources",
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": args["kms_key_arn"],
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        *(  # pull only: the one pusher, the CI deployer, has its own boundary
            _image_statements([f"arn:aws:ecr:{args['region']}:{account}:repository/{prefix}/*"], PULL_ACTIONS)
            if args.get("ecr_repository_arns")
            else []
        ),
        *_extra_boundary_statements(args),
        *args.get("boundary_statements", ()),
        {  # every IAM write but PassRole, model approval and key destruction, on anything: persona-bounded roles
            "Sid": "DenyIdentityKeyAndApprovalChanges",  # never create or widen principals, approve model versions
            "Effect": "Deny",  # (the model approver's alone) or administer any key
            "Action": [
                *IDENTITY_CHANGE_PATTERNS,
                *APPROVAL_ACTIONS,
                "kms:ScheduleKeyDeletion",
                "kms:DisableKey",
                "kms:PutKeyPolicy",
            ],
            "Resource": "*",
        },
    ]


def zone_bucket_pattern(name_prefix: str, zone: str) -> str:
    """The ARN pattern of a zone's bucket and its objects: DataLake names buckets `<name_prefix>-<zone>-<suffix>`
    (no other bucket of the platform starts with `<name_prefix>-<zone>`: replicas are `<name_prefix>-dr-<zone>-`)."""
    return f"arn:aws:s3:::{name_prefix}-{zone}*"


def _boundary_via_services() -> tuple[str, ...]:
    return tuple(sorted({"s3", *(s for services in KEY_VIA_SERVICES.values() for s in services)}))
