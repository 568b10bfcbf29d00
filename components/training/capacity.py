"""GPU capacity that scales to zero: Karpenter (controller role via Pod Identity, interruption queue, node
role), one EC2NodeClass per pool kind and one NodePool per GPU pool, plus the NVIDIA device plugin.

The NodePools and EC2NodeClasses are built as plain dicts by `node_pool()` and `node_class()` so tests can
check them field by field, and registered as `CustomResource`s after the Karpenter chart (which brings the
CRDs).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .. import _iam
from .._validation import check_args
from .capacity_types import CapacityType
from .cluster import node_role, pod_identity_role
from .instance_types import EFA_FAMILIES, architectures, family_of, gpu_family_problem, gpu_type_problem
from .karpenter_iam import controller_statements, queue_statements

KARPENTER_CHART = "oci://public.ecr.aws/karpenter/karpenter"
KARPENTER_VERSION = "1.14.1"
"""Karpenter chart version; 1.14 serves karpenter.sh/v1 and karpenter.k8s.aws/v1 (with placementGroupSelector)."""
KARPENTER_NAMESPACE = "kube-system"
"""Namespace of the Karpenter releases (and of their Helm release records)."""
KARPENTER_SERVICE_ACCOUNT = "karpenter"
DEVICE_PLUGIN_REPO = "https://nvidia.github.io/k8s-device-plugin"
DEVICE_PLUGIN_NAMESPACE = "kube-system"
"""Namespace of the NVIDIA and EFA device-plugin releases (and of their Helm release records)."""
DEVICE_PLUGIN_VERSION = "0.18.0"
"""NVIDIA k8s-device-plugin chart version."""
EFA_PLUGIN_REPO = "https://aws.github.io/eks-charts"
EFA_PLUGIN_VERSION = "0.5.10"
"""AWS EFA device plugin chart version (advertises `vpc.amazonaws.com/efa` on EFA nodes)."""

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT = {"key": GPU_RESOURCE, "value": "true", "effect": "NoSchedule"}
"""Taint on every GPU node: only pods that tolerate it (GPU jobs) land there, so CPU pods never keep a GPU
node alive and consolidation can take idle GPU nodes to zero."""
GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
POOL_LABEL = "mlops.platform/gpu-pool"
DISCOVERY_TAG = "karpenter.sh/discovery"

INTERRUPTION_EVENTS = {
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "instance-state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
}
"""EventBridge patterns Karpenter consumes to drain nodes before EC2 takes them away."""


@dataclass(frozen=True)
class GpuPool:
    """One Karpenter NodePool of NVIDIA GPU instances."""

    name: str
    """NodePool name (a DNS-1123 label); also the Kueue ResourceFlavor name."""
    max_gpus: int
    """Upper bound of `nvidia.com/gpu` across the pool's nodes (the NodePool limit)."""
    instance_families: Sequence[str] = ()
    """EC2 families (g5, g6, p4d, ...). Exactly one of instance_families or instance_types."""
    instance_types: Sequence[str] = ()
    """Exact EC2 instance types (g6.12xlarge, ...)."""
    capacity_types: Sequence[CapacityType] = (CapacityType.ON_DEMAND,)
    """Spot and/or on-demand."""
    consolidate_after: str = "10m"
    """How long a node must be empty or underutilized before Karpenter removes or replaces it."""
    expire_after: str = "720h"
    """Maximum node lifetime, so nodes pick up new AMIs."""
    root_volume_gib: int = 200
    """Root EBS volume size (images of CUDA stacks are large)."""
    efa: bool = False
    """Multi-node pool: launched into a cluster placement group, EFA-capable families only."""
    zones: Sequence[str] = ()
    """Availability zones to restrict the pool to; a placement group lives in one AZ."""

    @property
    def families(self) -> tuple[str, ...]:
        """The pool's families, given directly or derived from its types."""
        return self.instance_families or tuple(sorted({family_of(t) for t in self.instance_types}))


class GpuCapacityArgs(TypedDict):
    """Arguments of `GpuCapacity`."""

    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster."""
    cluster_arn: str
    """ARN of the EKS cluster."""
    cluster_endpoint: pulumi.Input[str]
    """API server URL (given to Karpenter so it needs no DescribeCluster at start)."""
    account_id: str
    """Account of the cluster."""
    region: str
    """Region of the cluster."""
    kms_key_arn: pulumi.Input[str]
    """Key encrypting the GPU nodes' root volumes."""
    discovery_tag: str
    """Value of the `karpenter.sh/discovery` tag on the private subnets and the node security group; Karpenter
    launches GPU nodes into what carries it."""
    k8s_provider: k8s.Provider
    """Provider of the cluster."""
    pools: Sequence[GpuPool]
    """GPU node pools."""
    depends_on: NotRequired[Sequence[Any]]
    """Resources that must exist before the charts install (system nodes, core add-ons). Python `pulumi.Resource`s;
    other languages use the `dependsOn` resource option instead."""
    permissions_boundary_arn: NotRequired[pulumi.Input[str] | None]
    """Permission boundary of the controller and node roles (e.g. `components.boundaries.ServiceRoleBoundary`).
    None leaves them unbounded."""
    ami_alias: NotRequired[str]
    """EC2NodeClass AMI alias; `al2023@latest` (default) or a pinned `al2023@vYYYYMMDD`. Karpenter picks the
    NVIDIA variant of the AL2023 EKS AMI for GPU instance types."""
    karpenter_version: NotRequired[str]
    """Karpenter chart version. Default `KARPENTER_VERSION`."""
    device_plugin_version: NotRequired[str]
    """NVIDIA device plugin chart version. Default `DEVICE_PLUGIN_VERSION`."""
    controller_replicas: NotRequired[int]
    """Karpenter controller replicas (1 in dev, 2 for HA). Default 2."""


class GpuCapacity(pulumi.ComponentResource):
    """Karpenter-managed NVIDIA GPU node pools: tainted, IMDSv2-only, KMS-encrypted, consolidated to zero."""

    node_role: aws.iam.Role
    """Role of the nodes Karpenter launches."""
    controller_role: aws.iam.Role
    """Role of the Karpenter controller (Pod Identity)."""
    queue: aws.sqs.Queue
    """Interruption queue."""
    karpenter: k8s.helm.v3.Release
    """The Karpenter release."""
    placement_groups: dict[str, aws.ec2.PlacementGroup]
    """Cluster placement groups of the EFA pools, by pool name."""

    def __init__(self, name: str, args: GpuCapacityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(GpuCapacity, name, args)
        _check_capacity_args(name, args)
        super().__init__("mlops:training:GpuCapacity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account, region = args["account_id"], args["region"]
        # Physical names derive from the cluster ARN, a plain string, so they are known in the preview.
        cluster_name = args["cluster_arn"].rsplit("/", 1)[-1]

        self.node_role, node_policies = node_role(
            f"{name}-node",
            physical_name=f"{cluster_name}-karpenter-node",
            description=f"GPU nodes Karpenter launches for {cluster_name}",
            boundary_arn=args.get("permissions_boundary_arn"),
            opts=child,
        )
        node_access = aws.eks.AccessEntry(
            f"{name}-node-access",
            cluster_name=args["cluster_name"],
            principal_arn=self.node_role.arn,
            type="EC2_LINUX",
            opts=child,
        )

        self.queue = aws.sqs.Queue(
            f"{name}-interruptions",
            name=f"{cluster_name}-karpenter",
            message_retention_seconds=300,
            # SSE-SQS: EventBridge can deliver to it without a key-policy grant on the env key.
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        rules = []
        for event, pattern in INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{event}",
                name=f"{cluster_name}-karpenter-{event}",
                description=f"Karpenter interruption handling: {pattern['detail-type'][0]}",
                event_pattern=pulumi.Output.json_dumps(pattern),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{event}-target",
                rule=rule.name,
                arn=self.queue.arn,
                target_id="karpenter-interruption-queue",
                opts=child,
            )
            rules.append(rule)
        queue_policy = aws.sqs.QueuePolicy(
            f"{name}-interruptions-policy",
            queue_url=self.queue.id,
            policy=_iam.render(queue_statements(self.queue.arn, [r.arn for r in rules])),
            opts=child,
        )

        self.controller_role = pod_identity_role(
            self,
            f"{name}-controller-role",
            f"{cluster_name}-karpenter",
            account,
            args["cluster_arn"],
            "Karpenter controller",
            namespace=KARPENTER_NAMESPACE,
            service_account=KARPENTER_SERVICE_ACCOUNT,
            permissions_boundary=args.get("permissions_boundary_arn"),
        )
        controller_policy = aws.iam.RolePolicy(
            f"{name}-controller-policy",
            role=self.controller_role.id,
            name="karpenter-controller",
            policy=_iam.render(
                controller_statements(
                    cluster_name=cluster_name,
                    cluster_arn=args["cluster_arn"],
                    account_id=account,
                    region=region,
                    node_role_arn=self.node_role.arn,
                    queue_arn=self.queue.arn,
                    kms_key_arn=args["kms_key_arn"],
                )
            ),
            opts=child,
        )
        association = aws.eks.PodIdentityAssociation(
            f"{name}-controller-identity",
            cluster_name=args["cluster_name"],
            namespace=KARPENTER_NAMESPACE,
            service_account=KARPENTER_SERVICE_ACCOUNT,
            role_arn=self.controller_role.arn,
            opts=child,
        )

        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args["k8s_provider"])
        version = args.get("karpenter_version", KARPENTER_VERSION)
        # Helm installs a chart's crds/ once and never upgrades them; the CRD chart keeps them in step.
        crds = k8s.helm.v3.Release(
            f"{name}-karpenter-crd",
            name="karpenter-crd",
            chart=f"{KARPENTER_CHART}-crd",
            version=version,
            namespace=KARPENTER_NAMESPACE,
            opts=pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=list(args.get("depends_on", [])))
            ),
        )
        self.karpenter = k8s.helm.v3.Release(
            f"{name}-karpenter",
            name="karpenter",
            chart=KARPENTER_CHART,
            version=version,
            namespace=KARPENTER_NAMESPACE,
            skip_crds=True,
            values=karpenter_values(args, self.queue.name),
            opts=pulumi.ResourceOptions.merge(
                k8s_opts,
                pulumi.ResourceOptions(
                    depends_on=[
                        crds,
                        *args.get("depends_on", []),
                        association,
                        controller_policy,
                        queue_policy,
                        node_access,
                        *node_policies,
                    ]
                ),
            ),
        )
        after_chart = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.karpenter]))

        self.placement_groups = {
            pool.name: aws.ec2.PlacementGroup(
                f"{name}-{pool.name}-placement", name=f"{cluster_name}-{pool.name}", strategy="cluster", opts=child
            )
            for pool in args["pools"]
            if pool.efa
        }
        classes: dict[str, k8s.apiextensions.CustomResource] = {}
        self.node_pools: dict[str, k8s.apiextensions.CustomResource] = {}
        """NodePools by pool name (Python only: the schema has no type for a Kubernetes custom resource)."""
        for pool in args["pools"]:
            class_name = node_class_name(pool)
            if class_name not in classes:
                group = self.placement_groups.get(pool.name)
                classes[class_name] = k8s.apiextensions.CustomResource(
                    f"{name}-class-{class_name}",
                    api_version="karpenter.k8s.aws/v1",
                    kind="EC2NodeClass",
                    metadata={"name": class_name},
                    spec=node_class(
                        role=self.node_role.name,
                        discovery_tag=args["discovery_tag"],
                        kms_key_arn=args["kms_key_arn"],
                        root_volume_gib=pool.root_volume_gib,
                        ami_alias=args.get("ami_alias", "al2023@latest"),
                        placement_group=group.name if group else None,
                    ),
                    opts=after_chart,
                )
            self.node_pools[pool.name] = k8s.apiextensions.CustomResource(
                f"{name}-pool-{pool.name}",
                api_version="karpenter.sh/v1",
                kind="NodePool",
                metadata={"name": pool.name},
                spec=node_pool(pool, class_name),
                opts=pulumi.ResourceOptions.merge(
                    after_chart, pulumi.ResourceOptions(depends_on=[classes[class_name]])
                ),
            )

        k8s.helm.v3.Release(
            f"{name}-nvidia-device-plugin",
            name="nvidia-device-plugin",
            chart="nvidia-device-plugin",
            repository_opts={"repo": DEVICE_PLUGIN_REPO},
            version=args.get("device_plugin_version", DEVICE_PLUGIN_VERSION),
            namespace=DEVICE_PLUGIN_NAMESPACE,
            values=device_plugin_values(),
            opts=pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=list(args.get("depends_on", [])))
            ),
        )
        if self.placement_groups:
            # Pods ask for `vpc.amazonaws.com/efa`; Karpenter then attaches EFA interfaces and this plugin exposes them.
            k8s.helm.v3.Release(
                f"{name}-efa-device-plugin",
                name="aws-efa-k8s-device-plugin",
                chart="aws-efa-k8s-device-plugin",
                repository_opts={"repo": EFA_PLUGIN_REPO},
                version=EFA_PLUGIN_VERSION,
                namespace=DEVICE_PLUGIN_NAMESPACE,
                values={"tolerations": [GPU_TOLERATION]},
                opts=pulumi.ResourceOptions.merge(
                    k8s_opts, pulumi.ResourceOptions(depends_on=list(args.get("depends_on", [])))
                ),
            )
        self.register_outputs(
            {
                "node_role_arn": self.node_role.arn,
                "controller_role_arn": self.controller_role.arn,
                "queue_arn": self.queue.arn,
            }
        )


def node_class_name(pool: GpuPool) -> str:
    """Pools share an EC2NodeClass unless they need their own (placement group, volume size)."""
    if pool.efa:
        return f"{pool.name}-efa"
    return "gpu" if pool.root_volume_gib == GpuPool.root_volume_gib else f"gpu-{pool.root_volume_gib}gib"


def _check_capacity_args(name: str, args: GpuCapacityArgs) -> None:
    where = f"GpuCapacity {name!r}"
    cluster_name = args["cluster_arn"].rsplit("/", 1)[-1]
    if len(longest := f"{cluster_name}-karpenter-{max(INTERRUPTION_EVENTS, key=len)}") > 64:
        raise ValueError(
            f"{where}: cluster name {cluster_name!r} makes the EventBridge rule name {longest!r} longer "
            "than 64 characters"
        )
    pools = args["pools"]
    if not pools:
        raise ValueError(f"{where}: pools needs at least one GPU pool")
    names = [p.name for p in pools]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: pool names must be unique, got {names}")
    for pool in pools:
        if bool(pool.instance_families) == bool(pool.instance_types):
            raise ValueError(f"{where}: pool {pool.name!r} needs exactly one of instance_families or instance_types")
        problems = [gpu_family_problem(f) for f in pool.instance_families] + [
            gpu_type_problem(t) for t in pool.instance_types
        ]
        if problem := next((p for p in problems if p), None):
            raise ValueError(f"{where}: pool {pool.name!r}: {problem}")
        if len(architectures(pool.families)) > 1:
            raise ValueError(f"{where}: pool {pool.name!r} mixes arm64 and amd64 GPU families {list(pool.families)}")
        if pool.max_gpus < 1:
            raise ValueError(f"{where}: pool {pool.name!r}: max_gpus={pool.max_gpus} must be at least 1")
        if not pool.capacity_types:
            raise ValueError(f"{where}: pool {pool.name!r}: capacity_types needs spot and/or on-demand")
        if pool.efa and (set(pool.families) - EFA_FAMILIES or len(pool.zones) != 1):
            raise ValueError(
                f"{where}: EFA pool {pool.name!r} needs families among {sorted(EFA_FAMILIES)} and exactly "
                "one zone (a cluster placement group lives in one AZ)"
            )


def node_class(
    *,
    role: pulumi.Input[str],
    discovery_tag: str,
    kms_key_arn: pulumi.Input[str],
    root_volume_gib: int,
    ami_alias: str,
    placement_group: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """EC2NodeClass spec: AL2023 (NVIDIA variant for GPU types), IMDSv2 only with hop limit 1, an encrypted gp3
    root volume with the env key, subnets and security group found by the discovery tag."""
    spec: dict[str, Any] = {
        "role": role,
        "amiSelectorTerms": [{"alias": ami_alias}],
        "subnetSelectorTerms": [{"tags": {DISCOVERY_TAG: discovery_tag}}],
        "securityGroupSelectorTerms": [{"tags": {DISCOVERY_TAG: discovery_tag}}],
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",
                "rootVolume": True,
                "ebs": {
                    "volumeSize": f"{root_volume_gib}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "kmsKeyID": kms_key_arn,
                    "deleteOnTermination": True,
                },
            }
        ],
        "detailedMonitoring": False,
    }
    if placement_group is not None:
        spec["placementGroupSelector"] = {"name": placement_group}
    return spec


def node_pool(pool: GpuPool, class_name: str) -> dict[str, Any]:
    """NodePool spec: the pool's GPU instances, tainted, limited in GPUs, consolidated when empty or
    underutilized so idle GPU capacity goes to zero."""
    requirements = [
        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": list(pool.families)},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [c.value for c in pool.capacity_types]},
        {"key": "kubernetes.io/arch", "operator": "In", "values": architectures(pool.families)},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
    ]
    if pool.instance_types:
        requirements.insert(
            1, {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": list(pool.instance_types)}
        )
    if pool.zones:
        requirements.append({"key": "topology.kubernetes.io/zone", "operator": "In", "values": list(pool.zones)})
    return {
        "template": {
            "metadata": {"labels": {POOL_LABEL: pool.name}},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": class_name},
                "requirements": requirements,
                "taints": [GPU_TAINT],
                "expireAfter": pool.expire_after,
            },
        },
        "limits": {GPU_RESOURCE: str(pool.max_gpus)},
        "disruption": {
            "consolidationPolicy": "WhenEmptyOrUnderutilized",
            "consolidateAfter": pool.consolidate_after,
            "budgets": [{"nodes": "10%"}],
        },
    }


def karpenter_values(args: GpuCapacityArgs, queue_name: pulumi.Input[str]) -> dict[str, Any]:
    """Helm values of the Karpenter chart."""
    replicas = args.get("controller_replicas", 2)
    return {
        "replicas": replicas,
        "serviceAccount": {"name": KARPENTER_SERVICE_ACCOUNT},
        "settings": {
            "clusterName": args["cluster_name"],
            "clusterEndpoint": args["cluster_endpoint"],
            "interruptionQueue": queue_name,
        },
        # Region from the environment: nodes' IMDS hop limit is 1, so pods can't ask IMDS.
        "controller": {
            "env": [{"name": "AWS_REGION", "value": args["region"]}],
            "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
        },
        # Never on the nodes it manages: it would consolidate itself away.
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}]},
                    ]
                }
            }
        },
    }


def device_plugin_values() -> dict[str, Any]:
    """Helm values of the NVIDIA device plugin: on Karpenter's NVIDIA nodes only, tolerating their taint.

    The chart's default affinity expects Node Feature Discovery labels, which this cluster doesn't run; the
    label Karpenter puts on every node with NVIDIA GPUs is used instead.
    """
    return {
        "tolerations": [GPU_TOLERATION, {"key": "CriticalAddonsOnly", "operator": "Exists"}],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "karpenter.k8s.aws/instance-gpu-manufacturer",
                                    "operator": "In",
                                    "values": ["nvidia"],
                                },
                            ]
                        },
                    ]
                }
            }
        },
        "priorityClassName": "system-node-critical",
    }
