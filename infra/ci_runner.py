"""CI inside the VPC: the CodeBuild-hosted GitHub Actions runner of the environment, the deployer's permissions
for it, and the CI roles' access to the private training cluster (access entries, the drift role's RBAC)."""

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


DRIFT_GROUP = "mlops-drift-readers"
"""Kubernetes group of the CI drift role's access entry; bound by `drift_reader_rbac` only."""

DRIFT_READ_RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": [""], "resources": ["namespaces", "resourcequotas", "limitranges", "serviceaccounts"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"]},
    {"apiGroups": ["rbac.authorization.k8s.io"],
     "resources": ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]},
    {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"]},
    {"apiGroups": ["karpenter.sh"], "resources": ["nodepools"]},
    {"apiGroups": ["karpenter.k8s.aws"], "resources": ["ec2nodeclasses"]},
    {"apiGroups": ["kueue.x-k8s.io"], "resources": ["resourceflavors", "clusterqueues", "localqueues"]},
)  # fmt: skip
"""The kinds of Kubernetes objects the stack manages (besides Helm releases), which `pulumi preview --refresh`
reads back one by one (pulumi-kubernetes `Read` is a GET of the object); a test keeps it in step with the plans.
No Secrets, no Pods, no ConfigMaps: nothing the platform does not itself declare."""

READ_VERBS = ["get", "list", "watch"]
RELEASE_RECORD_VERBS = ["get", "list"]
"""Helm's `get` (what pulumi-kubernetes `helm.v3.Release` runs on refresh) LISTs the release namespace's Secrets by
label (`owner=helm,name=<release>`); RBAC cannot narrow a label-selected list by name (`resourceNames` limit a list
only when it selects `metadata.name`), so the narrowest grant is both verbs on Secrets of those namespaces."""


def ci_cluster_access(role_arns: Mapping[Persona, pulumi.Input[str]]) -> list[ClusterAccess]:
    """Access entries of the CI roles, whatever identity created the cluster: the deployer administers it (Helm
    releases, CRDs, namespaces); the drift role is mapped to `DRIFT_GROUP` only, whose RBAC (`drift_reader_rbac`)
    reads the objects the stack manages and Helm's release records in the releases' namespaces, and changes nothing.
    The previewer gets no entry: pull requests choose the code that runs with it, and their previews run on GitHub's
    runners, which cannot reach the private endpoint anyway (pulumi-kubernetes previews an unreachable cluster
    client-side)."""
    from mlops_platform.components.training.cluster import AccessPolicy, ClusterAccess, PolicyGrant

    return [
        ClusterAccess("ci-deployer", role_arns[Persona.CI_DEPLOYER], (PolicyGrant(AccessPolicy.CLUSTER_ADMIN),)),
        ClusterAccess("ci-drift", role_arns[Persona.CI_DRIFT], kubernetes_groups=(DRIFT_GROUP,)),
    ]


def drift_reader_rbac(
    name: str,
    *,
    release_namespaces: Sequence[str],
    provider: pulumi.ProviderResource,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> list[pulumi.Resource]:
    """Bind `DRIFT_GROUP`: read (`READ_VERBS`) the kinds in `DRIFT_READ_RULES` cluster-wide, and Secrets
    (`RELEASE_RECORD_VERBS`) in `release_namespaces` only, where Helm keeps the release records. `depends_on`: what
    creates those namespaces (a Helm release's `create_namespace`)."""
    import pulumi_kubernetes as k8s

    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(depends_on)))
    group = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": DRIFT_GROUP}]
    reader = k8s.rbac.v1.ClusterRole(
        f"{name}-drift-reader",
        metadata={"name": "mlops:drift-reader"},
        rules=[{**rule, "verbs": READ_VERBS} for rule in DRIFT_READ_RULES],
        opts=opts,
    )
    records = k8s.rbac.v1.ClusterRole(
        f"{name}-drift-release-records",
        metadata={"name": "mlops:drift-release-records"},
        rules=[{"apiGroups": [""], "resources": ["secrets"], "verbs": RELEASE_RECORD_VERBS}],
        opts=opts,
    )
    created: list[pulumi.Resource] = [reader, records]
    created.append(
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-drift-reader-binding",
            metadata={"name": "mlops:drift-reader"},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "mlops:drift-reader"},
            subjects=group,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[reader])),
        )
    )
    for namespace in sorted(set(release_namespaces)):
        # A RoleBinding to a ClusterRole grants its rules in the binding's namespace only.
        created.append(
            k8s.rbac.v1.RoleBinding(
                f"{name}-drift-release-records-{namespace}",
                metadata={"name": "mlops:drift-release-records", "namespace": namespace},
                role_ref={
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "mlops:drift-release-records",
                },
                subjects=group,
                opts=pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=[records])),
            )
        )
    return created


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
