"""ECR: immutable tags, scan on push, encryption with a customer-managed key."""

from __future__ import annotations

from ..core import Level, Resource, Verdict, failed, first, passed, resource_rule, truthy

REPOSITORY = "aws:ecr/repository:Repository"


@resource_rule(
    "MLOPS-ECR-001",
    Level.MANDATORY,
    types=[REPOSITORY],
    description="Image tags are immutable, so a deployed tag always names the same image.",
    remediation="Set image_tag_mutability='IMMUTABLE' (or IMMUTABLE_WITH_EXCLUSION for a named scratch prefix).",
)
def ecr_immutable_tags(repository: Resource) -> Verdict:
    """imageTagMutability IMMUTABLE (default is MUTABLE)."""
    mutability = repository.get("imageTagMutability", "MUTABLE")
    if mutability in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        return passed()
    return failed(f"image_tag_mutability is {mutability}")


@resource_rule(
    "MLOPS-ECR-002",
    Level.MANDATORY,
    types=[REPOSITORY],
    description="Images are scanned for vulnerabilities on push.",
    remediation="Set image_scanning_configuration={'scan_on_push': True}.",
)
def ecr_scan_on_push(repository: Resource) -> Verdict:
    """imageScanningConfiguration.scanOnPush."""
    scanning = first(repository.get("imageScanningConfiguration"))
    return passed() if truthy(scanning.get("scanOnPush")) else failed("scan_on_push is off")


@resource_rule(
    "MLOPS-ECR-003",
    Level.MANDATORY,
    types=[REPOSITORY],
    description="Repositories are encrypted with a customer-managed KMS key.",
    remediation="Set encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': <env key ARN>}].",
)
def ecr_kms(repository: Resource) -> Verdict:
    """encryptionType KMS with a key."""
    config = first(repository.get("encryptionConfigurations"))
    kind = config.get("encryptionType", "AES256")
    if kind not in ("KMS", "KMS_DSSE"):
        return failed(f"encryption type is {kind}, not KMS")
    if not config.get("kmsKey"):
        return failed("KMS encryption without kms_key uses the AWS-managed aws/ecr key")
    return passed()
