"""CI inside the VPC: the CodeBuild-hosted GitHub Actions runner of the environment, the deployer's permissions
for it, and the CI roles' access entries on the private training cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws
from mlops_platform.components import _iam
from mlops_platform.components.access import Persona
from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.components.network import Network
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.storage import Storage

if TYPE_CHECKING:  # the runner and cluster components load only when a stack builds them
    from mlops_platform.components.training.cluster import ClusterAccess


def runner_project_name(settings: PlatformSettings) -> str:
    """The CodeBuild project (and role) name; workflows select it in `runs-on`."""
    return f"{settings.name_prefix}-ci-runner"


def runner_key_users(settings: PlatformSettings) -> list[str]:
    """The runner role uses the env key for its build data (the key policy must name it)."""
    if settings.ci_runner is None:
        return []
    return [f"arn:aws:iam::{settings.account}:role/{runner_project_name(settings)}"]


def ci_cluster_access(role_arns: Mapping[Persona, pulumi.Input[str]]) -> list[ClusterAccess]:
    """Access entries of the CI roles, whatever identity created the cluster: the deployer administers it (Helm
    releases, CRDs, namespaces), the previewer reads every object so `pulumi preview --refresh` works, Helm's
    release records (Secrets) included, and changes nothing."""
    from mlops_platform.components.training.cluster import AccessPolicy, ClusterAccess, PolicyGrant

    return [
        ClusterAccess("ci-deployer", role_arns[Persona.CI_DEPLOYER], (PolicyGrant(AccessPolicy.CLUSTER_ADMIN),)),
        ClusterAccess("ci-previewer", role_arns[Persona.CI_PREVIEWER], (PolicyGrant(AccessPolicy.ADMIN_VIEW),)),
    ]


def runner_deployer_statements(settings: PlatformSettings) -> list[_iam.Statement]:
    """What the CI deployer needs to keep the runner up to date: its CodeBuild project and webhook, and passing
    the GitHub connection to CodeBuild. (Its role, log group and security group fall under the deployer's role,
    log-group and network permissions.)"""
    runner = settings.ci_runner
    if runner is None:
        return []
    project = f"arn:aws:codebuild:{settings.region}:{settings.account}:project/{runner_project_name(settings)}"
    return [
        {"Sid": "ManageRunnerProject", "Effect": "Allow", "Resource": project,
         "Action": ["codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:DeleteProject",
                    "codebuild:BatchGetProjects", "codebuild:CreateWebhook", "codebuild:UpdateWebhook",
                    "codebuild:DeleteWebhook"]},
        {"Sid": "PassGitHubConnection", "Effect": "Allow", "Resource": runner.connection_arn,
         "Action": ["codeconnections:PassConnection", "codeconnections:UseConnection",
                    "codeconnections:GetConnection"]},
    ]  # fmt: skip


def build_ci_runner(
    settings: PlatformSettings,
    *,
    vpc_id: pulumi.Input[str],
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    kms_key_arn: pulumi.Input[str],
    service_boundary_arn: pulumi.Input[str],
    cluster_security_group_id: pulumi.Input[str] | None,
    base: pulumi.ResourceOptions,
) -> dict[str, Any]:
    """Register the runner (when `ci_runner` is configured) and let it reach the cluster's API on 443."""
    runner_settings = settings.ci_runner
    if runner_settings is None:
        return {}
    from mlops_platform.components.ci_runner import GitHubRunner

    runner = GitHubRunner(
        "ci-runner",
        {
            "project_name": runner_project_name(settings),
            "account_id": settings.account,
            "region": settings.region,
            "repository": settings.access.github.repository,
            "connection_arn": runner_settings.connection_arn,
            "vpc_id": vpc_id,
            "subnet_ids": subnet_ids,
            "kms_key_arn": kms_key_arn,
            "permissions_boundary_arn": service_boundary_arn,
            "workflows": runner_settings.workflows,
            "actor_account_ids": runner_settings.actor_account_ids,
            "compute_type": runner_settings.compute_type.value,
            "build_timeout_minutes": runner_settings.build_timeout_minutes,
            "log_retention_days": runner_settings.log_retention_days,
        },
        base,
    )
    if cluster_security_group_id is not None:
        # The private endpoint's ENIs carry the cluster security group, which admits only its own members.
        aws.vpc.SecurityGroupIngressRule(
            "ci-runner-to-cluster-api",
            security_group_id=cluster_security_group_id,
            referenced_security_group_id=runner.security_group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="Kubernetes API from the CI runners",
            opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(parent=runner)),
        )
    return {"ci_runner": {"project": runner.project.name, "runs_on": runner.label}}


class CiRunnerCapability(Capability):
    """CodeBuild-hosted GitHub Actions runners in the private subnets (opt-in: the `ci_runner` section), with
    access to the training cluster's private API when the stack has one."""

    name = "ci"

    def key_users(self, settings: PlatformSettings) -> list[str]:
        return runner_key_users(settings)

    def deployer_statements(self, settings: PlatformSettings) -> list[_iam.Statement]:
        return runner_deployer_statements(settings)

    def build(self, platform: Platform) -> dict[str, Any]:
        network = platform.result("network", Network)
        training = platform.results.get("training") or {}
        return build_ci_runner(
            platform.settings,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            kms_key_arn=platform.result("storage", Storage).key.arn,
            service_boundary_arn=platform.result("service-roles", ServiceRoleBoundary).arn,
            cluster_security_group_id=training.get("cluster_security_group_id"),
            base=platform.base,
        )

    def outputs(self, platform: Platform) -> dict[str, Any]:
        return platform.results[self.name]


CAPABILITY = CiRunnerCapability()
