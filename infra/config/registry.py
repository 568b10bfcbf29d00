"""The `registry` section: container repositories, model package groups and experiment tracking."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from mlops_platform.components.registry_names import MODEL_PACKAGE_GROUP_NAME, REPOSITORY_NAME
from mlops_platform.components.types import TagPattern
from pydantic import AfterValidator, Field, StringConstraints, model_validator

from .base import AccountId, RoleArn, StrictModel


def _check_repository_name(value: str) -> str:
    if not (2 <= len(value) <= 200 and REPOSITORY_NAME.match(value)):
        raise ValueError(
            "not an ECR repository name; expected 2-200 lowercase letters and digits, parts joined by "
            "'.', '_', "
            "'-' or '/' (e.g. training, serving/xgboost)"
        )
    return value


def _check_group_name(value: str) -> str:
    if not MODEL_PACKAGE_GROUP_NAME.match(value):
        raise ValueError(
            "not a model package group name; expected 1-63 letters, digits and hyphens, starting and ending "
            "with a letter or digit (e.g. churn-model)"
        )
    return value


RepositoryName = Annotated[str, AfterValidator(_check_repository_name)]
"""An ECR repository name (botocore's RepositoryName pattern); the stack prefixes it with
`<project>-<env>/`."""

ModelGroupName = Annotated[str, AfterValidator(_check_group_name)]
"""A SageMaker model package group name (botocore's EntityName pattern)."""


class RepositorySettings(StrictModel):
    """One ECR repository: immutable tags, scan on push and KMS are always on."""

    name: RepositoryName
    """Repository name within the environment, e.g. `training`; physically `<project>-<env>/<name>`."""
    untagged_expiry_days: Annotated[int, Field(ge=1, le=365)] = 7
    """Days after which untagged images (failed or superseded builds) expire (1-365)."""
    keep_releases: Annotated[int, Field(ge=1, le=1000)] = 20
    """How many release images (tags matching `release_tag_patterns`) are kept; older ones expire
    (1-1000)."""
    release_tag_patterns: Annotated[list[TagPattern], Field(min_length=1, max_length=10)] = ["v*"]
    """Tag patterns of release images (ECR tagPatternList wildcards)."""


class ModelGroupSettings(StrictModel):
    """One SageMaker model package group: the registered versions of one model."""

    name: ModelGroupName
    """Group name, e.g. `churn-model`; endpoints and pipelines refer to it."""
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None
    """What the model is for."""
    share_with_accounts: list[AccountId] = []
    """Accounts (staging, prod) allowed to describe and list this group's model packages, for promotion; their
    principals (an administrator runs `mlops-platform promote`) may also read the versions' baselines in the artifacts
    bucket."""

    @model_validator(mode="after")
    def _accounts_once(self) -> ModelGroupSettings:
        if len(set(self.share_with_accounts)) != len(self.share_with_accounts):
            raise ValueError(f"share_with_accounts of model {self.name!r} lists an account twice")
        return self


class MlflowSize(StrEnum):
    """Managed MLflow tracking server sizes (`TrackingServerSize` in botocore's SageMaker model)."""

    SMALL = "Small"
    MEDIUM = "Medium"
    LARGE = "Large"


class MlflowSettings(StrictModel):
    """SageMaker managed MLflow, storing artifacts under `mlflow/` in the artifacts bucket."""

    enabled: bool = False
    """Create the tracking server (it is billed per hour while it exists)."""
    size: MlflowSize = MlflowSize.SMALL
    """Small, Medium or Large, by the expected number of users and logging volume."""
    weekly_maintenance_window_start: (
        Annotated[str, StringConstraints(pattern=r"^(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):[0-5]\d$")] | None
    ) = None
    """Start of the weekly maintenance window in UTC, `DDD:HH:MM` (e.g. `TUE:03:30`); unset lets AWS pick."""


class RegistrySettings(StrictModel):
    """Container images, model versions and experiments of the environment."""

    repositories: list[RepositorySettings] = []
    """ECR repositories for training and serving images."""
    models: list[ModelGroupSettings] = []
    """Model package groups, one per model."""
    mlflow: MlflowSettings = MlflowSettings()
    """Experiment tracking."""
    force_delete: bool = False
    """Let `pulumi destroy` delete repositories that still hold images. Only for throw-away dev stacks."""
    promote_from_accounts: list[AccountId] = []
    """Accounts whose approved model versions this environment serves (`mlops-platform promote`): its inference role
    may read their `models/` artifacts, decrypt them through S3 and pull their images, and its administrators may
    promote from them (read a version and its baselines there, copy the baselines into this environment's artifacts
    bucket, register the version here as Approved; no persona may); they share with it in turn
    (`models[].share_with_accounts` in their stack files)."""
    promoter_role_arns: list[RoleArn] = []
    """Roles of this account that run `mlops-platform promote` (administrators, e.g. an SSO administrator permission
    set's role): the env key lets them encrypt and decrypt through S3 in this environment's artifacts bucket only, to
    write a promoted version's baseline copies. Needs `promote_from_accounts`."""

    @model_validator(mode="after")
    def _promoters_need_sources(self) -> RegistrySettings:
        if self.promoter_role_arns and not self.promote_from_accounts:
            raise ValueError(
                "registry.promoter_role_arns is set but registry.promote_from_accounts is empty: nothing is promoted "
                "into this environment; remove promoter_role_arns or list the source accounts"
            )
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> RegistrySettings:
        for key, names in (
            ("repositories", [r.name for r in self.repositories]),
            # SageMaker ARNs lowercase names, so groups differing only in case would collide.
            ("models", [m.name.lower() for m in self.models]),
        ):
            seen: dict[str, int] = {}
            for index, name in enumerate(names):
                if name in seen:
                    raise ValueError(
                        f"{key}[{index}].name {name!r} repeats {key}[{seen[name]}].name; names must be unique"
                    )
                seen[name] = index
        return self
