"""GPU training (needs the `kubernetes` extra: `pip install "mlops-platform[kubernetes]"`): a private VPC and EKS
cluster (API endpoint reachable only from the VPC, secrets envelope-encrypted with the env key, every
control-plane log type on, IMDSv2-only system nodes), Karpenter node pools for spot/on-demand g5/g6 and EFA
p5 GPU nodes with encrypted root volumes, and two team namespaces fenced by quota, default-deny network
policies, RBAC and Kueue queues, each team's pods reaching only its own prefixes of the data lake.

Every Kubernetes resource goes to the cluster's own provider (`cluster.provider`). Run under Pulumi or
`tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.components.network import NatGateways, Network
from mlops_platform.components.tenancy import Team, Tenancy
from mlops_platform.components.training import (
    AccessPolicy,
    CapacityType,
    ClusterAccess,
    GpuCapacity,
    GpuPool,
    PolicyGrant,
    TrainingCluster,
)

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
PREFIX = "fraud-dev"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
BUCKETS = {zone: f"arn:aws:s3:::{PREFIX}-{zone}-4c1e9a" for zone in ("raw", "curated", "features", "artifacts")}
VPC_CIDR = "10.42.0.0/16"
ML_ENGINEER = f"arn:aws:iam::{ACCOUNT_ID}:role/{PREFIX}-ml-engineer"

provider = aws.Provider(
    "aws",
    region=REGION,
    allowed_account_ids=[ACCOUNT_ID],
    default_tags={"tags": {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}},
)
opts = pulumi.ResourceOptions(providers=[provider])

boundary = ServiceRoleBoundary(
    "service-boundary", {"account_id": ACCOUNT_ID, "region": REGION, "name_prefix": PREFIX}, opts
)
network = Network(
    "training-net",
    {
        "cidr_block": VPC_CIDR,
        "availability_zones": [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
        "region": REGION,
        "flow_log_kms_key_arn": KEY_ARN,
        "flow_log_retention_days": 90,
        "nat_gateways": NatGateways.SINGLE,  # dev; PER_AZ in prod
        "discovery_tag": PREFIX,  # Karpenter launches GPU nodes into the tagged private subnets
    },
    opts,
)
cluster = TrainingCluster(
    "training",
    {
        "cluster_name": f"{PREFIX}-training",
        "kubernetes_version": "1.33",
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "subnet_ids": network.private_subnet_ids,
        "kms_key_arn": KEY_ARN,
        "discovery_tag": PREFIX,
        "permissions_boundary_arn": boundary.arn,
        "access": [
            ClusterAccess(
                "ml-engineer",
                ML_ENGINEER,
                (PolicyGrant(AccessPolicy.ADMIN_VIEW), PolicyGrant(AccessPolicy.EDIT, ("scoring", "research"))),
            )
        ],
    },
    opts,
)
capacity = GpuCapacity(
    "gpu",
    {
        "cluster_name": cluster.name,
        "cluster_arn": cluster.arn,
        "cluster_endpoint": cluster.endpoint,
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "kms_key_arn": KEY_ARN,
        "discovery_tag": PREFIX,
        "k8s_provider": cluster.provider,
        "permissions_boundary_arn": boundary.arn,
        "depends_on": [cluster.system_node_group],
        "controller_replicas": 1,  # dev; 2 (the default) for HA
        "pools": [
            GpuPool(
                "small",
                16,
                instance_families=("g5", "g6"),
                capacity_types=(CapacityType.SPOT, CapacityType.ON_DEMAND),
            ),
            GpuPool("large", 16, instance_types=("p5.48xlarge",), efa=True, zones=(f"{REGION}a",)),
        ],
    },
    opts,
)
tenancy = Tenancy(
    "tenancy",
    {
        "cluster_name": cluster.name,
        "cluster_arn": cluster.arn,
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "name_prefix": PREFIX,
        "k8s_provider": cluster.provider,
        "kms_key_arn": KEY_ARN,
        "bucket_arns": BUCKETS,
        "vpc_cidr": VPC_CIDR,
        "s3_cidr_blocks": network.s3_cidr_blocks,  # pods reach S3 through the VPC's gateway endpoint
        "gpu_pools": ["small", "large"],
        "depends_on": [cluster.system_node_group],
        "teams": [
            Team("scoring", "small", 8, "64", "512Gi", borrowing_limit_gpus=4, member_role_arns=(ML_ENGINEER,)),
            Team("research", "large", 8, "96", "1024Gi", s3_prefix="research/fraud/"),
        ],
    },
    opts,
)

pulumi.export("cluster_name", cluster.name)
pulumi.export("team_role_arns", {team: role.arn for team, role in tenancy.roles.items()})
