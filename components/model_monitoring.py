"""Model Monitor for an endpoint that speaks: data-quality, model-quality and model-bias schedules baselined
from the approved model package, CloudWatch alarms on their violation metrics, and an EventBridge rule on
monitoring executions that end with violations, all to the alert topic.

The baselines are the ones the training pipeline registered with the package (`DriftCheckBaselines`) and
filed under `s3://<artifacts>/models/baselines/<model package ARN>/` (its PublishBaselines step):
`data-quality/statistics.json`, `data-quality/constraints.json`, `model-quality/constraints.json`,
`model-bias/constraints.json` and `model-bias/config.json` (the Clarify analysis configuration). An endpoint
that serves a package version derives these keys from the version's ARN, so no look-up runs at deploy
time and the offline preview shows them. Nothing here imports the sagemaker SDK.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ._validation import check_args

BASELINE_FILES = {
    "data_quality_statistics": "data-quality/statistics.json",
    "data_quality_constraints": "data-quality/constraints.json",
    "model_quality_constraints": "model-quality/constraints.json",
    "model_bias_constraints": "model-bias/constraints.json",
    "model_bias_config": "model-bias/config.json",
}
"""Published baseline files below a package's baseline prefix (see `baseline_prefix`)."""

MONITORING_TYPES = ("DataQuality", "ModelQuality", "ModelBias")
"""The schedules a `ModelMonitors` creates, in order."""


def baseline_prefix(artifacts_bucket: pulumi.Input[str], model_package_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """s3://<artifacts>/models/baselines/<model package ARN>: where the pipeline filed that version's baselines."""
    return pulumi.Output.concat("s3://", artifacts_bucket, "/models/baselines/", model_package_arn)


def bias_constraints_document(
    *,
    label: str,
    facet: str,
    facet_values: Sequence[int | float | str],
    max_class_imbalance: float,
    max_label_imbalance: float,
    max_dppl: float,
) -> dict[str, Any]:
    """Bias limits as a Clarify constraints file (the layout of its analysis.json): a bias check or monitor
    reports a violation when a metric lies farther from 0 than its value here (Clarify's bias drift rule)."""
    group = ",".join(str(v) for v in facet_values)

    def section(metrics: Mapping[str, tuple[str, float]]) -> dict[str, Any]:
        return {
            "label": label,
            "label_value_or_threshold": "1",
            "facets": {
                facet: [
                    {
                        "value_or_threshold": group,
                        "metrics": [
                            {"name": name, "description": description, "value": limit}
                            for name, (description, limit) in metrics.items()
                        ],
                    }
                ]
            },
        }

    return {
        "version": "1.0",
        "pre_training_bias_metrics": section(
            {"CI": ("Class Imbalance (CI)", max_class_imbalance),
             "DPL": ("Difference in Positive Proportions in Labels (DPL)", max_label_imbalance)}
        ),
        "post_training_bias_metrics": section(
            {"DPPL": ("Difference in Positive Proportions in Predicted Labels (DPPL)", max_dppl)}
        ),
    }  # fmt: skip


class MonitoringProblemType(StrEnum):
    """What the monitored model predicts (botocore `MonitoringProblemType`): decides the model-quality metrics."""

    BINARY_CLASSIFICATION = "BinaryClassification"
    """Two classes; metrics such as auc, accuracy, precision, recall, f1."""
    MULTICLASS_CLASSIFICATION = "MulticlassClassification"
    """More than two classes; metrics such as accuracy, weighted_precision, weighted_recall, weighted_f1."""
    REGRESSION = "Regression"
    """A number; metrics such as mae, mse, rmse, r2."""


@dataclass(frozen=True)
class MonitorVpc:
    """Where the monitoring jobs' network interfaces live (the endpoint's subnets and security group)."""

    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets, 1-16 (SageMaker's VpcConfig limits)."""
    security_group_ids: Sequence[pulumi.Input[str]]
    """Security groups (HTTPS to the VPC endpoints and S3 only), 1-5."""


@dataclass(frozen=True)
class ModelQualityAlarm:
    """A CloudWatch alarm on one model-quality metric the monitor publishes (e.g. auc below the bar)."""

    metric: str
    """Metric of the model-quality report as published to CloudWatch (lowercase, e.g. auc, accuracy, f1 for
    binary classification, rmse for regression)."""
    minimum: float
    """The alarm fires when the metric falls below this value."""


class ModelMonitorsArgs(TypedDict):
    """Arguments of `ModelMonitors`."""

    endpoint_name: pulumi.Input[str]
    """The monitored endpoint (its data capture must be on)."""
    name_prefix: str
    """Prefix of the schedules, job definitions, alarms and rule, e.g. `mlops-platform-prod-churn`: 1-40 letters,
    digits and hyphens (schedule names add up to 14 characters and SageMaker allows 63)."""
    execution_role_arn: pulumi.Input[str]
    """Role of the monitoring jobs: reads the baselines, the captured data and the ground truth, writes reports."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts the jobs' volumes and reports."""
    baseline_s3_uri: pulumi.Input[str]
    """The served package version's published baselines (`baseline_prefix`), without a trailing slash; files as in
    `BASELINE_FILES`."""
    reports_s3_uri: pulumi.Input[str]
    """Prefix of the monitoring reports (constraint_violations.json per execution), ending with a slash."""
    ground_truth_s3_uri: pulumi.Input[str]
    """Prefix where the organisation uploads ground-truth labels (SageMaker's merge format), read by the
    model-quality and model-bias monitors."""
    model_monitor_image_uri: str
    """The region's Model Monitor analyzer image (`sagemaker_catalog.model_monitor_image`)."""
    clarify_image_uri: str
    """The region's Clarify image (`sagemaker_catalog.clarify_image`)."""
    vpc: MonitorVpc | None
    """VPC of the jobs; None (explicitly) runs them in SageMaker's network."""
    alert_topic_arn: pulumi.Input[str] | None
    """SNS topic of the alarms and the violations rule; None creates neither."""
    schedule_expression: NotRequired[str]
    """When each monitor runs, a six-field cron expression (default hourly: `cron(0 * ? * * *)`)."""
    instance_type: NotRequired[str]
    """Processing instance of each run (default ml.m5.large); EBS-backed (no local NVMe), so the env key encrypts
    its volume."""
    max_runtime_seconds: NotRequired[int]
    """Stop a run after this long: 60-3600 (default 1800; an hourly schedule allows at most 3600)."""
    problem_type: NotRequired[MonitoringProblemType]
    """Model-quality problem type (default BinaryClassification)."""
    probability_attribute: NotRequired[str]
    """Where the endpoint's response carries the score (default "0": the first CSV column)."""
    probability_threshold: NotRequired[float]
    """Score from which a prediction counts as positive, strictly between 0 and 1 (default 0.5)."""
    ground_truth_delay_hours: NotRequired[int]
    """How long labels take to arrive: each run analyses the hour that ended this long ago, 0-336 (default 24)."""
    quality_alarm: NotRequired[ModelQualityAlarm | None]
    """Alarm on a model-quality metric; None: only the violations rule reports."""


class ModelMonitors(pulumi.ComponentResource):
    """Data-quality, model-quality and model-bias schedules for one endpoint, baselined from the served package,
    with an alarm on model quality and an EventBridge rule that sends every run ending with violations to the
    alert topic."""

    schedules: dict[str, aws.sagemaker.MonitoringSchedule]
    """Schedules by monitoring type (DataQuality, ModelQuality, ModelBias)."""
    schedule_arns: list[pulumi.Output[str]]
    """Their ARNs (the violations rule and drift-triggered retraining match on them)."""
    data_quality_job_definition: aws.sagemaker.DataQualityJobDefinition
    """The data-quality job definition."""
    model_quality_job_definition: aws.cloudcontrol.Resource
    """The model-quality job definition (through Cloud Control: pulumi-aws has no resource of its own)."""
    model_bias_job_definition: aws.cloudcontrol.Resource
    """The model-bias job definition (through Cloud Control: pulumi-aws has no resource of its own)."""
    job_definition_names: dict[str, pulumi.Output[str]]
    """Job definition names by monitoring type (a changed definition gets a new name)."""
    quality_alarm: aws.cloudwatch.MetricAlarm | None
    """The model-quality alarm, when configured."""
    violations_rule: aws.cloudwatch.EventRule | None
    """Rule on monitoring runs that complete with violations, when an alert topic is given."""

    def __init__(self, name: str, args: ModelMonitorsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(ModelMonitors, name, args)
        super().__init__("mlops:model_monitoring:ModelMonitors", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args["name_prefix"]
        baseline = args["baseline_s3_uri"]

        def file(key: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(baseline, "/", BASELINE_FILES[key])

        self.data_quality_job_definition = self._data_quality(name, args, file, child)
        self.model_quality_job_definition = _cloud_control_definition(
            f"{name}-model-quality",
            f"{prefix}-mq",
            "AWS::SageMaker::ModelQualityJobDefinition",
            model_quality_definition(args, file("model_quality_constraints")),
            child,
        )
        self.model_bias_job_definition = _cloud_control_definition(
            f"{name}-model-bias",
            f"{prefix}-bias",
            "AWS::SageMaker::ModelBiasJobDefinition",
            model_bias_definition(args, file("model_bias_constraints"), file("model_bias_config")),
            child,
        )
        self.job_definition_names = {
            "DataQuality": self.data_quality_job_definition.name,
            "ModelQuality": _definition_name(self.model_quality_job_definition),
            "ModelBias": _definition_name(self.model_bias_job_definition),
        }
        self.schedules = {}
        for monitoring_type, definition_name in self.job_definition_names.items():
            suffix = {"DataQuality": "data-quality", "ModelQuality": "model-quality", "ModelBias": "model-bias"}
            self.schedules[monitoring_type] = aws.sagemaker.MonitoringSchedule(
                f"{name}-{suffix[monitoring_type]}-schedule",
                name=f"{prefix}-{suffix[monitoring_type]}",
                monitoring_schedule_config={
                    "monitoring_job_definition_name": definition_name,
                    "monitoring_type": monitoring_type,
                    "schedule_config": {"schedule_expression": args.get("schedule_expression", HOURLY)},
                },
                opts=child,
            )
        self.schedule_arns = [s.arn for s in self.schedules.values()]

        topic = args["alert_topic_arn"]
        self.quality_alarm = None
        if alarm := args.get("quality_alarm"):
            self.quality_alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-quality-alarm",
                name=f"{prefix}-model-quality-{alarm.metric}",
                alarm_description=pulumi.Output.concat(
                    f"{alarm.metric} of ", args["endpoint_name"], f" on ground truth below {alarm.minimum}"
                ),
                namespace=MODEL_METRICS_NAMESPACE,
                metric_name=alarm.metric,
                dimensions={"Endpoint": args["endpoint_name"], "MonitoringSchedule": f"{prefix}-model-quality"},
                statistic="Average",
                period=3600,
                evaluation_periods=1,
                threshold=alarm.minimum,
                comparison_operator="LessThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic] if topic else None,
                ok_actions=[topic] if topic else None,
                opts=child,
            )
        self.violations_rule = None
        if topic is not None:
            self.violations_rule = aws.cloudwatch.EventRule(
                f"{name}-violations",
                name=f"{prefix}-monitor-violations",
                description=pulumi.Output.concat("Model Monitor runs of ", args["endpoint_name"], " with violations"),
                event_pattern=violations_pattern(self.schedule_arns),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-violations-to-topic",
                rule=self.violations_rule.name,
                arn=topic,
                input_transformer={
                    "input_paths": {
                        "schedule": "$.detail.MonitoringScheduleArn",
                        "message": "$.detail.ExitMessage",
                        "reports": "$.detail.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri",
                    },
                    "input_template": '"Model Monitor <schedule>: <message> Reports: <reports>"',
                },
                opts=child,
            )
        self.register_outputs({"schedule_arns": self.schedule_arns, "job_definition_names": self.job_definition_names})

    def _data_quality(self, name: str, args: ModelMonitorsArgs, file, child: pulumi.ResourceOptions):
        return aws.sagemaker.DataQualityJobDefinition(
            f"{name}-data-quality",
            name=f"{args['name_prefix']}-data-quality",
            role_arn=args["execution_role_arn"],
            data_quality_app_specification={"image_uri": args["model_monitor_image_uri"]},
            data_quality_baseline_config={
                "statistics_resource": {"s3_uri": file("data_quality_statistics")},
                "constraints_resource": {"s3_uri": file("data_quality_constraints")},
            },
            data_quality_job_input={
                "endpoint_input": {
                    "endpoint_name": args["endpoint_name"],
                    "local_path": "/opt/ml/processing/input/endpoint",
                    "s3_input_mode": "File",
                    "s3_data_distribution_type": "FullyReplicated",
                }
            },
            data_quality_job_output_config={
                "kms_key_id": args["kms_key_arn"],
                "monitoring_outputs": {
                    "s3_output": {
                        "s3_uri": pulumi.Output.concat(args["reports_s3_uri"], "data-quality/"),
                        "local_path": "/opt/ml/processing/output",
                        "s3_upload_mode": "EndOfJob",
                    }
                },
            },
            job_resources={"cluster_config": _cluster(args)},
            network_config={
                "enable_network_isolation": True,
                "enable_inter_container_traffic_encryption": True,
                "vpc_config": {
                    "subnets": list(args["vpc"].subnet_ids),
                    "security_group_ids": list(args["vpc"].security_group_ids),
                }
                if args["vpc"]
                else None,
            },
            stopping_condition={"max_runtime_in_seconds": args.get("max_runtime_seconds", 1800)},
            opts=child,
        )


HOURLY = "cron(0 * ? * * *)"
MODEL_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
"""Where model-quality monitors publish their metrics (dimensions Endpoint and MonitoringSchedule)."""


def _cluster(args: ModelMonitorsArgs) -> dict:
    return {
        "instance_count": 1,
        "instance_type": args.get("instance_type", "ml.m5.large"),
        "volume_size_in_gb": 20,
        "volume_kms_key_id": args["kms_key_arn"],
    }


def _api_network(args: ModelMonitorsArgs) -> dict:
    network: dict[str, Any] = {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True}
    if args["vpc"]:
        network["VpcConfig"] = {
            "Subnets": list(args["vpc"].subnet_ids),
            "SecurityGroupIds": list(args["vpc"].security_group_ids),
        }
    return network


def _common(args: ModelMonitorsArgs, kind: str) -> dict[str, Any]:
    cluster = _cluster(args)
    return {
        "JobResources": {
            "ClusterConfig": {
                "InstanceCount": cluster["instance_count"],
                "InstanceType": cluster["instance_type"],
                "VolumeSizeInGB": cluster["volume_size_in_gb"],
                "VolumeKmsKeyId": cluster["volume_kms_key_id"],
            }
        },
        "NetworkConfig": _api_network(args),
        "RoleArn": args["execution_role_arn"],
        "StoppingCondition": {"MaxRuntimeInSeconds": args.get("max_runtime_seconds", 1800)},
        f"{kind}JobOutputConfig": {
            "KmsKeyId": args["kms_key_arn"],
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": pulumi.Output.concat(
                            args["reports_s3_uri"], "model-quality/" if kind == "ModelQuality" else "model-bias/"
                        ),
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    }
                }
            ],
        },
    }


def _endpoint_input(args: ModelMonitorsArgs) -> dict[str, Any]:
    delay = args.get("ground_truth_delay_hours", 24)
    return {
        "EndpointName": args["endpoint_name"],
        "LocalPath": "/opt/ml/processing/input/endpoint",
        "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated",
        "ProbabilityAttribute": args.get("probability_attribute", "0"),
        "ProbabilityThresholdAttribute": args.get("probability_threshold", 0.5),
        # The hour that ended `delay` hours ago: its labels have arrived by now.
        "StartTimeOffset": f"-PT{delay + 1}H",
        "EndTimeOffset": f"-PT{delay}H",
    }


def model_quality_definition(args: ModelMonitorsArgs, constraints: pulumi.Input[str]) -> dict[str, Any]:
    """CreateModelQualityJobDefinition's request (also CloudFormation's properties), without its name."""
    return {
        "ModelQualityAppSpecification": {
            "ImageUri": args["model_monitor_image_uri"],
            "ProblemType": str(args.get("problem_type", MonitoringProblemType.BINARY_CLASSIFICATION)),
        },
        "ModelQualityBaselineConfig": {"ConstraintsResource": {"S3Uri": constraints}},
        "ModelQualityJobInput": {
            "EndpointInput": _endpoint_input(args),
            "GroundTruthS3Input": {"S3Uri": args["ground_truth_s3_uri"]},
        },
        **_common(args, "ModelQuality"),
    }


def model_bias_definition(
    args: ModelMonitorsArgs, constraints: pulumi.Input[str], config: pulumi.Input[str]
) -> dict[str, Any]:
    """CreateModelBiasJobDefinition's request (also CloudFormation's properties), without its name."""
    return {
        "ModelBiasAppSpecification": {"ImageUri": args["clarify_image_uri"], "ConfigUri": config},
        "ModelBiasBaselineConfig": {"ConstraintsResource": {"S3Uri": constraints}},
        "ModelBiasJobInput": {
            "EndpointInput": _endpoint_input(args),
            "GroundTruthS3Input": {"S3Uri": args["ground_truth_s3_uri"]},
        },
        **_common(args, "ModelBias"),
    }


def _cloud_control_definition(
    name: str, physical_prefix: str, type_name: str, properties: dict[str, Any], child: pulumi.ResourceOptions
) -> "aws.cloudcontrol.Resource":  # quoted: evaluating it would load pulumi_aws.cloudcontrol at import
    # Job definitions are immutable: the name carries a hash of the resolved properties, so a change creates
    # the new definition (new name) before the schedule moves to it and the old one is deleted.
    def named(resolved: dict[str, Any]) -> str:
        digest = hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()[:10]
        return json.dumps({"JobDefinitionName": f"{physical_prefix}-{digest}", **resolved}, sort_keys=True)

    return aws.cloudcontrol.Resource(
        name, type_name=type_name, desired_state=pulumi.Output.from_input(properties).apply(named), opts=child
    )


def _definition_name(definition: "aws.cloudcontrol.Resource") -> pulumi.Output[str]:
    return definition.desired_state.apply(lambda state: json.loads(state)["JobDefinitionName"])


def violations_pattern(schedule_arns: Sequence[pulumi.Input[str]]) -> pulumi.Output[str]:
    """EventBridge pattern of this endpoint's monitoring runs that completed with violations (a monitoring run
    is a processing job: its state-change event names the schedule and says `CompletedWithViolations`)."""
    return pulumi.Output.json_dumps(
        {
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Processing Job State Change"],
            "detail": {
                "ProcessingJobStatus": ["Completed"],
                "ExitMessage": [{"prefix": "CompletedWithViolations"}],
                "MonitoringScheduleArn": list(schedule_arns),
            },
        }
    )


def deployer_statements(account_id: str, region: str, name_prefix: str) -> list[dict[str, Any]]:
    """What the CI deployer needs for `ModelMonitors` beyond the endpoints' own statements: the model-quality and
    model-bias job definitions (created through Cloud Control, whose actions have no resource-level scoping),
    and the `<prefix>-*` violations rules."""
    sagemaker = f"arn:aws:sagemaker:{region}:{account_id}"
    return [
        {"Sid": "CloudControlForMonitors", "Effect": "Allow", "Resource": "*",
         "Action": [f"cloudformation:{a}Resource" for a in ("Create", "Get", "Update", "Delete")]
         + ["cloudformation:ListResources"]
         + ["cloudformation:GetResourceRequestStatus"]},
        {"Sid": "EnvMonitorDefinitions", "Effect": "Allow",
         "Action": [f"sagemaker:{verb}{kind}JobDefinition" for kind in ("ModelQuality", "ModelBias")
                    for verb in ("Create", "Describe", "Delete")] + ["sagemaker:AddTags", "sagemaker:ListTags"],
         "Resource": [f"{sagemaker}:model-quality-job-definition/{name_prefix}-*",
                      f"{sagemaker}:model-bias-job-definition/{name_prefix}-*"]},
        {"Sid": "EnvMonitorRules", "Effect": "Allow",
         "Action": [f"events:{a}" for a in ("PutRule", "DeleteRule", "DescribeRule", "PutTargets", "RemoveTargets",
                                             "ListTargetsByRule", "TagResource", "ListTagsForResource")],
         "Resource": f"arn:aws:events:{region}:{account_id}:rule/{name_prefix}-*"},
    ]  # fmt: skip
