"""Multi-team tenancy on the training cluster: per team a namespace fenced by quota, limits and network
policy, RBAC for the team's group, a Pod Identity role limited to the team's S3 prefixes, and Kueue queues
so GPU jobs wait for quota instead of failing.

Kueue layout: one ResourceFlavor per GPU pool (it pins admitted pods to the pool's nodes and adds the GPU
toleration), one ClusterQueue per team (nominal GPU quota on the team's pool, a borrowing limit, all teams in
one cohort so idle quota is lent out) and a LocalQueue `training` in each team namespace.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import yaml

from . import _iam
from ._validation import check_args
from .access import KEY_USE_ACTIONS, READ_ACTIONS, WRITE_ACTIONS, Access, Grant, grant_statements
from .training.capacity import GPU_RESOURCE, GPU_TOLERATION, POOL_LABEL
from .training.cluster import pod_identity_role

KUEUE_CHART = "oci://registry.k8s.io/kueue/charts/kueue"
KUEUE_VERSION = "0.14.2"
"""Kueue chart version (serves kueue.x-k8s.io/v1beta1)."""
KUEUE_API = "kueue.x-k8s.io/v1beta1"
KUEUE_NAMESPACE = "kueue-system"
"""Namespace of the Kueue release (and of its Helm release records)."""
COHORT = "gpu-training"
"""Cohort of every team ClusterQueue: unused nominal quota of one team can be borrowed by another."""
LOCAL_QUEUE = "training"
"""Name of the LocalQueue in every team namespace (the `kueue.x-k8s.io/queue-name` label of a job)."""
SERVICE_ACCOUNT = "training"
"""Service account in every team namespace bound by Pod Identity to the team's IAM role."""
POD_IDENTITY_AGENT = "169.254.170.23/32"
"""The EKS Pod Identity agent's link-local address, where pods fetch their role credentials."""

KUEUE_DEFAULT_CONFIG: Mapping[str, Any] = {
    "apiVersion": "config.kueue.x-k8s.io/v1beta1",
    "kind": "Configuration",
    "health": {"healthProbeBindAddress": ":8081"},
    "metrics": {"bindAddress": ":8443"},
    "webhook": {"port": 9443},
    "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
    "controller": {
        "groupKindConcurrency": {
            "Job.batch": 5, "Pod": 5, "Workload.kueue.x-k8s.io": 5, "LocalQueue.kueue.x-k8s.io": 1,
            "ClusterQueue.kueue.x-k8s.io": 1, "ResourceFlavor.kueue.x-k8s.io": 1,
        }
    },
    "clientConnection": {"qps": 50, "burst": 100},
    "integrations": {
        "frameworks": [
            "batch/job", "kubeflow.org/mpijob", "ray.io/rayjob", "ray.io/raycluster", "jobset.x-k8s.io/jobset",
            "trainer.kubeflow.org/trainjob", "kubeflow.org/paddlejob", "kubeflow.org/pytorchjob",
            "kubeflow.org/tfjob", "kubeflow.org/xgboostjob", "kubeflow.org/jaxjob", "workload.codeflare.dev/appwrapper",
        ]
    },
}  # fmt: skip
"""The chart's default manager configuration (`managerConfig.controllerManagerConfigYaml` of chart 0.14.2); the
chart replaces it whole when the value is set, so `kueue_values` starts from it."""

TEAM_ZONE_ACCESS: Mapping[str, Access] = {
    "raw": Access.READ,
    "curated": Access.READ,
    "features": Access.WRITE,
    "artifacts": Access.WRITE,
}
"""What a team's training role may do under the team's prefix in each data-lake zone."""

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$")


@dataclass(frozen=True)
class Team:
    """One tenant of the training cluster."""

    name: str
    """Team name: a DNS-1123 label (namespace, queue and role names derive from it)."""
    gpu_pool: str
    """GPU pool (ResourceFlavor) the team's nominal quota is on."""
    gpu_quota: int
    """Nominal GPUs guaranteed to the team."""
    cpu: str
    """CPU request quota (Kubernetes quantity, e.g. `96`)."""
    memory: str
    """Memory request quota (Kubernetes quantity, e.g. `768Gi`)."""
    borrowing_limit_gpus: int = 0
    """GPUs the team may borrow from the cohort beyond its quota when others leave them idle."""
    s3_prefix: str | None = None
    """Prefix of the team's data in every zone; default `teams/<name>/`."""
    member_role_arns: Sequence[str] = ()
    """IAM roles of the team's members; mapped to the team's Kubernetes group."""

    @property
    def prefix(self) -> str:
        """The team's S3 prefix."""
        return self.s3_prefix or f"teams/{self.name}/"

    @property
    def group(self) -> str:
        """Kubernetes group of the team's members."""
        return f"team-{self.name}"


class TenancyArgs(TypedDict):
    """Arguments of `Tenancy`."""

    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster."""
    cluster_arn: str
    """ARN of the EKS cluster (pins the team roles' Pod Identity trust)."""
    account_id: str
    """Account of the cluster."""
    region: str
    """Region (KMS use is limited to S3 in this region)."""
    name_prefix: str
    """Prefix of IAM names; team roles are `<prefix>-team-<name>`."""
    k8s_provider: k8s.Provider
    """Provider of the cluster."""
    kms_key_arn: pulumi.Input[str]
    """The data-lake key."""
    bucket_arns: Mapping[str, pulumi.Input[str]]
    """Data-lake bucket ARNs by zone (raw, curated, features, artifacts)."""
    vpc_cidr: str
    """CIDR of the VPC: pods may reach it on 443 (VPC endpoints, the API server)."""
    gpu_pools: Sequence[str]
    """Names of the GPU pools; each becomes a ResourceFlavor."""
    teams: Sequence[Team]
    """The tenants."""
    s3_cidr_blocks: NotRequired[pulumi.Input[Sequence[str]]]
    """S3's ranges in the region (the VPC's S3 gateway endpoint `cidr_blocks`): pods reach S3 through the gateway
    endpoint at these public addresses, so HTTPS to them is allowed."""
    permissions_boundary_arn: NotRequired[pulumi.Input[str] | None]
    """Boundary of the team roles, e.g. the platform's persona boundary (object access to the env's buckets and
    use of its key). None (default) creates one limited to the teams' prefixes."""
    extra_egress_cidrs: NotRequired[Sequence[str]]
    """More destinations pods may reach on 443 (e.g. the region's S3 ranges behind the gateway endpoint)."""
    kueue_version: NotRequired[str]
    """Kueue chart version. Default `KUEUE_VERSION`."""
    depends_on: NotRequired[Sequence[Any]]
    """Resources that must exist before the Kueue chart installs. Python `pulumi.Resource`s;
    other languages use the `dependsOn` resource option instead."""


def kueue_manager_config(team_namespaces: Sequence[str]) -> dict[str, Any]:
    """Kueue's configuration: the chart default, plus Kueue managing every Job of the team namespaces, with or
    without the `kueue.x-k8s.io/queue-name` label (`manageJobsWithoutQueueName`), so no Job skips quota,
    lands on a GPU pool unqueued or escapes preemption. An unlabelled Job is held suspended until it names a
    queue. Other namespaces (kube-system, kueue-system, Karpenter's) are left alone
    (`managedJobsNamespaceSelector`)."""
    return {
        **KUEUE_DEFAULT_CONFIG,
        "manageJobsWithoutQueueName": True,
        "managedJobsNamespaceSelector": {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(team_namespaces)}
            ]
        },
    }


def kueue_values(team_namespaces: Sequence[str]) -> dict[str, Any]:
    """Helm values of the Kueue chart: only the manager configuration differs from the chart's defaults."""
    return {"managerConfig": {"controllerManagerConfigYaml": yaml.safe_dump(kueue_manager_config(team_namespaces))}}


class Tenancy(pulumi.ComponentResource):
    """Namespaces, quotas, network policies, RBAC, Pod Identity roles and Kueue queues for each team."""

    roles: dict[str, aws.iam.Role]
    """Training roles by team."""
    boundary: aws.iam.Policy | None
    """The boundary this component created for the team roles (None when one was given)."""
    boundary_arn: pulumi.Input[str]
    """Permission boundary of every team role."""
    kueue: k8s.helm.v3.Release
    """The Kueue release."""

    def __init__(self, name: str, args: TenancyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(Tenancy, name, args)
        _check_tenancy_args(name, args)
        super().__init__("mlops:tenancy:Tenancy", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args["k8s_provider"])

        self.boundary = None
        self.boundary_arn: pulumi.Input[str]
        if (given := args.get("permissions_boundary_arn")) is not None:
            self.boundary_arn = given
        else:
            self.boundary = aws.iam.Policy(
                f"{name}-boundary",
                name=f"{args['name_prefix']}-team-boundary",
                description="Permission boundary of every training team role",
                policy=_iam.render(boundary_statements(args)),
                opts=child,
            )
            self.boundary_arn = self.boundary.arn
        self.kueue = k8s.helm.v3.Release(
            f"{name}-kueue",
            name="kueue",
            chart=KUEUE_CHART,
            version=args.get("kueue_version", KUEUE_VERSION),
            namespace=KUEUE_NAMESPACE,
            create_namespace=True,
            values=kueue_values([team.name for team in args["teams"]]),
            opts=pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=list(args.get("depends_on", [])))
            ),
        )
        after_kueue = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.kueue]))
        for pool in args["gpu_pools"]:
            k8s.apiextensions.CustomResource(
                f"{name}-flavor-{pool}",
                api_version=KUEUE_API,
                kind="ResourceFlavor",
                metadata={"name": pool},
                spec=resource_flavor(pool),
                opts=after_kueue,
            )
        self.roles = {}
        for team in args["teams"]:
            self.roles[team.name] = self._team(name, team, args, k8s_opts, after_kueue)
        self.register_outputs({f"{team}_role_arn": role.arn for team, role in self.roles.items()})

    def _team(
        self,
        name: str,
        team: Team,
        args: TenancyArgs,
        k8s_opts: pulumi.ResourceOptions,
        after_kueue: pulumi.ResourceOptions,
    ) -> aws.iam.Role:
        base = f"{name}-{team.name}"
        namespace = k8s.core.v1.Namespace(
            f"{base}-namespace",
            metadata={
                "name": team.name,
                "labels": {
                    "mlops.platform/team": team.name,
                    # Pod Security Admission: no privileged pods, host namespaces or host paths in tenant namespaces.
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
            opts=k8s_opts,
        )
        in_ns = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[namespace]))
        meta = {"namespace": team.name}
        k8s.core.v1.ResourceQuota(
            f"{base}-quota", metadata={**meta, "name": "team-quota"}, spec=resource_quota(team), opts=in_ns
        )
        k8s.core.v1.LimitRange(
            f"{base}-limits", metadata={**meta, "name": "container-defaults"}, spec=limit_range(), opts=in_ns
        )
        k8s.networking.v1.NetworkPolicy(
            f"{base}-default-deny",
            metadata={**meta, "name": "default-deny"},
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            opts=in_ns,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{base}-allow-training",
            metadata={**meta, "name": "allow-training"},
            spec=training_network_policy(
                args["vpc_cidr"], args.get("extra_egress_cidrs", []), args.get("s3_cidr_blocks")
            ),
            opts=in_ns,
        )
        role = k8s.rbac.v1.Role(f"{base}-role", metadata={**meta, "name": "team-member"}, rules=TEAM_RULES, opts=in_ns)
        k8s.rbac.v1.RoleBinding(
            f"{base}-binding",
            metadata={**meta, "name": "team-member"},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "team-member"},
            subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": team.group}],
            opts=pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=[role])),
        )
        k8s.core.v1.ServiceAccount(f"{base}-service-account", metadata={**meta, "name": SERVICE_ACCOUNT}, opts=in_ns)

        iam_role = pod_identity_role(
            self,
            f"{base}-training-role",
            team_role_name(args["name_prefix"], team.name),
            args["account_id"],
            args["cluster_arn"],
            f"Training jobs of team {team.name}",
            namespace=team.name,
            service_account=SERVICE_ACCOUNT,
            permissions_boundary=self.boundary_arn,
        )
        aws.iam.RolePolicy(
            f"{base}-training-policy",
            role=iam_role.id,
            name="team-data",
            policy=_iam.render(team_statements(team, args)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.eks.PodIdentityAssociation(
            f"{base}-pod-identity",
            cluster_name=args["cluster_name"],
            namespace=team.name,
            service_account=SERVICE_ACCOUNT,
            role_arn=iam_role.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, principal in enumerate(team.member_role_arns):
            aws.eks.AccessEntry(
                f"{base}-member-{index}",
                cluster_name=args["cluster_name"],
                principal_arn=principal,
                type="STANDARD",
                kubernetes_groups=[team.group],
                opts=pulumi.ResourceOptions(parent=self),
            )

        queue = k8s.apiextensions.CustomResource(
            f"{base}-cluster-queue",
            api_version=KUEUE_API,
            kind="ClusterQueue",
            metadata={"name": team.name},
            spec=cluster_queue(team),
            opts=after_kueue,
        )
        k8s.apiextensions.CustomResource(
            f"{base}-local-queue",
            api_version=KUEUE_API,
            kind="LocalQueue",
            metadata={**meta, "name": LOCAL_QUEUE},
            spec={"clusterQueue": team.name},
            opts=pulumi.ResourceOptions.merge(after_kueue, pulumi.ResourceOptions(depends_on=[namespace, queue])),
        )
        return iam_role


def team_role_name(name_prefix: str, team: str) -> str:
    """Physical name of a team's training role (known before it exists, for the key policy)."""
    return f"{name_prefix}-team-{team}"


def _check_tenancy_args(name: str, args: TenancyArgs) -> None:
    where = f"Tenancy {name!r}"
    names = [t.name for t in args["teams"]]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"{where}: duplicate team name(s) {duplicates}")
    for team in args["teams"]:
        if not _DNS_LABEL.match(team.name):
            raise ValueError(f"{where}: team name {team.name!r} must be a DNS-1123 label of at most 32 characters")
        if team.gpu_pool not in args["gpu_pools"]:
            raise ValueError(
                f"{where}: team {team.name!r} uses gpu_pool {team.gpu_pool!r}; pools: {list(args['gpu_pools'])}"
            )
        if team.gpu_quota < 0 or team.borrowing_limit_gpus < 0:
            raise ValueError(f"{where}: team {team.name!r}: gpu_quota and borrowing_limit_gpus must be >= 0")
        if len(team_role_name(args["name_prefix"], team.name)) > 64:
            raise ValueError(f"{where}: team {team.name!r} makes a role name over 64 characters")
    missing = sorted(set(TEAM_ZONE_ACCESS) - set(args["bucket_arns"]))
    if missing:
        raise ValueError(f"{where}: bucket_arns lacks zone(s) {', '.join(missing)}")


def team_grants(team: Team) -> tuple[Grant, ...]:
    """The team role's S3 grants: its prefix in every zone, read or write per `TEAM_ZONE_ACCESS`."""
    return tuple(Grant(zone, team.prefix, access) for zone, access in TEAM_ZONE_ACCESS.items())


def team_statements(team: Team, args: TenancyArgs) -> list[_iam.Statement]:
    """The team role's policy: its prefixes, and the env key only through S3."""
    return [
        *grant_statements(team_grants(team), args["bucket_arns"]),
        {
            "Sid": "UseEnvKeyThroughS3",
            "Effect": "Allow",
            "Action": KEY_USE_ACTIONS,
            "Resource": args["kms_key_arn"],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{args['region']}.amazonaws.com"}},
        },
    ]


def boundary_statements(args: TenancyArgs) -> list[_iam.Statement]:
    """Boundary of every team role: objects under the teams' prefixes, listing, the key through S3, and denies
    on identity changes. Derived from the same grants, so no team policy can reach past it."""
    zones = sorted(TEAM_ZONE_ACCESS)
    prefixes = sorted({t.prefix for t in args["teams"]})
    account, prefix = args["account_id"], args["name_prefix"]
    return [
        {
            "Sid": "TeamObjects",
            "Effect": "Allow",
            "Action": READ_ACTIONS + WRITE_ACTIONS,
            "Resource": [pulumi.Output.concat(args["bucket_arns"][z], "/", p, "*") for z in zones for p in prefixes],
        },
        {
            "Sid": "TeamListing",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": [args["bucket_arns"][z] for z in zones],
        },
        {
            "Sid": "EnvKeyThroughS3",
            "Effect": "Allow",
            "Action": KEY_USE_ACTIONS,
            "Resource": args["kms_key_arn"],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{args['region']}.amazonaws.com"}},
        },
        {
            "Sid": "DenyIdentityChanges",
            "Effect": "Deny",
            "Action": ["iam:*", "sts:AssumeRole"],
            "Resource": [f"arn:aws:iam::{account}:role/{prefix}-*", f"arn:aws:iam::{account}:policy/{prefix}-*"],
        },
    ]


TEAM_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": ["batch"],
        "resources": ["jobs"],
        "verbs": ["create", "delete", "get", "list", "watch", "patch", "update"],
    },
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "delete"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {
        "apiGroups": [""],
        "resources": ["services", "configmaps"],
        "verbs": ["create", "delete", "get", "list", "watch", "patch", "update"],
    },
    {"apiGroups": [""], "resources": ["events", "resourcequotas", "limitranges"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["kueue.x-k8s.io"], "resources": ["workloads", "localqueues"], "verbs": ["get", "list", "watch"]},
]
"""What a team member may do in the team namespace: run and inspect jobs; no secrets, no RBAC, no quota edits."""


def resource_quota(team: Team) -> dict[str, Any]:
    """Hard caps of the namespace; GPUs = nominal quota + borrowing limit, the most Kueue can ever admit."""
    return {
        "hard": {
            f"requests.{GPU_RESOURCE}": str(team.gpu_quota + team.borrowing_limit_gpus),
            "requests.cpu": team.cpu,
            "requests.memory": team.memory,
        }
    }


def limit_range() -> dict[str, Any]:
    """Container defaults, so pods that forget requests still count against the quota."""
    return {
        "limits": [
            {
                "type": "Container",
                "defaultRequest": {"cpu": "1", "memory": "4Gi"},
                "default": {"cpu": "4", "memory": "16Gi"},
            }
        ]
    }


def training_network_policy(
    vpc_cidr: str, extra_egress_cidrs: Sequence[str], s3_cidr_blocks: pulumi.Input[Sequence[str]] | None = None
) -> dict[str, Any]:
    """What pods of a team may reach on top of the default deny: each other (DDP/NCCL on any port), cluster
    DNS, the Pod Identity agent, and HTTPS inside the VPC (endpoints), to S3 through its gateway endpoint and to
    `extra_egress_cidrs`."""
    https = [{"protocol": "TCP", "port": 443}]
    s3: list[dict[str, Any]] = []
    if s3_cidr_blocks is not None:
        peers = pulumi.Output.from_input(s3_cidr_blocks).apply(lambda cidrs: [{"ipBlock": {"cidr": c}} for c in cidrs])
        s3.append({"to": peers, "ports": https})
    return {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
        "egress": [
            {"to": [{"podSelector": {}}]},
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            },
            {"to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT}}], "ports": [{"protocol": "TCP", "port": 80}]},
            {"to": [{"ipBlock": {"cidr": cidr}} for cidr in [vpc_cidr, *extra_egress_cidrs]], "ports": https},
            *s3,
        ],
    }


def resource_flavor(pool: str) -> dict[str, Any]:
    """A GPU pool as a Kueue flavor: admitted pods get the pool's node selector and the GPU toleration."""
    return {"nodeLabels": {POOL_LABEL: pool}, "tolerations": [GPU_TOLERATION]}


def cluster_queue(team: Team) -> dict[str, Any]:
    """The team's ClusterQueue: nominal quota on its pool, GPU borrowing up to its limit, reclaim on demand."""
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": team.name}},
        "cohort": COHORT,
        "queueingStrategy": "BestEffortFIFO",
        "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
        "resourceGroups": [
            {
                "coveredResources": ["cpu", "memory", GPU_RESOURCE],
                "flavors": [
                    {
                        "name": team.gpu_pool,
                        "resources": [
                            {"name": "cpu", "nominalQuota": team.cpu, "borrowingLimit": "0"},
                            {"name": "memory", "nominalQuota": team.memory, "borrowingLimit": "0"},
                            {
                                "name": GPU_RESOURCE,
                                "nominalQuota": team.gpu_quota,
                                "borrowingLimit": team.borrowing_limit_gpus,
                            },
                        ],
                    }
                ],
            }
        ],
    }
