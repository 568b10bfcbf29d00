"""SageMaker pipelines deployed from a rendered definition template, and notifications of model approvals.

`TrainingPipeline` fills a template (see `pipelines.template`; produced offline by the sagemaker SDK) with
the environment's role, key, buckets, subnets and images, uploads the pipeline's scripts, the SDK's
check configurations and the pipeline's config files to the artifacts bucket, and deploys
`aws.sagemaker.Pipeline` with its own scoped role (capped by a permission boundary) and an optional
EventBridge Scheduler schedule. `ModelApprovalNotifications` sends a model
package group's approvals to an SNS topic. Neither imports the sagemaker SDK.
"""

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
from mlops_platform.pipelines.template import PLACEHOLDERS, fill, placeholders_in

from . import _iam
from . import sagemaker_catalog as catalog
from ._sagemaker_jobs import job_conditions, register_conditions, with_security_groups
from ._validation import check_args

JOB_ACTIONS = [
    "sagemaker:CreateProcessingJob",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:StopProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:StopTrainingJob",
]
"""What SageMaker Pipelines does, as the pipeline role, to run the pipeline's jobs."""
REGISTER_ACTIONS = ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"]
"""Registering the model version into its group."""
MODEL_ACTIONS = ["sagemaker:CreateModel"]
"""The CreateModel step: the model Clarify's temporary shadow endpoint serves during the checks."""
BASELINE_LOOKUP_ACTIONS = ["sagemaker:ListModelPackages"]
"""Quality and Clarify checks look up the latest approved version's baselines (no resource-level scoping)."""
TAG_ACTIONS = ["sagemaker:AddTags", "sagemaker:ListTags"]
"""Pipelines tags the jobs and packages it creates with the execution."""
KEY_USE_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]

INSTANCE_STORE_TYPE_PATTERNS = [
    "ml.*d.*", "ml.*dn.*", "ml.*de.*", "ml.g5*", "ml.g6*", "ml.g7*", "ml.p5*", "ml.p6*", "ml.trn*",
]  # fmt: skip
"""`sagemaker:InstanceTypes` patterns of instance types with local NVMe storage (`catalog.has_local_nvme`)."""

_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


@dataclass(frozen=True)
class FeatureGroupInput:
    """A feature group's offline store as a pipeline's input data, instead of CSV under `s3://<raw>/<pipeline>/`.

    The pipeline trains on the group's current state: the latest version of each record, deleted records left
    out, Feature Store's own columns, the record identifier and the event time dropped (the scripts'
    input_data.py). The group must use the Glue table format (an Iceberg table's state needs a table reader),
    and its offline-store prefix must be writable only by Feature Store and people trusted with training data
    (a Parquet file dropped there is read as records). The jobs' execution role must be able to read the
    prefix and decrypt with its key.
    """

    offline_store_uri: pulumi.Input[str]
    """The group's `ResolvedOutputS3Uri`: `s3://<bucket>/<prefix>/<account>/sagemaker/<region>/offline-store/
    <group>-<created>/data`, known once the group exists (`FeatureStore.offline_store_uris[<group name>]`)."""
    record_identifier: str
    """The group's record identifier feature."""
    event_time: str
    """The group's event time feature (ISO-8601 String or Fractional Unix seconds)."""


class TrainingPipelineArgs(TypedDict):
    """Arguments of `TrainingPipeline`."""

    pipeline_name: str
    """Physical pipeline name (also the S3 prefix of its code, data and models), e.g. `mlops-platform-dev-churn`."""
    template: Mapping[str, Any]
    """Rendered definition template with `{{placeholders}}` (pipelines/<kind>/definition.template.json)."""
    scripts: Mapping[str, str]
    """Script file name -> source text, uploaded to `s3://<artifacts>/code/<pipeline>/<source_hash>/`."""
    source_archive_base64: str
    """The scripts as a reproducible tar.gz (base64), uploaded beside them for script-mode training."""
    source_hash: str
    """Version of the scripts: part of the code prefix, so a script change changes the definition."""
    account_id: str
    """The environment's account."""
    region: str
    """The environment's region."""
    role_name: str
    """Physical name of the pipeline role (at most 64 characters)."""
    execution_role_arn: pulumi.Input[str]
    """Role the pipeline's jobs run as (the env's training role); the pipeline role may pass only it."""
    kms_key_arn: pulumi.Input[str]
    """Env key: job volumes, outputs, model artifacts and the uploaded code."""
    raw_bucket: pulumi.Input[str]
    """Bucket name of raw data: the pipeline reads the CSV files under `s3://<raw>/<pipeline>/` unless
    `feature_group_input` is given."""
    curated_bucket: pulumi.Input[str]
    """Bucket name of curated data."""
    artifacts_bucket: pulumi.Input[str]
    """Bucket name of code, checkpoints, models and evaluation reports."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets of the jobs (at least one)."""
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Security groups of the jobs (at least one)."""
    model_package_group_name: pulumi.Input[str]
    """Model package group the pipeline registers into."""
    images: Mapping[str, pulumi.Input[str]]
    """`processing`, `training` and `inference` image URIs."""
    parameters: Mapping[str, Any]
    """Values of the template's per-pipeline placeholders: instance types, metric, threshold, target column,
    bias facet, data-validation limits."""
    feature_group_input: NotRequired[FeatureGroupInput | None]
    """Read a feature group's offline store instead of the raw bucket's CSV files (the InputDataUri default)."""
    assets: NotRequired[Mapping[str, Any]]
    """Files the SDK wrote while rendering (key below the code prefix -> JSON with placeholders, e.g. the Clarify
    analysis configurations; `PipelineKind.assets()`), filled and uploaded beside the scripts."""
    config_files: NotRequired[Mapping[str, Any]]
    """JSON documents the template reads from `s3://<artifacts>/code/<pipeline>/config/<name>` (e.g. the bias
    limits as `bias-constraints.json`)."""
    schedule_expression: NotRequired[str | None]
    """EventBridge Scheduler `rate(...)`/`cron(...)` starting the pipeline; None: on demand only."""
    schedule_timezone: NotRequired[str]
    """IANA time zone of the schedule (default UTC)."""
    max_parallel_steps: NotRequired[int]
    """Most steps running at once in one execution (default 5)."""
    description: NotRequired[str]
    """Shown in SageMaker Studio."""
    permissions_boundary_arn: NotRequired[pulumi.Input[str] | None]
    """Boundary of the pipeline and schedule roles, e.g. the platform's persona boundary (which must allow
    `_sagemaker_jobs.pipeline_ceiling_statements`); None creates a boundary for this pipeline."""


class TrainingPipeline(pulumi.ComponentResource):
    """A SageMaker pipeline from a template, its uploaded code, its scoped role and an optional schedule."""

    pipeline: aws.sagemaker.Pipeline
    """The pipeline."""
    arn: pulumi.Output[str]
    """ARN of the pipeline (StartPipelineExecution target)."""
    role: aws.iam.Role
    """Role SageMaker Pipelines assumes to run the steps."""
    boundary: aws.iam.Policy | None
    """The pipeline's own permission boundary, when no `permissions_boundary_arn` was given."""
    definition: pulumi.Output[str]
    """The filled definition (JSON text)."""
    code_objects: dict[str, aws.s3.BucketObjectv2]
    """Uploaded scripts and source archive, by file name."""
    schedule: aws.scheduler.Schedule | None
    """The schedule, when one was configured."""

    def __init__(self, name: str, args: TrainingPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(TrainingPipeline, name, args)
        _check_pipeline_args(name, args)
        super().__init__("mlops:pipelines:TrainingPipeline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pipeline_name = args["pipeline_name"]
        account, region = args["account_id"], args["region"]
        pipeline_arn = f"arn:aws:sagemaker:{region}:{account}:pipeline/{pipeline_name.lower()}"
        code_prefix = f"code/{pipeline_name}/{args['source_hash']}/"

        # Upload what the definition points at: the scripts it runs directly, and the archive (script mode).
        template_text = json.dumps(args["template"])
        files = {
            file: base64.b64encode(text.encode()).decode()
            for file, text in args["scripts"].items()
            if "{{source_hash}}/" + file in template_text
        }
        files["sourcedir.tar.gz"] = args["source_archive_base64"]
        self.code_objects = {
            file: aws.s3.BucketObjectv2(
                f"{name}-code-{file.replace('.', '-')}",
                bucket=args["artifacts_bucket"],
                key=code_prefix + file,
                content_base64=content,
                content_type="application/gzip" if file.endswith(".gz") else "text/x-python",
                server_side_encryption="aws:kms",
                kms_key_id=args["kms_key_arn"],
                bucket_key_enabled=True,
                opts=child,
            )
            for file, content in sorted(files.items())
        }

        values: dict[str, Any] = {
            "pipeline_name": pipeline_name,
            "role_arn": args["execution_role_arn"],
            "kms_key_arn": args["kms_key_arn"],
            "raw_bucket": args["raw_bucket"],
            **_input_values(pipeline_name, args["raw_bucket"], args.get("feature_group_input")),
            "curated_bucket": args["curated_bucket"],
            "artifacts_bucket": args["artifacts_bucket"],
            "source_hash": args["source_hash"],
            "subnet_ids": args["subnet_ids"],
            "security_group_ids": args["security_group_ids"],
            "processing_image_uri": args["images"]["processing"],
            "training_image_uri": args["images"]["training"],
            "inference_image_uri": args["images"]["inference"],
            "model_package_group": args["model_package_group_name"],
            "model_monitor_image_uri": catalog.model_monitor_image(region),
            "clarify_image_uri": catalog.clarify_image(region),
            **args["parameters"],
        }
        template = args["template"]
        self.definition = pulumi.Output.all(**values).apply(lambda v: json.dumps(fill(template, v), indent=None))

        # Only the documents the definition refers to (the SDK also writes configurations no step reads).
        documents = {
            **{
                code_prefix + key: content
                for key, content in args.get("assets", {}).items()
                if "{{source_hash}}/" + key in template_text
            },
            **{
                f"code/{pipeline_name}/config/{file}": content for file, content in args.get("config_files", {}).items()
            },
        }
        for key, content in sorted(documents.items()):
            self.code_objects[key.removeprefix(code_prefix)] = aws.s3.BucketObjectv2(
                f"{name}-code-{_object_name(key.removeprefix(f'code/{pipeline_name}/'))}",
                bucket=args["artifacts_bucket"],
                key=key,
                content=pulumi.Output.all(**values).apply(lambda v, c=content: json.dumps(fill(c, v), indent=2)),
                content_type="application/json",
                server_side_encryption="aws:kms",
                kms_key_id=args["kms_key_arn"],
                bucket_key_enabled=True,
                opts=child,
            )

        self.boundary = None
        boundary_arn = args.get("permissions_boundary_arn")
        if boundary_arn is None:
            self.boundary = aws.iam.Policy(
                f"{name}-boundary",
                name=f"{args['role_name']}-boundary",
                description=f"Permission boundary of the {pipeline_name} pipeline and schedule roles",
                policy=_iam.render(pipeline_boundary_statements(args, pipeline_arn)),
                opts=child,
            )
            boundary_arn = self.boundary.arn
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args["role_name"],
            description=f"SageMaker Pipelines role of {pipeline_name}",
            assume_role_policy=_iam.render(_service_trust("sagemaker.amazonaws.com", account)),
            permissions_boundary=boundary_arn,
            max_session_duration=3600,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=self.role.id,
            name="pipeline-access",
            policy=_iam.render(pipeline_role_statements(args)),
            opts=child,
        )
        self.pipeline = aws.sagemaker.Pipeline(
            f"{name}-pipeline",
            pipeline_name=pipeline_name,
            pipeline_display_name=pipeline_name,
            pipeline_description=args.get("description", f"{pipeline_name} training pipeline"),
            role_arn=self.role.arn,
            pipeline_definition=self.definition,
            parallelism_configuration={"max_parallel_execution_steps": args.get("max_parallel_steps", 5)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.code_objects.values())),
        )
        self.arn = self.pipeline.arn

        self.schedule = None
        if expression := args.get("schedule_expression"):
            scheduler_role = aws.iam.Role(
                f"{name}-schedule-role",
                name=f"{args['role_name'][:55]}-schedule",
                description=f"EventBridge Scheduler starting {pipeline_name}",
                assume_role_policy=_iam.render(_service_trust("scheduler.amazonaws.com", account)),
                permissions_boundary=boundary_arn,
                max_session_duration=3600,
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-schedule-role-policy",
                role=scheduler_role.id,
                name="start-pipeline",
                policy=_iam.render(
                    [
                        {
                            "Sid": "StartThisPipeline",
                            "Effect": "Allow",
                            "Action": "sagemaker:StartPipelineExecution",
                            "Resource": pipeline_arn,
                        }
                    ]
                ),
                opts=child,
            )
            self.schedule = aws.scheduler.Schedule(
                f"{name}-schedule",
                name=pipeline_name[:64],
                description=f"Starts {pipeline_name}",
                schedule_expression=expression,
                schedule_expression_timezone=args.get("schedule_timezone", "UTC"),
                flexible_time_window={"mode": "OFF"},
                target={
                    "arn": self.pipeline.arn,
                    "role_arn": scheduler_role.arn,
                    "retry_policy": {"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 3600},
                },
                opts=child,
            )
        self.register_outputs({"arn": self.arn, "role_arn": self.role.arn, "definition": self.definition})


def _input_values(
    pipeline_name: str, raw_bucket: pulumi.Input[str], feature_group: FeatureGroupInput | None
) -> dict[str, Any]:
    """The template values of the pipeline's input: its URI and the options telling the scripts its format."""
    if feature_group is None:
        uri = pulumi.Output.concat("s3://", raw_bucket, f"/{pipeline_name}/")
        return {"input_data_uri": uri, "input_arguments": []}
    return {
        "input_data_uri": feature_group.offline_store_uri,
        "input_arguments": [
            "--offline-store",
            "--record-identifier",
            feature_group.record_identifier,
            "--event-time",
            feature_group.event_time,
        ],
    }


def _object_name(key: str) -> str:
    """A stable resource name for an uploaded document: its key below the code prefix, without the hash."""
    key = key.split("/", 1)[1] if re.match(r"^[0-9a-f]{16}/", key) else key
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def _check_pipeline_args(name: str, args: TrainingPipelineArgs) -> None:
    if not _PIPELINE_NAME.match(args["pipeline_name"]):
        raise ValueError(
            f"TrainingPipeline {name!r}: pipeline_name {args['pipeline_name']!r} must be 1-256 "
            "letters, digits and hyphens, starting and ending with a letter or digit"
        )
    if not _ROLE_NAME.match(args["role_name"]):
        raise ValueError(
            f"TrainingPipeline {name!r}: role_name {args['role_name']!r} must be 1-64 characters "
            "of letters, digits and +=,.@_-"
        )
    missing_images = sorted({"processing", "training", "inference"} - set(args["images"]))
    if missing_images:
        raise ValueError(f"TrainingPipeline {name!r}: images lacks {', '.join(missing_images)}")
    provided = {
        "pipeline_name",
        "role_arn",
        "kms_key_arn",
        "raw_bucket",
        "input_data_uri",
        "input_arguments",
        "curated_bucket",
        "artifacts_bucket",
        "source_hash",
        "subnet_ids",
        "security_group_ids",
        "processing_image_uri",
        "training_image_uri",
        "inference_image_uri",
        "model_package_group",
        "model_monitor_image_uri",
        "clarify_image_uri",
        *args["parameters"],
    }
    used = placeholders_in([args["template"], dict(args.get("assets", {})), dict(args.get("config_files", {}))])
    if unknown := sorted(set(args["parameters"]) - set(PLACEHOLDERS)):
        raise ValueError(
            f"TrainingPipeline {name!r}: parameters {unknown} are not template placeholders; "
            f"accepted: {', '.join(sorted(PLACEHOLDERS))}"
        )
    if missing := sorted(used - provided):
        raise ValueError(
            f"TrainingPipeline {name!r}: the template needs values for {', '.join(missing)} (pass them in parameters)"
        )
    if not args["scripts"]:
        raise ValueError(f"TrainingPipeline {name!r}: scripts is empty; the template's steps run uploaded scripts")
    if args.get("feature_group_input") and not {"input_data_uri", "input_arguments"} <= used:
        raise ValueError(
            f"TrainingPipeline {name!r}: feature_group_input needs a template that reads its input through the "
            "{{input_data_uri}} and {{input_arguments}} placeholders; re-render the template with this release "
            "(mlops-platform pipelines render)"
        )


def _service_trust(service: str, account: str) -> list[_iam.Statement]:
    return [_iam.service_trust("AssumeByService", service, account)]


def pipeline_role_statements(args: TrainingPipelineArgs) -> list[_iam.Statement]:
    """What the pipeline role may do: run its jobs only with the env key, in the VPC and in its own security groups
    (those its definition names), register into its model's group, pass only the execution role, read its
    evaluation reports, use only the env key."""
    account, region, key = args["account_id"], args["region"], args["kms_key_arn"]
    groups = args["security_group_ids"]
    sagemaker = f"arn:aws:sagemaker:{region}:{account}"
    group = args["model_package_group_name"]
    artifacts = pulumi.Output.concat("arn:aws:s3:::", args["artifacts_bucket"])
    keyed_jobs = [f"{sagemaker}:processing-job/*"]
    statements: list[_iam.Statement] = []
    if trains_on_instance_store(args["template"]):
        # Local NVMe storage takes no volume key (SageMaker rejects one); the instance types must be such types.
        statements.append(
            {
                "Sid": "TrainOnInstanceStoreEncryptedInVpc",
                "Effect": "Allow",
                "Action": "sagemaker:CreateTrainingJob",
                "Resource": f"{sagemaker}:training-job/*",
                "Condition": with_security_groups(
                    {
                        "StringEquals": {"sagemaker:OutputKmsKey": key},
                        "Null": {
                            "sagemaker:VpcSubnets": "false",
                            "sagemaker:VolumeKmsKey": "true",
                            "sagemaker:InstanceTypes": "false",
                        },
                        "ForAllValues:StringLike": {"sagemaker:InstanceTypes": INSTANCE_STORE_TYPE_PATTERNS},
                        "Bool": {"sagemaker:InterContainerTrafficEncryption": "true"},
                    },
                    groups,
                ),
            }
        )
    else:
        keyed_jobs.append(f"{sagemaker}:training-job/*")
    statements += [
        {
            "Sid": "RunJobsEncryptedInVpc",
            "Effect": "Allow",
            "Action": [a for a in JOB_ACTIONS if a.startswith("sagemaker:Create")],
            "Resource": keyed_jobs,
            "Condition": job_conditions(key, groups),
        },
        {
            "Sid": "CreateCheckModelInVpc",
            "Effect": "Allow",
            "Action": MODEL_ACTIONS,
            "Resource": f"{sagemaker}:model/*",
            "Condition": with_security_groups({"Null": {"sagemaker:VpcSubnets": "false"}}, groups),
        },
        {
            "Sid": "ApprovedBaselines",
            "Effect": "Allow",
            "Action": BASELINE_LOOKUP_ACTIONS,
            "Resource": "*",
        },
        {
            "Sid": "WatchJobs",
            "Effect": "Allow",
            "Action": [a for a in JOB_ACTIONS if not a.startswith("sagemaker:Create")] + TAG_ACTIONS,
            "Resource": [f"{sagemaker}:processing-job/*", f"{sagemaker}:training-job/*"],
        },
        {
            "Sid": "RegisterPendingIntoModelGroup",
            "Effect": "Allow",
            "Action": "sagemaker:CreateModelPackage",
            "Resource": pulumi.Output.concat(sagemaker, ":model-package/", group, "/*"),
            "Condition": register_conditions(),
        },
        {
            "Sid": "RegisterIntoModelGroup",
            "Effect": "Allow",
            "Action": [*(a for a in REGISTER_ACTIONS if a != "sagemaker:CreateModelPackage"), *TAG_ACTIONS],
            "Resource": [
                pulumi.Output.concat(sagemaker, ":model-package/", group, "/*"),
                pulumi.Output.concat(sagemaker, ":model-package-group/", group),
            ],
        },
        {
            "Sid": "PassExecutionRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": args["execution_role_arn"],
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
        {
            "Sid": "ReadEvaluationReports",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": pulumi.Output.concat(artifacts, "/pipelines/", args["pipeline_name"], "/*"),
        },
        {
            "Sid": "ListOwnPrefixes",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": artifacts,
            "Condition": {"StringLike": {"s3:prefix": [f"pipelines/{args['pipeline_name']}/*"]}},
        },
        {
            "Sid": "UseEnvKeyThroughS3",
            "Effect": "Allow",
            "Action": KEY_USE_ACTIONS,
            "Resource": key,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
        {
            "Sid": "GrantEnvKeyToJobs",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:DescribeKey"],
            "Resource": key,
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]
    return statements


def trains_on_instance_store(template: Mapping[str, Any]) -> bool:
    """Whether a template's training step omits the volume key (its variant for local-NVMe instance types)."""
    for step in template.get("Steps", []):
        if step.get("Type") == "Training":
            return "VolumeKmsKeyId" not in step["Arguments"].get("ResourceConfig", {})
    return False


def pipeline_boundary_statements(args: TrainingPipelineArgs, pipeline_arn: str) -> list[_iam.Statement]:
    """The cap of the pipeline and schedule roles: SageMaker jobs and packages in this account and region,
    passing only the execution role, the artifacts bucket, the env key; never identity or key changes."""
    account, region, key = args["account_id"], args["region"], args["kms_key_arn"]
    sagemaker = f"arn:aws:sagemaker:{region}:{account}"
    artifacts = pulumi.Output.concat("arn:aws:s3:::", args["artifacts_bucket"])
    return [
        {
            "Sid": "SageMakerJobsAndPackages",
            "Effect": "Allow",
            "Action": [*JOB_ACTIONS, *REGISTER_ACTIONS, *TAG_ACTIONS, *MODEL_ACTIONS],
            "Resource": [
                f"{sagemaker}:processing-job/*",
                f"{sagemaker}:training-job/*",
                f"{sagemaker}:model-package/*",
                f"{sagemaker}:model-package-group/*",
                f"{sagemaker}:model/*",
            ],
        },
        {"Sid": "ApprovedBaselines", "Effect": "Allow", "Action": BASELINE_LOOKUP_ACTIONS, "Resource": "*"},
        {
            "Sid": "StartThisPipeline",
            "Effect": "Allow",
            "Action": "sagemaker:StartPipelineExecution",
            "Resource": pipeline_arn,
        },
        {
            "Sid": "PassExecutionRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": args["execution_role_arn"],
        },
        {
            "Sid": "ArtifactsBucket",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"],
            "Resource": [artifacts, pulumi.Output.concat(artifacts, "/*")],
        },
        {"Sid": "EnvKey", "Effect": "Allow", "Action": [*KEY_USE_ACTIONS, "kms:CreateGrant"], "Resource": key},
        {
            "Sid": "DenyIdentityAndKeyChanges",
            "Effect": "Deny",
            "Action": [
                "iam:Create*",
                "iam:Delete*",
                "iam:Put*",
                "iam:Attach*",
                "iam:Update*",
                "kms:ScheduleKeyDeletion",
                "kms:DisableKey",
                "kms:PutKeyPolicy",
            ],
            "Resource": "*",
        },
    ]


class ModelApprovalNotificationsArgs(TypedDict):
    """Arguments of `ModelApprovalNotifications`."""

    rule_name: str
    """Physical name of the EventBridge rule, e.g. `mlops-platform-dev-churn-model-approvals` (at most 64)."""
    model_package_group_name: pulumi.Input[str]
    """The group whose approvals are announced."""
    topic_arn: pulumi.Input[str]
    """SNS topic receiving the notifications (its policy must let this account's EventBridge rules publish)."""
    statuses: NotRequired[Sequence[str]]
    """Approval statuses announced (default: Approved)."""


class ModelApprovalNotifications(pulumi.ComponentResource):
    """An EventBridge rule on "SageMaker Model Package State Change" for one group, sending approvals to SNS."""

    rule: aws.cloudwatch.EventRule
    """The rule."""

    def __init__(
        self, name: str, args: ModelApprovalNotificationsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = check_args(ModelApprovalNotifications, name, args)
        statuses = list(args.get("statuses", ["Approved"]))
        allowed = {"Approved", "Rejected", "PendingManualApproval"}
        if not re.fullmatch(r"[\w.-]{1,64}", args["rule_name"]):
            raise ValueError(
                f"ModelApprovalNotifications {name!r}: rule_name {args['rule_name']!r} must be 1-64 "
                "letters, digits, '.', '-' or '_'"
            )
        if not statuses or set(statuses) - allowed:
            raise ValueError(
                f"ModelApprovalNotifications {name!r}: statuses={statuses!r}; expected a non-empty "
                f"list of {', '.join(sorted(allowed))}"
            )
        super().__init__("mlops:pipelines:ModelApprovalNotifications", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        group = args["model_package_group_name"]
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=args["rule_name"],
            description=pulumi.Output.concat("Model package approvals in ", group),
            event_pattern=pulumi.Output.json_dumps(
                {
                    "source": ["aws.sagemaker"],
                    "detail-type": ["SageMaker Model Package State Change"],
                    "detail": {"ModelPackageGroupName": [group], "ModelApprovalStatus": statuses},
                }
            ),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-to-topic",
            rule=self.rule.name,
            arn=args["topic_arn"],
            input_transformer={
                "input_paths": {
                    "group": "$.detail.ModelPackageGroupName",
                    "version": "$.detail.ModelPackageVersion",
                    "status": "$.detail.ModelApprovalStatus",
                    "arn": "$.detail.ModelPackageArn",
                },
                "input_template": '"Model <group> version <version> is now <status> (<arn>)."',
            },
            opts=child,
        )
        self.register_outputs({"rule_arn": self.rule.arn})


class JobSecurityGroupArgs(TypedDict):
    """Arguments of `JobSecurityGroup`."""

    vpc_id: pulumi.Input[str]
    """The VPC of the jobs."""
    vpc_cidr: pulumi.Input[str]
    """The VPC's range: HTTPS to the interface endpoints inside it."""
    s3_prefix_list_id: pulumi.Input[str]
    """Managed prefix list of S3 in the region: HTTPS to S3 through the gateway endpoint."""


class JobSecurityGroup(pulumi.ComponentResource):
    """Security group of SageMaker jobs in the VPC: no ingress but from itself (multi-instance training),
    egress only HTTPS to the VPC's endpoints and to S3, and to itself."""

    security_group: aws.ec2.SecurityGroup
    """The group."""
    id: pulumi.Output[str]
    """ID of the group."""

    def __init__(self, name: str, args: JobSecurityGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(JobSecurityGroup, name, args)
        super().__init__("mlops:pipelines:JobSecurityGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args["vpc_id"],
            description="SageMaker jobs: HTTPS to VPC endpoints and S3, traffic between the job's instances",
            opts=child,
        )
        self.id = self.security_group.id
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-self",
            security_group_id=self.id,
            referenced_security_group_id=self.id,
            ip_protocol="-1",
            description="Between the instances of one job (distributed training)",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-self",
            security_group_id=self.id,
            referenced_security_group_id=self.id,
            ip_protocol="-1",
            description="Between the instances of one job (distributed training)",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-vpc",
            security_group_id=self.id,
            cidr_ipv4=args["vpc_cidr"],
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to the interface VPC endpoints",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-s3",
            security_group_id=self.id,
            prefix_list_id=args["s3_prefix_list_id"],
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to S3 (gateway endpoint)",
            opts=child,
        )
        self.register_outputs({"id": self.id})
