"""Pipeline templates: load a checked-in definition and fill its placeholders, without the sagemaker SDK.

A template is the SDK's rendered pipeline definition (JSON) in which every environment- or
pipeline-specific value is a `{{placeholder}}`. `fill()` turns it into the definition one stack
deploys. Nothing here imports `sagemaker`: the Pulumi program and the offline preview use this module,
and only `pipelines.render` (run by a developer, or by the staleness test) imports the SDK.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PIPELINES_DIR = Path(__file__).resolve().parent
TEMPLATE_FILE = "definition.{storage}.template.json"
ASSETS_FILE = "definition.assets.json"
SCRIPTS_DIR = "scripts"
CODE_PREFIX = "s3://{{artifacts_bucket}}/code/{{pipeline_name}}/{{source_hash}}"
"""Where a pipeline's scripts and assets live; a template refers to them below this prefix."""
STORAGE_KINDS = ("ebs", "instance-store")
"""Training storage a template is rendered for: `ebs` sets the env key and size of the training volume;
`instance-store` omits both, as SageMaker requires for instance types with local NVMe storage."""
SOURCE_ARCHIVE = "sourcedir.tar.gz"
"""Name of the training code archive (script mode's `sagemaker_submit_directory`)."""

_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")


@dataclass(frozen=True)
class Placeholder:
    """One value a template leaves open."""

    name: str
    description: str
    kind: type = str
    """str: substituted inside strings; list: a list element `{{name}}` expands into the values;
    float / bool: a string that is exactly `{{name}}` becomes a number / a boolean."""


PLACEHOLDERS: dict[str, Placeholder] = {
    p.name: p
    for p in (
        Placeholder("pipeline_name", "the pipeline's name; the S3 prefix of its data, code and models"),
        Placeholder("role_arn", "execution role of the pipeline's jobs (the env's training role)"),
        Placeholder("kms_key_arn", "env data key: job volumes, outputs and model artifacts"),
        Placeholder("raw_bucket", "data-lake bucket of raw data (templates before 0.3 name their input with it)"),
        Placeholder(
            "input_data_uri",
            "default of the InputDataUri parameter: s3://<raw>/<pipeline>/ (CSV) or a feature group's offline store",
        ),
        Placeholder(
            "input_arguments",
            "options of validate.py naming the input's format (none for CSV; scripts/input_data.py)",
            list,
        ),
        Placeholder("curated_bucket", "data-lake bucket the preprocessing step writes to"),
        Placeholder("artifacts_bucket", "bucket of code, checkpoints, models and evaluation reports"),
        Placeholder("source_hash", "hash of the pipeline's scripts: the code prefix changes with them"),
        Placeholder("subnet_ids", "private subnets of the jobs", list),
        Placeholder("security_group_ids", "security groups of the jobs", list),
        Placeholder("processing_image_uri", "container image of the processing steps"),
        Placeholder("training_image_uri", "container image of the training step"),
        Placeholder("inference_image_uri", "container image registered with the model package"),
        Placeholder("model_monitor_image_uri", "the region's Model Monitor analyzer image (quality checks)"),
        Placeholder("clarify_image_uri", "the region's SageMaker Clarify image (bias and explainability checks)"),
        Placeholder("model_package_group", "model package group the model is registered into"),
        Placeholder("processing_instance_type", "default of the ProcessingInstanceType parameter"),
        Placeholder("training_instance_type", "default of the TrainingInstanceType parameter"),
        Placeholder("metric", "report metric compared against the threshold (e.g. auc)"),
        Placeholder("metric_threshold", "default of the MetricThreshold parameter", float),
        Placeholder("target_column", "label column of the raw data"),
        Placeholder(
            "skip_drift_checks",
            "default of SkipDriftChecks: skip the comparisons with the approved "
            "package's baselines (true until a first version is approved)",
            bool,
        ),
        Placeholder(
            "max_mean_shift", "data validation: largest move of a column's mean, in its previous standard deviations"
        ),
        Placeholder("max_missing_increase", "data validation: largest rise of a column's share of missing values"),
        Placeholder("bias_facet", "column of the sensitive attribute the bias checks measure"),
        Placeholder("bias_facet_values", "facet values (or one threshold) of the disadvantaged group", list),
    )
}
"""Every placeholder a template may use, with how its value is substituted."""
LEGACY_PLACEHOLDERS = frozenset({"raw_bucket"})
"""Placeholders the current templates no longer use, still filled for templates rendered by earlier releases."""


@dataclass(frozen=True)
class PipelineKind:
    """A pipeline shape with its checked-in template and scripts (one folder under pipelines/)."""

    name: str
    """Config name, e.g. `train-evaluate-register`."""

    @property
    def folder(self) -> Path:
        """pipelines/<name with underscores>/."""
        return PIPELINES_DIR / self.name.replace("-", "_")

    def template_path_for(self, storage: str) -> Path:
        """The checked-in template for a training storage kind (see STORAGE_KINDS)."""
        if storage not in STORAGE_KINDS:
            raise ValueError(f"storage={storage!r}; expected one of {', '.join(STORAGE_KINDS)}")
        return self.folder / TEMPLATE_FILE.format(storage=storage)

    @property
    def assets_path(self) -> Path:
        """Files the SDK wrote while building the definition (e.g. Clarify analysis configurations)."""
        return self.folder / ASSETS_FILE

    @property
    def scripts_path(self) -> Path:
        return self.folder / SCRIPTS_DIR

    def template(self, storage: str = "ebs") -> dict[str, Any]:
        """The checked-in template for a training storage kind, parsed."""
        return json.loads(self.template_path_for(storage).read_text())

    def assets(self) -> dict[str, Any]:
        """Key below CODE_PREFIX -> JSON content (with placeholders) of each asset the templates refer to."""
        return json.loads(self.assets_path.read_text()) if self.assets_path.exists() else {}

    def scripts(self) -> dict[str, str]:
        """Script file name -> source text, sorted by name."""
        return {p.name: p.read_text() for p in sorted(self.scripts_path.glob("*.py"))}


KINDS = {kind.name: kind for kind in (PipelineKind("train-evaluate-register"),)}
"""Pipeline kinds by config name."""


def placeholders_in(template: Any) -> set[str]:
    """Names of the placeholders a template uses."""
    return set(_PLACEHOLDER.findall(json.dumps(template)))


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """Replace every placeholder of `template` with `values` (see `Placeholder.kind`).

    Raises KeyError naming the placeholders without a value or unknown to PLACEHOLDERS.
    """
    used = placeholders_in(template)
    unknown = sorted(used - set(PLACEHOLDERS))
    missing = sorted(used - set(values))
    if unknown or missing:
        raise KeyError(f"template placeholders unknown: {unknown or '-'}; without a value: {missing or '-'}")
    return _fill(template, values)


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            whole = _whole(item)
            if whole and PLACEHOLDERS[whole].kind is list:
                out.extend(values[whole])
            else:
                out.append(_fill(item, values))
        return out
    if isinstance(node, str):
        whole = _whole(node)
        if whole and PLACEHOLDERS[whole].kind is float:
            return float(values[whole])
        if whole and PLACEHOLDERS[whole].kind is bool:
            return bool(values[whole])
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), node)
    return node


def _whole(node: Any) -> str | None:
    match = _PLACEHOLDER.fullmatch(node) if isinstance(node, str) else None
    return match.group(1) if match else None


def source_hash(scripts: Mapping[str, str]) -> str:
    """Short SHA-256 over the scripts' names and contents: the version in the code's S3 prefix."""
    digest = hashlib.sha256()
    for name in sorted(scripts):
        digest.update(name.encode() + b"\0" + scripts[name].encode() + b"\0")
    return digest.hexdigest()[:16]


def source_archive(scripts: Mapping[str, str]) -> bytes:
    """A reproducible tar.gz of the scripts (fixed mtimes and owners), for script-mode training."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(scripts):
            data = scripts[name].encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))

    return gzip.compress(buffer.getvalue(), mtime=0)


def source_archive_base64(scripts: Mapping[str, str]) -> str:
    """`source_archive` as base64 text (an S3 object's `content_base64`)."""
    return base64.b64encode(source_archive(scripts)).decode()
