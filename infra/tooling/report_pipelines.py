"""Preview labels of the pipeline resources: what a reviewer checks in a pipeline change."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from mlops_platform.components.sagemaker_catalog import has_local_nvme
from mlops_platform.infra.tooling.offline import Plan, PlannedResource

_JOB_STEPS = ("Training", "Processing", "QualityCheck", "ClarifyCheck")
_CHECKS = {"QualityCheck": "quality", "ClarifyCheck": "Clarify"}


def _steps(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    pending = list(definition.get("Steps", []))
    while pending:
        step = pending.pop(0)
        yield step
        arguments = step.get("Arguments", {})
        pending += arguments.get("IfSteps", []) + arguments.get("ElseSteps", [])


def _pipeline(resource: PlannedResource, plan: Plan) -> list[str]:
    definition = json.loads(resource.inputs.get("pipelineDefinition") or "{}")
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
    steps = {s["Name"]: s for s in _steps(definition)}
    labels = [" → ".join(s["Name"] for s in definition.get("Steps", [])), _input(defaults, steps)]
    jobs = [s["Arguments"] for s in steps.values() if s["Type"] in _JOB_STEPS]
    local_nvme = has_local_nvme(str(defaults.get("TrainingInstanceType", "")))
    keys = {
        j.get("ResourceConfig", j.get("ProcessingResources", {}).get("ClusterConfig", {})).get("VolumeKmsKeyId")
        for j in jobs
        if not ("ResourceConfig" in j and local_nvme)  # local NVMe: hardware-encrypted, no key accepted
    }
    labels.append("volumes KMS" if None not in keys else "VOLUME WITHOUT KMS")
    if local_nvme:
        labels.append("training on local NVMe (hardware-encrypted)")
    in_vpc = all(j.get("VpcConfig") or j.get("NetworkConfig", {}).get("VpcConfig") for j in jobs)
    labels.append("VPC" if in_vpc else "NOT IN VPC")
    if train := next((s["Arguments"] for s in steps.values() if s["Type"] == "Training"), None):
        labels.append(f"train {defaults.get('TrainingInstanceType', '?')}")
        if train.get("EnableManagedSpotTraining"):
            labels.append("spot + checkpoints" if train.get("CheckpointConfig") else "spot WITHOUT checkpoints")
    checks = [f"{s['Name']}" for s in steps.values() if s["Type"] in _CHECKS]
    if checks:
        labels.append(f"checks: {', '.join(checks)}")
    for step in steps.values():
        if step["Type"] == "RegisterModel":
            arguments = step["Arguments"]
            labels.append(
                f"registers into {arguments.get('ModelPackageGroupName')} "
                f"({arguments.get('ModelApprovalStatus', 'no approval status')})"
            )
            if arguments.get("DriftCheckBaselines"):
                labels.append(f"drift baselines: {', '.join(arguments['DriftCheckBaselines'])}")
    if "MetricThreshold" in defaults:
        labels.append(f"gate ≥ {defaults['MetricThreshold']}")
    return labels


def _input(defaults: dict[str, Any], steps: dict[str, dict[str, Any]]) -> str:
    """Where the pipeline reads its data by default: a feature group's offline store or CSV files."""
    uri = str(defaults.get("InputDataUri", "?"))
    arguments = [a for s in steps.values() for a in s["Arguments"].get("AppSpecification", {}).get(
        "ContainerArguments", [])]  # fmt: skip
    if "--offline-store" in arguments:
        group = re.search(r"/offline-store/(.+)-\d+/data/?$", uri)
        return f"input: feature group {group.group(1) if group else uri} (offline store)"
    return f"input: CSV under {uri}"


def _schedule(resource: PlannedResource, plan: Plan) -> list[str]:
    return [f"{resource.inputs.get('scheduleExpression')} {resource.inputs.get('scheduleExpressionTimezone', 'UTC')}"]


def _bucket_object(resource: PlannedResource, plan: Plan) -> list[str]:
    encryption = "SSE-KMS" if resource.inputs.get("serverSideEncryption") == "aws:kms" else "NOT KMS"
    return [f"s3://…/{resource.inputs.get('key')}", encryption]


def _event_rule(resource: PlannedResource, plan: Plan) -> list[str]:
    pattern = json.loads(resource.inputs.get("eventPattern") or "{}")
    detail = pattern.get("detail", {})
    if "ModelPackageGroupName" in detail:
        return [f"{','.join(detail['ModelPackageGroupName'])} {','.join(detail.get('ModelApprovalStatus', []))}"]
    return [",".join(pattern.get("detail-type", []))] if pattern.get("detail-type") else []


PIPELINE_EXTRACTORS: dict[str, Callable[[PlannedResource, Plan], list[str]]] = {
    "aws:sagemaker/pipeline:Pipeline": _pipeline,
    "aws:scheduler/schedule:Schedule": _schedule,
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
}
"""Merged into `infra.tooling.report`'s extractors."""
