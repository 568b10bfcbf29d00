"""What a promoted model needs across accounts.

`mlops-platform promote` registers the approved version in the target's own group but keeps its container image
and artifact where they were built (the source environment's ECR repository and `artifacts/models/`). The target's
endpoints run as its `inference` role, so:

- the **source** (an environment whose `registry.models[].share_with_accounts` lists other accounts) lets those
  accounts' inference roles read `models/` of its artifacts bucket, decrypt it through S3 and pull its images;
- the **target** (an environment with `registry.promote_from_accounts`) lets its inference role read exactly there.

The promotion itself is an administrator's act in the target account (`mlops-platform promote` with the target's
operator credentials): it registers the version there as `Approved` and writes its baseline copies under
`PROMOTED_BASELINE_KEYS`, where the target's inference role reads them (its monitors do). No persona gets that
pair: a role that could write what inference reads *and* register an approved version could serve a model of its
own making alone, so the model approver keeps approving only. The source lets its target accounts' principals read
the baseline objects (`BASELINE_SOURCE_KEYS`) and decrypt them through S3; in the target account only an
administrator's own IAM policy allows that.

Cross-account access needs both halves; each stack declares its own.
"""

from __future__ import annotations

from mlops_platform.components import _iam
from mlops_platform.components.access import Persona
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PROJECT, PlatformSettings

INFERENCE_ROLE_PATTERN = "arn:aws:iam::{account}:role/" + PROJECT + "-*-" + Persona.INFERENCE.value
"""The inference role of any environment of this project in `account`."""
PROMOTER_ROLE_PATTERN = "arn:aws:iam::{account}:role/*"
"""Who in a target account may read a promotion source's baseline objects, as far as the source's policies go: any
role there (`mlops-platform promote` runs as the target's administrator, e.g. an SSO administrator role); the
target's own IAM policies decide, and no persona of the platform is granted it."""

BASELINE_SOURCE_KEYS = (
    "models/baselines/*",
    "models/promoted/*",
    "pipelines/*/checks/*",
    "pipelines/*/evaluation/*",
    "code/*/checks/*",
    "code/*/config/*",
)
"""Keys (IAM wildcards: `*` spans `/`) of the baseline objects a promotion reads in the source's artifacts bucket:
the copies PublishBaselines filed under the version's ARN, and what the version's ModelMetrics/DriftCheckBaselines
reference: the pipeline's check and evaluation outputs, the Clarify analysis configurations and the configured bias
limits it uploads, or (a version that was itself promoted) the copies a promotion made. Nothing else of the bucket:
no model artifact, data profile, prediction or captured request."""
PROMOTED_BASELINE_KEYS = ("models/baselines/*", "models/promoted/*")
"""Keys a promotion writes in the target's artifacts bucket: `models/baselines/<target version ARN>/` (what the
target's monitors read) and `models/promoted/<source version ARN>/` (what the target version's ModelMetrics and
DriftCheckBaselines point at)."""


def shared_with_accounts(settings: PlatformSettings) -> list[str]:
    """Accounts any of the stack's model groups is shared with."""
    return sorted({account for model in settings.registry.models for account in model.share_with_accounts})


def _readers(accounts: list[str], role_pattern: str = INFERENCE_ROLE_PATTERN) -> dict:
    return {
        "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in accounts]},
        "Condition": {"ArnLike": {"aws:PrincipalArn": [role_pattern.format(account=a) for a in accounts]}},
    }


def artifacts_bucket_statements(settings: PlatformSettings) -> list[_iam.Statement]:
    """Source side, artifacts bucket policy: the target accounts' inference roles read `models/`, their model
    administrators (who run the promotion) the baseline objects (`BASELINE_SOURCE_KEYS`); nothing else."""
    if not (accounts := shared_with_accounts(settings)):
        return []
    return [
        {"Sid": "PromotedModelsReadByTargets", "Effect": "Allow", **_readers(accounts),
         "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "{bucket_arn}/models/*"},
        {"Sid": "PromotedBaselinesReadByPromoters", "Effect": "Allow", **_readers(accounts, PROMOTER_ROLE_PATTERN),
         "Action": "s3:GetObject", "Resource": [f"{{bucket_arn}}/{key}" for key in BASELINE_SOURCE_KEYS]},
    ]  # fmt: skip


def data_key_statements(settings: PlatformSettings) -> list[_iam.Statement]:
    """Source side, data key policy: the same roles decrypt, through S3 in the stack's region only (the bucket
    policy decides which objects)."""
    if not (accounts := shared_with_accounts(settings)):
        return []
    via_s3 = {"kms:ViaService": f"s3.{settings.region}.amazonaws.com"}
    readers = _readers(accounts)
    readers["Condition"]["StringEquals"] = via_s3
    promoters = _readers(accounts, PROMOTER_ROLE_PATTERN)
    promoters["Condition"]["StringEquals"] = via_s3
    return [
        {"Sid": "PromotedModelsDecryptByTargets", "Effect": "Allow", **readers,
         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
        {"Sid": "PromotedBaselinesDecryptByPromoters", "Effect": "Allow", **promoters,
         "Action": "kms:Decrypt", "Resource": "*"},
    ]  # fmt: skip


def image_pull_principals(settings: PlatformSettings) -> list[str]:
    """Source side, repository policies: the target accounts may pull (their IAM narrows it to the inference role)."""
    return [f"arn:aws:iam::{account}:root" for account in shared_with_accounts(settings)]


def promoted_model_read_statements(settings: PlatformSettings) -> list[_iam.Statement]:
    """Target side, inference role: read the promoted models' artifacts and images in the source accounts."""
    accounts = sorted(settings.registry.promote_from_accounts)
    if not accounts:
        return []
    region = settings.region
    return [
        {"Sid": "PromotedS3", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{PROJECT}-*-artifacts-*/models/*",
         "Condition": {"StringEquals": {"s3:ResourceAccount": _one_or_list(accounts)}}},
        {"Sid": "PromotedKms", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": _one_or_list([f"arn:aws:kms:{region}:{account}:key/*" for account in accounts]),
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}},
        # Sids and actions kept short: the persona boundary repeats these and is capped at 6,144 characters.
        {"Sid": "PromotedEcr", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
         "Resource": _one_or_list([f"arn:aws:ecr:{region}:{account}:repository/{PROJECT}-*" for account in accounts])},
    ]  # fmt: skip


def promoter_key_statements(settings: PlatformSettings) -> list[_iam.Statement]:
    """Target side, env key policy: the roles that run `mlops-platform promote` (`registry.promoter_role_arns`) may
    encrypt and decrypt through S3 in this environment's artifacts bucket only (S3's encryption context names the
    bucket, or the object with bucket keys off), to write the baseline copies. The key's administrators cannot use
    it otherwise (`components.encryption`)."""
    if not (promoters := sorted(settings.registry.promoter_role_arns)):
        return []
    region, prefix = settings.region, settings.name_prefix
    return [
        {"Sid": "KeyUseByPromotersInArtifactsBucket", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{settings.account}:root"},
         "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
         "Condition": {"ArnEquals": {"aws:PrincipalArn": _one_or_list(promoters)},
                       "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{prefix}-artifacts-*"}}},
    ]  # fmt: skip


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


class ModelSharingCapability(Capability):
    """Cross-account model reads: the inference role of an environment that serves models promoted from another
    account may read their artifacts there. (The source side's bucket and key grants are contributed to the
    storage capability directly: `artifacts_bucket_statements`, `data_key_statements`.)"""

    name = "model-sharing"

    def key_policy_statements(self, settings: PlatformSettings) -> list[_iam.Statement]:
        return data_key_statements(settings) + promoter_key_statements(settings)

    def persona_statements(self, platform: Platform) -> dict[Persona, list[_iam.Statement]]:
        statements: dict[Persona, list[_iam.Statement]] = {}
        if reads := promoted_model_read_statements(platform.settings):
            statements[Persona.INFERENCE] = reads
        return statements

    def build(self, platform: Platform) -> None:
        return None


CAPABILITY = ModelSharingCapability()
