"""What a SageMaker job's execution role needs beyond data and key access: network interfaces in the VPC,
its CloudWatch log streams and metrics. Shared by the training persona's policy and its boundary."""

from __future__ import annotations

from . import _iam

ENI_WRITE_ACTIONS = [
    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
]
ENI_DESCRIBE_ACTIONS = [
    "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
]
LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]


def job_runtime_statements(account_id: str, region: str) -> list[_iam.Statement]:
    """ENIs in this account and region, /aws/sagemaker/* logs, and /aws/sagemaker/* metrics."""
    ec2 = f"arn:aws:ec2:{region}:{account_id}"
    return [
        {"Sid": "JobNetworkInterfaces", "Effect": "Allow", "Action": ENI_WRITE_ACTIONS,
         "Resource": [f"{ec2}:network-interface/*", f"{ec2}:subnet/*", f"{ec2}:security-group/*"]},
        # EC2 Describe* actions support no resource-level scoping.
        {"Sid": "JobNetworkLookup", "Effect": "Allow", "Action": ENI_DESCRIBE_ACTIONS, "Resource": "*"},
        {"Sid": "JobLogs", "Effect": "Allow", "Action": LOG_ACTIONS,
         "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:/aws/sagemaker/*"},
        {"Sid": "JobMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
         "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}},
    ]


PIPELINE_JOB_ACTIONS = [
    "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
    "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
    "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:AddTags", "sagemaker:ListTags",
]
"""What SageMaker Pipelines does, as a pipeline role, to run the steps and register the model."""


def pipeline_ceiling_statements(
    account_id: str, region: str, name_prefix: str, execution_role_arn: str
) -> list[_iam.Statement]:
    """The most a pipeline role or its schedule role may do (a boundary's part): the env's jobs and model
    packages, starting the env's pipelines, and passing only the execution role to SageMaker."""
    sagemaker = f"arn:aws:sagemaker:{region}:{account_id}"
    return [
        {"Sid": "PipelineJobsAndPackages", "Effect": "Allow", "Action": PIPELINE_JOB_ACTIONS,
         "Resource": [f"{sagemaker}:processing-job/*", f"{sagemaker}:training-job/*",
                      f"{sagemaker}:model-package/*", f"{sagemaker}:model-package-group/*"]},
        {"Sid": "StartEnvPipelines", "Effect": "Allow", "Action": "sagemaker:StartPipelineExecution",
         "Resource": f"{sagemaker}:pipeline/{name_prefix}-*"},
        {"Sid": "PassExecutionRoleToSageMaker", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": execution_role_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
    ]
