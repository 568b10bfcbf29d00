"""Governance: the data lake's features as a SageMaker feature store (offline store in Iceberg on the
features bucket, KMS-encrypted), an audit trail recording management events and the lake's object events to
an encrypted audit bucket with CIS alarms on the alert topic, and cross-region replicas of the raw and
artifacts buckets under their own key in the disaster-recovery region.

The data-service boundary caps the feature store's and the replication role; the service-role boundary caps
CloudTrail's log-delivery role. Run under Pulumi or `tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components.audit import AuditTrail, cloudtrail_key_statements
from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.components.data_boundary import DataServiceBoundary
from mlops_platform.components.encryption import EncryptionKey
from mlops_platform.components.features import Feature, FeatureGroupSpec, FeatureStore, FeatureType
from mlops_platform.components.replication import CrossRegionReplication, ReplicatedBucket
from mlops_platform.components.storage import DataLake

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
DR_REGION = "eu-central-1"
PREFIX = "fraud-dev"
KEY_ADMIN = f"arn:aws:iam::{ACCOUNT_ID}:role/platform-key-admin"
TAGS = {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}

provider = aws.Provider("aws", region=REGION, allowed_account_ids=[ACCOUNT_ID], default_tags={"tags": TAGS})
dr_provider = aws.Provider("aws-dr", region=DR_REGION, allowed_account_ids=[ACCOUNT_ID], default_tags={"tags": TAGS})
opts = pulumi.ResourceOptions(providers=[provider])

key = EncryptionKey(
    "data-key",
    {
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "administrator_role_arns": [KEY_ADMIN],
        "service_principals": [f"logs.{REGION}.amazonaws.com"],
        "extra_policy_statements": cloudtrail_key_statements(REGION, ACCOUNT_ID, PREFIX),
        "alias": f"{PREFIX}-data",
    },
    opts,
)
lake = DataLake("lake", {"kms_key_arn": key.arn, "account_id": ACCOUNT_ID, "name_prefix": PREFIX}, opts)
data_boundary = DataServiceBoundary(
    "data-boundary",
    {
        "account_id": ACCOUNT_ID,
        "name_prefix": PREFIX,
        "environment": "dev",
        "regions": [REGION, DR_REGION],
        "glue_database": f"{PREFIX.replace('-', '_')}_features",
    },
    opts,
)
service_boundary = ServiceRoleBoundary(
    "service-boundary", {"account_id": ACCOUNT_ID, "region": REGION, "name_prefix": PREFIX}, opts
)

features = FeatureStore(
    "features",
    {
        "name_prefix": PREFIX,
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "kms_key_arn": key.arn,
        "features_bucket_name": lake.bucket_names["features"],
        "features_bucket_arn": lake.bucket_arns["features"],
        "permissions_boundary_arn": data_boundary.arn,
        "groups": [
            FeatureGroupSpec(
                name="card-activity",
                record_identifier="card_id",
                event_time="event_time",
                features=[
                    Feature("card_id", FeatureType.STRING),
                    Feature("event_time", FeatureType.STRING),
                    Feature("transactions_24h", FeatureType.INTEGRAL),
                    Feature("spend_24h_eur", FeatureType.FRACTIONAL),
                ],
                description="Per-card spending over the last 24 hours",
            )
        ],
    },
    opts,
)
audit = AuditTrail(
    "audit",
    {
        "name_prefix": PREFIX,
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "kms_key_arn": key.arn,
        "access_log_bucket": lake.log_bucket_name,
        "data_bucket_arns": list(lake.bucket_arns.values()),
        "logs_role_boundary_arn": service_boundary.arn,
        "alert_topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{PREFIX}-alerts",
    },
    opts,
)
replication = CrossRegionReplication(
    "dr",
    {
        "name_prefix": PREFIX,
        "account_id": ACCOUNT_ID,
        "source_region": REGION,
        "replica_region": DR_REGION,
        "replica_provider": dr_provider,
        "source_kms_key_arn": key.arn,
        "sources": [
            ReplicatedBucket(zone, lake.bucket_names[zone], lake.bucket_arns[zone]) for zone in ("raw", "artifacts")
        ],
        "permissions_boundary_arn": data_boundary.arn,
        "administrator_role_arns": [KEY_ADMIN],
    },
    opts,
)

pulumi.export("feature_groups", list(features.groups))
pulumi.export("audit_bucket", audit.bucket.name)
pulumi.export("replica_buckets", {zone: bucket.name for zone, bucket in replication.replicas.items()})
