"""Access: a SageMaker execution role capped by the service-role boundary, the data-service boundary for
roles that move data-lake objects, and the persona roles (data scientist, ML engineer, model approver, CI)
with their shared permission boundary.

The execution role trusts only SageMaker acting for this account (aws:SourceAccount) and holds only the
statements given; an `Allow` of `*` is refused. Run under Pulumi or `tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components.access import GitHubTrust, Persona, PersonaRoles
from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.components.data_boundary import DataServiceBoundary
from mlops_platform.components.roles import ExecutionRole

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
PREFIX = "fraud-dev"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
BUCKETS = {zone: f"arn:aws:s3:::{PREFIX}-{zone}" for zone in ("raw", "curated", "features", "artifacts")}

provider = aws.Provider(
    "aws",
    region=REGION,
    allowed_account_ids=[ACCOUNT_ID],
    default_tags={"tags": {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}},
)
opts = pulumi.ResourceOptions(providers=[provider])

service_boundary = ServiceRoleBoundary(
    "service-boundary", {"account_id": ACCOUNT_ID, "region": REGION, "name_prefix": PREFIX}, opts
)
data_boundary = DataServiceBoundary(
    "data-boundary",
    {"account_id": ACCOUNT_ID, "name_prefix": PREFIX, "environment": "dev", "regions": [REGION]},
    opts,
)
processing = ExecutionRole(
    "feature-processing",
    {
        "service": "sagemaker.amazonaws.com",
        "account_id": ACCOUNT_ID,
        "role_name": f"{PREFIX}-feature-processing",
        "permissions_boundary_arn": service_boundary.arn,
        "description": "SageMaker Processing jobs turning raw events into features",
        "statements": [
            {
                "Sid": "ReadRawWriteFeatures",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": [f"{BUCKETS['raw']}/events/*", f"{BUCKETS['features']}/fraud/*"],
            },
            {
                "Sid": "UseDataKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": KEY_ARN,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            },
        ],
    },
    opts,
)
# Kept minimal: one IAM Identity Center role per human persona, CI trusted from the main branch only.
personas = PersonaRoles(
    "personas",
    {
        "name_prefix": PREFIX,
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "kms_key_arn": KEY_ARN,
        "bucket_arns": BUCKETS,
        "principal_arns": {
            Persona.DATA_SCIENTIST: [f"arn:aws:iam::{ACCOUNT_ID}:role/AWSReservedSSO_DataScientist_0a1b2c3d4e5f6a7b"],
            Persona.ML_ENGINEER: [f"arn:aws:iam::{ACCOUNT_ID}:role/AWSReservedSSO_MLEngineer_1b2c3d4e5f6a7b8c"],
            Persona.MODEL_APPROVER: [f"arn:aws:iam::{ACCOUNT_ID}:role/AWSReservedSSO_ModelApprover_2c3d4e5f6a7b8c9d"],
        },
        "github": GitHubTrust(subject="repo:example-org/fraud-models:environment:dev"),
    },
    opts,
)

pulumi.export("processing_role_arn", processing.arn)
pulumi.export("persona_role_names", {persona: role.name for persona, role in personas.roles.items()})
