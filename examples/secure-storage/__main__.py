"""Secure storage: a customer-managed KMS key, a server-access-log bucket (`log_target`), an encrypted data
bucket logging into it, and a four-zone data lake (raw, curated, features, artifacts) on the same key.

Every bucket blocks public access, is versioned, refuses non-TLS requests and (except the log bucket, which
S3 server access logging requires on SSE-S3) encrypts with the key. Run under Pulumi or `tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components.encryption import EncryptionKey
from mlops_platform.components.storage import DataLake, SecureBucket

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"

# An explicit provider: the region is pinned and every resource carries the team's tags.
provider = aws.Provider(
    "aws",
    region=REGION,
    allowed_account_ids=[ACCOUNT_ID],
    default_tags={"tags": {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}},
)
opts = pulumi.ResourceOptions(providers=[provider])

key = EncryptionKey(
    "fraud-data-key",
    {
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "administrator_role_arns": [f"arn:aws:iam::{ACCOUNT_ID}:role/platform-key-admin"],
        "user_role_arns": [f"arn:aws:iam::{ACCOUNT_ID}:role/fraud-training"],
        "description": "Fraud-detection team data (dev)",
        "alias": "fraud-detection-dev-data",
    },
    opts,
)
logs = SecureBucket(
    "fraud-access-logs",
    {
        "log_target": True,
        "log_source_account_id": ACCOUNT_ID,
        "access_logging": False,  # a log bucket does not log into itself
        "bucket_prefix": "fraud-dev-access-logs-",
        "expiration_days": 365,
    },
    opts,
)
features = SecureBucket(
    "fraud-features",
    {
        "kms_key_arn": key.arn,
        "access_log_bucket": logs.name,
        "bucket_prefix": "fraud-dev-features-",
        "noncurrent_version_expiration_days": 30,
    },
    pulumi.ResourceOptions(providers=[provider], protect=True, retain_on_delete=True),
)
lake = DataLake(
    "fraud-lake",
    {"kms_key_arn": key.arn, "account_id": ACCOUNT_ID, "name_prefix": "fraud-dev"},
    opts,
)

pulumi.export("key_arn", key.arn)
pulumi.export("features_bucket", features.name)
pulumi.export("lake_buckets", lake.bucket_names)
