"""A promoted version's baselines: what `mlops-platform promote` copies from the source environment's artifacts
bucket into the target's, so that the target's monitors and the target version's metrics read the target's copies.

Two kinds of objects, each copied with server-side encryption `aws:kms` under the target's environment key (the key
of the target artifacts bucket's default encryption, which its bucket policy requires):

- every object the source version's `ModelMetrics` and `DriftCheckBaselines` reference, to
  `s3://<target artifacts>/models/promoted/<source version ARN>/<ModelMetrics|DriftCheckBaselines>/<field>/<file>`;
  the target version is registered pointing at these copies;
- the files PublishBaselines filed under `s3://<source artifacts>/models/baselines/<source version ARN>/`
  (`components.model_monitoring.BASELINE_FILES` and its manifest, which keeps naming the version the baselines were
  published for), to `s3://<target artifacts>/models/baselines/<target version ARN>/`: where the target's monitors
  look, deriving the prefix from the ARN they serve.

Every source object is checked before anything is created in the target; a missing one stops the promotion with its
URI. A copy whose target object already holds that source object (same source URI and ETag, recorded in the copy's
metadata, and the target key) is skipped, so a second promotion of the same version copies nothing again.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mlops_platform.infra.model_sharing import BASELINE_SOURCE_KEYS

METRIC_SECTIONS = ("ModelMetrics", "DriftCheckBaselines")
"""Fields of a model package whose `S3Uri`s a promotion copies."""
MANIFEST = "manifest.json"
"""PublishBaselines' record of what it published (beside the monitors' files)."""
PROMOTED_FROM, SOURCE_ETAG = "promoted-from", "source-etag"
"""User metadata of every copy: where it came from and which content (the source object's ETag)."""


class BaselineError(Exception):
    """A baseline cannot be carried over; the message names the object and what to do."""


@dataclass(frozen=True)
class Copy:
    """One object to copy from the source's artifacts bucket to the target's."""

    source: str
    """s3:// URI in the source environment's artifacts bucket."""
    target_key: str
    """Key in the target environment's artifacts bucket."""
    etag: str = ""
    """The source object's ETag when it was checked (the copy is conditional on it)."""
    content_type: str = ""
    """The source object's content type (kept on the copy)."""


@dataclass(frozen=True)
class BaselinePlan:
    """What a promotion carries over, before the target version exists."""

    source_bucket: str
    """The source environment's artifacts bucket (every referenced object lives there)."""
    referenced: tuple[Copy, ...]
    """Objects the source version's ModelMetrics/DriftCheckBaselines reference, to `models/promoted/...`."""
    published: tuple[str, ...]
    """Files under the source version's `models/baselines/<ARN>/` prefix (relative names) to carry over."""
    fields: Mapping[str, Any]
    """The source version's ModelMetrics/DriftCheckBaselines with every S3Uri replaced by the target copy's
    (`{target_bucket}` stands for the target artifacts bucket until it is known)."""


def plan(package: Mapping[str, Any], source_arn: str, source_prefix: str, *, monitored: bool) -> BaselinePlan:
    """The objects to carry over for `package` (a DescribeModelPackage answer) registered as `source_arn` in the
    environment whose physical names start with `source_prefix`. `monitored`: a target endpoint monitors the
    variant this version will serve, so the published monitor files are required."""
    from mlops_platform.components.model_monitoring import BASELINE_FILES  # loads pulumi_aws: only when promoting

    references = list(_references(package))
    buckets = sorted({_split(uri)[0] for _, uri in references})
    has_drift = any(path[0] == "DriftCheckBaselines" for path, _ in references)
    if monitored and not has_drift:
        raise BaselineError(
            f"{source_arn} has no DriftCheckBaselines, so its monitors would have nothing to compare with: register "
            "the version with the train-evaluate-register pipeline (its PublishBaselines step files them), or serve "
            "it from a variant that is not the endpoint's monitoring.baseline_variant"
        )
    if not references:
        return BaselinePlan("", (), (), {})
    expected = f"{source_prefix}-artifacts-"
    if len(buckets) != 1 or not buckets[0].startswith(expected):
        raise BaselineError(
            f"{source_arn} references baselines in bucket(s) {', '.join(buckets)}; expected every one in the source "
            f"environment's artifacts bucket ({expected}*)"
        )
    referenced = []
    for path, uri in references:
        key = _split(uri)[1]
        if not any(fnmatch.fnmatchcase(key, pattern) for pattern in BASELINE_SOURCE_KEYS):
            raise BaselineError(
                f"{'.'.join(path)} of {source_arn} is {uri}: not a key a promotion may read; expected one of "
                f"{', '.join(BASELINE_SOURCE_KEYS)} (the pipeline's outputs, or a promotion's copies)"
            )
        target_key = "/".join(["models/promoted", source_arn, *path, key.rsplit("/", 1)[-1]])
        referenced.append(Copy(uri, target_key))
    published = (*sorted(BASELINE_FILES.values()), MANIFEST) if has_drift else ()
    keys = {path: copy.target_key for (path, _), copy in zip(references, referenced, strict=True)}
    fields = _with_uris(package, lambda path, _: f"s3://{{target_bucket}}/{keys[path]}")
    return BaselinePlan(buckets[0], tuple(referenced), published, fields)


def published_copies(baselines: BaselinePlan, source_arn: str, target_arn: str) -> list[Copy]:
    """The published files of `source_arn`, to the target version's prefix the target's monitors read."""
    return [
        Copy(f"s3://{baselines.source_bucket}/models/baselines/{source_arn}/{name}",
             f"models/baselines/{target_arn}/{name}")
        for name in baselines.published
    ]  # fmt: skip


def check_sources(s3: Any, copies: list[Copy]) -> list[Copy]:
    """Every source object, with its ETag and content type; one error naming each one that is missing or unreadable
    (raised before anything is created in the target)."""
    from botocore.exceptions import ClientError

    checked, problems = [], []
    for copy in copies:
        bucket, key = _split(copy.source)
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            problems.append(
                f"{copy.source}: does not exist"
                if code in ("404", "NoSuchKey", "NotFound")
                else f"{copy.source}: cannot be read ({code}): run promote as an administrator of the target "
                "account (the source's bucket policy lets the target accounts read baselines: "
                "registry.models[].share_with_accounts); it does not exist, or the source stack is not deployed "
                "with it yet"
            )
            continue
        checked.append(replace(copy, etag=head["ETag"], content_type=head.get("ContentType", "application/json")))
    if problems:
        raise BaselineError(
            "baseline(s) missing in the source, nothing was registered or copied:\n  " + "\n  ".join(problems)
        )
    return checked


def target_bucket(s3: Any, target_prefix: str, account: str) -> tuple[str, str]:
    """The target environment's artifacts bucket and the key its default encryption uses (its bucket policy refuses
    puts that name another key)."""
    prefix = f"{target_prefix}-artifacts-"
    names = [b["Name"] for b in s3.list_buckets(Prefix=prefix).get("Buckets", [])]
    if len(names) != 1:
        raise BaselineError(
            f"expected one artifacts bucket {prefix}* in the target account {account}, found "
            f"{', '.join(names) or 'none'}: deploy the target stack first, with the target's credentials"
        )
    rules = s3.get_bucket_encryption(Bucket=names[0])["ServerSideEncryptionConfiguration"]["Rules"]
    default = (rules[0] if rules else {}).get("ApplyServerSideEncryptionByDefault", {})
    key = default.get("KMSMasterKeyID", "")
    if default.get("SSEAlgorithm") != "aws:kms" or f":{account}:key/" not in key:
        raise BaselineError(
            f"{names[0]} is not encrypted by default with a KMS key of account {account} ({default}): not a bucket "
            "of this platform's target stack"
        )
    return names[0], key


def copy_all(s3: Any, copies: list[Copy], bucket: str, key_arn: str) -> list[str]:
    """Copy each object into `bucket` with SSE-KMS under `key_arn`, skipping those already there; returns the keys
    copied this time."""
    from botocore.exceptions import ClientError

    copied = []
    for copy in copies:
        existing = _existing(s3, copy, bucket, key_arn)
        if existing == _SAME:
            continue
        if existing is not None:
            raise BaselineError(
                f"s3://{bucket}/{copy.target_key} exists but is not the copy of {copy.source} as it is now "
                f"(its record: {existing or 'none'}): a promoted version's baselines are never rewritten; the source "
                "changed since the version was promoted, or someone wrote there. Nothing was overwritten: find out "
                "which, then delete the object if the source is right"
            )
        source_bucket, source_key = _split(copy.source)
        try:
            _copy(s3, copy, bucket, key_arn, source_bucket, source_key)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise BaselineError(
                f"copying {copy.source} to s3://{bucket}/{copy.target_key} failed: {error.get('Code')} "
                f"({error.get('Message', '')}); the copies made so far are kept, and running the same promotion "
                "again resumes (it skips them)"
            ) from None
        copied.append(copy.target_key)
    return copied


def _copy(s3: Any, copy: Copy, bucket: str, key_arn: str, source_bucket: str, source_key: str) -> None:
    s3.copy_object(
        Bucket=bucket,
        Key=copy.target_key,
        CopySource={"Bucket": source_bucket, "Key": source_key},
        CopySourceIfMatch=copy.etag,  # exactly the object that was checked
        MetadataDirective="REPLACE",
        Metadata={PROMOTED_FROM: copy.source, SOURCE_ETAG: copy.etag},
        # No tags: copying a tagged source's tags needs s3:GetObjectTagging/PutObjectTagging, granted to no one.
        TaggingDirective="REPLACE",
        ContentType=copy.content_type,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
        BucketKeyEnabled=True,
    )


def target_fields(baselines: BaselinePlan, bucket: str) -> dict[str, Any]:
    """ModelMetrics/DriftCheckBaselines for the target version: the target copies' URIs."""
    return _with_uris(baselines.fields, lambda _, uri: uri.replace("{target_bucket}", bucket, 1))


_SAME = "the same copy"


def _existing(s3: Any, copy: Copy, bucket: str, key_arn: str) -> str | None:
    """What is at the copy's target key: None when nothing, `_SAME` when this very copy (same source and ETag, the
    target key), otherwise the object's promotion record (`<source> <etag>`, or '' without one)."""
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=copy.target_key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    metadata = head.get("Metadata", {})
    if (
        metadata.get(PROMOTED_FROM) == copy.source
        and metadata.get(SOURCE_ETAG) == copy.etag
        and head.get("ServerSideEncryption") == "aws:kms"
        and head.get("SSEKMSKeyId") == key_arn
    ):
        return _SAME
    return " ".join(v for v in (metadata.get(PROMOTED_FROM), metadata.get(SOURCE_ETAG)) if v)


def _references(package: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], str]]:
    def walk(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
        if isinstance(node, Mapping):
            if isinstance(node.get("S3Uri"), str):
                yield path, node["S3Uri"]
                return
            for name, value in node.items():
                yield from walk(value, (*path, name))

    for section in METRIC_SECTIONS:
        yield from walk(package.get(section) or {}, (section,))


def _with_uris(sections: Mapping[str, Any], uri: Callable[[tuple[str, ...], str], str]) -> dict[str, Any]:
    """The ModelMetrics/DriftCheckBaselines of `sections` with each S3Uri replaced by `uri(field path, S3Uri)`."""

    def walk(node: Any, path: tuple[str, ...]) -> Any:
        if isinstance(node, Mapping):
            if isinstance(node.get("S3Uri"), str):
                return {**node, "S3Uri": uri(path, node["S3Uri"])}
            return {name: walk(value, (*path, name)) for name, value in node.items()}
        return node

    return {section: walk(sections[section], (section,)) for section in METRIC_SECTIONS if sections.get(section)}


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise BaselineError(f"{uri!r} is not an s3://bucket/key URI")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key
