"""Network: a three-AZ VPC whose private subnets reach AWS through VPC endpoints (S3 gateway, SageMaker, ECR,
STS, ...) and the internet only through one NAT gateway per AZ; flow logs go to a KMS-encrypted log group.

No security group allows ingress from 0.0.0.0/0. Run under Pulumi or `tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components.network import NatGateways, Network

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"

provider = aws.Provider(
    "aws",
    region=REGION,
    allowed_account_ids=[ACCOUNT_ID],
    default_tags={"tags": {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}},
)

network = Network(
    "fraud-net",
    {
        "cidr_block": "10.42.0.0/16",
        "availability_zones": [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
        "region": REGION,
        "flow_log_kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        "flow_log_retention_days": 90,
        "nat_gateways": NatGateways.PER_AZ,
    },
    pulumi.ResourceOptions(providers=[provider]),
)

pulumi.export("vpc_id", network.vpc_id)
pulumi.export("private_subnet_ids", network.private_subnet_ids)
