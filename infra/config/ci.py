"""The `ci_runner` section: the CodeBuild-hosted GitHub Actions runner inside the environment's VPC."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from mlops_platform.components.types import ConnectionArn, GitHubUserId
from pydantic import Field, StringConstraints

from .base import LogRetentionDays, StrictModel


class RunnerCompute(StrEnum):
    """CodeBuild compute types offered for the runner (Linux containers)."""

    SMALL = "BUILD_GENERAL1_SMALL"
    MEDIUM = "BUILD_GENERAL1_MEDIUM"
    LARGE = "BUILD_GENERAL1_LARGE"


class CiRunnerSettings(StrictModel):
    """A CodeBuild project whose webhook starts a GitHub Actions runner in the VPC's private subnets for each
    queued deploy or drift job, so CI reaches the private EKS API without opening it."""

    connection_arn: ConnectionArn
    """The account's CodeConnections connection to GitHub (the GitHub App installed on the repository); CodeBuild
    registers the webhook and the runners through it."""
    compute_type: RunnerCompute = RunnerCompute.MEDIUM
    """Size of the runner container (MEDIUM: 4 vCPU, 7 GB, enough for `pulumi up` of the whole stack)."""
    build_timeout_minutes: Annotated[int, Field(ge=5, le=480)] = 90
    """Longest a runner lives; keep it above the deploy job's `timeout-minutes`."""
    log_retention_days: LogRetentionDays = 90
    """Retention of the runner's CloudWatch log group (KMS-encrypted)."""
    workflows: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ._-]{1,80}$")]], Field(min_length=1)
    ] = ["Deploy", "Drift"]
    """Names of the workflows whose queued jobs may start a runner (the webhook's WORKFLOW_NAME filter). Not a trust
    boundary: a pull request can give any workflow these names (CodeBuild cannot filter workflow jobs by branch),
    so the runner's own role holds nothing a job could abuse (docs/security-model.md)."""
    actor_account_ids: list[GitHubUserId] = []
    """GitHub account IDs (numeric, `gh api users/<login> --jq .id`) whose queued jobs may start a runner (the
    webhook's ACTOR_ACCOUNT_ID filter on the event's sender): the accounts that merge to main and the one
    scheduled drift runs are attributed to. Empty: any account that can push to the repository."""
