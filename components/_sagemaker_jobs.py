"""Permissions around SageMaker pipelines beyond data and key access, for `PersonaRolesArgs.extra_statements`
(the persona boundary admits them too, which is also the ceiling of the pipeline and schedule roles)."""

from collections.abc import Sequence

import pulumi

from . import _iam

ENI_WRITE_ACTIONS = [
    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
]  # fmt: skip
ENI_DESCRIBE_ACTIONS = [
    "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
]  # fmt: skip
LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]

PIPELINE_JOB_ACTIONS = [
    "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
    "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
    "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:AddTags", "sagemaker:ListTags",
]  # fmt: skip
"""What SageMaker Pipelines does, as a pipeline role, to run the steps and register the model."""
JOB_CREATE_ACTIONS = ["sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"]
CHECK_MODEL_ACTIONS = ["sagemaker:CreateModel"]
"""The CreateModel step (the model Clarify's checks serve from a temporary shadow endpoint)."""
SHADOW_ENDPOINT_ACTIONS = [
    "sagemaker:CreateEndpointConfig", "sagemaker:DeleteEndpointConfig", "sagemaker:CreateEndpoint",
    "sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint", "sagemaker:InvokeEndpoint",
]  # fmt: skip
"""What a Clarify model-bias or explainability check job does with its temporary `sm-clarify-*` endpoint."""


def training_job_statements(account_id: str, region: str, vpc_id: pulumi.Input[str]) -> list[_iam.Statement]:
    """The training persona as the execution role of pipeline jobs: network interfaces in the env's VPC only,
    its processing and training job logs, and SageMaker's job metrics."""
    logs = f"arn:aws:logs:{region}:{account_id}:log-group"
    vpc_arn = pulumi.Output.concat(f"arn:aws:ec2:{region}:{account_id}:vpc/", vpc_id)
    return [
        {"Sid": "TrainingNetworkInterfacesInEnvVpc", "Effect": "Allow", "Action": ENI_WRITE_ACTIONS,
         "Resource": "*", "Condition": {"ArnEquals": {"ec2:Vpc": vpc_arn}}},
        {"Sid": "TrainingDescribeNetwork", "Effect": "Allow", "Action": ENI_DESCRIBE_ACTIONS, "Resource": "*"},
        # Training and processing jobs (pipeline steps, checks): /aws/sagemaker/TrainingJobs and ProcessingJobs.
        {"Sid": "TrainingJobLogs", "Effect": "Allow", "Action": LOG_ACTIONS,
         "Resource": f"{logs}:/aws/sagemaker/*Jobs*"},  # the groups and their streams
        sagemaker_metrics_statement(),
        # Clarify's model checks serve the candidate from a temporary endpoint (and endpoint config) sm-clarify-*.
        {"Sid": "ClarifyShadowEndpoints", "Effect": "Allow", "Action": SHADOW_ENDPOINT_ACTIONS,
         "Resource": f"arn:aws:sagemaker:{region}:{account_id}:endpoint*/sm-clarify-*"},
    ]  # fmt: skip


JOB_SECURITY_GROUP_KEY = "sagemaker:VpcSecurityGroupIds"
"""The request's `VpcConfig.SecurityGroupIds` (multivalued; on CreateTrainingJob, CreateProcessingJob, CreateModel,
among others: Service Authorization Reference, Amazon SageMaker AI). Only identity policies carry conditions on it:
the persona boundary leaves it out (`components.access.IDENTITY_ONLY_CONDITION_KEYS`)."""


def job_conditions(
    kms_key_arn: pulumi.Input[str], security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
) -> dict:
    """Conditions every CreateTrainingJob/CreateProcessingJob of the platform carries, whoever calls it (pipeline
    role or ML engineer): volumes and output encrypted with the env key, the job inside a VPC, and traffic
    between its instances encrypted. With `security_group_ids`, also the job's security groups: only those
    (`with_security_groups`)."""
    conditions: dict = {
        "StringEquals": {"sagemaker:VolumeKmsKey": kms_key_arn, "sagemaker:OutputKmsKey": kms_key_arn},
        "Null": {"sagemaker:VpcSubnets": "false"},
        "Bool": {"sagemaker:InterContainerTrafficEncryption": "true"},
    }
    return with_security_groups(conditions, security_group_ids) if security_group_ids is not None else conditions


def with_security_groups(conditions: dict, security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]]) -> dict:
    """`conditions` plus: the request names security groups, and every one of them is in `security_group_ids`.
    `ForAllValues` alone holds for a request without any (vacuous truth), hence the `Null` test too; a job in the
    env's VPC with the VPC's default group or a node group with open egress is refused."""
    null = {**conditions.get("Null", {}), JOB_SECURITY_GROUP_KEY: "false"}
    return {**conditions, "Null": null, "ForAllValues:StringEquals": {JOB_SECURITY_GROUP_KEY: security_group_ids}}


def model_network_denies(security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]]) -> list[_iam.Statement]:
    """Refuse CreateModel naming no security group (so no VPC) or any group but `security_group_ids`. The ML
    engineer's CreateModel is otherwise unconditioned (the persona boundary admits the pipeline roles' checks
    model through it), and the training role may serve any model from a `sm-clarify-*` endpoint: a model outside
    the VPC or in an open group would run code as the training role with a way out. Denies, in the identity policy
    only: an explicit deny refuses whatever the boundary allows, and the boundary has no room for them."""
    return [
        {"Sid": "DenyModelsInOtherSgs", "Effect": "Deny", "Action": "sagemaker:CreateModel",
         "Resource": "*", "Condition": {"ForAnyValue:StringNotEquals": {JOB_SECURITY_GROUP_KEY: security_group_ids}}},
        {"Sid": "DenyModelsWithoutSg", "Effect": "Deny", "Action": "sagemaker:CreateModel",
         "Resource": "*", "Condition": {"Null": {JOB_SECURITY_GROUP_KEY: "true"}}},
    ]  # fmt: skip


def register_conditions() -> dict:
    """Model versions are registered pending review: only the model approver sets Approved or Rejected."""
    return {"StringEqualsIfExists": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}}


def sagemaker_metrics_statement() -> _iam.Statement:
    """Job and Model Monitor metrics (one Sid, so the shared persona boundary carries it once). PutMetricData is
    authorized only on "*"; the namespace condition keeps it to SageMaker's namespaces."""
    return {
        "Sid": "SageMakerMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
        "Condition": {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
    }  # fmt: skip


def pipeline_operator_statements(
    account_id: str,
    region: str,
    name_prefix: str,
    execution_role_arn: str,
    kms_key_arn: pulumi.Input[str],
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
) -> list[_iam.Statement]:
    """What operating the env's pipelines takes (the ML engineer persona: start executions, run jobs under the
    same conditions as the pipelines and only in their security groups, `security_group_ids`, create models only
    in those groups, register model versions pending approval, pass only the training role to SageMaker).
    Through the boundary (which leaves the security-group conditions and denies out), also the most a pipeline
    role may do. Approving is not in here: that is the model approver's (`components.access.approver_statements`)."""
    sagemaker = f"arn:aws:sagemaker:{region}:{account_id}"
    jobs = [f"{sagemaker}:processing-job/*", f"{sagemaker}:training-job/*"]
    creates = [a for a in PIPELINE_JOB_ACTIONS if a in JOB_CREATE_ACTIONS]
    register = ["sagemaker:CreateModelPackage"]
    others = [a for a in PIPELINE_JOB_ACTIONS if a not in creates and a not in register]
    return [
        {"Sid": "RunJobsEncryptedInVpc", "Effect": "Allow", "Action": creates, "Resource": jobs,
         "Condition": job_conditions(kms_key_arn, security_group_ids)},
        {"Sid": "RegisterPendingModelVersions", "Effect": "Allow", "Action": register,
         "Resource": [f"{sagemaker}:model-package/*", f"{sagemaker}:model-package-group/*"],
         "Condition": register_conditions()},
        {"Sid": "PipelineJobsAndPackages", "Effect": "Allow", "Action": [*others, *CHECK_MODEL_ACTIONS],
         "Resource": [*jobs, f"{sagemaker}:model-package*/*", f"{sagemaker}:model/*"]},
        # The quality and Clarify checks look up the latest approved version's baselines; no resource scoping.
        {"Sid": "ApprovedBaselines", "Effect": "Allow", "Action": "sagemaker:ListModelPackages",
         "Resource": "*"},
        {"Sid": "RunEnvPipelines", "Effect": "Allow",
         "Action": ["sagemaker:StartPipelineExecution", "sagemaker:StopPipelineExecution",
                    "sagemaker:DescribePipeline", "sagemaker:ListPipelineExecutions",
                    "sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"],
         "Resource": [f"{sagemaker}:pipeline/{name_prefix}-*", f"{sagemaker}:pipeline/{name_prefix}-*/execution/*"]},
        {"Sid": "PassTrainingRoleToSageMaker", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": execution_role_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
        *model_network_denies(security_group_ids),
    ]  # fmt: skip
