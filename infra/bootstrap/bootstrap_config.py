"""The bootstrap stack's config (`mlops-bootstrap:` keys of `infra/bootstrap/Pulumi.<stack>.yaml`), validated once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

import pulumi
from mlops_platform.infra.config.base import AccountId, AwsRegion, GitHubRepository, RoleArn, StrictModel
from pydantic import Field, StringConstraints, ValidationError, field_validator, model_validator

PROJECT = "mlops-bootstrap"
"""The bootstrap's Pulumi project name and config namespace."""
PLATFORM_PROJECT = "mlops-platform"
"""The project whose stacks the bootstrap serves (role names are `<project>-<env>-ci-deployer`)."""

EnvName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")]


class BootstrapConfigError(pulumi.RunError):
    """A bootstrap config that does not validate; the message names every bad key."""


class TagSettings(StrictModel):
    """Ownership tags of the bootstrap's resources."""

    team: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ._:/=+@-]{1,128}$")]
    """Owning team (`team` tag)."""
    cost_center: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ._:/=+@-]{1,128}$")]
    """Cost center (`cost-center` tag)."""


class StateSettings(StrictModel):
    """The Pulumi state bucket."""

    bucket_prefix: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,29}-$")]
    """Prefix of the bucket's name (AWS appends a unique suffix): lowercase letters, digits and '-', ending with
    '-', at most 32 characters (its log bucket is `<prefix>logs-...`)."""
    lock_retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    """Object Lock (GOVERNANCE) retention of every state object version: nobody without
    s3:BypassGovernanceRetention can delete or overwrite-and-purge a checkpoint for this long."""
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=3650)] = 90
    """Days superseded checkpoint versions are kept (at least the lock retention)."""
    access_log_retention_days: Annotated[int, Field(ge=1, le=3650)] = 365
    """Days the bucket's server access logs are kept."""

    @model_validator(mode="after")
    def _versions_outlive_the_lock(self) -> StateSettings:
        if self.noncurrent_version_expiration_days < self.lock_retention_days:
            raise ValueError(
                f"noncurrent_version_expiration_days ({self.noncurrent_version_expiration_days}) is shorter than "
                f"lock_retention_days ({self.lock_retention_days}); locked versions cannot expire earlier"
            )
        return self


class EnvironmentSettings(StrictModel):
    """One environment of the platform: its account and how the bootstrap reaches it."""

    name: EnvName
    """Environment (and stack) name, e.g. dev; also its prefix in the state bucket."""
    account: AccountId
    """The environment's AWS account (its stacks' `mlops-platform:account`)."""
    admin_role_arn: RoleArn | None = None
    """Role the bootstrap assumes in that account to create its GitHub OIDC provider (e.g. the Organizations
    `OrganizationAccountAccessRole`); unset only when the environment lives in the bootstrap's own account."""
    operator_role_arns: list[RoleArn] = []
    """Roles of the environment's account that may run `pulumi` for it from a workstation (its first deploy,
    repairs): the same state prefix and secrets key as its CI deployer, nothing of another environment."""

    @model_validator(mode="after")
    def _admin_role_in_account(self) -> EnvironmentSettings:
        if self.admin_role_arn and f":{self.account}:" not in self.admin_role_arn:
            raise ValueError(
                f"admin_role_arn {self.admin_role_arn!r} is not in the environment's account {self.account}"
            )
        return self


class BootstrapSettings(StrictModel):
    """The whole bootstrap config."""

    region: AwsRegion
    """Region of the state bucket and the secrets keys (the stacks' region)."""
    account: AccountId
    """The account holding the state bucket and the secrets keys (a tooling account, not an environment's)."""
    tags: TagSettings
    """Ownership tags."""
    state: StateSettings
    """The state bucket."""
    github_repository: GitHubRepository
    """owner/name of the repository whose workflows deploy the stacks."""
    environments: Annotated[list[EnvironmentSettings], Field(min_length=1)]
    """The platform's environments, each with its own state prefix and secrets key."""
    break_glass_role_arns: Annotated[list[RoleArn], Field(min_length=1)]
    """Administrator roles of the bootstrap account (e.g. the IAM Identity Center admin permission set) that may
    read and repair every environment's state; the only principals besides each environment's CI roles."""

    @field_validator("environments")
    @classmethod
    def _unique(cls, value: list[EnvironmentSettings]) -> list[EnvironmentSettings]:
        names = [e.name for e in value]
        if duplicates := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"duplicate environment name(s) {duplicates}")
        return value

    @model_validator(mode="after")
    def _reachable_accounts(self) -> BootstrapSettings:
        for index, env in enumerate(self.environments):
            if env.account != self.account and env.admin_role_arn is None:
                raise ValueError(
                    f"environments[{index}] ({env.name}) is in account {env.account}, not the bootstrap's "
                    f"{self.account}: set its admin_role_arn (a role the bootstrap assumes there to create the "
                    "GitHub OIDC provider)"
                )
        return self

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags of every taggable resource."""
        return {
            "env": "bootstrap",
            "project": PLATFORM_PROJECT,
            "team": self.tags.team,
            "cost-center": self.tags.cost_center,
        }


def parse_bootstrap(raw: Mapping[str, Any]) -> BootstrapSettings:
    """Validate the un-namespaced config map; `BootstrapConfigError` names every bad key."""
    try:
        return BootstrapSettings.model_validate(dict(raw))
    except ValidationError as exc:
        lines = ["invalid bootstrap config:"]
        for error in exc.errors():
            key = f"{PROJECT}:{'.'.join(str(part) for part in error['loc'])}"
            if error["type"] == "extra_forbidden":
                lines.append(f"  {key}: unknown key")
            elif error["type"] == "missing":
                lines.append(f"  {key}: required key is missing")
            else:
                lines.append(f"  {key} = {error['input']!r}: {error['msg'].removeprefix('Value error, ')}")
        raise BootstrapConfigError("\n".join(lines)) from None


def settings_from_pulumi() -> BootstrapSettings:
    """Read and validate the running bootstrap stack's config."""
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{PROJECT}:"
    raw = {
        key[len(prefix) :]: json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value
        for key, value in merged.items()
        if key.startswith(prefix)
    }
    return parse_bootstrap(raw)
