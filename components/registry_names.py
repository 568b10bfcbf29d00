"""Names, patterns and actions of the registries, in a module of their own: stack configuration, the persona
policies and the key policy use them without importing the registry components, whose annotations name
pulumi-aws's ECR and SageMaker modules (which a stack without registries should not load).
"""

import re

REPOSITORY_NAME = re.compile(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$")
"""botocore's ECR `RepositoryName` pattern (2-256 characters)."""

MODEL_PACKAGE_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
"""botocore's SageMaker `EntityName` pattern, used by model package group names (1-63 characters)."""

TRACKING_SERVER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
"""botocore's SageMaker `TrackingServerName` pattern."""

ACCOUNT_ID = re.compile(r"^\d{12}$")

PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
"""What pulling an image needs on the repository (plus `ecr:GetAuthorizationToken`, granted in IAM)."""
PUSH_ACTIONS = ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"]
"""What pushing an image needs on top of the pull actions."""

MLFLOW_PREFIX = "mlflow/"
"""Prefix of the artifacts bucket holding MLflow's artifact store."""


def mlflow_role_name(name_prefix: str) -> str:
    """Physical name of the tracking server's role, known before it exists (for the key policy)."""
    return f"{name_prefix}-mlflow"
