"""The `access` section: who may assume the persona roles and how CI deploys."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from .base import Arn, GitHubRepository, RoleArn, StrictModel

GitRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{1,100}$")]


class GitHubDeploySettings(StrictModel):
    """The GitHub repository whose workflows may assume the CI deployer role via OIDC."""

    repository: GitHubRepository
    """owner/name of the repository that deploys this stack."""
    branch: GitRef | None = None
    """Trust only workflow runs on this branch (e.g. main). Exactly one of branch or environment."""
    environment: GitRef | None = None
    """Trust only jobs running in this GitHub environment (e.g. prod). Exactly one of branch or environment."""
    oidc_provider_arn: Arn | None = None
    """ARN of the account's existing token.actions.githubusercontent.com provider; unset creates one."""
    default_branch: GitRef = "main"
    """The repository's default branch: its scheduled drift checks, like pull requests, may assume the read-only
    CI previewer role."""

    @model_validator(mode="after")
    def _exactly_one_ref(self) -> GitHubDeploySettings:
        if (self.branch is None) == (self.environment is None):
            raise ValueError("set exactly one of branch or environment to pin the OIDC trust")
        return self

    @property
    def preview_subjects(self) -> tuple[str, ...]:
        """The `sub` claims of pull-request runs and of the default branch's runs (drift detection)."""
        return (f"repo:{self.repository}:pull_request", f"repo:{self.repository}:ref:refs/heads/{self.default_branch}")

    @property
    def subject(self) -> str:
        """The `sub` claim GitHub puts in the OIDC token for the trusted workflow runs."""
        if self.branch:
            return f"repo:{self.repository}:ref:refs/heads/{self.branch}"
        return f"repo:{self.repository}:environment:{self.environment}"


PrincipalList = Annotated[list[RoleArn], Field(min_length=1)]


class PersonaPrincipals(StrictModel):
    """Who may assume each human persona: one list per persona, so that no list trusts two personas."""

    data_scientist: PrincipalList
    """Role ARNs (typically IAM Identity Center permission-set roles) allowed to assume the data-scientist role."""
    ml_engineer: PrincipalList
    """Role ARNs allowed to assume the ml-engineer role (trains, registers and operates pipelines)."""
    model_approver: PrincipalList
    """Role ARNs allowed to assume the model-approver role, the only one that approves or rejects model
    versions; none of them may appear in data_scientist or ml_engineer (who trains does not approve)."""

    @model_validator(mode="after")
    def _approvers_do_not_train(self) -> PersonaPrincipals:
        trainers = set(self.data_scientist) | set(self.ml_engineer)
        if both := sorted(trainers & set(self.model_approver)):
            raise ValueError(
                f"model_approver lists {', '.join(both)}, which also assume a persona that trains and registers "
                "models; use a separate approver role (separation of duties)"
            )
        return self


class AccessSettings(StrictModel):
    """IAM personas: the principals that may assume them and the CI deployer's OIDC trust."""

    personas: PersonaPrincipals
    """Per human persona, the roles that may assume it."""
    key_administrator_arns: Annotated[list[RoleArn], Field(min_length=1)]
    """Roles (besides the CI deployer) that administer the environment's KMS key through its key policy: at least
    the role that runs the account's first `pulumi up` (KMS refuses a key policy that would lock its creator
    out). They cannot use the key, and nobody else can administer it."""
    max_session_hours: Annotated[int, Field(ge=1, le=12)] = 4
    """Maximum session length of the human persona roles, in hours (1-12)."""
    github: GitHubDeploySettings
    """OIDC trust of the CI deployer role."""
    state_bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] | None = None
    """Name of the S3 bucket holding Pulumi state; the CI deployer may read and write it."""
    secrets_key_arn: Arn | None = None
    """KMS key of Pulumi's secrets provider; the CI deployer may encrypt and decrypt with it."""
