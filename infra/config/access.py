"""The `access` section: who may assume the persona roles and how CI deploys."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from .base import Arn, GitHubRepository, RoleArn, StrictModel

GitRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{1,100}$")]
WorkflowFile = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,100}\.ya?ml$")]

_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$")


def _check_key_arn(value: str) -> str:
    if re.match(r"^arn:aws[a-z-]*:kms:[a-z0-9-]*:\d{12}:alias/", value):
        raise ValueError(
            "an alias ARN; IAM does not match a KMS key by its alias ARN in a policy's Resource, so the CI roles "
            "would get AccessDenied. Use the key ARN arn:aws:kms:<region>:<account>:key/<key-id> (the bootstrap "
            "stack's output, or `aws kms describe-key --key-id alias/<name> --query KeyMetadata.Arn`)"
        )
    if not _KEY_ARN.match(value):
        raise ValueError("not a KMS key ARN; expected arn:aws:kms:<region>:<12-digit account>:key/<key-id>")
    return value


KmsKeyArn = Annotated[str, AfterValidator(_check_key_arn)]
"""A KMS key ARN (`key/<id>`), never an alias."""


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
    """The repository's default branch: its scheduled drift checks (and only they) may assume the read-only CI
    drift role."""
    pin_workflows: bool = True
    """Pin each role to the workflow file that may assume it, through `job_workflow_ref` in the OIDC subject. Needs
    the repository's subject template customised to `repo`, `context`, `job_workflow_ref` (docs/operations.md);
    false trusts any workflow of the repository in the environment (GitHub's default subject)."""
    deploy_workflow: WorkflowFile = "pulumi-up.yml"
    """Workflow file (in .github/workflows/) whose jobs may assume the CI deployer."""
    preview_workflow: WorkflowFile = "pr-preview.yml"
    """Workflow file whose pull-request jobs may assume the CI previewer."""
    drift_workflow: WorkflowFile = "drift.yml"
    """Workflow file whose default-branch jobs may assume the CI drift role (nightly drift; it reads the training
    cluster, Helm's release records included)."""

    @model_validator(mode="after")
    def _exactly_one_ref(self) -> GitHubDeploySettings:
        if (self.branch is None) == (self.environment is None):
            raise ValueError("set exactly one of branch or environment to pin the OIDC trust")
        return self

    def _workflow_ref(self, workflow: str, ref: str) -> str:
        return f":job_workflow_ref:{self.repository}/.github/workflows/{workflow}@{ref}" if self.pin_workflows else ""

    @property
    def preview_subjects(self) -> tuple[str, ...]:
        """The `sub` claims of pull-request runs (the CI previewer); `*` stands for the pull request's number."""
        return (f"repo:{self.repository}:pull_request{self._workflow_ref(self.preview_workflow, 'refs/pull/*/merge')}",)

    @property
    def drift_subjects(self) -> tuple[str, ...]:
        """The `sub` claim of the default branch's drift runs (the CI drift role). A pull request's token says
        `pull_request`, never `ref:refs/heads/<default branch>`, whatever workflow file it edits."""
        main = f"refs/heads/{self.default_branch}"
        return (f"repo:{self.repository}:ref:{main}{self._workflow_ref(self.drift_workflow, main)}",)

    @property
    def subject(self) -> str:
        """The `sub` claim GitHub puts in the OIDC token for the trusted deploy runs: the environment (or branch)
        and, pinned, the deploy workflow at the default branch."""
        context = f"ref:refs/heads/{self.branch}" if self.branch else f"environment:{self.environment}"
        ref = f"refs/heads/{self.branch or self.default_branch}"
        return f"repo:{self.repository}:{context}{self._workflow_ref(self.deploy_workflow, ref)}"


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
    """Name of the S3 bucket holding Pulumi state (the bootstrap program's `state_bucket` output). The stack logs
    in to its own prefix, `pulumi login s3://<state_bucket>/<environment>`; the CI deployer reads and writes, the CI
    previewer and drift reader read, only that prefix."""
    state_key_arn: KmsKeyArn | None = None
    """KMS key ARN (`key/...`) the state bucket encrypts objects with (bootstrap output `state_key_arn`); the CI
    roles may use it through S3 only."""
    secrets_key_arn: KmsKeyArn | None = None
    """KMS key ARN (`key/...`, not an alias) of this environment's Pulumi secrets provider (bootstrap output
    `secrets_key_arns.<environment>`); the CI deployer encrypts and decrypts with it, the previewer and drift
    reader decrypt."""
