"""What a promoted model needs across accounts.

`mlops-platform promote` registers the approved version in the target's own group but keeps its container image
and artifact where they were built (the source environment's ECR repository and `artifacts/models/`). The target's
endpoints run as its `inference` role, so:

- the **source** (an environment whose `registry.models[].share_with_accounts` lists other accounts) lets those
  accounts' inference roles read `models/` of its artifacts bucket, decrypt it through S3 and pull its images;
- the **target** (an environment with `registry.promote_from_accounts`) lets its inference role read exactly there.

Cross-account access needs both halves; each stack declares its own.
"""

from __future__ import annotations

from mlops_platform.components import _iam
from mlops_platform.components.access import Persona
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PROJECT, PlatformSettings

INFERENCE_ROLE_PATTERN = "arn:aws:iam::{account}:role/" + PROJECT + "-*-" + Persona.INFERENCE.value
"""The inference role of any environment of this project in `account`."""


def shared_with_accounts(settings: PlatformSettings) -> list[str]:
    """Accounts any of the stack's model groups is shared with."""
    return sorted({account for model in settings.registry.models for account in model.share_with_accounts})


def _readers(accounts: list[str]) -> dict:
    return {
        "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in accounts]},
        "Condition": {"ArnLike": {"aws:PrincipalArn": [INFERENCE_ROLE_PATTERN.format(account=a) for a in accounts]}},
    }


def artifacts_bucket_statements(settings: PlatformSettings) -> list[_iam.Statement]:
    """Source side, artifacts bucket policy: the target accounts' inference roles read `models/`, nothing else."""
    if not (accounts := shared_with_accounts(settings)):
        return []
    return [
        {"Sid": "PromotedModelsReadByTargets", "Effect": "Allow", **_readers(accounts),
         "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "{bucket_arn}/models/*"}
    ]  # fmt: skip


def data_key_statements(settings: PlatformSettings) -> list[_iam.Statement]:
    """Source side, data key policy: the same roles decrypt, through S3 in the stack's region only."""
    if not (accounts := shared_with_accounts(settings)):
        return []
    readers = _readers(accounts)
    readers["Condition"]["StringEquals"] = {"kms:ViaService": f"s3.{settings.region}.amazonaws.com"}
    return [
        {"Sid": "PromotedModelsDecryptByTargets", "Effect": "Allow", **readers,
         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}
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


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


class ModelSharingCapability(Capability):
    """Cross-account model reads: the inference role of an environment that serves models promoted from another
    account may read their artifacts there. (The source side's bucket and key grants are contributed to the
    storage capability directly: `artifacts_bucket_statements`, `data_key_statements`.)"""

    name = "model-sharing"

    def key_policy_statements(self, settings: PlatformSettings) -> list[_iam.Statement]:
        return data_key_statements(settings)

    def persona_statements(self, platform: Platform) -> dict[Persona, list[_iam.Statement]]:
        statements = promoted_model_read_statements(platform.settings)
        return {Persona.INFERENCE: statements} if statements else {}

    def build(self, platform: Platform) -> None:
        return None


CAPABILITY = ModelSharingCapability()
