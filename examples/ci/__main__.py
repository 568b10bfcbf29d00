"""CI: a self-hosted GitHub Actions runner on AWS CodeBuild. Queued jobs of the named workflows start a
runner in the VPC's private subnets (no ingress, HTTPS egress); its role is capped by the service-role
boundary and its artifacts, cache and logs are encrypted with the env key. A job selects it with
`runs-on: codebuild-fraud-dev-runner-${{ github.run_id }}-${{ github.run_attempt }}`.

Run under Pulumi or `tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.components.ci_runner import GitHubRunner

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"

provider = aws.Provider(
    "aws",
    region=REGION,
    allowed_account_ids=[ACCOUNT_ID],
    default_tags={"tags": {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}},
)
opts = pulumi.ResourceOptions(providers=[provider])

boundary = ServiceRoleBoundary(
    "service-boundary", {"account_id": ACCOUNT_ID, "region": REGION, "name_prefix": "fraud-dev"}, opts
)
runner = GitHubRunner(
    "runner",
    {
        "project_name": "fraud-dev-runner",
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "repository": "example-org/fraud-models",
        "connection_arn": (
            f"arn:aws:codeconnections:{REGION}:{ACCOUNT_ID}:connection/7d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"
        ),
        "vpc_id": "vpc-0a1b2c3d4e5f67890",
        "subnet_ids": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        "permissions_boundary_arn": boundary.arn,
        "workflows": ["deploy", "drift"],
    },
    opts,
)

pulumi.export("runs_on", runner.label)
