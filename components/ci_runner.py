"""A CodeBuild-hosted GitHub Actions runner in the environment's private subnets.

AWS's documented mechanism: a CodeBuild project with a webhook filtered on `WORKFLOW_JOB_QUEUED` starts one
ephemeral build per queued job whose `runs-on` is `codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`;
the build registers itself as a just-in-time self-hosted runner, runs the job and ends. With `vpc_config` the
build runs in the private subnets, so it reaches a private EKS API endpoint (and nothing inbound reaches it).

What the webhook can and cannot tell apart (CodeBuild API reference, `WebhookFilter`): for a workflow-job event
it evaluates `EVENT`, `WORKFLOW_NAME` and `ACTOR_ACCOUNT_ID` (the event's `sender.id`). `HEAD_REF` and
`BASE_REF` are documented for push and pull-request events only, so no filter can restrict the runner to jobs
of `main`; the workflow name is whatever the workflow file says, so a pull request that renames a workflow
passes the name filter. Hence the runner is treated as reachable by any same-repository pull request:

- its service role (whose credentials every job on the runner holds) can do nothing but run the build: write
  its own log group, manage network interfaces in its own subnets with its own security group, and read the
  GitHub connection's token, the documented set; deploy and preview rights come only from the OIDC-trusted CI
  roles, whose trust pins workflow file and ref or environment;
- `actor_account_ids` (optional) admits only the jobs of the listed GitHub accounts, AWS's documented control
  over who can start builds.
"""

import re
from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._validation import check_args

RUNNER_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
"""A CodeBuild curated image (Amazon Linux 2023) supported by the GitHub Actions runner integration."""


class GitHubRunnerArgs(TypedDict):
    """Arguments of `GitHubRunner`."""

    project_name: str
    """Name of the CodeBuild project; jobs select it with `runs-on: codebuild-<project_name>-...`."""
    account_id: str
    """The environment's account (scopes the role's trust and network-interface permissions)."""
    region: str
    """The environment's region."""
    repository: str
    """GitHub repository as owner/name."""
    connection_arn: str
    """CodeConnections connection to GitHub through which CodeBuild registers the webhook and the runners."""
    vpc_id: pulumi.Input[str]
    """VPC of the runner."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets the runner's network interface is placed in (egress through NAT or VPC endpoints)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key of the build's artifacts/cache and its log group."""
    permissions_boundary_arn: pulumi.Input[str]
    """Boundary of the runner's service role."""
    workflows: Sequence[str]
    """Names of the workflows whose queued jobs may start a runner (WORKFLOW_NAME filter). A name is not a trust
    boundary: any workflow file, a pull request's included, can carry it."""
    actor_account_ids: NotRequired[Sequence[str]]
    """GitHub account IDs (numeric) whose queued jobs may start a runner (ACTOR_ACCOUNT_ID filter on the event's
    sender): for a deploy the account that merged, for a scheduled run the account GitHub attributes it to.
    Default: any account with access to the repository."""
    compute_type: NotRequired[str]
    """CodeBuild compute type (default BUILD_GENERAL1_MEDIUM)."""
    build_timeout_minutes: NotRequired[int]
    """Longest a runner lives (default 90)."""
    log_retention_days: NotRequired[int]
    """Retention of the runner's log group (default 90)."""


class GitHubRunner(pulumi.ComponentResource):
    """A CodeBuild project + webhook that run GitHub Actions jobs in the VPC's private subnets, with a security
    group that admits nothing and sends only HTTPS out, a KMS-encrypted log group and a role that can do nothing
    but run the build."""

    project: aws.codebuild.Project
    """The CodeBuild project."""
    role: aws.iam.Role
    """The project's service role."""
    security_group: aws.ec2.SecurityGroup
    """Security group of the runner's network interfaces (no ingress; HTTPS egress)."""
    label: str
    """What a job writes in `runs-on` (with the run ID and attempt expressions)."""

    def __init__(self, name: str, args: GitHubRunnerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(GitHubRunner, name, args)
        _check_runner_args(name, args)
        super().__init__("mlops:ci:GitHubRunner", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project_name = args["project_name"]
        account = args["account_id"]

        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/codebuild/{project_name}",
            retention_in_days=args.get("log_retention_days", 90),
            kms_key_id=args["kms_key_arn"],
            opts=child,
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args["vpc_id"],
            description=f"GitHub Actions runner {project_name}: no ingress, HTTPS egress",
            egress=[
                {
                    "protocol": "tcp",
                    "from_port": 443,
                    "to_port": 443,
                    # GitHub (runner registration, job logs, actions), PyPI, Pulumi plugins and AWS APIs.
                    "cidr_blocks": ["0.0.0.0/0"],
                    "description": "HTTPS to GitHub, package registries and AWS APIs",
                }
            ],
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=project_name,
            description=f"Service role of the CodeBuild GitHub Actions runner {project_name}",
            assume_role_policy=_iam.render(
                [_iam.service_trust("AssumeByCodeBuild", "codebuild.amazonaws.com", account)]
            ),
            permissions_boundary=args["permissions_boundary_arn"],
            max_session_duration=3600,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            name="run-builds",
            policy=_iam.render(runner_statements(args, logs.arn, self.security_group.id)),
            opts=child,
        )
        self.project = aws.codebuild.Project(
            f"{name}-project",
            name=project_name,
            description=f"GitHub Actions runners for {args['repository']} in the private subnets",
            service_role=self.role.arn,
            build_timeout=args.get("build_timeout_minutes", 90),
            queued_timeout=30,
            encryption_key=args["kms_key_arn"],
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "compute_type": args.get("compute_type", "BUILD_GENERAL1_MEDIUM"),
                "image": RUNNER_IMAGE,
                "image_pull_credentials_type": "CODEBUILD",
                "privileged_mode": False,
            },
            source={
                "type": "GITHUB",
                "location": f"https://github.com/{args['repository']}.git",
                "auth": {"type": "CODECONNECTIONS", "resource": args["connection_arn"]},
            },
            vpc_config={
                "vpc_id": args["vpc_id"],
                "subnets": args["subnet_ids"],
                "security_group_ids": [self.security_group.id],
            },
            logs_config={
                "cloudwatch_logs": {"status": "ENABLED", "group_name": logs.name},
                "s3_logs": {"status": "DISABLED"},
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        aws.codebuild.Webhook(
            f"{name}-webhook",
            project_name=self.project.name,
            build_type="BUILD",
            filter_groups=[{"filters": webhook_filters(args["workflows"], args.get("actor_account_ids", ()))}],
            opts=child,
        )
        self.label = f"codebuild-{project_name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"
        self.register_outputs({"project_name": self.project.name, "security_group_id": self.security_group.id})


def webhook_filters(workflows: Sequence[str], actor_account_ids: Sequence[str] = ()) -> list[dict[str, str]]:
    """One filter group: a queued workflow job of one of `workflows` (names matched exactly) and, when given, sent
    by one of `actor_account_ids`. Only filter types CodeBuild documents for workflow-job events are used."""
    names = "|".join(re.escape(w) for w in workflows)
    filters = [
        {"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
        {"type": "WORKFLOW_NAME", "pattern": f"^({names})$"},
    ]
    if actor_account_ids:
        filters.append({"type": "ACTOR_ACCOUNT_ID", "pattern": f"^({'|'.join(actor_account_ids)})$"})
    return filters


def runner_statements(
    args: GitHubRunnerArgs, log_group_arn: pulumi.Input[str], security_group_id: pulumi.Input[str]
) -> list[_iam.Statement]:
    """The runner role, and nothing a job on the runner could use beyond the runner itself: write its log group;
    create and delete network interfaces only in its own subnets with its own security group (CodeBuild's
    documented VPC permissions, scoped to the runner); read the GitHub connection's token (CodeBuild's documented
    connection permissions); use the key for its own build data, through S3 only."""
    account, region = args["account_id"], args["region"]
    ec2 = f"arn:aws:ec2:{region}:{account}"
    subnets = pulumi.Output.from_input(args["subnet_ids"]).apply(lambda ids: [f"{ec2}:subnet/{i}" for i in ids])
    return [
        {"Sid": "WriteBuildLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": pulumi.Output.concat(log_group_arn, ":*")},
        {"Sid": "DescribeNetwork", "Effect": "Allow", "Resource": "*",
         "Action": ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"]},
        {"Sid": "CreateInterfacesInRunnerSubnets", "Effect": "Allow", "Action": "ec2:CreateNetworkInterface",
         "Resource": pulumi.Output.all(subnets, security_group_id).apply(
             lambda v: [f"{ec2}:network-interface/*", *v[0], f"{ec2}:security-group/{v[1]}"])},
        {"Sid": "DeleteInterfacesInRunnerSubnets", "Effect": "Allow", "Action": "ec2:DeleteNetworkInterface",
         "Resource": f"{ec2}:network-interface/*", "Condition": {"StringEquals": {"ec2:Subnet": subnets}}},
        {"Sid": "InterfacePermissionForCodeBuild", "Effect": "Allow", "Action": "ec2:CreateNetworkInterfacePermission",
         "Resource": f"{ec2}:network-interface/*",
         "Condition": {"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com", "ec2:Subnet": subnets}}},
        {"Sid": "ReadGitHubConnectionToken", "Effect": "Allow", "Resource": args["connection_arn"],
         "Action": ["codeconnections:GetConnectionToken", "codeconnections:GetConnection"]},
        {"Sid": "UseKeyForBuildData", "Effect": "Allow", "Resource": args["kms_key_arn"],
         "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}},
    ]  # fmt: skip


def _check_runner_args(name: str, args: GitHubRunnerArgs) -> None:
    project = args["project_name"]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{1,63}", project):
        raise ValueError(
            f"GitHubRunner {name!r}: project_name={project!r} must be 2-64 letters, digits, '-' or '_' (it is also "
            "the role name and part of the runs-on label)"
        )
    if not args["workflows"]:
        raise ValueError(f"GitHubRunner {name!r}: workflows must name at least one workflow")
