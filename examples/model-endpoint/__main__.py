"""Model endpoint: an approved model package version served by a SageMaker endpoint in the VPC's private
subnets (network isolation on, HTTPS egress to the VPC and S3 only), storage and captured requests encrypted
with the env key, autoscaled on invocations, deployed blue/green with a canary that rolls back on its 5xx or
latency alarms; and the data-quality, model-quality and model-bias monitors over the captured traffic, which
alarm on the alert topic when AUC drops below 0.85.

Run under Pulumi or `tests/test_examples.py`.
"""

import pulumi
import pulumi_aws as aws
from mlops_platform.components import sagemaker_catalog as catalog
from mlops_platform.components.model_monitoring import ModelMonitors, ModelQualityAlarm, MonitorVpc, baseline_prefix
from mlops_platform.components.serving import (
    Autoscaling,
    DataCapture,
    EndpointVpc,
    ModelEndpoint,
    ModelPackage,
    Rollout,
    RolloutType,
    Variant,
)

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
NAME = "fraud-dev-card-fraud"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
INFERENCE_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/fraud-dev-inference"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:fraud-dev-alerts"
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:model-package/{NAME}/7"
ARTIFACTS_BUCKET = "fraud-dev-artifacts-4c1e9a"
ARTIFACTS = f"s3://{ARTIFACTS_BUCKET}"
SUBNETS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60003"]

provider = aws.Provider(
    "aws",
    region=REGION,
    allowed_account_ids=[ACCOUNT_ID],
    default_tags={"tags": {"team": "fraud-detection", "env": "dev", "managed-by": "pulumi"}},
)
opts = pulumi.ResourceOptions(providers=[provider])

endpoint = ModelEndpoint(
    "card-fraud",
    {
        "endpoint_name": NAME,
        "execution_role_arn": INFERENCE_ROLE,
        "kms_key_arn": KEY_ARN,
        "variants": [
            Variant(
                "primary",
                ModelPackage(PACKAGE_ARN),
                instance_type="ml.m5.large",
                initial_instance_count=2,
                autoscaling=Autoscaling(min_instances=2, max_instances=6, invocations_per_instance=600),
            )
        ],
        "vpc": EndpointVpc("vpc-0a1b2c3d4e5f67890", "10.42.0.0/16", SUBNETS, "pl-6da54004"),
        "data_capture": DataCapture(f"{ARTIFACTS}/data-capture/card-fraud/", 20),
        "rollout": Rollout(RolloutType.CANARY, step_percent=10),
        "alert_topic_arn": TOPIC_ARN,
    },
    opts,
)
assert endpoint.security_group is not None  # in a VPC the endpoint has its own security group
monitors = ModelMonitors(
    "card-fraud-monitors",
    {
        "endpoint_name": endpoint.endpoint_name,
        "name_prefix": NAME,
        "execution_role_arn": INFERENCE_ROLE,
        "kms_key_arn": KEY_ARN,
        "baseline_s3_uri": baseline_prefix(ARTIFACTS_BUCKET, PACKAGE_ARN),  # where the pipeline filed them
        "reports_s3_uri": f"{ARTIFACTS}/data-capture/card-fraud/monitoring-reports/",
        "ground_truth_s3_uri": f"{ARTIFACTS}/data-capture/card-fraud/ground-truth/",
        "model_monitor_image_uri": catalog.model_monitor_image(REGION),
        "clarify_image_uri": catalog.clarify_image(REGION),
        "vpc": MonitorVpc(SUBNETS, [endpoint.security_group.id]),
        "alert_topic_arn": TOPIC_ARN,
        "quality_alarm": ModelQualityAlarm("auc", 0.85),
    },
    opts,
)

pulumi.export("endpoint_name", endpoint.endpoint_name)
pulumi.export("monitoring_schedules", monitors.schedule_arns)
