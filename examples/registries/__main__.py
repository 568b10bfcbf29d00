"""Registries: an ECR repository for training images (immutable tags, scan on push, KMS, CI pushes and the
training and inference roles pull), a SageMaker model package group shared read-only with the prod account,
and a SageMaker MLflow tracking server storing artifacts under `mlflow/` of the artifacts bucket.

Run under Pulumi or `tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components.registry import (
    ContainerRepository,
    ExperimentTracking,
    ModelPackageGroup,
    TrackingServerSize,
)

ACCOUNT_ID = "123456789012"
PROD_ACCOUNT_ID = "210987654321"
REGION = "eu-west-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"

provider = aws.Provider(
    "aws",
    region=REGION,
    allowed_account_ids=[ACCOUNT_ID],
    default_tags={"tags": {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}},
)
opts = pulumi.ResourceOptions(providers=[provider])

images = ContainerRepository(
    "training-images",
    {
        "repository_name": "fraud-dev/xgboost-training",
        "kms_key_arn": KEY_ARN,
        "push_principal_arns": [f"arn:aws:iam::{ACCOUNT_ID}:role/fraud-dev-ci-deployer"],
        "pull_principal_arns": [
            f"arn:aws:iam::{ACCOUNT_ID}:role/fraud-dev-training",
            f"arn:aws:iam::{ACCOUNT_ID}:role/fraud-dev-inference",
        ],
    },
    opts,
)
models = ModelPackageGroup(
    "fraud-models",
    {
        "group_name": "fraud-dev-xgboost",
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "share_with_accounts": [PROD_ACCOUNT_ID],  # prod deploys approved versions; it may only read them
    },
    opts,
)
tracking = ExperimentTracking(
    "mlflow",
    {
        "name_prefix": "fraud-dev",
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "artifacts_bucket_name": "fraud-dev-artifacts-7f3c2a",
        "artifacts_bucket_arn": "arn:aws:s3:::fraud-dev-artifacts-7f3c2a",
        "kms_key_arn": KEY_ARN,
        "size": TrackingServerSize.SMALL,
    },
    opts,
)

pulumi.export("repository_url", images.repository_url)
pulumi.export("model_package_group", models.group_name)
