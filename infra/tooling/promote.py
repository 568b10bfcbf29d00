"""Model promotion: make an approved model version of one environment the one a stack serves, as a reviewed
change of the target stack file.

    mlops-platform promote churn-model 15 --to staging [--from dev] [--endpoint churn --variant primary] [--dry-run]

1. Reads the source version `arn:aws:sagemaker:<region>:<source account>:model-package/<model>/<version>` from the
   source environment's registry (the target account may read it: the source group shares it with the accounts in
   `registry.models[].share_with_accounts`) and refuses it unless it is `Approved`, belongs to that model's group and
   to the source environment's account.
2. Carries its baselines over (`promote_baselines`): checks that every object its ModelMetrics and
   DriftCheckBaselines reference, and the monitors' files its pipeline published under its ARN, exist in the source's
   artifacts bucket (refusing the promotion, before anything is created, with the URIs of those missing), and copies
   them into the target's artifacts bucket, encrypted with the target's key.
3. Registers it in the target environment's own group (same container image and artifact; ModelMetrics and
   DriftCheckBaselines pointing at the target's copies; the metadata records where it came from), approved, because
   an endpoint serves only packages of its own account; then copies the published baselines under the new version's
   ARN, where the target's monitors read them. A version already promoted from the same source version is reused.
4. Rewrites `stacks/Pulumi.<target>.yaml` in place, only the `model_package_arn` value(s) of the variant(s) serving
   the model, keeping every comment and the formatting, and prints the diff. Commit it and open a pull request: the
   preview on the PR and its review are the gate; merging deploys it (blue/green, with rollback alarms).

`--dry-run` does step 1 and the checks of step 2, and prints the diff without copying or registering anything or
writing the file (the new version number is predicted from the target group's latest version).

boto3 is imported only when the command runs, with the caller's credentials for the target account: an
administrator's (operator) role. Promotion registers an approved version and writes files the target's inference
role reads; no persona holds both rights (the model approver approves, it does not author versions), so it is an
administrative act, and the pull request it prepares is the review.

The version must serve from the environment that trained it: its image in the source's account and its model
artifact in the source's artifacts bucket, which the target's inference role may read (a version that was itself
promoted still points at the environment before, which the next target does not trust: promote the original).
"""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from mlops_platform.components.monitoring import UNREADABLE_SECRET
from mlops_platform.infra.config import PROJECT, ConfigError, Environment, PlatformSettings, parse_settings
from mlops_platform.infra.tooling.offline import STACKS_DIR
from mlops_platform.infra.tooling.promote_baselines import (
    BaselineError,
    Copy,
    check_sources,
    copy_all,
    plan,
    published_copies,
    target_bucket,
    target_fields,
)

PROMOTION_ORDER = [e.value for e in Environment]
"""dev → staging → prod: the default source of a target is the environment before it."""

_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[^/]+)/(?P<version>\d+)$"
)


class PromotionError(Exception):
    """The promotion is refused or impossible; the message says why and what to do."""


@dataclass(frozen=True)
class VariantSlot:
    """A `model_package_arn` value in the target stack file that serves the model."""

    endpoint: str
    variant: str
    arn: str
    start: int
    """Character offsets of the value in the file's text."""
    end: int


@dataclass(frozen=True)
class Promotion:
    """What a promotion did (or, dry, would do)."""

    source_arn: str
    target_arn: str
    stack_file: Path
    diff: str
    registered: bool
    written: bool
    baselines: tuple[str, ...] = ()
    """The target's baseline copies (s3:// URIs), made or (dry run) to be made."""
    copied: tuple[str, ...] = ()
    """Keys of those copied by this run (a second run of the same promotion copies none)."""


ClientFactory = Callable[[str], Any]
"""region → a boto3 client (SageMaker or S3, credentials of the target account)."""


def promote(
    model: str,
    version: int,
    *,
    to: str,
    source: str | None = None,
    endpoint: str | None = None,
    variant: str | None = None,
    stacks_dir: Path = STACKS_DIR,
    dry_run: bool = False,
    sagemaker: ClientFactory | None = None,
    s3: ClientFactory | None = None,
) -> Promotion:
    """Promote `model` version `version` of the source environment to the `to` stack (see the module docs)."""
    source = source or _previous(to)
    target_settings, target_text, target_path = _load(to, stacks_dir)
    source_settings, _, _ = _load(source, stacks_dir)
    _check_model(model, source, source_settings, to, target_settings)
    slots = _slots(target_text, model, endpoint, variant, to)

    source_arn = f"arn:aws:sagemaker:{source_settings.region}:{source_settings.account}:model-package/{model}/{version}"
    client = (sagemaker or _boto3_client)(source_settings.region)
    package = _approved_package(client, source_arn, model, source_settings.account)
    _check_served_from_source(package, source_arn, source, source_settings)

    same_region = target_settings.region == source_settings.region
    target_client = client if same_region else (sagemaker or _boto3_client)(target_settings.region)
    source_s3 = (s3 or _boto3_s3)(source_settings.region)
    target_s3 = source_s3 if same_region else (s3 or _boto3_s3)(target_settings.region)
    try:
        baselines = plan(package, source_arn, source_settings.name_prefix, monitored=_monitored(target_settings, slots))
        pending = "{target_arn}"  # the published copies' prefix, once the target version exists
        checked = check_sources(source_s3, [*baselines.referenced, *published_copies(baselines, source_arn, pending)])
        referenced, published = checked[: len(baselines.referenced)], checked[len(baselines.referenced) :]
        bucket, key_arn = (
            target_bucket(target_s3, target_settings.name_prefix, target_settings.account) if checked else ("", "")
        )
    except BaselineError as exc:
        raise PromotionError(str(exc)) from None

    existing = _promoted_version(target_client, model, source_arn, _containers(package))
    copied: list[str] = []
    if dry_run:
        target_arn = existing or _predicted_arn(target_client, model, target_settings)
    else:
        copied += _copies(target_s3, referenced, bucket, key_arn)
        registration = _registration(model, package, source_arn, source, target_fields(baselines, bucket))
        target_arn = existing or target_client.create_model_package(**registration)["ModelPackageArn"]
    published = [Copy(c.source, c.target_key.replace(pending, target_arn), c.etag, c.content_type) for c in published]
    if not dry_run:
        copied += _copies(target_s3, published, bucket, key_arn)
    new_text = _rewrite(target_text, slots, target_arn)
    _validate(new_text, to, target_path)
    diff = "".join(
        difflib.unified_diff(
            target_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"a/{target_path.name}",
            tofile=f"b/{target_path.name}",
        )
    )
    if not dry_run:
        target_path.write_text(new_text)
    return Promotion(
        source_arn,
        target_arn,
        target_path,
        diff,
        registered=not dry_run,
        written=not dry_run,
        baselines=tuple(f"s3://{bucket}/{c.target_key}" for c in [*referenced, *published]),
        copied=tuple(copied),
    )


def _previous(target: str) -> str:
    if target not in PROMOTION_ORDER:
        raise PromotionError(f"--to {target!r}: not an environment; expected one of {', '.join(PROMOTION_ORDER)}")
    index = PROMOTION_ORDER.index(target)
    if index == 0:
        raise PromotionError(f"--to {target}: nothing comes before {target}; models are registered there by pipelines")
    return PROMOTION_ORDER[index - 1]


def _load(stack: str, stacks_dir: Path) -> tuple[PlatformSettings, str, Path]:
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise PromotionError(f"no stack file {path}")
    text = path.read_text()
    try:
        settings = _settings(text, stack)
    except ConfigError as exc:
        raise PromotionError(f"{path.name}: {exc}") from None
    return settings, text, path


def _settings(text: str, stack: str) -> PlatformSettings:
    """A stack file's settings as the program sees them without the stack's secrets provider: `secure:` values
    (an alert endpoint's URL, say) stay opaque, as `pulumi config` leaves them to whoever lacks the key."""
    config = (yaml.safe_load(text) or {}).get("config") or {}
    prefix = f"{PROJECT}:"
    return parse_settings({k[len(prefix) :]: _opaque(v) for k, v in config.items() if k.startswith(prefix)}, stack)


def _opaque(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str):
        return UNREADABLE_SECRET
    if isinstance(value, dict):
        return {k: _opaque(v) for k, v in value.items()}
    return [_opaque(v) for v in value] if isinstance(value, list) else value


def _check_model(model: str, source: str, src: PlatformSettings, target: str, dst: PlatformSettings) -> None:
    source_models = {m.name: m for m in src.registry.models}
    if model not in source_models:
        raise PromotionError(
            f"model {model!r} is not in {source}'s registry.models ({', '.join(sorted(source_models)) or 'none'})"
        )
    if model not in {m.name for m in dst.registry.models}:
        raise PromotionError(f"model {model!r} is not in {target}'s registry.models: add its group there first")
    if dst.account != src.account and src.account not in dst.registry.promote_from_accounts:
        raise PromotionError(
            f"{target} does not read models from {source}'s account {src.account}: add it to "
            f"registry.promote_from_accounts in Pulumi.{target}.yaml (its endpoints must be able to read the "
            "artifact and the image)"
        )
    if dst.account != src.account and dst.account not in source_models[model].share_with_accounts:
        raise PromotionError(
            f"{source}'s model group {model!r} is not shared with {target}'s account {dst.account}: add it to "
            f"registry.models[name={model}].share_with_accounts in Pulumi.{source}.yaml and deploy {source} first"
        )


def _slots(text: str, model: str, endpoint: str | None, variant: str | None, stack: str) -> list[VariantSlot]:
    """The variant values serving `model`, with their exact position in the text (YAML node marks)."""
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    found: list[VariantSlot] = []
    root = yaml.compose(text)
    config = _child(root, "config")
    endpoints = _child(config, f"{PROJECT}:endpoints") if config is not None else None
    for endpoint_node in getattr(endpoints, "value", []):
        name = _scalar(_child(endpoint_node, "name"))
        variant_nodes = list(getattr(_child(endpoint_node, "variants"), "value", []))
        if (shadow := _child(endpoint_node, "shadow_variant")) is not None:
            variant_nodes.append(shadow)
        for variant_node in variant_nodes:
            arn_node = _child(variant_node, "model_package_arn")
            match = _PACKAGE_ARN.match(_scalar(arn_node) or "")
            if not match or match["group"] != model.lower():
                continue
            start = offsets[arn_node.start_mark.line] + arn_node.start_mark.column
            end = offsets[arn_node.end_mark.line] + arn_node.end_mark.column
            found.append(VariantSlot(name, _scalar(_child(variant_node, "name")), _scalar(arn_node), start, end))
    chosen = [s for s in found if (endpoint in (None, s.endpoint)) and (variant in (None, s.variant))]
    serving = ", ".join(f"{s.endpoint}/{s.variant} ({s.arn.rsplit('/', 1)[-1]})" for s in found) or "none"
    if not chosen:
        raise PromotionError(
            f"no variant of Pulumi.{stack}.yaml serves {model!r}"
            + (f" as --endpoint {endpoint} --variant {variant}" if endpoint or variant else "")
            + f"; variants serving it: {serving}"
        )
    if len(chosen) > 1:
        raise PromotionError(
            f"{len(chosen)} variants of Pulumi.{stack}.yaml serve {model!r} ({serving}); choose one with "
            "--endpoint and --variant (an A/B challenger, for example)"
        )
    return chosen


def _child(node: Any, key: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((value for k, value in node.value if getattr(k, "value", None) == key), None)


def _scalar(node: Any) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else ""


def _approved_package(client: Any, arn: str, model: str, account: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        package = client.describe_model_package(ModelPackageName=arn)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise PromotionError(
            f"cannot read {arn}: {code} ({exc.response.get('Error', {}).get('Message', '')}); it does not exist, or "
            "the source group does not share it with this account"
        ) from None
    actual = _PACKAGE_ARN.match(package.get("ModelPackageArn", ""))
    group = package.get("ModelPackageGroupName", "")
    if actual is None or actual["account"] != account or group.lower() != model.lower():
        raise PromotionError(
            f"{package.get('ModelPackageArn')} (group {group!r}) is not a version of {model!r} registered in the "
            f"source account {account}: refusing a foreign package"
        )
    status = package.get("ModelApprovalStatus", "PendingManualApproval")
    if status != "Approved":
        raise PromotionError(
            f"{arn} is {status}, not Approved: a reviewer approves it first "
            f"(aws sagemaker update-model-package --model-package-arn {arn} --model-approval-status Approved)"
        )
    if not (package.get("InferenceSpecification") or {}).get("Containers"):
        raise PromotionError(f"{arn} has no inference containers: it cannot be served")
    return package


_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/")
_CONTAINER_FIELDS = ("Image", "ModelDataUrl", "ModelDataSource", "Environment", "Framework", "FrameworkVersion")
"""What a container serves; `promote` registers and compares exactly these."""


def _check_served_from_source(package: dict[str, Any], arn: str, source: str, settings: PlatformSettings) -> None:
    """Refuse a version whose image or artifact lives outside its source environment (the target's inference role
    reads only its promotion sources' registries and `models/`), or that serves what `promote` does not carry."""
    if package.get("AdditionalInferenceSpecifications"):
        raise PromotionError(
            f"{arn} has additional inference specifications, which promote does not carry over: register a version "
            "with one inference specification"
        )
    bucket_prefix = f"s3://{settings.name_prefix}-artifacts-"
    for container in package["InferenceSpecification"]["Containers"]:
        image = str(container.get("Image", ""))
        registry = _ECR_IMAGE.match(image)
        if registry is None or registry["account"] != settings.account or registry["region"] != settings.region:
            raise PromotionError(
                f"{arn} serves the image {image}, which is not in {source}'s ECR registry ({settings.account}, "
                f"{settings.region}): the target reads images of its promotion sources only; promote the version "
                "from the environment that built it"
            )
        source_data = (container.get("ModelDataSource") or {}).get("S3DataSource", {}).get("S3Uri")
        for url in (container.get("ModelDataUrl"), source_data):
            if url is not None and not str(url).startswith(bucket_prefix):
                raise PromotionError(
                    f"{arn} serves the artifact {url}, outside {source}'s artifacts bucket ({bucket_prefix}*): the "
                    "target reads artifacts of its promotion sources only; promote the version from the environment "
                    "that trained it"
                )


def _containers(package: dict[str, Any]) -> list[dict[str, Any]]:
    """What a version serves: its containers' image, artifact, environment and framework."""
    return [{k: c[k] for k in _CONTAINER_FIELDS if k in c} for c in package["InferenceSpecification"]["Containers"]]


def _copies(s3: Any, copies: list[Copy], bucket: str, key_arn: str) -> list[str]:
    try:
        return copy_all(s3, copies, bucket, key_arn)
    except BaselineError as exc:
        raise PromotionError(str(exc)) from None


def _monitored(target: PlatformSettings, slots: Sequence[VariantSlot]) -> bool:
    """Whether an endpoint of the target takes its monitors' baselines from one of the variants being changed."""
    chosen = {(s.endpoint, s.variant) for s in slots}
    return any(
        e.monitoring is not None and e.baseline_variant is not None and (e.name, e.baseline_variant.name) in chosen
        for e in target.endpoints
    )


def _registration(
    model: str, package: dict[str, Any], source_arn: str, source: str, metrics: dict[str, Any]
) -> dict[str, Any]:
    spec = package["InferenceSpecification"]
    inference: dict[str, Any] = {"Containers": _containers(package)}
    for key in (
        "SupportedContentTypes",
        "SupportedResponseMIMETypes",
        "SupportedRealtimeInferenceInstanceTypes",
        "SupportedTransformInstanceTypes",
    ):
        if spec.get(key):
            inference[key] = spec[key]
    return {
        "ModelPackageGroupName": model,
        "ModelPackageDescription": _description(source, source_arn),
        "InferenceSpecification": inference,
        **metrics,  # ModelMetrics and DriftCheckBaselines: the target's copies
        "ModelApprovalStatus": "Approved",  # approved in the source; the pull request reviews its use here
        "CustomerMetadataProperties": {"promoted_from": source_arn, "source_environment": source},
        # The same promotion run twice (a retry after a failed write) registers one version, not two.
        "ClientToken": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source_arn}->{model}")),
    }


def _description(source: str, source_arn: str) -> str:
    return f"Promoted from {source}: {source_arn}"


def _promoted_version(client: Any, model: str, source_arn: str, containers: list[dict[str, Any]]) -> str | None:
    """The target group's approved version already promoted from `source_arn`, if any (the idempotency token of
    CreateModelPackage lasts hours; this makes any later run of the same promotion reuse the version). A version
    that claims that source but serves other containers is refused, not reused."""
    query: dict[str, Any] = {
        "ModelPackageGroupName": model,
        "ModelApprovalStatus": "Approved",
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 100,
    }
    while True:
        page = client.list_model_packages(**query)
        for summary in page.get("ModelPackageSummaryList", []):
            if not summary.get("ModelPackageDescription", "").endswith(f": {source_arn}"):
                continue
            described = client.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            if (described.get("CustomerMetadataProperties") or {}).get("promoted_from") == source_arn:
                if _containers(described) != containers:
                    raise PromotionError(
                        f"{described['ModelPackageArn']} says it was promoted from {source_arn} but serves other "
                        "containers (image, artifact or environment): refusing to reuse it; find out who registered "
                        "it, and reject it"
                    )
                return str(described["ModelPackageArn"])
        if not page.get("NextToken"):
            return None
        query["NextToken"] = page["NextToken"]


def _predicted_arn(client: Any, model: str, target: PlatformSettings) -> str:
    latest = client.list_model_packages(
        ModelPackageGroupName=model, SortBy="CreationTime", SortOrder="Descending", MaxResults=1
    ).get("ModelPackageSummaryList", [])
    version = (latest[0].get("ModelPackageVersion", 0) if latest else 0) + 1
    return f"arn:aws:sagemaker:{target.region}:{target.account}:model-package/{model}/{version}"


def _rewrite(text: str, slots: Sequence[VariantSlot], new_arn: str) -> str:
    for slot in sorted(slots, key=lambda s: s.start, reverse=True):
        text = text[: slot.start] + new_arn + text[slot.end :]
    return text


def _validate(text: str, stack: str, path: Path) -> None:
    try:
        _settings(text, stack)
    except ConfigError as exc:
        raise PromotionError(f"the rewritten {path.name} would not validate: {exc}") from None


def _boto3_client(region: str) -> Any:
    import boto3

    return boto3.client("sagemaker", region_name=region)


def _boto3_s3(region: str) -> Any:
    import boto3

    return boto3.client("s3", region_name=region)
