"""Shared building blocks for the stack-config models: the strict base model and reusable types.

The value types live in `components.types`, shared with the components' argument validation (one source of
truth); they are re-exported here for the config sections.
"""

from __future__ import annotations

from mlops_platform.components.types import (
    AccountId,
    Arn,
    AwsRegion,
    GitHubRepository,
    Identifier,
    Ipv4Cidr,
    LogRetentionDays,
    RetentionDays,
    RoleArn,
    aws_regions,
)
from pydantic import BaseModel, ConfigDict

__all__ = [
    "AccountId",
    "Arn",
    "AwsRegion",
    "GitHubRepository",
    "Identifier",
    "Ipv4Cidr",
    "LogRetentionDays",
    "RetentionDays",
    "RoleArn",
    "StrictModel",
    "aws_regions",
]


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, values are frozen after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
