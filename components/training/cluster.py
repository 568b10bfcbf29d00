"""The EKS control plane of the GPU training platform, its system node group, add-ons and access entries.

Built from pulumi-aws primitives (no remote components) so tests and policies see every resource. The
Kubernetes provider it exposes is built from the cluster's own outputs and authenticates with
`aws eks get-token`, so no static credential ever lands in the state.
"""

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .. import _iam
from .._validation import check_args
from .instance_types import ec2_instance_types

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
"""Every EKS control-plane log type; all are shipped to CloudWatch Logs."""

MANAGED_POLICY = "arn:aws:iam::aws:policy/"
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")


def node_role(
    prefix: str,
    *,
    physical_name: str,
    description: str,
    boundary_arn: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """An EC2 node role with the EKS worker policies: `<prefix>-role` and `<prefix>-<policy>` attachments."""
    role = aws.iam.Role(
        f"{prefix}-role",
        name=physical_name,
        description=description,
        permissions_boundary=boundary_arn,
        assume_role_policy=_iam.render(
            [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
        ),
        opts=opts,
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{prefix}-{policy}", role=role.name, policy_arn=f"{MANAGED_POLICY}{policy}", opts=opts
        )
        for policy in NODE_POLICIES
    ]
    return role, attachments


"""AWS managed policies every worker node role carries (join, pod networking, image pulls). No SSM access:
nodes are not meant to be shelled into."""

KMS_EBS_ACTIONS = [
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey",
]  # fmt: skip
"""What a principal launching or attaching EBS volumes encrypted with a customer key needs on that key."""


class AccessPolicy(StrEnum):
    """EKS access policies (the access-entry API's managed Kubernetes permissions)."""

    CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"
    """cluster-admin: everything, cluster-wide."""
    ADMIN = "AmazonEKSAdminPolicy"
    """admin: most resources, including RBAC within namespaces."""
    ADMIN_VIEW = "AmazonEKSAdminViewPolicy"
    """Read everything, Secrets included."""
    EDIT = "AmazonEKSEditPolicy"
    """edit: create and change most namespaced resources, no RBAC."""
    VIEW = "AmazonEKSViewPolicy"
    """view: read most namespaced resources, not Secrets."""

    @property
    def arn(self) -> str:
        """ARN of the access policy."""
        return f"arn:aws:eks::aws:cluster-access-policy/{self.value}"


@dataclass(frozen=True)
class PolicyGrant:
    """One access policy, cluster-wide or limited to namespaces."""

    policy: AccessPolicy
    """The EKS access policy."""
    namespaces: Sequence[str] = ()
    """Namespaces the policy applies in; empty means the whole cluster."""


@dataclass(frozen=True)
class ClusterAccess:
    """An IAM principal's access entry: Kubernetes groups (for RBAC bindings) and EKS access policies."""

    key: str
    """Short stable name of the entry, used in resource names (e.g. `ml-engineer`)."""
    principal_arn: pulumi.Input[str]
    """IAM role ARN that authenticates to the cluster."""
    grants: Sequence[PolicyGrant] = ()
    """Access policies associated with the principal."""
    kubernetes_groups: Sequence[str] = ()
    """Kubernetes groups the principal is mapped to (bound by Roles/ClusterRoles elsewhere)."""


@dataclass(frozen=True)
class SystemNodes:
    """The small on-demand managed node group running cluster add-ons and controllers."""

    instance_types: Sequence[str] = ("m6i.large",)
    """EC2 instance types of the group (one architecture)."""
    min_size: int = 2
    """Fewest nodes."""
    desired_size: int = 2
    """Nodes at creation."""
    max_size: int = 3
    """Most nodes."""
    disk_size_gib: int = 50
    """Root volume size of each node, GiB."""
    metadata_hop_limit: int = 1
    """IMDS PUT response hop limit; 1 keeps pods (not on the host network) away from the node's role."""


class TrainingClusterArgs(TypedDict):
    """Arguments of `TrainingCluster`."""

    cluster_name: str
    """Physical name of the EKS cluster; also the prefix of its IAM role names."""
    kubernetes_version: str
    """Kubernetes minor version, e.g. `1.35`."""
    account_id: str
    """Account of the cluster (scopes trust policies)."""
    region: str
    """Region of the cluster (the kubeconfig's `aws eks get-token --region`)."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets (at least two AZs) for the control-plane ENIs and the nodes."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key for secrets envelope encryption, node EBS volumes and control-plane logs."""
    public_access_cidrs: NotRequired[Sequence[str]]
    """CIDRs allowed to reach a public API endpoint. Empty (the default) keeps the endpoint private only."""
    log_retention_days: NotRequired[int]
    """Retention of the control-plane log group. Default 90."""
    access: NotRequired[Sequence[ClusterAccess]]
    """Access entries of human and automation principals."""
    system_nodes: NotRequired[SystemNodes]
    """Size and instance types of the system node group."""
    deletion_protection: NotRequired[bool]
    """EKS refuses `DeleteCluster` and Pulumi refuses to delete or replace the cluster (`protect`) until this is
    turned off. Default True."""
    permissions_boundary_arn: NotRequired[pulumi.Input[str] | None]
    """Permission boundary of the cluster's service roles (control plane, system nodes, EBS CSI driver), e.g.
    `components.boundaries.ServiceRoleBoundary`. None leaves them unbounded."""
    support_type: NotRequired[str]
    """EKS upgrade policy, `STANDARD` (default: upgraded when standard support ends) or `EXTENDED`."""
    discovery_tag: NotRequired[str | None]
    """Tag the cluster security group `karpenter.sh/discovery=<value>` so Karpenter's nodes join it. None skips."""


class TrainingCluster(pulumi.ComponentResource):
    """An EKS cluster with a private API endpoint, KMS-encrypted secrets, every control-plane log type, the
    access-entry API (no aws-auth ConfigMap), managed add-ons (VPC CNI with network policies, CoreDNS,
    kube-proxy, Pod Identity agent, EBS CSI via Pod Identity) and an IMDSv2-only system node group."""

    cluster: aws.eks.Cluster
    """The EKS cluster."""
    name: pulumi.Output[str]
    """Cluster name."""
    arn: str
    """Cluster ARN, known before creation (for trust and key policies)."""
    endpoint: pulumi.Output[str]
    """API server URL."""
    security_group_id: pulumi.Output[str]
    """The cluster security group EKS creates; nodes join it so control plane and nodes talk freely."""
    kubeconfig: pulumi.Output[str]
    """kubeconfig (JSON) that authenticates with `aws eks get-token`; holds no credential."""
    provider: k8s.Provider
    """Kubernetes provider for this cluster; pass it explicitly to every Kubernetes resource."""
    system_node_group: aws.eks.NodeGroup
    """The system node group."""

    def __init__(self, name: str, args: TrainingClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(TrainingCluster, name, args)
        _check_cluster_args(name, args)
        super().__init__("mlops:training:TrainingCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster_name, account, region = args["cluster_name"], args["account_id"], args["region"]
        key = args["kms_key_arn"]
        self.arn = f"arn:aws:eks:{region}:{account}:cluster/{cluster_name}"

        role = aws.iam.Role(
            f"{name}-cluster-role",
            name=f"{cluster_name}-cluster",
            description=f"EKS control plane of {cluster_name}",
            permissions_boundary=args.get("permissions_boundary_arn"),
            assume_role_policy=_iam.render(
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "eks.amazonaws.com"},
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                    }
                ]
            ),
            opts=child,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy", role=role.name, policy_arn=f"{MANAGED_POLICY}AmazonEKSClusterPolicy", opts=child
        )
        secrets_key_policy = aws.iam.RolePolicy(
            f"{name}-cluster-kms",
            role=role.id,
            name="secrets-encryption",
            policy=_iam.render(
                [
                    {
                        "Sid": "EnvelopeEncryptSecrets",
                        "Effect": "Allow",
                        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
                        "Resource": key,
                    },
                    {
                        "Sid": "GrantForSecretsEncryption",
                        "Effect": "Allow",
                        "Action": "kms:CreateGrant",
                        "Resource": key,
                        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                    },
                ]
            ),
            opts=child,
        )
        # EKS writes to this exact name; creating it first gives it a retention and the env key.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{cluster_name}/cluster",
            retention_in_days=args.get("log_retention_days", 90),
            kms_key_id=key,
            opts=child,
        )
        public_cidrs = sorted(args.get("public_access_cidrs", []))
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            version=args["kubernetes_version"],
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": args["subnet_ids"],
                "endpoint_private_access": True,
                "endpoint_public_access": bool(public_cidrs),
                "public_access_cidrs": public_cidrs or None,
            },
            encryption_config={"provider": {"key_arn": key}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            # The add-ons below are EKS-managed; the unmanaged defaults would fight them.
            bootstrap_self_managed_addons=False,
            deletion_protection=args.get("deletion_protection", True),
            upgrade_policy={"support_type": args.get("support_type", "STANDARD")},
            # Replacing a cluster deletes every workload on it: with deletion protection, Pulumi refuses too.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[cluster_policy, secrets_key_policy, logs],
                protect=args.get("deletion_protection", True),
            ),
        )
        self.name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.security_group_id = self.cluster.vpc_config.cluster_security_group_id

        discovery: list[pulumi.Resource] = []
        if tag := args.get("discovery_tag"):
            # EKS creates this security group, so no other resource manages its tags.
            discovery.append(
                aws.ec2.Tag(
                    f"{name}-sg-discovery",
                    resource_id=self.security_group_id,
                    key="karpenter.sh/discovery",
                    value=tag,
                    opts=child,
                )
            )

        self._access_entries(name, args.get("access", []))
        early = self._network_addons(name)
        self.system_node_group = self._system_nodes(name, args, early)
        late = self._workload_addons(name, args)
        self.ready: list[pulumi.Resource] = [self.system_node_group, *early, *late, *discovery]

        self.kubeconfig = kubeconfig(self.cluster, region)
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, opts=child)
        k8s.storage.v1.StorageClass(
            f"{name}-gp3-encrypted",
            metadata={"name": "gp3-encrypted", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": key},
            reclaim_policy="Delete",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=late),
        )
        self.register_outputs(
            {
                "name": self.name,
                "arn": self.arn,
                "endpoint": self.endpoint,
                "security_group_id": self.security_group_id,
            }
        )

    def _access_entries(self, name: str, access: Sequence[ClusterAccess]) -> None:
        for entry in access:
            created = aws.eks.AccessEntry(
                f"{name}-access-{entry.key}",
                cluster_name=self.cluster.name,
                principal_arn=entry.principal_arn,
                type="STANDARD",
                kubernetes_groups=list(entry.kubernetes_groups) or None,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for grant in entry.grants:
                scope = (
                    {"type": "namespace", "namespaces": list(grant.namespaces)}
                    if grant.namespaces
                    else {"type": "cluster"}
                )
                aws.eks.AccessPolicyAssociation(
                    f"{name}-access-{entry.key}-{grant.policy.value.removeprefix('AmazonEKS').removesuffix('Policy').lower()}",
                    cluster_name=self.cluster.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=grant.policy.arn,
                    access_scope=scope,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[created]),
                )

    def _addon(self, name: str, addon: str, depends_on: Sequence[pulumi.Resource] = (), **extra) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{name}-addon-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
            **extra,
        )

    def _network_addons(self, name: str) -> list[aws.eks.Addon]:
        """Add-ons nodes need to become Ready; created before the node group."""
        return [
            # enableNetworkPolicy makes the VPC CNI enforce the tenants' NetworkPolicies.
            self._addon(name, "vpc-cni", configuration_values=json.dumps({"enableNetworkPolicy": "true"})),
            self._addon(name, "kube-proxy"),
            self._addon(name, "eks-pod-identity-agent"),
        ]

    def _workload_addons(self, name: str, args: TrainingClusterArgs) -> list[aws.eks.Addon]:
        """Add-ons that run as Deployments; they need nodes first."""
        ebs_role = pod_identity_role(
            self,
            f"{name}-ebs-csi",
            f"{args['cluster_name']}-ebs-csi",
            args["account_id"],
            self.arn,
            "EBS CSI driver (volume provisioning)",
            permissions_boundary=args.get("permissions_boundary_arn"),
        )
        attach = aws.iam.RolePolicyAttachment(
            f"{name}-ebs-csi-policy",
            role=ebs_role.name,
            policy_arn=f"{MANAGED_POLICY}service-role/AmazonEBSCSIDriverPolicy",
            opts=pulumi.ResourceOptions(parent=self),
        )
        kms = aws.iam.RolePolicy(
            f"{name}-ebs-csi-kms",
            role=ebs_role.id,
            name="ebs-volume-encryption",
            policy=_iam.render(ebs_key_statements(args["kms_key_arn"], args["region"])),
            opts=pulumi.ResourceOptions(parent=self),
        )
        nodes = [self.system_node_group]
        return [
            self._addon(name, "coredns", depends_on=nodes),
            self._addon(
                name,
                "aws-ebs-csi-driver",
                depends_on=[*nodes, attach, kms],
                pod_identity_associations=[{"role_arn": ebs_role.arn, "service_account": "ebs-csi-controller-sa"}],
            ),
        ]

    def _system_nodes(
        self, name: str, args: TrainingClusterArgs, early: Sequence[pulumi.Resource]
    ) -> aws.eks.NodeGroup:
        spec = args.get("system_nodes", SystemNodes())
        child = pulumi.ResourceOptions(parent=self)
        role, attachments = node_role(
            f"{name}-system-node",
            physical_name=f"{args['cluster_name']}-system-node",
            description=f"System nodes of {args['cluster_name']}",
            boundary_arn=args.get("permissions_boundary_arn"),
            opts=child,
        )
        template = aws.ec2.LaunchTemplate(
            f"{name}-system-nodes",
            description=f"System nodes of {args['cluster_name']}: IMDSv2 only, encrypted gp3 root volume",
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": spec.metadata_hop_limit,
            },
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": spec.disk_size_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "kms_key_id": args["kms_key_arn"],
                        "delete_on_termination": "true",
                    },
                }
            ],
            update_default_version=True,
            opts=child,
        )
        return aws.eks.NodeGroup(
            f"{name}-system",
            cluster_name=self.cluster.name,
            node_group_name="system",
            node_role_arn=role.arn,
            subnet_ids=args["subnet_ids"],
            capacity_type="ON_DEMAND",
            ami_type="AL2023_ARM_64_STANDARD" if _is_graviton(spec.instance_types) else "AL2023_x86_64_STANDARD",
            instance_types=list(spec.instance_types),
            scaling_config={"min_size": spec.min_size, "desired_size": spec.desired_size, "max_size": spec.max_size},
            update_config={"max_unavailable": 1},
            # EKS replaces system nodes that turn unhealthy (kubelet, networking), so add-ons keep a home.
            node_repair_config={"enabled": True},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels={"mlops.platform/node-role": "system"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, *early]),
        )


_GRAVITON_FAMILY = re.compile(r"^[a-z]+\d+g[a-z]*$")
"""Graviton (arm64) families carry a `g` right after the generation digit: m7g, c6gn, r6gd, t4g."""


def _is_graviton(instance_types: Sequence[str]) -> bool:
    return all(_GRAVITON_FAMILY.match(t.split(".", 1)[0]) for t in instance_types)


def _check_cluster_args(name: str, args: TrainingClusterArgs) -> None:
    where = f"TrainingCluster {name!r}"
    for cidr in args.get("public_access_cidrs", []):
        network = ipaddress.ip_network(cidr, strict=False)
        if network.prefixlen == 0:
            raise ValueError(
                f"{where}: public_access_cidrs contains {cidr!r}; the API endpoint is never open to "
                "the whole internet, list the networks that need it"
            )
    spec = args.get("system_nodes", SystemNodes())
    if not 1 <= spec.min_size <= spec.desired_size <= spec.max_size:
        raise ValueError(
            f"{where}: system_nodes sizes must satisfy 1 <= min_size <= desired_size <= max_size, got "
            f"{spec.min_size}/{spec.desired_size}/{spec.max_size}"
        )
    unknown = sorted(set(spec.instance_types) - ec2_instance_types())
    if unknown or not spec.instance_types:
        raise ValueError(f"{where}: system_nodes.instance_types {unknown or '[]'} are not EC2 instance types")
    if len({_is_graviton([t]) for t in spec.instance_types}) > 1:
        raise ValueError(
            f"{where}: system_nodes.instance_types {list(spec.instance_types)} mix arm64 and x86_64; "
            "a node group has one AMI type"
        )
    if args.get("support_type", "STANDARD") not in ("STANDARD", "EXTENDED"):
        raise ValueError(f"{where}: support_type={args.get('support_type')!r} must be STANDARD or EXTENDED")
    if spec.metadata_hop_limit not in (1, 2):
        raise ValueError(f"{where}: system_nodes.metadata_hop_limit={spec.metadata_hop_limit} must be 1 or 2")
    if len({entry.key for entry in args.get("access", [])}) != len(args.get("access", [])):
        raise ValueError(f"{where}: access entry keys must be unique")


def pod_identity_trust(
    account_id: str, cluster_arn: str, namespace: str | None = None, service_account: str | None = None
) -> list[_iam.Statement]:
    """Trust for EKS Pod Identity from one cluster, optionally pinned to a namespace and service account
    through the session tags the Pod Identity agent sets."""
    condition: dict = {"StringEquals": {"aws:SourceAccount": account_id}, "ArnEquals": {"aws:SourceArn": cluster_arn}}
    if namespace:
        condition["StringEquals"]["aws:RequestTag/kubernetes-namespace"] = namespace
    if service_account:
        condition["StringEquals"]["aws:RequestTag/kubernetes-service-account"] = service_account
    return [
        {
            "Sid": "AssumeByEksPodIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": condition,
        }
    ]


def pod_identity_role(
    parent: pulumi.Resource,
    resource_name: str,
    role_name: str,
    account_id: str,
    cluster_arn: str,
    purpose: str,
    namespace: str | None = None,
    service_account: str | None = None,
    permissions_boundary: pulumi.Input[str] | None = None,
) -> aws.iam.Role:
    """An IAM role assumable only through EKS Pod Identity from `cluster_arn`."""
    return aws.iam.Role(
        resource_name,
        name=role_name,
        description=f"{purpose}, via EKS Pod Identity",
        assume_role_policy=_iam.render(pod_identity_trust(account_id, cluster_arn, namespace, service_account)),
        permissions_boundary=permissions_boundary,
        max_session_duration=3600,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def ebs_key_statements(key_arn: pulumi.Input[str], region: str) -> list[_iam.Statement]:
    """Use of the env key by a principal that creates or attaches EBS volumes, only through EC2."""
    return [
        {
            "Sid": "UseKeyForEbs",
            "Effect": "Allow",
            "Action": KMS_EBS_ACTIONS,
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"}},
        },
        {
            "Sid": "GrantKeyToEbs",
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": key_arn,
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


def kubeconfig(cluster: aws.eks.Cluster, region: str) -> pulumi.Output[str]:
    """A kubeconfig for `cluster` whose user runs `aws eks get-token` (short-lived tokens, nothing stored)."""
    return pulumi.Output.json_dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster.name,
                    "cluster": {
                        "server": cluster.endpoint,
                        "certificate-authority-data": cluster.certificate_authority.data,
                    },
                }
            ],
            "contexts": [{"name": cluster.name, "context": {"cluster": cluster.name, "user": cluster.name}}],
            "current-context": cluster.name,
            "users": [
                {
                    "name": cluster.name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster.name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )


__all__ = [
    "CONTROL_PLANE_LOG_TYPES",
    "AccessPolicy",
    "ClusterAccess",
    "PolicyGrant",
    "SystemNodes",
    "TrainingCluster",
    "TrainingClusterArgs",
    "ebs_key_statements",
    "kubeconfig",
    "pod_identity_role",
    "pod_identity_trust",
]
