"""Training pipeline: the project's checked-in train-evaluate-register template (data validation, training,
evaluation, quality and bias checks, registration as PendingManualApproval) as a SageMaker pipeline whose jobs
run in private subnets behind a job security group (no ingress from outside it, HTTPS egress only), encrypted
with the env key; started weekly, and again when a batch of raw data lands (S3 events through EventBridge).
Approval decisions on the model package group are announced on the alert topic.

Run under Pulumi or `tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.components.pipelines import JobSecurityGroup, ModelApprovalNotifications, TrainingPipeline
from mlops_platform.components.retraining import NewDataTrigger, PipelineRetraining, RawDataEvents
from mlops_platform.pipelines.template import KINDS, source_archive_base64, source_hash

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
PREFIX = "fraud-dev"
PIPELINE = f"{PREFIX}-card-fraud"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
REGISTRY = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"
RAW_BUCKET = "fraud-dev-raw-4c1e9a"
MODEL_GROUP = "fraud-dev-card-fraud"

provider = aws.Provider(
    "aws",
    region=REGION,
    allowed_account_ids=[ACCOUNT_ID],
    default_tags={"tags": {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}},
)
opts = pulumi.ResourceOptions(providers=[provider])

jobs_sg = JobSecurityGroup(
    "pipeline-jobs",
    {"vpc_id": "vpc-0a1b2c3d4e5f67890", "vpc_cidr": "10.42.0.0/16", "s3_prefix_list_id": "pl-6da54004"},
    opts,
)

kind = KINDS["train-evaluate-register"]
scripts = kind.scripts()
pipeline = TrainingPipeline(
    "card-fraud",
    {
        "pipeline_name": PIPELINE,
        "template": kind.template("ebs"),
        "assets": kind.assets(),
        "scripts": scripts,
        "source_archive_base64": source_archive_base64(scripts),
        "source_hash": source_hash(scripts),
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "role_name": f"{PREFIX}-pipeline-card-fraud",
        "execution_role_arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{PREFIX}-training",
        "kms_key_arn": KEY_ARN,
        "raw_bucket": RAW_BUCKET,
        "curated_bucket": "fraud-dev-curated-4c1e9a",
        "artifacts_bucket": "fraud-dev-artifacts-4c1e9a",
        "subnet_ids": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        "security_group_ids": [jobs_sg.id],
        "model_package_group_name": MODEL_GROUP,
        "images": {
            "processing": f"{REGISTRY}/{PREFIX}/xgboost-training:1.7-3",
            "training": f"{REGISTRY}/{PREFIX}/xgboost-training:1.7-3",
            "inference": f"{REGISTRY}/{PREFIX}/xgboost-serving:1.7-3",
        },
        "config_files": {"bias-constraints.json": {"version": "1.0"}},
        "parameters": {
            "processing_instance_type": "ml.m5.xlarge",
            "training_instance_type": "ml.m5.2xlarge",
            "metric": "auc",
            "metric_threshold": 0.85,
            "target_column": "is_fraud",
            "skip_drift_checks": False,
            "bias_facet": "card_present",
            "bias_facet_values": [0],
            "max_mean_shift": 3.0,
            "max_missing_increase": 0.1,
        },
        "schedule_expression": "cron(0 3 ? * MON *)",
        "schedule_timezone": "Europe/Dublin",
        "description": "Card-fraud XGBoost: validate, train, evaluate, check, register",
    },
    opts,
)
# EventBridge's role may only start this pipeline (its policy); the boundary caps it at SageMaker whatever is
# attached later.
retraining_boundary = ServiceRoleBoundary(
    "retraining-boundary",
    {"account_id": ACCOUNT_ID, "region": REGION, "name_prefix": f"{PREFIX}-retraining", "services": ["sagemaker"]},
    opts,
)
raw_events = RawDataEvents("raw-events", {"bucket_name": RAW_BUCKET}, opts)
retraining = PipelineRetraining(
    "card-fraud-retraining",
    {
        "pipeline_name": PIPELINE,
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "role_name": f"{PREFIX}-pipeline-card-fraud-retrain",
        "permissions_boundary_arn": retraining_boundary.arn,
        "new_data": NewDataTrigger(RAW_BUCKET, f"{PIPELINE}/"),
        "drift_schedule_arns": [],
    },
    pulumi.ResourceOptions(providers=[provider], depends_on=[raw_events, pipeline]),
)
approvals = ModelApprovalNotifications(
    "approvals",
    {
        "rule_name": f"{PIPELINE}-model-approvals",
        "model_package_group_name": MODEL_GROUP,
        "topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{PREFIX}-alerts",
    },
    opts,
)

pulumi.export("pipeline_arn", pipeline.arn)
