"""What a CI role needs of the Pulumi backend: its environment's prefix of the shared state bucket, the bucket's
key through S3, and its environment's stack-secrets key. Nothing of another environment.

Pulumi's S3 ("DIY") backend keeps everything of a login URL `s3://<bucket>/<env>` under `<env>/.pulumi/`:
stack checkpoints, history, backups and lock files. A role limited to that prefix can neither read another
environment's state (which holds its resource IDs and encrypted secrets) nor overwrite it.
"""

from dataclasses import dataclass

from . import _iam

STATE_LAYOUT_ROOT = ".pulumi"
"""Folder under the login prefix where the DIY backend writes (`<env>/.pulumi/...`)."""


@dataclass(frozen=True)
class PulumiBackend:
    """Where an environment's Pulumi state and secrets live."""

    state_bucket: str
    """Name of the shared state bucket (created by the bootstrap program)."""
    environment: str
    """The environment; also the login prefix: `pulumi login s3://<bucket>/<environment>`."""
    state_key_arn: str | None = None
    """The KMS key the state bucket encrypts objects with (SSE-KMS default encryption); None if SSE-S3."""
    secrets_key_arn: str | None = None
    """The environment's stack-secrets key (`awskms://` secrets provider), as a `key/` ARN."""

    @property
    def login_url(self) -> str:
        """The `pulumi login` URL of the environment."""
        return f"s3://{self.state_bucket}/{self.environment}"

    @property
    def state_objects_arn(self) -> str:
        """Every object the environment's backend reads or writes."""
        return f"arn:aws:s3:::{self.state_bucket}/{self.environment}/{STATE_LAYOUT_ROOT}/*"

    @property
    def lock_objects_arn(self) -> str:
        """The environment's lock files (taken by `up`, `refresh`, `destroy` and `import`; a preview takes none)."""
        return f"arn:aws:s3:::{self.state_bucket}/{self.environment}/{STATE_LAYOUT_ROOT}/locks/*"


def backend_statements(backend: PulumiBackend, *, write: bool) -> list[_iam.Statement]:
    """Identity-policy statements for one environment's backend: read (and with `write`, write) its state
    prefix, list only that prefix, use the state key through S3, and decrypt (with `write`, also encrypt)
    stack secrets with the environment's own key."""
    statements: list[_iam.Statement] = []
    if backend.state_bucket:
        statements += _state_statements(backend, write=write)
    if backend.secrets_key_arn:
        actions = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        statements.append(
            {
                "Sid": "PulumiSecretsProvider" if write else "PulumiSecretsDecrypt",
                "Effect": "Allow",
                "Action": actions if write else ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": backend.secrets_key_arn,
            }
        )
    return statements


def _state_statements(backend: PulumiBackend, *, write: bool) -> list[_iam.Statement]:
    env, bucket_arn = backend.environment, f"arn:aws:s3:::{backend.state_bucket}"
    statements: list[_iam.Statement] = [
        {
            "Sid": "PulumiStateObjects" if write else "PulumiStateRead",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] if write else "s3:GetObject",
            "Resource": backend.state_objects_arn,
        },
        {
            "Sid": "PulumiStateList",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [env, f"{env}/*"]}},
        },
    ]
    # No lock for the read-only role: the DIY backend's `preview` (with --refresh too) takes no lock, only
    # `up`, `refresh`, `destroy` and `import` do (pulumi/pulumi pkg/backend/diy/backend.go), so a pull request's
    # preview can never leave a lock that blocks the environment's deploys.
    if backend.state_key_arn:
        statements.append(
            {
                "Sid": "PulumiStateKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": backend.state_key_arn,
                "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
            }
        )
    return statements
